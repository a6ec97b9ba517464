"""The supervisor waits for health, notices a dead child and leaves no process behind."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scripts.supervisor import Service, free_port

# A tiny HTTP server that also forks a grandchild (as Rasa's workers or ffmpeg would).
SERVER = """
import http.server, os, subprocess, sys
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
open(sys.argv[2], "w").write(f"{os.getpid()} {child.pid}")
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purpose.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def _service(tmp_path: Path) -> tuple[Service, Path]:
    port = free_port()
    pids = tmp_path / "pids"
    service = Service(
        name="toy",
        argv=[sys.executable, "-c", SERVER, str(port), str(pids)],
        health_url=f"http://127.0.0.1:{port}/",
        log_path=tmp_path / "toy.log",
    )
    return service, pids


def _wait(predicate, timeout: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_stop_kills_child_and_grandchild(tmp_path: Path) -> None:
    service, pids = _service(tmp_path)
    service.start()
    assert _wait(service.healthy)
    leader, grandchild = map(int, pids.read_text().split())
    assert _alive(grandchild)
    service.stop(grace_s=2)
    assert not service.alive()
    assert _wait(lambda: not _alive(leader) and not _alive(grandchild))


def test_dead_child_is_noticed(tmp_path: Path) -> None:
    service, pids = _service(tmp_path)
    service.start()
    assert _wait(service.healthy)
    leader, grandchild = map(int, pids.read_text().split())
    os.kill(leader, 9)
    assert _wait(lambda: not service.alive())
    service.stop(grace_s=1)  # what the supervisor does next: the grandchild goes too
    assert _wait(lambda: not _alive(grandchild))


@pytest.mark.slow
def test_children_die_when_the_supervisor_is_killed_hard(tmp_path: Path) -> None:
    """PR_SET_PDEATHSIG: even a SIGKILLed supervisor leaves no orphan."""
    port = free_port()
    pids = tmp_path / "pids"
    root = str(Path(__file__).resolve().parents[2])
    code = (
        f"import sys, time; sys.path.insert(0, {root!r})\n"
        "from scripts.supervisor import Service\n"
        f"s = Service('toy', [sys.executable, '-c', {SERVER!r}, '{port}', {str(pids)!r}], None)\n"
        "s.start(); time.sleep(600)\n"
    )

    supervisor = subprocess.Popen([sys.executable, "-c", code])
    assert _wait(lambda: pids.exists() and len(pids.read_text().split()) == 2)
    leader, _grandchild = map(int, pids.read_text().split())
    supervisor.kill()
    supervisor.wait()
    assert _wait(lambda: not _alive(leader))
