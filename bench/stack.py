"""A throwaway Rasa + action server stack for benchmarks that are not given a running one."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def rasa_url_or_stack(rasa_url: str, prefix: str) -> Iterator[str]:
    """Yield ``rasa_url`` if given; otherwise boot the real stack on free ports and yield its URL."""
    if rasa_url:
        yield rasa_url
        return
    from scripts.rasa_model import train
    from scripts.supervisor import ServiceStack, free_port

    work = Path(tempfile.mkdtemp(prefix=prefix))
    stack = ServiceStack(
        model_path=train(),
        rasa_port=free_port(),
        action_port=free_port(),
        log_dir=work / "logs",
        tracker_db=work / "tracker.sqlite3",
        extra_env={"JOBBOT_TICKETS_DB": str(work / "tickets.sqlite3")},
    )
    stack.start(timeout_s=600)
    try:
        yield stack.rasa_url
    finally:
        stack.stop()
