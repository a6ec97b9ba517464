"""Job-search and vacancy actions with real rasa-sdk Trackers and CollectingDispatchers."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

import knowledge.jobs as jobs_pkg
from actions.jobs import ActionMoreJobs, ActionSearchJobs, ValidateJobSearchForm
from actions.vacancy import (
    VACANCY_SLOTS,
    ActionConfirmVacancy,
    ActionEditVacancy,
    ActionSubmitVacancy,
    ValidateVacancyForm,
)
from knowledge.jobs import JobQuery, JobSearch

from .conftest import REPO

DOMAIN: dict[str, Any] = yaml.safe_load(
    (REPO / "bot" / "domain" / "jobs.yml").read_text(encoding="utf-8")
)
SEARCH_SLOTS = (
    "city",
    "district",
    "job_type",
    "salary",
    "employment_type",
    "job_page",
    "channel_mode",
)


@pytest.fixture(autouse=True)
def shared_search(generated_search: JobSearch) -> Any:
    jobs_pkg.set_job_search(generated_search)
    yield generated_search
    jobs_pkg.set_job_search(None)


def tracker(
    slots: dict[str, Any] | None = None,
    text: str = "",
    intent: str = "inform",
    entities: list[dict[str, Any]] | None = None,
    candidates: dict[str, Any] | None = None,
    history: list[dict[str, Any]] | None = None,
    form: str | None = None,
) -> Tracker:
    """A tracker whose last user message is ``text``; ``candidates`` are this turn's slot events."""
    all_slots = {name: None for name in (*SEARCH_SLOTS, *VACANCY_SLOTS, "requested_slot")}
    all_slots.update(slots or {})
    all_slots.update(candidates or {})
    message = {
        "text": text,
        "intent": {"name": intent, "confidence": 1.0},
        "entities": entities or [],
    }
    events = list(history or []) + [{"event": "user", "text": text, "parse_data": message}]
    events += [{"event": "slot", "name": k, "value": v} for k, v in (candidates or {}).items()]
    return Tracker(
        "worker-1",
        all_slots,
        message,
        events,
        False,
        None,
        {"name": form} if form else {},
        "action_listen",
    )


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


async def validate(action: Any, t: Tracker) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, t, DOMAIN)
    return slot_events(events), dispatcher.messages


# -- job search form -------------------------------------------------------------------------
async def test_city_and_job_type_are_normalised() -> None:
    slots, messages = await validate(
        ValidateJobSearchForm(),
        tracker(
            text="杭州市，送外卖",
            candidates={"city": "杭州市", "job_type": "送外卖"},
            form="job_search_form",
        ),
    )
    assert slots["city"] == "杭州" and slots["job_type"] == "外卖骑手"
    assert messages == []


async def test_unknown_city_gets_a_clear_reask() -> None:
    slots, messages = await validate(
        ValidateJobSearchForm(),
        tracker(text="火星", candidates={"city": "火星"}, form="job_search_form"),
    )
    assert slots["city"] is None
    assert "没找到“火星”这个城市" in messages[0]["text"] and "杭州" in messages[0]["text"]


async def test_correction_overwrites_the_city() -> None:
    entities = [{"entity": "city", "value": "杭州"}, {"entity": "city", "value": "宁波"}]
    slots, _ = await validate(
        ValidateJobSearchForm(),
        tracker(
            slots={"city": "杭州"},
            text="不是杭州，是宁波",
            entities=entities,
            candidates={"city": ["杭州", "宁波"]},
            form="job_search_form",
        ),
    )
    assert slots["city"] == "宁波"
    # The other word order: the negated one is dropped wherever it stands.
    slots, _ = await validate(
        ValidateJobSearchForm(),
        tracker(
            slots={"city": "杭州"},
            text="是宁波，不是杭州",
            entities=entities[::-1],
            candidates={"city": ["宁波", "杭州"]},
            form="job_search_form",
        ),
    )
    assert slots["city"] == "宁波"


async def test_district_alone_fills_the_city_and_optional_slots_validate() -> None:
    slots, _ = await validate(
        ValidateJobSearchForm(),
        tracker(
            text="余杭有没有仓库的活，月薪五千以上，日结",
            candidates={
                "district": "余杭",
                "job_type": "仓库的活",
                "salary": "五千以上",
                "employment_type": "日结",
            },
            form="job_search_form",
        ),
    )
    assert slots["district"] == "余杭区" and slots["city"] == "杭州"
    assert (
        slots["job_type"] == "仓储分拣"
        and slots["salary"] == "5000"
        and slots["employment_type"] == "日结"
    )


async def test_unknown_job_type_reasks_with_examples() -> None:
    slots, messages = await validate(
        ValidateJobSearchForm(),
        tracker(
            slots={"city": "杭州"},
            text="宇航员",
            candidates={"job_type": "宇航员"},
            form="job_search_form",
        ),
    )
    assert slots["job_type"] is None and "普工" in messages[0]["text"]


async def test_search_then_more_results() -> None:
    history = [
        {
            "event": "user",
            "text": "北京有没有工厂流水线的活",
            "parse_data": {"intent": {"name": "search_job"}, "entities": []},
        }
    ]
    t = tracker(slots={"city": "北京", "job_type": "普工"}, text="北京", history=history)
    dispatcher = CollectingDispatcher()
    events = await ActionSearchJobs().run(dispatcher, t, DOMAIN)
    assert SlotSet("job_page", 1.0) in events
    text, payload = dispatcher.messages[0]["text"], dispatcher.messages[1]["custom"]
    assert payload["type"] == "jobs" and payload["page"] == 1 and payload["total"] > 10
    assert len(payload["items"]) == 5 and payload["relaxed"] == []
    assert set(payload["items"][0]) == {
        "id",
        "title",
        "company",
        "city",
        "district",
        "salary_text",
        "employment_type",
        "tags",
    }
    assert text.splitlines()[1].startswith("1. ") and "还有吗" in text
    first_ids = [i["id"] for i in payload["items"]]

    dispatcher = CollectingDispatcher()
    more = await ActionMoreJobs().run(
        dispatcher,
        tracker(
            slots={"city": "北京", "job_type": "普工", "job_page": 1.0},
            text="还有吗",
            intent="more_results",
            history=history,
        ),
        DOMAIN,
    )
    assert SlotSet("job_page", 2.0) in more
    payload2 = dispatcher.messages[1]["custom"]
    assert payload2["page"] == 2 and payload2["total"] == payload["total"]
    assert not set(first_ids) & {i["id"] for i in payload2["items"]}
    assert dispatcher.messages[0]["text"].splitlines()[1].startswith("6. ")


async def test_more_results_past_the_end_says_so(shared_search: JobSearch) -> None:
    total = shared_search.search(JobQuery(city="北京", job_types=("会计",))).total
    last = -(-total // 5)
    dispatcher = CollectingDispatcher()
    events = await ActionMoreJobs().run(
        dispatcher,
        tracker(slots={"city": "北京", "job_type": "会计", "job_page": float(last)}),
        DOMAIN,
    )
    assert events == [] and "最后一页" in dispatcher.messages[0]["text"]


async def test_relaxed_search_tells_what_changed(shared_search: JobSearch) -> None:
    best = max(
        j.salary.monthly()[1]
        for j in shared_search.store.iter_jobs()
        if j.city == "北京"
        and j.job_type == "焊工"
        and j.salary
        and j.expires_at
        and j.expires_at > date.today()
    )
    asked = int(best / 0.95)  # nothing reaches it; 10% less does
    dispatcher = CollectingDispatcher()
    await ActionSearchJobs().run(
        dispatcher,
        tracker(slots={"city": "北京", "job_type": "焊工", "salary": str(asked)}),
        DOMAIN,
    )
    text, payload = dispatcher.messages[0]["text"], dispatcher.messages[1]["custom"]
    assert payload["relaxed"] == [f"月薪要求从{asked}元放宽到{int(round(asked * 0.9, -1))}元"]
    assert text.startswith("没有完全符合条件的岗位：月薪要求从") and payload["total"] >= 1


async def test_correction_after_results_searches_the_new_city() -> None:
    entities = [{"entity": "city", "value": "北京"}, {"entity": "city", "value": "上海"}]
    t = tracker(
        slots={"city": "北京", "job_type": "保安", "job_page": 2.0},
        text="不是北京，是上海",
        entities=entities,
    )
    dispatcher = CollectingDispatcher()
    events = await ActionSearchJobs().run(dispatcher, t, DOMAIN)
    assert SlotSet("city", "上海") in events and SlotSet("job_page", 1.0) in events
    assert {i["city"] for i in dispatcher.messages[1]["custom"]["items"]} == {"上海"}


async def test_voice_channel_gets_a_short_spoken_list() -> None:
    dispatcher = CollectingDispatcher()
    await ActionSearchJobs().run(
        dispatcher,
        tracker(slots={"city": "上海", "job_type": "保洁", "channel_mode": "voice"}),
        DOMAIN,
    )
    spoken = dispatcher.messages[0]["text"]
    assert "\n" not in spoken and spoken.count("第") <= 3


# -- vacancy form ----------------------------------------------------------------------------
VACANCY = {
    "vacancy_company": "安心物业",
    "vacancy_phone": "13912345678",
    "vacancy_consent": True,
    "vacancy_title": "小区保安",
    "vacancy_city": "杭州",
    "vacancy_district": "余杭区",
    "vacancy_salary": "4500元/月",
    "vacancy_headcount": 2.0,
    "vacancy_requirements": "包吃住，夜班",
}


@pytest.mark.parametrize(
    ("slot", "bad", "hint"),
    [
        ("vacancy_phone", "12345", "11位手机号"),
        ("vacancy_company", "a", "单位或店铺的名称"),
        ("vacancy_city", "火星", "没找到“火星”"),
        ("vacancy_salary", "看情况", "工资我没听明白"),
        ("vacancy_headcount", "好多", "要招几个人"),
        ("vacancy_district", "月球背面", "跳过"),
        ("vacancy_requirements", "要" * 1_000_000, "内容太长了（1000000字）"),
    ],
)
async def test_each_vacancy_field_reasks_clearly(slot: str, bad: str, hint: str) -> None:
    slots, messages = await validate(
        ValidateVacancyForm(),
        tracker(
            slots={**VACANCY, slot: None, "requested_slot": slot},
            text=bad[:50],
            candidates={slot: bad},
            form="vacancy_form",
        ),
    )
    assert slots[slot] is None
    assert hint in messages[0]["text"]


@pytest.mark.parametrize(
    ("requested", "text", "entity", "stored"),
    [
        # NLU tagged only part of the name: the whole bare answer is the name.
        ("vacancy_company", "端到端测试物业6a3762", "物业", "端到端测试物业6a3762"),
        ("vacancy_company", "我们是华强物业", "华强物业", "华强物业"),
        ("vacancy_company", "公司名称是星辰科技有限公司", "星辰科技", "星辰科技有限公司"),
        # A sentence, or the opening message (the form had not asked yet): the entity.
        ("vacancy_company", "华强物业，招保安", "华强物业", "华强物业"),
        (None, "张记餐馆招帮厨", "张记餐馆", "张记餐馆"),
    ],
)
async def test_company_is_the_whole_answer_when_nlu_tags_part_of_it(
    requested: str | None, text: str, entity: str, stored: str
) -> None:
    slots, _ = await validate(
        ValidateVacancyForm(),
        tracker(
            slots={**VACANCY, "vacancy_company": None, "requested_slot": requested},
            text=text,
            candidates={"vacancy_company": entity},
            form="vacancy_form",
        ),
    )
    assert slots["vacancy_company"] == stored


async def test_vacancy_values_are_normalised() -> None:
    slots, messages = await validate(
        ValidateVacancyForm(),
        tracker(
            slots={
                **VACANCY,
                "vacancy_phone": None,
                "vacancy_headcount": None,
                "vacancy_salary": None,
            },
            candidates={
                "vacancy_phone": "139 1234 5678",
                "vacancy_headcount": "两个",
                "vacancy_salary": "4000-6000",
            },
            form="vacancy_form",
        ),
    )
    assert messages == []
    assert slots["vacancy_phone"] == "13912345678" and slots["vacancy_headcount"] == 2.0
    assert slots["vacancy_salary"] == "4000-6000元/月"


async def test_opening_message_prefills_the_form() -> None:
    entities = [
        {"entity": "job_type", "value": "保安"},
        {"entity": "headcount", "value": "两个"},
        {"entity": "salary", "value": "4500"},
    ]
    slots, _ = await validate(
        ValidateVacancyForm(),
        tracker(
            text="招两个保安，包吃住，4500",
            intent="post_vacancy",
            entities=entities,
            form="vacancy_form",
        ),
    )
    assert slots["vacancy_title"] == "保安" and slots["vacancy_headcount"] == 2.0
    assert slots["vacancy_salary"] == "4500元/月"


async def test_no_consent_ends_the_form_without_posting() -> None:
    slots, _ = await validate(
        ValidateVacancyForm(),
        tracker(
            slots={
                "vacancy_company": "张记餐馆",
                "vacancy_phone": "13912345678",
                "requested_slot": "vacancy_consent",
            },
            intent="deny",
            candidates={"vacancy_consent": False},
            form="vacancy_form",
        ),
    )
    assert slots["vacancy_consent"] is False and slots["requested_slot"] is None
    dispatcher = CollectingDispatcher()
    events = await ActionConfirmVacancy().run(
        dispatcher, tracker(slots={"vacancy_consent": False}), DOMAIN
    )
    assert dispatcher.messages[0]["response"] == "utter_vacancy_no_consent"
    assert SlotSet("vacancy_company", None) in events


async def test_read_back_then_submit_then_a_worker_finds_it(shared_search: JobSearch) -> None:
    employer = tracker(slots=VACANCY, text="确认", intent="affirm")
    dispatcher = CollectingDispatcher()
    await ActionConfirmVacancy().run(dispatcher, employer, DOMAIN)
    read_back = dispatcher.messages[0]
    assert (
        "安心物业" in read_back["text"]
        and "4500元/月" in read_back["text"]
        and "余杭区" in read_back["text"]
    )
    assert [b["payload"] for b in read_back["buttons"]] == ["/affirm", "/deny"]

    dispatcher = CollectingDispatcher()
    events = await ActionSubmitVacancy().run(dispatcher, employer, DOMAIN)
    assert "已发布" in dispatcher.messages[0]["text"]
    assert SlotSet("vacancy_title", None) in events

    worker = tracker(
        slots={"city": "杭州", "district": "余杭区", "job_type": "保安"}, text="余杭有保安的活吗"
    )
    dispatcher = CollectingDispatcher()
    await ActionSearchJobs().run(dispatcher, worker, DOMAIN)
    items = dispatcher.messages[1]["custom"]["items"]
    assert any(i["company"] == "安心物业" and i["title"] == "小区保安" for i in items)

    dispatcher = CollectingDispatcher()  # the same posting again is not stored twice
    await ActionSubmitVacancy().run(dispatcher, employer, DOMAIN)
    assert "已经发布过了" in dispatcher.messages[0]["text"]
    assert shared_search.store.count("employer") == 1


async def test_hostile_vacancy_text_is_stored_verbatim(shared_search: JobSearch) -> None:
    hostile = '\'); DELETE FROM jobs; -- <b>急招</b> & "夜班"'
    employer = tracker(
        slots={**VACANCY, "vacancy_company": "恶意测试<i>公司</i>", "vacancy_requirements": hostile}
    )
    before = shared_search.store.count()
    await ActionSubmitVacancy().run(CollectingDispatcher(), employer, DOMAIN)
    assert shared_search.store.count() == before + 1
    stored = [
        j for j in shared_search.store.iter_jobs("employer") if j.company == "恶意测试<i>公司</i>"
    ]
    assert stored and stored[0].requirements == hostile


async def test_edit_clears_the_posting_but_keeps_the_contact() -> None:
    events = await ActionEditVacancy().run(CollectingDispatcher(), tracker(slots=VACANCY), DOMAIN)
    cleared = slot_events(events)
    assert "vacancy_company" not in cleared and cleared["vacancy_title"] is None


def test_domain_declares_every_action_and_slot() -> None:
    assert {
        "validate_job_search_form",
        "action_search_jobs",
        "action_more_jobs",
        "validate_vacancy_form",
        "action_confirm_vacancy",
        "action_submit_vacancy",
    } <= set(DOMAIN["actions"])
    assert set(VACANCY_SLOTS) | {
        "city",
        "district",
        "job_type",
        "salary",
        "employment_type",
        "job_page",
    } <= set(DOMAIN["slots"])
    assert (
        Path(REPO / "bot" / "tests" / "test_jobs_stories.yml")
        .read_text(encoding="utf-8")
        .count("- story:")
        >= 10
    )


async def test_submit_without_a_pending_posting_offers_the_menu() -> None:
    """A bare 好的 at the start of a conversation must not be taken as a confirmation."""
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    from actions.vacancy import ActionSubmitVacancy

    tracker = Tracker(
        "s",
        {},
        {"intent": {"name": "affirm"}, "text": "好的"},
        [],
        False,
        None,
        {},
        "action_listen",
    )
    dispatcher = CollectingDispatcher()
    events = await ActionSubmitVacancy().run(dispatcher, tracker, {})
    assert events == []
    assert [m["response"] for m in dispatcher.messages] == ["utter_help"]
