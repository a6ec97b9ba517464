"""The job store: migrations, round trips, de-duplication and hostile input (SQLite)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from knowledge.jobs import Job, JobStore, Salary, import_file
from knowledge.jobs.store import MIGRATIONS, FieldTooLong

# Every field gets SQL metacharacters, markup and odd Unicode: all must come back unchanged.
HOSTILE = "'; DROP TABLE jobs; -- \" <script>alert('x')</script> &amp; %s ? :name \\ 𠮷 ✓"


def hostile_job(external_id: str = "h-1") -> Job:
    return Job(
        title=f"保安{HOSTILE}",
        company=f"公司{HOSTILE}",
        city="杭州",
        province="浙江",
        district=f"余杭区{HOSTILE}"[:64],  # bounded columns get as much as they hold
        job_type="保安",
        employment_type="全职",
        salary=Salary(4000, 6000),
        benefits=(HOSTILE, "包吃住"),
        tags=(HOSTILE, '","]'),
        description=HOSTILE * 3,
        requirements=HOSTILE,
        contact_phone="13900001111",
        headcount=3,
        posted_at=date(2026, 11, 1),
        expires_at=date(2026, 12, 31),
        source=f"src{HOSTILE}"[:60],
        external_id=f"{external_id}{HOSTILE}"[:128],
    )


def test_migrations_are_versioned_and_idempotent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    first = JobStore(url)
    assert first.schema_version() == len(MIGRATIONS)
    assert first.migrate() == []  # nothing left to apply
    second = JobStore(url)  # a second process opening the same database
    assert second.migrate() == []
    with second.engine.connect() as conn:
        versions = [
            r[0]
            for r in conn.execute(sa.text("SELECT version FROM schema_migrations ORDER BY version"))
        ]
        indexes = {
            r[0] for r in conn.execute(sa.text("SELECT name FROM sqlite_master WHERE type='index'"))
        }
    assert versions == [v for v, _, _ in MIGRATIONS]
    assert {"ix_jobs_city_type", "ix_jobs_expires_at"} <= indexes


def test_hostile_text_round_trips_unchanged(store: JobStore) -> None:
    job = hostile_job()
    stored = store.add(job)
    again = store.get(stored.id or 0)
    assert again == replace(job, id=stored.id)
    assert store.count() == 1  # the DROP TABLE in the text did nothing
    found = store.find(job.source, job.external_id)
    assert found is not None and found.title == job.title


def test_overlong_bounded_fields_are_refused_clearly(store: JobStore) -> None:
    with pytest.raises(FieldTooLong, match="district 超过 64"):
        store.add(replace(hostile_job(), district="区" * 65))
    assert store.count() == 0


def test_adding_the_same_posting_twice_keeps_one(store: JobStore) -> None:
    first = store.add(hostile_job())
    second = store.add(hostile_job())
    assert first.id == second.id
    assert store.count() == 1


def test_upsert_counts_new_changed_and_unchanged(store: JobStore) -> None:
    a, b = hostile_job("a"), hostile_job("b")
    assert store.upsert_many([a, b]).inserted == 2
    stats = store.upsert_many([a, replace(b, title="保安（夜班）")])
    assert (stats.inserted, stats.updated, stats.unchanged) == (0, 1, 1)
    assert store.count() == 2
    assert store.find(b.source, b.external_id).title == "保安（夜班）"


def test_bulk_insert_skips_existing_keys(store: JobStore) -> None:
    jobs = [replace(hostile_job(str(i)), title=f"岗位{i}") for i in range(30)]
    assert store.bulk_insert(jobs, batch_size=7) == 30
    assert store.bulk_insert(jobs, batch_size=7) == 0
    assert store.count() == 30
    assert store.get_many([1, 2])[1].posted_at == date(2026, 11, 1)


def test_json_feed_with_bad_rows(store: JobStore, tmp_path: Path) -> None:
    """Unparsable salary, unknown city, a 1 MB description, a duplicate and hostile text in every field."""
    good = {
        "id": "ok-1",
        "title": f"仓库分拣员{HOSTILE}",
        "company": {"name": f"恒通物流{HOSTILE}"},
        "location": "浙江省杭州余杭区",
        "salary": "5000-7000",
        "tags": f"夜班,{HOSTILE}",
        "benefits": "包吃住",
        "job_type": "仓储分拣",
        "employment_type": "全职",
        "description": HOSTILE,
        "requirements": HOSTILE,
        "phone": "13900001111",
        "headcount": "三",
        "posted_at": "2026-11-20",
        "expires_at": "2026-12-20",
    }
    rows = [
        good,
        {**good, "id": "bad-salary", "salary": "面包两个"},
        {**good, "id": "bad-city", "location": "火星省火星"},
        {**good, "id": "huge", "description": "很" * 1_000_000},
        {**good},  # the same id again: a duplicate
        {**good, "id": "bad-phone", "phone": "12345"},
        {**good, "id": "no-title", "title": ""},
    ]
    feed = tmp_path / "feed.json"
    feed.write_text(json.dumps({"jobs": rows}, ensure_ascii=False), encoding="utf-8")
    report = import_file(feed, "generic_json", store)
    assert report.read == 7
    assert report.stats.inserted == 2
    assert dict(report.reasons) == {
        "salary": 1,
        "city": 1,
        "duplicate": 1,
        "phone": 1,
        "missing": 1,
    }
    messages = {code: message for _, code, message in report.rejected}
    assert "面包两个" in messages["salary"]
    assert "火星" in messages["city"]
    assert any("截断" in w for _, w in report.warnings)
    stored = store.find("json-feed", "ok-1")
    assert stored is not None
    assert stored.title == f"仓库分拣员{HOSTILE}"
    assert stored.company == f"恒通物流{HOSTILE}"
    assert stored.tags == ("夜班", HOSTILE)
    assert stored.description == HOSTILE and stored.requirements == HOSTILE
    assert (stored.city, stored.district, stored.headcount) == ("杭州", "余杭区", 3)
    huge = store.find("json-feed", "huge")
    assert huge is not None and len(huge.description) == 5000
    # Re-importing the same feed changes nothing.
    again = import_file(feed, "generic_json", store)
    assert (again.stats.inserted, again.stats.unchanged) == (0, 2)
    assert store.count() == 2
