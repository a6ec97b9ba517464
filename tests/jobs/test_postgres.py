"""The same job store code against a real PostgreSQL server started from Debian's packages."""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa

from knowledge.jobs import JobQuery, JobSearch, JobStore, import_file
from knowledge.jobs.generator import generate_into
from knowledge.jobs.store import MIGRATIONS, FieldTooLong

from .conftest import TODAY, HashingEmbedder
from .test_store import HOSTILE, hostile_job

pytestmark = pytest.mark.slow


def _binaries() -> tuple[str, str] | None:
    for bin_dir in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        initdb, pg_ctl = f"{bin_dir}/initdb", f"{bin_dir}/pg_ctl"
        if os.access(initdb, os.X_OK) and os.access(pg_ctl, os.X_OK):
            return initdb, pg_ctl
    found = shutil.which("initdb"), shutil.which("pg_ctl")
    return (found[0], found[1]) if all(found) else None  # type: ignore[return-value]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    binaries = _binaries()
    if binaries is None:
        pytest.skip("PostgreSQL server binaries not installed (Debian package 'postgresql')")
    initdb, pg_ctl = binaries
    # initdb refuses to run as root: run the server as the 'postgres' system user then.
    as_user: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser: cannot start PostgreSQL as another user")
        as_user = ["runuser", "-u", "postgres", "--"]
    base = Path(tempfile.mkdtemp(prefix="jobs-pg-"))
    data, sockets = base / "data", base / "sock"
    sockets.mkdir()
    if as_user:
        shutil.chown(base, "postgres")
        shutil.chown(sockets, "postgres")
    port = _free_port()
    subprocess.run(
        [
            *as_user,
            initdb,
            "-D",
            str(data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        ],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [
            *as_user,
            pg_ctl,
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(base / "log"),
            "-w",
            "-t",
            "60",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_user, pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"], capture_output=True
        )
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[JobStore]:
    store = JobStore(pg_url)
    with store.engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE jobs RESTART IDENTITY"))
    yield store
    store.close()


def test_server_is_postgresql_and_migrations_are_idempotent(pg_url: str) -> None:
    first = JobStore(pg_url)
    assert first.dialect == "postgresql"
    assert first.schema_version() == len(MIGRATIONS)
    assert JobStore(pg_url).migrate() == []
    with first.engine.connect() as conn:
        indexes = {
            r[0]
            for r in conn.execute(
                sa.text("SELECT indexname FROM pg_indexes WHERE tablename='jobs'")
            )
        }
    assert {"ix_jobs_city_type", "ix_jobs_expires_at", "uq_jobs_source_external_id"} <= indexes


def test_hostile_text_round_trips_and_duplicates_collapse(pg_store: JobStore) -> None:
    job = hostile_job()
    stored = pg_store.add(job)
    assert pg_store.get(stored.id or 0) == replace(job, id=stored.id)
    assert pg_store.add(job).id == stored.id and pg_store.count() == 1
    stats = pg_store.upsert_many([job, replace(hostile_job("b"), title="夜班保安")])
    assert (stats.inserted, stats.unchanged) == (1, 1)


def test_bulk_generate_and_search(pg_store: JobStore, tmp_path: Path) -> None:
    assert generate_into(pg_store, 3000, seed=5, as_of=TODAY) == 3000
    assert generate_into(pg_store, 3000, seed=5, as_of=TODAY) == 0  # re-run adds nothing
    search = JobSearch(pg_store, HashingEmbedder(), tmp_path / "idx")
    result = search.search(JobQuery(city="上海", job_types=("保安",), text="小区保安"), today=TODAY)
    assert result.total > 0 and all(j.city == "上海" and j.job_type == "保安" for j in result.jobs)
    page2 = search.search(
        JobQuery(city="上海", job_types=("保安",), text="小区保安"), page=2, today=TODAY
    )
    assert not {j.id for j in result.jobs} & {j.id for j in page2.jobs}
    added = search.add(
        replace(
            hostile_job("new"),
            city="上海",
            job_type="保安",
            district="浦东新区",
            expires_at=None,
            title=f"小区保安{HOSTILE}",
        )
    )
    again = search.search(
        JobQuery(city="上海", district="浦东新区", job_types=("保安",), text="小区保安"),
        today=TODAY,
    )
    assert added.id in {
        j.id
        for j in search.search(
            JobQuery(city="上海", district="浦东新区", job_types=("保安",)),
            page=1,
            page_size=500,
            today=TODAY,
        ).jobs
    }
    assert again.total >= 1


def test_overlong_fields_are_refused_like_on_sqlite(pg_store: JobStore) -> None:
    with pytest.raises(FieldTooLong):
        pg_store.add(replace(hostile_job(), district="区" * 65))
    assert pg_store.count() == 0


def test_feed_with_bad_rows(pg_store: JobStore, tmp_path: Path) -> None:
    good = {
        "id": "1",
        "title": f"保洁员{HOSTILE}",
        "company": {"name": HOSTILE},
        "location": "上海·浦东新区",
        "salary": "150元/天",
        "job_type": "保洁",
        "description": "很" * 1_000_000,
        "phone": "021-55556666",
    }
    rows = [
        good,
        {**good, "id": "2", "salary": "看心情"},
        {**good, "id": "3", "location": "火星"},
        good,
    ]
    feed = tmp_path / "feed.json"
    feed.write_text(json.dumps({"jobs": rows}, ensure_ascii=False), encoding="utf-8")
    report = import_file(feed, "generic_json", pg_store)
    assert report.stats.inserted == 1 and dict(report.reasons) == {
        "salary": 1,
        "city": 1,
        "duplicate": 1,
    }
    stored = pg_store.find("json-feed", "1")
    assert stored is not None and stored.company == HOSTILE and stored.title == f"保洁员{HOSTILE}"
    assert stored.salary_text == "150元/天" and stored.contact_phone == "021-55556666"
    assert len(stored.description) == 5000
    assert (
        import_file(feed, "generic_json", pg_store).stats.unchanged == 1 and pg_store.count() == 1
    )
