"""Shared fixtures. `rasa_stack` boots the real action server and Rasa server once per session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The read-only evaluation data (../shared/data); skips where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(
            f"shared data not found at {SHARED_DATA} (only present beside the project checkout)"
        )
    return SHARED_DATA


@pytest.fixture(scope="session")
def rasa_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """The real action server + Rasa server with the trained model, on free ports.

    Yields a `scripts.supervisor.ServiceStack` (``.rasa_url``, ``.action_url``, ``.services``).
    Tickets, the tracker store and logs go to a temporary folder; the knowledge built by
    `make build` (indexes, job store) is used read-only.
    """
    from scripts.rasa_model import train
    from scripts.supervisor import ServiceStack, free_port

    if not (ROOT / ".venv-rasa" / "bin" / "rasa").exists():
        pytest.fail(".venv-rasa is missing: run `make setup` (make test does it)")
    import sqlite3

    from knowledge.settings import get_settings

    model = train()
    work = tmp_path_factory.mktemp("stack")
    # The job store is copied so postings made by tests never reach the operator's store.
    jobs_db = work / "jobs.sqlite3"
    settings = get_settings()
    source_db = Path(settings.jobs_db_url.removeprefix("sqlite:///"))
    if settings.jobs_db_url.startswith("sqlite:///") and source_db.exists():
        with sqlite3.connect(source_db) as src, sqlite3.connect(jobs_db) as dst:
            src.backup(dst)  # consistent even with a WAL beside the file
    stack = ServiceStack(
        model_path=model,
        rasa_port=free_port(),
        action_port=free_port(),
        log_dir=work / "logs",
        tracker_db=work / "tracker.sqlite3",
        extra_env={
            "JOBBOT_TICKETS_DB": str(work / "tickets.sqlite3"),
            "JOBBOT_JOBS_DB_URL": f"sqlite:///{jobs_db}",
            "JOBBOT_LOG_LEVEL": os.environ.get("JOBBOT_LOG_LEVEL", "INFO"),
        },
    )
    stack.start(timeout_s=600)
    try:
        yield stack
    finally:
        stack.stop()
