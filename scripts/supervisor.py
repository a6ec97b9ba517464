"""Start, watch and stop the assistant's processes: action server, Rasa server, connectors.

Used by `make run` (scripts/run.py) and by the end-to-end test fixture, so tests boot
exactly what operators run. Every child gets its own process group and is tied to
the supervisor's life (PR_SET_PDEATHSIG), so no orphan survives Ctrl-C, a crash of
one child, or a hard kill of the supervisor.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
MAIN_PYTHON = ROOT / ".venv" / "bin" / "python"
RASA_BIN = ROOT / ".venv-rasa" / "bin" / "rasa"
#: How long a service may take to stop after SIGTERM before it is killed.
GRACE_S = 10.0

logger = logging.getLogger(__name__)


def free_port() -> int:
    """A TCP port that is free on localhost right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:  # runs in the child between fork and exec
    os.setsid()
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


@dataclass
class Service:
    """One child process and how to tell it is healthy."""

    name: str
    argv: Sequence[str]
    health_url: str | None  # None: healthy once it has stayed up for a few seconds
    env: dict[str, str] = field(default_factory=dict)
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = None
    _started_at: float = 0.0

    def start(self) -> None:
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self._started_at = time.monotonic()
        self.process = subprocess.Popen(
            list(self.argv),
            cwd=ROOT,
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - needed for setsid + pdeathsig
        )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def healthy(self) -> bool:
        if self.health_url is None:
            return self.alive() and time.monotonic() - self._started_at > 3.0
        try:
            return httpx.get(self.health_url, timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self, grace_s: float = GRACE_S) -> None:
        """SIGTERM the whole process group, then SIGKILL what is left after ``grace_s``."""
        self.begin_stop()
        self.finish_stop(grace_s)

    def begin_stop(self) -> None:
        """Ask the process group to stop (SIGTERM) without waiting."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)

    def finish_stop(self, grace_s: float) -> None:
        """Wait up to ``grace_s`` for the leader, then SIGKILL the group; no grandchild is left."""
        if self.process is None:
            return
        pgid = self.process.pid
        try:
            self.process.wait(timeout=max(grace_s, 0.1))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=5.0)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)


@dataclass
class ServiceStack:
    """The action server, the Rasa server and optional connectors, started in order."""

    model_path: Path
    rasa_port: int
    action_port: int
    log_dir: Path
    tracker_db: Path
    endpoints: Path = ROOT / "bot" / "endpoints.yml"
    extra_env: dict[str, str] = field(default_factory=dict)
    connectors: list[str] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://127.0.0.1:{self.action_port}/webhook"

    def _env(self) -> dict[str, str]:
        return {
            "PYTHONPATH": str(ROOT),
            "JOBBOT_ACTION_URL": self.action_url,
            "JOBBOT_TRACKER_DB": str(self.tracker_db),
            "JOBBOT_RASA_URL": self.rasa_url,
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "OMP_WAIT_POLICY": "PASSIVE",  # spin-waiting threads cost 5x latency on 2 busy cores
            "HF_HUB_OFFLINE": "1",
            **self.extra_env,
        }

    def build(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.tracker_db.parent.mkdir(parents=True, exist_ok=True)
        env = self._env()
        self.services = [
            Service(
                name="action server",
                argv=[
                    str(MAIN_PYTHON),
                    "-m",
                    "scripts.action_server",
                    "--port",
                    str(self.action_port),
                ],
                health_url=f"http://127.0.0.1:{self.action_port}/health",
                env=env,
                log_path=self.log_dir / "actions.log",
            ),
            Service(
                name="Rasa server",
                argv=[
                    str(RASA_BIN),
                    "run",
                    "--model",
                    str(self.model_path),
                    "--endpoints",
                    str(self.endpoints),
                    "--credentials",
                    str(ROOT / "bot" / "credentials.yml"),
                    "--port",
                    str(self.rasa_port),
                    "--interface",
                    "127.0.0.1",
                    "--enable-api",
                    "--cors",
                    "*",
                ],  # fmt: skip
                health_url=f"{self.rasa_url}/status",
                env=env,
                log_path=self.log_dir / "rasa.log",
            ),
        ]
        for name in self.connectors:
            self.services.append(_connector_service(name, env, self.log_dir))

    def start(self, timeout_s: float = 300.0, on_wait: Callable[[str], None] | None = None) -> None:
        """Start every service in order and wait for each to be healthy; stop all on failure."""
        if not self.services:
            self.build()
        try:
            for service in self.services:
                service.start()
                self._wait_healthy(service, timeout_s, on_wait)
        except BaseException:
            self.stop()
            raise

    def _wait_healthy(
        self, service: Service, timeout_s: float, on_wait: Callable[[str], None] | None
    ) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not service.alive():
                raise RuntimeError(f"{service.name} exited during start-up; see {service.log_path}")
            if service.healthy():
                return
            if on_wait:
                on_wait(service.name)
            time.sleep(0.5)
        raise TimeoutError(
            f"{service.name} not healthy after {timeout_s:.0f} s; see {service.log_path}"
        )

    def first_dead(self) -> Service | None:
        return next((s for s in self.services if not s.alive()), None)

    def stop(self) -> None:
        """Stop every service at once (connectors signalled first), within one grace period.

        Stopping them one after another could take three grace periods when each is slow
        to honour SIGTERM (a busy Rasa, an action server still loading its models).
        """
        for service in reversed(self.services):
            service.begin_stop()
        deadline = time.monotonic() + GRACE_S
        for service in reversed(self.services):
            service.finish_stop(deadline - time.monotonic())


def _connector_service(name: str, env: dict[str, str], log_dir: Path) -> Service:
    from knowledge.settings import get_settings

    settings = get_settings()
    if name == "kiosk":
        return Service(
            name="kiosk",
            argv=[str(MAIN_PYTHON), "-m", "connectors.kiosk"],
            health_url=f"http://{settings.kiosk_host}:{settings.kiosk_port}/healthz",
            env=env,
            log_path=log_dir / "kiosk.log",
        )
    if name == "telegram":
        return Service(
            name="telegram",
            argv=[str(MAIN_PYTHON), "-m", "connectors.telegram"],
            health_url=None,
            env=env,
            log_path=log_dir / "telegram.log",
        )
    raise ValueError(f"unknown connector {name!r} (known: kiosk, telegram)")


def install_signal_handlers(stack: ServiceStack) -> None:
    """Turn SIGTERM into KeyboardInterrupt so one code path stops everything."""

    def _raise(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, _raise)
    signal.signal(signal.SIGHUP, _raise)
    # A shell starts background jobs with SIGINT ignored, and Python then keeps ignoring it:
    # `make run &` (or CI) would not stop on Ctrl-C/SIGINT. Ctrl-C must always stop all.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if sys.platform != "linux":  # pragma: no cover
        logger.warning("child processes are only tied to the supervisor's life on Linux")
