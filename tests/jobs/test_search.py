"""Generated data, filters, relaxation, paging, incremental adds and the vector cache."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from knowledge.jobs import Job, JobQuery, JobSearch, JobStore, Salary
from knowledge.jobs.generator import generate_jobs
from knowledge.jobs.search import relaxation_steps

from .conftest import TODAY, HashingEmbedder


def test_generator_is_reproducible_and_varied() -> None:
    first = list(generate_jobs(500, seed=3, as_of=TODAY))
    again = list(generate_jobs(500, seed=3, as_of=TODAY))
    other = list(generate_jobs(500, seed=4, as_of=TODAY))
    assert first == again
    assert first != other
    assert len({j.job_type for j in first}) >= 18
    assert len({j.city for j in first}) >= 40
    assert {j.employment_type for j in first} >= {"全职", "兼职", "日结", "小时工"}
    assert {j.salary.unit for j in first if j.salary} == {"month", "day", "hour"}
    tags = {t for j in first for t in j.tags}
    assert {"退役军人优先", "残疾人友好", "高校毕业生", "无经验可"} <= tags
    assert any("包吃住" in j.benefits for j in first) and any(
        "五险一金" in j.benefits for j in first
    )
    assert all(j.posted_at and j.expires_at and j.expires_at > j.posted_at for j in first)
    # Texts repeat by design: that is what the vector cache exploits.
    assert len({j.embedding_text() for j in first}) < len(first)


def test_filters_hold_for_every_result(generated_search: JobSearch) -> None:
    query = JobQuery(city="北京", job_types=("普工",), min_monthly_salary=5000)
    result = generated_search.search(query, today=TODAY, relax=False)
    assert result.total > 0
    for job in result.jobs:
        assert job.city == "北京" and job.job_type == "普工"
        assert job.salary is not None and job.salary.monthly()[1] >= 5000
        assert job.expires_at is None or job.expires_at >= TODAY


def test_expired_postings_are_excluded(generated_search: JobSearch) -> None:
    query = JobQuery(city="上海", job_types=("保安",))
    now = generated_search.search(query, today=TODAY, relax=False).total
    later = generated_search.search(query, today=TODAY + timedelta(days=60), relax=False).total
    assert 0 <= later < now


def test_paging_is_stable_and_disjoint(generated_search: JobSearch) -> None:
    query = JobQuery(city="北京", job_types=("普工", "仓储分拣"), text="工厂 流水线")
    pages = [generated_search.search(query, page=p, today=TODAY) for p in (1, 2, 3)]
    ids = [[j.id for j in r.jobs] for r in pages]
    assert all(len(i) == 5 for i in ids)
    assert len(set(ids[0]) | set(ids[1]) | set(ids[2])) == 15
    assert ids[1] == [j.id for j in generated_search.search(query, page=2, today=TODAY).jobs]
    last_page = pages[0].pages
    tail = generated_search.search(query, page=last_page, today=TODAY)
    assert 1 <= len(tail.jobs) <= 5 and not tail.has_more
    assert generated_search.search(query, page=last_page + 1, today=TODAY).jobs == ()


def test_semantic_ranking_prefers_matching_text(generated_search: JobSearch) -> None:
    result = generated_search.search(
        JobQuery(city="北京", job_types=("司机",), text="叉车司机"), today=TODAY
    )
    assert result.jobs[0].title == "叉车司机"


def test_relaxation_order_and_messages() -> None:
    query = JobQuery(
        city="杭州",
        district="余杭区",
        job_types=("仓储分拣",),
        min_monthly_salary=5000,
        employment_type="日结",
    )
    steps = relaxation_steps(query)
    assert [s[0].district for s in steps] == [None] * 4
    assert steps[0][1] == "余杭区暂时没有合适的岗位，已扩大到杭州全市"
    assert steps[1][0].min_monthly_salary == 4500 and "放宽到4500元" in steps[1][1]
    assert (
        set(steps[2][0].job_types) >= {"仓储分拣", "普工", "快递员"} and "相近的工种" in steps[2][1]
    )
    assert steps[3][0].employment_type is None


def _job(**changes: object) -> Job:
    base = Job(
        title="仓库分拣员",
        company="恒通物流",
        city="杭州",
        province="浙江",
        district="萧山区",
        job_type="仓储分拣",
        salary=Salary(4600, 4700),
        posted_at=TODAY,
        expires_at=TODAY + timedelta(days=30),
        source="test",
        external_id="x",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_relaxation_district_then_salary_then_related(search: JobSearch) -> None:
    search.store.add(_job(external_id="a"))
    search.store.add(
        _job(
            external_id="b",
            job_type="普工",
            title="包装工",
            district="余杭区",
            salary=Salary(6000, 7000),
        )
    )
    query = JobQuery(
        city="杭州", district="余杭区", job_types=("仓储分拣",), min_monthly_salary=5000
    )
    result = search.search(query, today=TODAY)
    # 余杭区 has no 仓储分拣; all of 杭州 has one at 4700 ≥ 4500 after the salary step.
    assert result.total == 1 and result.jobs[0].external_id == "a"
    assert result.relaxed == (
        "余杭区暂时没有合适的岗位，已扩大到杭州全市",
        "月薪要求从5000元放宽到4500元",
    )
    strict = search.search(replace(query, min_monthly_salary=6000), today=TODAY)
    assert "加入了相近的工种：普工、快递员" in strict.relaxed
    assert [j.external_id for j in strict.jobs] == ["b"]
    none = search.search(JobQuery(city="拉萨", job_types=("会计",)), today=TODAY)
    assert none.total == 0 and none.jobs == ()


def test_added_posting_is_searchable_at_once_from_another_process(
    search: JobSearch, tmp_path: Path
) -> None:
    search.store.add(_job(external_id="first"))
    assert search.search(JobQuery(city="杭州", job_types=("仓储分拣",)), today=TODAY).total == 1
    other = JobSearch(
        JobStore(search.store.url), HashingEmbedder(), tmp_path / "index"
    )  # a second server
    other.add(_job(external_id="second", title="夜班理货员"))
    result = search.search(
        JobQuery(city="杭州", job_types=("仓储分拣",), text="夜班理货员"), today=TODAY
    )
    assert result.total == 2 and result.jobs[0].title == "夜班理货员"


class CountingEmbedder(HashingEmbedder):
    def __init__(self) -> None:
        self.passages = 0

    def encode_passages(self, texts, batch_size=32):  # type: ignore[no-untyped-def]
        self.passages += len(texts)
        return super().encode_passages(texts)


def test_vectors_are_cached_by_text_and_persisted(generated_db: Path, tmp_path: Path) -> None:
    store = JobStore(f"sqlite:///{generated_db}")
    first = CountingEmbedder()
    JobSearch(store, first, tmp_path / "idx").refresh()
    distinct = len({h for h in store.index_rows().text_hash})
    assert first.passages == distinct < store.count()
    second = CountingEmbedder()
    JobSearch(store, second, tmp_path / "idx").refresh()
    assert second.passages == 0  # loaded from jobs_index_dir


def test_approximate_matches_exact(generated_search: JobSearch) -> None:
    generated_search.refresh()
    assert generated_search.vectors.build_ivf(
        nlist=16, nprobe=16
    )  # all lists probed: must equal exact
    for job_type in ("普工", "保安", "销售"):
        query = JobQuery(city="北京", job_types=(job_type,), text=f"{job_type} 包吃住")
        exact = generated_search.search(query, today=TODAY, approximate=False)
        approx = generated_search.search(query, today=TODAY, approximate=True)
        assert [j.id for j in approx.jobs] == [j.id for j in exact.jobs]


@pytest.mark.parametrize("bad", ["", "   "])
def test_empty_text_query_still_ranks(generated_search: JobSearch, bad: str) -> None:
    result = generated_search.search(
        JobQuery(city="北京", job_types=("保洁",), text=bad), today=TODAY
    )
    assert result.total > 0 and np.all([j.job_type == "保洁" for j in result.jobs])
