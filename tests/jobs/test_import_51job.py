"""Importing the real 51job feed (../shared/data/jobs/51job.csv) and asking it questions."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.jobs import ImportReport, JobQuery, JobSearch, JobStore, import_file

from .conftest import FEED_51JOB, TODAY, HashingEmbedder

pytestmark = pytest.mark.skipif(
    not FEED_51JOB.is_file(), reason=f"shared data absent: {FEED_51JOB}"
)


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[JobStore, ImportReport]:
    store = JobStore(f"sqlite:///{tmp_path_factory.mktemp('51job') / 'jobs.sqlite3'}")
    return store, import_file(FEED_51JOB, "51job", store)


def test_counts_and_reasons(imported: tuple[JobStore, ImportReport]) -> None:
    store, report = imported
    assert report.read == 4581
    assert report.accepted == report.stats.inserted == store.count() == 4492
    assert dict(report.reasons) == {"duplicate": 68, "city": 18, "missing": 2, "salary": 1}
    assert all(m.startswith("未知城市") for _, c, m in report.rejected if c == "city")
    assert "summary" and "拒绝原因 duplicate: 68 行" in report.summary()


def test_reimport_never_duplicates(imported: tuple[JobStore, ImportReport]) -> None:
    store, _ = imported
    again = import_file(FEED_51JOB, "51job", store)
    assert (again.stats.inserted, again.stats.updated, again.stats.unchanged) == (0, 0, 4492)
    assert store.count() == 4492


def test_parsed_fields(imported: tuple[JobStore, ImportReport]) -> None:
    store, _ = imported
    first = store.get(1)
    assert first is not None
    assert (first.title, first.city, first.province, first.job_type) == (
        "中高级python开发工程师",
        "宁波",
        "浙江",
        "IT",
    )
    assert first.salary is not None and first.salary.monthly() == (10000, 15000)
    assert "五险一金" in first.benefits and "本科" not in first.tags
    daily = [j for j in store.iter_jobs() if j.salary and j.salary.unit == "day"]
    assert daily and all(j.salary_text.endswith("元/天") for j in daily)


def _search(store: JobStore, tmp_path: Path) -> JobSearch:
    return JobSearch(store, HashingEmbedder(), tmp_path / "index")


def test_query_python_in_hangzhou_over_15000(
    imported: tuple[JobStore, ImportReport], tmp_path: Path
) -> None:
    store, _ = imported
    result = _search(store, tmp_path).search(
        JobQuery(city="杭州", job_types=("IT",), min_monthly_salary=15000, text="python开发"),
        today=TODAY,
    )
    assert result.total > 5 and not result.relaxed
    assert len(result.jobs) == 5
    for job in result.jobs:
        assert job.city == "杭州" and job.job_type == "IT"
        assert job.salary is not None and job.salary.monthly()[1] >= 15000
        assert "python" in job.title.lower()


def test_query_testing_jobs_in_wuhan_hongshan(
    imported: tuple[JobStore, ImportReport], tmp_path: Path
) -> None:
    store, _ = imported
    result = _search(store, tmp_path).search(
        JobQuery(city="武汉", district="洪山区", job_types=("IT",), text="软件测试"), today=TODAY
    )
    assert result.total > 100
    assert all(j.city == "武汉" and j.district == "洪山区" for j in result.jobs)
    assert all("测试" in j.title for j in result.jobs)


def test_query_teachers_in_chengdu(imported: tuple[JobStore, ImportReport], tmp_path: Path) -> None:
    store, _ = imported
    result = _search(store, tmp_path).search(
        JobQuery(city="成都", job_types=("教师",), text="大数据讲师"), today=TODAY
    )
    assert result.total == len(result.jobs) > 0
    assert all(j.city == "成都" and j.job_type == "教师" for j in result.jobs)
    assert result.jobs[0].title.startswith("大数据讲师")
