"""Job-search actions: the job_search_form validator, the search itself and paging (more_results)."""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from knowledge.jobs import JobQuery, SearchResult, get_gazetteer, get_job_search, parse_amount
from knowledge.jobs.models import Job

log = logging.getLogger(__name__)

OPTIONAL_SLOTS = ("district", "salary", "employment_type")
VOICE_ITEMS = 3  # spoken lists stay short
_NOT_X = re.compile(r"(?:不是|不在|不要)\s*([\u4e00-\u9fffA-Za-z]{1,12}?)(?:[，,。\s]|而是|是|$)")
CITY_EXAMPLES = "杭州、宁波、成都"
JOB_TYPE_EXAMPLES = "普工、仓储分拣、保安、保洁、外卖骑手、厨师、会计"


def _values(slot_value: Any) -> list[str]:
    if slot_value is None:
        return []
    if isinstance(slot_value, (list, tuple)):
        return [str(v) for v in slot_value if v not in (None, "")]
    return [str(slot_value)]


def negated(tracker: Tracker) -> set[str]:
    """Words the user just said they did NOT mean: 不是杭州，是宁波 → {杭州}."""
    text = (tracker.latest_message or {}).get("text") or ""
    return {m.group(1).rstrip("市") for m in _NOT_X.finditer(text)}


def pick(slot_value: Any, tracker: Tracker) -> str | None:
    """The value to keep when a message carries several (a correction): the last not negated."""
    values = _values(slot_value)
    denied = negated(tracker)
    kept = [v for v in values if v.rstrip("市") not in denied]
    chosen = kept or values
    return chosen[-1] if chosen else None


def is_voice(tracker: Tracker) -> bool:
    return tracker.get_slot("channel_mode") == "voice"


def current(tracker: Tracker, slot: str) -> str | None:
    """The latest message's entity for ``slot`` (corrections: the value not negated), else the slot."""
    entities = list(tracker.get_latest_entity_values(slot))
    return pick(entities, tracker) if entities else pick(tracker.get_slot(slot), tracker)


def query_from_slots(tracker: Tracker) -> JobQuery:
    """A JobQuery from the (validated) slots and the words of the latest job request."""
    gazetteer = get_gazetteer()
    city = gazetteer.normalize_city(current(tracker, "city"))
    district_text = current(tracker, "district")
    district = gazetteer.normalize_district(city, district_text) if city else None
    if city is None and district_text and gazetteer.city_of_district(district_text):
        city = gazetteer.city_of_district(district_text)
        district = gazetteer.normalize_district(city, district_text)
    job_type = gazetteer.normalize_job_type(current(tracker, "job_type"))
    salary = parse_amount(current(tracker, "salary"))
    employment = gazetteer.normalize_employment_type(current(tracker, "employment_type"))
    return JobQuery(
        city=city,
        district=district,
        job_types=(job_type,) if job_type else (),
        min_monthly_salary=salary,
        employment_type=employment,
        text=_request_text(tracker),
    )


def _request_text(tracker: Tracker) -> str:
    # The worker's own words ("仓库的活，包吃住") rank better than the bare job type.
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            intent = (event.get("parse_data") or {}).get("intent", {}).get("name")
            if intent == "search_job":
                return str(event.get("text") or "")[:200]
    return ""


def describe(query: JobQuery) -> str:
    where = f"{query.city or ''}{query.district or ''}"
    what = "、".join(query.job_types) or "工作"
    extra = []
    if query.employment_type:
        extra.append(query.employment_type)
    if query.min_monthly_salary:
        extra.append(f"月薪{int(query.min_monthly_salary)}元以上")
    return f"{where}的{what}" + (f"（{'，'.join(extra)}）" if extra else "")


def job_line(number: int, job: Job) -> str:
    place = f"{job.city}{job.district or ''}"
    return (
        f"{number}. {job.title}｜{place}｜{job.salary_text}｜{job.employment_type}｜{job.company}"
    )


def job_item(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "title": job.title,
        "company": job.company,
        "city": job.city,
        "district": job.district,
        "salary_text": job.salary_text,
        "employment_type": job.employment_type,
        "tags": list(job.tags),
    }


def render(result: SearchResult, asked: JobQuery, voice: bool) -> str:
    """The compact numbered list (text) or a short spoken summary (voice)."""
    lines: list[str] = []
    if result.relaxed:
        lines.append("没有完全符合条件的岗位：" + "；".join(result.relaxed) + "。")
    if result.total == 0:
        lines.append(
            f"抱歉，暂时没有找到{describe(asked)}的岗位。可以换个工种或城市再试试，也可以说“转人工”。"
        )
        return "\n".join(lines)
    first = (result.page - 1) * result.page_size + 1
    if voice:
        lines.append(f"找到{result.total}个岗位。")
        for offset, job in enumerate(result.jobs[:VOICE_ITEMS]):
            lines.append(
                f"第{first + offset}个，{job.title}，在{job.city}{job.district or ''}，{job.salary_text}。"
            )
        if result.has_more:
            lines.append("想听更多，请说“还有吗”。")
        return "".join(lines)
    lines.append(
        f"为您找到{describe(result.query)}岗位共{result.total}个（第{result.page}/{result.pages}页）："
    )
    lines.extend(job_line(first + offset, job) for offset, job in enumerate(result.jobs))
    lines.append("说“还有吗”看下一页。" if result.has_more else "以上是全部结果。")
    return "\n".join(lines)


def send_results(dispatcher: CollectingDispatcher, tracker: Tracker, page: int) -> list[EventType]:
    asked = query_from_slots(tracker)
    if not asked.city or not asked.job_types:
        dispatcher.utter_message(
            response="utter_ask_city" if not asked.city else "utter_ask_job_type"
        )
        return []
    search = get_job_search()
    result = search.search(asked, page=page)
    if page > 1 and not result.jobs and result.total:
        dispatcher.utter_message(
            text=f"已经是最后一页了，一共{result.total}个岗位。可以换个条件重新找。"
        )
        return []
    dispatcher.utter_message(text=render(result, asked, is_voice(tracker)))
    dispatcher.utter_message(
        json_message={
            "type": "jobs",
            "items": [job_item(j) for j in result.jobs],
            "relaxed": list(result.relaxed),
            "page": result.page,
            "total": result.total,
        }
    )
    return [SlotSet("job_page", float(result.page))]


class ValidateJobSearchForm(FormValidationAction):
    """Normalises city, district, job type, salary and employment type; re-asks clearly."""

    def name(self) -> str:
        return "validate_job_search_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        # Optional slots are validated when given but never asked for.
        return list(domain_slots) + [s for s in OPTIONAL_SLOTS if tracker.get_slot(s) is not None]

    def validate_city(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        gazetteer = get_gazetteer()
        value = pick(slot_value, tracker)
        city = gazetteer.normalize_city(value)
        if city:
            result: dict[str, Any] = {"city": city}
            district = tracker.get_slot("district")
            if district and gazetteer.normalize_district(city, pick(district, tracker)) is None:
                result["district"] = None  # a district of the old city no longer applies
            return result
        owner = gazetteer.city_of_district(value)
        if owner:  # "余杭" said as a city
            return {"city": owner, "district": gazetteer.normalize_district(owner, value)}
        dispatcher.utter_message(
            text=f"抱歉，我没找到“{(value or '')[:20]}”这个城市。请告诉我地级市的名字，比如{CITY_EXAMPLES}。"
        )
        return {"city": None}

    def validate_district(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        gazetteer = get_gazetteer()
        value = pick(slot_value, tracker)
        city = gazetteer.normalize_city(pick(tracker.get_slot("city"), tracker))
        district = gazetteer.normalize_district(city, value)
        if district:
            return (
                {"district": district}
                if city
                else {"district": district, "city": gazetteer.city_of_district(value)}
            )
        owner = gazetteer.city_of_district(value)
        if owner:
            return {"district": gazetteer.normalize_district(owner, value), "city": owner}
        if value:
            dispatcher.utter_message(text=f"没找到“{value[:20]}”这个区县，先按全市为您找。")
        return {"district": None}

    def validate_job_type(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        value = pick(slot_value, tracker)
        job_type = get_gazetteer().normalize_job_type(value)
        if job_type:
            return {"job_type": job_type}
        dispatcher.utter_message(
            text=f"抱歉，“{(value or '')[:20]}”这个工种我还不认识。您想做哪一类工作？比如{JOB_TYPE_EXAMPLES}。"
        )
        return {"job_type": None}

    def validate_salary(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        amount = parse_amount(pick(slot_value, tracker))
        if amount is None or amount < 100 or amount > 1_000_000:
            dispatcher.utter_message(
                text="工资我没听明白，先不限工资为您找。想限定的话可以说“月薪五千以上”。"
            )
            return {"salary": None}
        return {"salary": str(int(amount))}

    def validate_employment_type(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        return {
            "employment_type": get_gazetteer().normalize_employment_type(pick(slot_value, tracker))
        }


class ActionSearchJobs(Action):
    """Search with the form's slots and show page 1 (text list + ``jobs`` payload)."""

    def name(self) -> str:
        return "action_search_jobs"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        return normalised_slots(tracker) + send_results(
            dispatcher, _with_normalised(tracker), page=1
        )


class ActionMoreJobs(Action):
    """The next page of the last search."""

    def name(self) -> str:
        return "action_more_jobs"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        page = int(tracker.get_slot("job_page") or 0) + 1
        return send_results(dispatcher, tracker, page=page)


def normalised_slots(tracker: Tracker) -> list[EventType]:
    """Slot events that store canonical values (corrections outside the form arrive raw)."""
    query = query_from_slots(tracker)
    wanted = {
        "city": query.city,
        "district": query.district,
        "job_type": query.job_types[0] if query.job_types else None,
        "salary": str(int(query.min_monthly_salary)) if query.min_monthly_salary else None,
        "employment_type": query.employment_type,
    }
    return [
        SlotSet(name, value) for name, value in wanted.items() if tracker.get_slot(name) != value
    ]


def _with_normalised(tracker: Tracker) -> Tracker:
    events = normalised_slots(tracker)
    if events:
        tracker = tracker.copy()
        tracker.add_slots(events)
    return tracker
