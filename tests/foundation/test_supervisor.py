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


def test_stack_stops_stubborn_services_within_one_grace_period(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three services that ignore SIGTERM are killed after one grace period, not three."""
    import scripts.supervisor as supervisor

    monkeypatch.setattr(supervisor, "GRACE_S", 1.0)
    stubborn = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"
    stack = supervisor.ServiceStack(
        model_path=tmp_path / "model.tar.gz",
        rasa_port=free_port(),
        action_port=free_port(),
        log_dir=tmp_path,
        tracker_db=tmp_path / "tracker.sqlite3",
    )
    stack.services = [
        Service(name=f"s{i}", argv=[sys.executable, "-c", stubborn], health_url=None,
                log_path=tmp_path / f"s{i}.log")
        for i in range(3)
    ]  # fmt: skip
    for service in stack.services:
        service.start()
    time.sleep(0.5)  # let each install its SIGTERM handler
    assert all(s.alive() for s in stack.services)
    started = time.monotonic()
    stack.stop()
    elapsed = time.monotonic() - started
    assert not any(s.alive() for s in stack.services)
    assert elapsed < 2.5, f"stopping took {elapsed:.1f} s: services were stopped one by one"
