"""The job store: SQLite by default, PostgreSQL when configured, through SQLAlchemy Core.

Versioned, idempotent migrations; a unique key (source, external_id) so re-importing a
feed never duplicates a posting; parameterised statements only.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from knowledge.jobs.models import Job, Salary

log = logging.getLogger(__name__)

metadata = sa.MetaData()

# BigInteger ids on PostgreSQL; SQLite only auto-increments a plain INTEGER primary key.
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

jobs_table = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("external_id", sa.String(128), nullable=False),
    sa.Column("content_hash", sa.String(40), nullable=False),
    sa.Column("text_hash", sa.String(16), nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("company", sa.Text, nullable=False),
    sa.Column("job_type", sa.String(32), nullable=False),
    sa.Column("employment_type", sa.String(16), nullable=False),
    sa.Column("province", sa.String(32), nullable=False),
    sa.Column("city", sa.String(32), nullable=False),
    sa.Column("district", sa.String(64)),
    sa.Column("salary_low", sa.Float),
    sa.Column("salary_high", sa.Float),
    sa.Column("salary_unit", sa.String(8)),
    sa.Column("salary_months", sa.Integer),
    sa.Column("salary_monthly_low", sa.Float),
    sa.Column("salary_monthly_high", sa.Float),
    sa.Column("benefits", sa.Text, nullable=False),  # JSON list: any character round-trips
    sa.Column("tags", sa.Text, nullable=False),  # JSON list
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("requirements", sa.Text, nullable=False),
    sa.Column("contact_phone", sa.String(32), nullable=False),
    sa.Column("headcount", sa.Integer),
    sa.Column("posted_at", sa.Date),
    sa.Column("expires_at", sa.Date),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("source", "external_id", name="uq_jobs_source_external_id"),
)

migrations_table = sa.Table(
    "schema_migrations",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
)


def _m1_create_jobs(conn: Connection) -> None:
    jobs_table.create(conn, checkfirst=True)


def _m2_search_indexes(conn: Connection) -> None:
    # Plain DDL: IF NOT EXISTS works on SQLite and PostgreSQL alike.
    for name, columns in (
        ("ix_jobs_city_type", "city, job_type"),
        ("ix_jobs_expires_at", "expires_at"),
        ("ix_jobs_text_hash", "text_hash"),
    ):
        conn.execute(sa.text(f"CREATE INDEX IF NOT EXISTS {name} ON jobs ({columns})"))


#: (version, name, function). Append only; never edit an applied migration.
MIGRATIONS: tuple[tuple[int, str, Callable[[Connection], None]], ...] = (
    (1, "create jobs", _m1_create_jobs),
    (2, "search indexes", _m2_search_indexes),
)

_CHUNK = 500  # ids per IN (...) list: well under SQLite's parameter limit


@dataclass(frozen=True)
class UpsertStats:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass(frozen=True)
class IndexRows:
    """Columnar view of postings for the in-memory search (one entry per posting)."""

    ids: np.ndarray  # int64
    city: list[str]
    district: list[str | None]
    job_type: list[str]
    employment_type: list[str]
    salary_monthly_high: np.ndarray  # float32, NaN = 面议
    expires_day: np.ndarray  # int32 days since 1970-01-01; large = no expiry
    posted_day: np.ndarray  # int32
    text_hash: list[str]


NO_EXPIRY_DAY = 2**31 - 1


def content_hash(job: Job) -> str:
    """A hash of everything a posting says (not its id), to spot changed re-imports."""
    return _hash_payload(_row(job, include_meta=False))


def _hash_payload(payload: dict[str, Any]) -> str:
    # repr() keeps None, numbers and strings apart; the unit separator cannot occur unescaped.
    return hashlib.sha1(
        "\x1f".join(repr(payload[k]) for k in sorted(payload)).encode("utf-8")
    ).hexdigest()


def text_hash(job: Job) -> str:
    """Hash of the posting's embedding text: the key of the vector cache."""
    return _hash_text(job.embedding_text())


@lru_cache(maxsize=65536)
def _hash_text(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


class FieldTooLong(ValueError):
    """A value longer than its column allows (checked here so SQLite and PostgreSQL agree)."""


def _check_lengths(row: dict[str, Any]) -> None:
    for column in jobs_table.columns:
        limit = getattr(column.type, "length", None)
        value = row.get(column.name)
        if limit and isinstance(value, str) and len(value) > limit:
            raise FieldTooLong(f"{column.name} 超过 {limit} 个字符（{len(value)}）")


def check_job(job: Job) -> None:
    """Raise FieldTooLong if ``job`` would not fit its columns."""
    _check_lengths(_row(job, include_meta=False))


def _row(job: Job, include_meta: bool = True) -> dict[str, Any]:
    monthly = job.salary.monthly() if job.salary else (None, None)
    row: dict[str, Any] = {
        "source": job.source,
        "external_id": job.external_id,
        "title": job.title,
        "company": job.company,
        "job_type": job.job_type,
        "employment_type": job.employment_type,
        "province": job.province,
        "city": job.city,
        "district": job.district,
        "salary_low": job.salary.low if job.salary else None,
        "salary_high": job.salary.high if job.salary else None,
        "salary_unit": job.salary.unit if job.salary else None,
        "salary_months": job.salary.months if job.salary else None,
        "salary_monthly_low": monthly[0],
        "salary_monthly_high": monthly[1],
        "benefits": _json_list(job.benefits),
        "tags": _json_list(job.tags),
        "description": job.description,
        "requirements": job.requirements,
        "contact_phone": job.contact_phone,
        "headcount": job.headcount,
        "posted_at": job.posted_at,
        "expires_at": job.expires_at,
    }
    if include_meta:
        _check_lengths(row)
        row["content_hash"] = _hash_payload(row)
        row["text_hash"] = text_hash(job)
        row["created_at"] = _now()
    return row


@lru_cache(maxsize=4096)
def _json_list(items: tuple[str, ...]) -> str:
    return json.dumps(list(items), ensure_ascii=False)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _job(row: Any) -> Job:
    m = row._mapping
    salary = None
    if m["salary_unit"]:
        salary = Salary(
            low=m["salary_low"],
            high=m["salary_high"],
            unit=m["salary_unit"],
            months=m["salary_months"] or 12,
        )
    return Job(
        id=int(m["id"]),
        source=m["source"],
        external_id=m["external_id"],
        title=m["title"],
        company=m["company"],
        job_type=m["job_type"],
        employment_type=m["employment_type"],
        province=m["province"],
        city=m["city"],
        district=m["district"],
        salary=salary,
        benefits=tuple(json.loads(m["benefits"])),
        tags=tuple(json.loads(m["tags"])),
        description=m["description"],
        requirements=m["requirements"],
        contact_phone=m["contact_phone"],
        headcount=m["headcount"],
        posted_at=m["posted_at"],
        expires_at=m["expires_at"],
    )


class JobStore:
    """Postings in a SQL database (SQLite file or PostgreSQL server)."""

    def __init__(self, url: str, engine: Engine | None = None) -> None:
        self.url = url
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
            Path(url.removeprefix("sqlite:///")).expanduser().parent.mkdir(
                parents=True, exist_ok=True
            )
        self.engine = engine or sa.create_engine(url, future=True)
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        self.migrate()

    @classmethod
    def from_settings(cls) -> JobStore:
        from knowledge.settings import get_settings

        return cls(get_settings().jobs_db_url)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    # -- schema -------------------------------------------------------------------------
    def migrate(self) -> list[int]:
        """Apply the migrations not yet applied, each in its own transaction; return them."""
        applied: list[int] = []
        with self.engine.begin() as conn:
            migrations_table.create(conn, checkfirst=True)
        for version, name, func in MIGRATIONS:
            with self.engine.begin() as conn:
                done = conn.execute(
                    sa.select(migrations_table.c.version).where(
                        migrations_table.c.version == version
                    )
                ).first()
                if done:
                    continue
                func(conn)
                conn.execute(
                    migrations_table.insert().values(
                        version=version, name=name, applied_at=datetime.now(UTC)
                    )
                )
                applied.append(version)
                log.info("job store migration %d applied: %s", version, name)
        return applied

    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(sa.select(sa.func.max(migrations_table.c.version))).scalar() or 0
            )

    # -- writes -------------------------------------------------------------------------
    def add(self, job: Job) -> Job:
        """Insert one posting (or return the stored one if its key exists) and return it with its id."""
        with self.engine.begin() as conn:
            existing = conn.execute(
                sa.select(jobs_table.c.id).where(
                    jobs_table.c.source == job.source, jobs_table.c.external_id == job.external_id
                )
            ).first()
            if existing:
                return self.get(int(existing[0])) or job
            key = conn.execute(jobs_table.insert().values(**_row(job))).inserted_primary_key
            assert key is not None
        return replace(job, id=int(key[0]))

    def upsert_many(self, jobs: Sequence[Job]) -> UpsertStats:
        """Insert new postings, update changed ones (same source and external id), skip the rest."""
        inserted = updated = unchanged = 0
        with self.engine.begin() as conn:
            for start in range(0, len(jobs), _CHUNK):
                chunk = jobs[start : start + _CHUNK]
                by_source: dict[str, list[str]] = {}
                for job in chunk:
                    by_source.setdefault(job.source, []).append(job.external_id)
                existing: dict[tuple[str, str], tuple[int, str]] = {}
                for source, keys in by_source.items():
                    rows = conn.execute(
                        sa.select(
                            jobs_table.c.id, jobs_table.c.external_id, jobs_table.c.content_hash
                        ).where(jobs_table.c.source == source, jobs_table.c.external_id.in_(keys))
                    )
                    existing.update({(source, r.external_id): (r.id, r.content_hash) for r in rows})
                new_rows = []
                for job in chunk:
                    row = _row(job)
                    found = existing.get((job.source, job.external_id))
                    if found is None:
                        new_rows.append(row)
                    elif found[1] == row["content_hash"]:
                        unchanged += 1
                    else:
                        row.pop("created_at")
                        conn.execute(
                            jobs_table.update().where(jobs_table.c.id == found[0]).values(**row)
                        )
                        updated += 1
                if new_rows:
                    conn.execute(jobs_table.insert(), new_rows)
                    inserted += len(new_rows)
        return UpsertStats(inserted, updated, unchanged)

    def bulk_insert(self, jobs: Iterable[Job], batch_size: int = 20_000) -> int:
        """Fast path for generated data: DB-API executemany in batches; keys already present are skipped.

        SQLAlchemy's per-row parameter processing costs more than SQLite itself at a million
        rows, so this one statement goes to the driver directly (still fully parameterised).
        """
        columns = [c.name for c in jobs_table.columns if c.name != "id"]
        mark = "?" if self.dialect == "sqlite" else "%s"
        sql = (
            f"INSERT INTO jobs ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))}) "
            "ON CONFLICT (source, external_id) DO NOTHING"
        )
        as_text = self.dialect == "sqlite"  # sqlite3's implicit date adapters are deprecated
        total = 0
        batch: list[tuple[Any, ...]] = []
        with self.engine.begin() as conn:
            for job in jobs:
                row = _row(job)
                if as_text:
                    for key in ("posted_at", "expires_at"):
                        row[key] = row[key].isoformat() if row[key] else None
                    row["created_at"] = row["created_at"].isoformat(sep=" ")
                batch.append(tuple(row[c] for c in columns))
                if len(batch) >= batch_size:
                    total += self._execute_batch(conn, sql, batch)
                    batch = []
            if batch:
                total += self._execute_batch(conn, sql, batch)
        return total

    @staticmethod
    def _execute_batch(conn: Connection, sql: str, batch: list[tuple[Any, ...]]) -> int:
        count = sa.select(sa.func.count()).select_from(jobs_table)
        before = conn.execute(count).scalar() or 0
        conn.exec_driver_sql(sql, batch)
        return int((conn.execute(count).scalar() or 0) - before)

    def delete(self, job_id: int) -> bool:
        with self.engine.begin() as conn:
            return bool(conn.execute(jobs_table.delete().where(jobs_table.c.id == job_id)).rowcount)

    def delete_source(self, source: str) -> int:
        with self.engine.begin() as conn:
            return conn.execute(jobs_table.delete().where(jobs_table.c.source == source)).rowcount

    # -- reads --------------------------------------------------------------------------
    def count(self, source: str | None = None) -> int:
        query = sa.select(sa.func.count()).select_from(jobs_table)
        if source:
            query = query.where(jobs_table.c.source == source)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar() or 0)

    def max_id(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.max(jobs_table.c.id))).scalar() or 0)

    def get(self, job_id: int) -> Job | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(jobs_table).where(jobs_table.c.id == job_id)).first()
        return _job(row) if row else None

    def get_many(self, ids: Sequence[int]) -> dict[int, Job]:
        found: dict[int, Job] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(ids), _CHUNK):
                chunk = [int(i) for i in ids[start : start + _CHUNK]]
                for row in conn.execute(sa.select(jobs_table).where(jobs_table.c.id.in_(chunk))):
                    found[int(row.id)] = _job(row)
        return found

    def find(self, source: str, external_id: str) -> Job | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(jobs_table).where(
                    jobs_table.c.source == source, jobs_table.c.external_id == external_id
                )
            ).first()
        return _job(row) if row else None

    def iter_jobs(self, source: str | None = None) -> Iterator[Job]:
        query = sa.select(jobs_table).order_by(jobs_table.c.id)
        if source:
            query = query.where(jobs_table.c.source == source)
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                yield _job(row)

    def index_rows(self, after_id: int = 0) -> IndexRows:
        """Columns the in-memory search needs, for postings with id > ``after_id``."""
        t = jobs_table
        query = (
            sa.select(
                t.c.id,
                t.c.city,
                t.c.district,
                t.c.job_type,
                t.c.employment_type,
                t.c.salary_monthly_high,
                sa.cast(t.c.expires_at, sa.String),
                sa.cast(t.c.posted_at, sa.String),
                t.c.text_hash,
            )
            .where(t.c.id > after_id)
            .order_by(t.c.id)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        if not rows:
            empty_i = np.zeros(0, dtype=np.int32)
            return IndexRows(
                np.zeros(0, dtype=np.int64),
                [],
                [],
                [],
                [],
                np.zeros(0, dtype=np.float32),
                empty_i,
                empty_i,
                [],
            )
        ids, city, district, job_type, emp, salary, expires, posted, thash = zip(*rows, strict=True)
        return IndexRows(
            ids=np.fromiter(ids, dtype=np.int64, count=len(ids)),
            city=list(city),
            district=list(district),
            job_type=list(job_type),
            employment_type=list(emp),
            salary_monthly_high=np.array(
                [np.nan if s is None else s for s in salary], dtype=np.float32
            ),
            expires_day=_days(expires, NO_EXPIRY_DAY),
            posted_day=_days(posted, 0),
            text_hash=list(thash),
        )

    def texts_for(self, ids: Sequence[int]) -> dict[int, str]:
        """Embedding texts of the given postings."""
        return {job_id: job.embedding_text() for job_id, job in self.get_many(ids).items()}


def _days(values: Sequence[str | None], missing: int) -> np.ndarray:
    # ISO strings ("2026-01-31") to day numbers, vectorised; None becomes ``missing``.
    filled = np.array([v[:10] if v else "NaT" for v in values], dtype="datetime64[D]")
    days = filled.astype(np.int64)
    days[np.isnat(filled)] = missing
    return days.astype(np.int64)


def day_number(value: date) -> int:
    return int(np.datetime64(value, "D").astype(np.int64))


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
