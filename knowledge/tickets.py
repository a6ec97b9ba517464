"""Durable hand-off tickets: a request for a person, stored in SQLite before the user is told."""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tickets (
    ticket_id   TEXT PRIMARY KEY,
    created_at  TEXT NOT NULL,
    name        TEXT NOT NULL DEFAULT '',
    phone       TEXT NOT NULL DEFAULT '',
    channel     TEXT NOT NULL DEFAULT '',
    sender_id   TEXT NOT NULL,
    transcript  TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'open'
);
CREATE INDEX IF NOT EXISTS tickets_created ON tickets (created_at);
"""


@dataclass(frozen=True)
class Turn:
    """One line of the conversation so far."""

    speaker: str  # "user" or "bot"
    text: str
    timestamp: float | None = None


@dataclass(frozen=True)
class Ticket:
    ticket_id: str
    created_at: str  # ISO 8601, UTC
    sender_id: str
    name: str = ""
    phone: str = ""
    channel: str = ""
    transcript: tuple[Turn, ...] = field(default_factory=tuple)
    status: str = "open"


def new_ticket_id(now: datetime | None = None) -> str:
    """A short id people can read out on the phone: RG + date + 4 hex digits (RG20261129-3F9A)."""
    now = now or datetime.now(UTC)
    return f"RG{now:%Y%m%d}-{secrets.token_hex(2).upper()}"


class TicketStore:
    """SQLite ticket store. Every write is committed (WAL, synchronous=FULL) before it returns.

    Args:
        path: the SQLite file; its folder is created when missing.
    """

    def __init__(self, path: Path | str) -> None:
        self._path = Path(path)
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        # One connection per store; actions run in one event loop thread, the lock keeps
        # any other thread (tests, admin scripts) from interleaving statements.
        self._conn = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        # FULL: the WAL is fsynced at every commit, so a committed ticket survives a crash.
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute("PRAGMA busy_timeout=5000")
        self._conn.executescript(_SCHEMA)

    @property
    def path(self) -> Path:
        return self._path

    def create(
        self,
        sender_id: str,
        transcript: Sequence[Turn],
        name: str = "",
        phone: str = "",
        channel: str = "",
        now: datetime | None = None,
    ) -> Ticket:
        """Store a new ticket and return it once it is durably committed."""
        now = now or datetime.now(UTC)
        turns = tuple(transcript)
        body = json.dumps(
            [{"speaker": t.speaker, "text": t.text, "timestamp": t.timestamp} for t in turns],
            ensure_ascii=False,
        )
        with self._lock:
            for _ in range(5):  # ids are random; retry on the rare collision
                ticket = Ticket(
                    ticket_id=new_ticket_id(now),
                    created_at=now.isoformat(timespec="seconds"),
                    sender_id=sender_id,
                    name=name,
                    phone=phone,
                    channel=channel,
                    transcript=turns,
                )
                try:
                    self._conn.execute("BEGIN IMMEDIATE")
                    self._conn.execute(
                        "INSERT INTO tickets (ticket_id, created_at, name, phone, channel,"
                        " sender_id, transcript) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (
                            ticket.ticket_id,
                            ticket.created_at,
                            name,
                            phone,
                            channel,
                            sender_id,
                            body,
                        ),
                    )
                    self._conn.execute("COMMIT")
                    return ticket
                except sqlite3.IntegrityError:
                    self._conn.execute("ROLLBACK")
                except BaseException:
                    if self._conn.in_transaction:
                        self._conn.execute("ROLLBACK")
                    raise
        raise RuntimeError("could not allocate a unique ticket id")

    def get(self, ticket_id: str) -> Ticket | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT ticket_id, created_at, name, phone, channel, sender_id, transcript, status"
                " FROM tickets WHERE ticket_id = ?",
                (ticket_id,),
            ).fetchone()
        return _row_to_ticket(row) if row else None

    def list_open(self, limit: int = 100) -> list[Ticket]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT ticket_id, created_at, name, phone, channel, sender_id, transcript, status"
                " FROM tickets WHERE status = 'open' ORDER BY created_at DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [_row_to_ticket(r) for r in rows]

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _row_to_ticket(row: tuple) -> Ticket:
    turns = tuple(
        Turn(speaker=t["speaker"], text=t["text"], timestamp=t.get("timestamp"))
        for t in json.loads(row[6])
    )
    return Ticket(
        ticket_id=row[0],
        created_at=row[1],
        name=row[2],
        phone=row[3],
        channel=row[4],
        sender_id=row[5],
        transcript=turns,
        status=row[7],
    )


_stores: dict[str, TicketStore] = {}
_stores_lock = threading.Lock()


def get_store(path: Path | str) -> TicketStore:
    """One store per file per process."""
    key = str(Path(path).resolve())
    with _stores_lock:
        if key not in _stores:
            _stores[key] = TicketStore(path)
        return _stores[key]
