"""Job search and employer postings end to end: real Rasa + action server over the REST channel.

Payloads (what buttons send) keep the worker's turns independent of NLU accuracy; the
employer's free-text answers go through the form's from_text mappings. The posting made
here is deleted from the store afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from knowledge.jobs import JobStore
from knowledge.settings import get_settings

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def post(stack: Any, sender: str, message: str) -> list[dict[str, Any]]:
    response = httpx.post(
        f"{stack.rasa_url}/webhooks/rest/webhook",
        json={"sender": sender, "message": message},
        timeout=120,
    )
    assert response.status_code == 200, response.text
    return response.json()


def texts(replies: list[dict[str, Any]]) -> str:
    return "\n".join(r.get("text") or "" for r in replies)


def jobs_payload(replies: list[dict[str, Any]]) -> dict[str, Any]:
    found = [
        r["custom"]
        for r in replies
        if isinstance(r.get("custom"), dict) and r["custom"].get("type") == "jobs"
    ]
    assert found, f"no jobs payload in {replies}"
    return found[-1]


def test_worker_search_with_a_correction_and_two_pages(rasa_stack: Any) -> None:
    sender = f"e2e-worker-{uuid.uuid4().hex[:8]}"
    assert "哪个城市" in texts(post(rasa_stack, sender, "/search_job"))
    assert "什么工作" in texts(post(rasa_stack, sender, '/inform{"city": "杭州"}'))
    # A correction while the form still waits for the job type: the city is overwritten.
    post(rasa_stack, sender, '/inform{"city": "宁波"}')
    first = post(rasa_stack, sender, '/inform{"job_type": "保安"}')
    page1 = jobs_payload(first)
    assert page1["page"] == 1 and len(page1["items"]) == 5 and page1["total"] > 5
    assert {i["city"] for i in page1["items"]} == {"宁波"}
    assert "1. " in texts(first)
    page2 = jobs_payload(post(rasa_stack, sender, "/more_results"))
    assert page2["page"] == 2 and page2["total"] == page1["total"]
    assert not {i["id"] for i in page1["items"]} & {i["id"] for i in page2["items"]}


@pytest.fixture
def company() -> Iterator[str]:
    name = f"端到端测试物业{uuid.uuid4().hex[:6]}"
    yield name
    store = JobStore(get_settings().jobs_db_url)
    for job in store.iter_jobs("employer"):
        if job.company == name and job.id is not None:
            store.delete(job.id)
    store.close()


def test_employer_posts_and_another_sender_finds_it(rasa_stack: Any, company: str) -> None:
    employer = f"e2e-employer-{uuid.uuid4().hex[:8]}"
    assert "名称" in texts(post(rasa_stack, employer, "/post_vacancy"))
    assert "电话" in texts(post(rasa_stack, employer, company))
    assert "同意" in texts(post(rasa_stack, employer, "13912345678"))
    assert "岗位" in texts(post(rasa_stack, employer, "/affirm"))
    assert "城市" in texts(post(rasa_stack, employer, "夜班巡逻保安"))
    assert "区县" in texts(post(rasa_stack, employer, '/inform{"city": "宁波"}'))
    assert "工资" in texts(post(rasa_stack, employer, '/inform{"district": "鄞州区"}'))
    assert "几个人" in texts(post(rasa_stack, employer, "4800"))
    assert "要求" in texts(post(rasa_stack, employer, "2"))
    read_back = post(rasa_stack, employer, "包吃住，能上夜班")
    assert company in texts(read_back) and "4800元/月" in texts(read_back)
    assert "已发布" in texts(post(rasa_stack, employer, "/affirm"))

    worker = f"e2e-finder-{uuid.uuid4().hex[:8]}"
    replies = post(
        rasa_stack, worker, '/search_job{"city": "宁波", "district": "鄞州区", "job_type": "保安"}'
    )
    for _ in range(20):
        payload = jobs_payload(replies)
        if any(i["company"] == company for i in payload["items"]):
            break
        assert payload["page"] * 5 < payload["total"], "the new posting was not among the results"
        replies = post(rasa_stack, worker, "/more_results")
    found = next(i for i in jobs_payload(replies)["items"] if i["company"] == company)
    assert found["title"] == "夜班巡逻保安" and found["district"] == "鄞州区"
