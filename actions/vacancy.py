"""Employer postings: the vacancy_form validator, the read-back and the submission to the job store."""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from knowledge.jobs import (
    Job,
    SalaryParseError,
    get_gazetteer,
    get_job_search,
    parse_amount,
    parse_salary,
)
from knowledge.jobs.models import Salary
from knowledge.jobs.parsing import chinese_number, normalise_phone
from knowledge.privacy import redact

log = logging.getLogger(__name__)

VACANCY_SLOTS = (
    "vacancy_company",
    "vacancy_phone",
    "vacancy_consent",
    "vacancy_title",
    "vacancy_city",
    "vacancy_district",
    "vacancy_salary",
    "vacancy_headcount",
    "vacancy_requirements",
)
MAX_REQUIREMENTS = 1000
MAX_COMPANY = 60
MAX_TITLE = 40
VALID_DAYS = 30
SOURCE = "employer"
_SKIP = {"跳过", "不限", "没有", "无", "不需要", "没", "暂无", "都行", "不用"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        value = value[-1] if value else ""
    return _CONTROL.sub("", str(value or "")).strip()


_NAME_LEAD = re.compile(
    r"^(?:我们|我们的|本)?(?:单位|公司|店铺|店|厂)?的?(?:名称|名字|全称)?(?:是|叫|为)[：:，,\s]*"
)
_SENTENCE_MARK = re.compile(r"[，。,.!！？?；;]")


def _whole_answer(tracker: Tracker, slot: str, value: str) -> str:
    """The user's whole answer when NLU tagged only part of it (端到端测试物业 → 物业).

    Only for the reply to the form's own question, and only when the answer is a bare
    name (no sentence punctuation) after a lead-in like 我们是 / 公司名称是.
    """
    if tracker.get_slot("requested_slot") != slot:
        return value
    text = _text(tracker.latest_message.get("text"))
    if not value or value not in text or text.startswith("/"):
        return value
    bare = _NAME_LEAD.sub("", text, count=1)
    return bare if value in bare and not _SENTENCE_MARK.search(bare) else value


def parse_vacancy_salary(value: Any) -> Salary | None:
    """4500 / 4000-6000 / 200元/天 / 五千 → Salary; None when not understood."""
    text = _text(value).replace("一个月", "").replace("每月", "").replace("左右", "")
    try:
        salary = parse_salary(text)
        if salary is not None:
            return salary
    except SalaryParseError:
        pass
    amount = parse_amount(text)
    if amount is None:
        return None
    if re.search(r"天|日", text):
        return Salary(amount / 21.75, amount / 21.75, "day") if amount else None
    return Salary(amount, amount, "month")


def parse_headcount(value: Any) -> int | None:
    text = _text(value)
    if match := re.search(r"\d+", text):
        return int(match.group(0))
    chinese = re.search(r"[零一二两三四五六七八九十百千]+", text)
    if chinese:
        number = chinese_number(chinese.group(0))
        return int(number) if number else None
    return None


class ValidateVacancyForm(FormValidationAction):
    """Each field of an employer's posting, validated with a clear re-ask."""

    def name(self) -> str:
        return "validate_vacancy_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        if tracker.get_slot("vacancy_consent") is False:
            # No consent: nothing else is missing, so the form ends and action_confirm_vacancy explains.
            return ["vacancy_consent"]
        return list(domain_slots)

    # -- prefill from the first message ("招两个保安，包吃住，4500") --------------------------
    def _from_opening(self, tracker: Tracker, slot: str, entity: str) -> dict[str, Any]:
        message = tracker.latest_message or {}
        if (message.get("intent") or {}).get("name") != "post_vacancy" or tracker.get_slot(
            slot
        ) is not None:
            return {}
        values = list(tracker.get_latest_entity_values(entity))
        return {slot: values[-1]} if values else {}

    async def extract_vacancy_title(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._from_opening(tracker, "vacancy_title", "job_type")

    async def extract_vacancy_headcount(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._from_opening(tracker, "vacancy_headcount", "headcount")

    async def extract_vacancy_salary(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._from_opening(tracker, "vacancy_salary", "salary")

    async def extract_vacancy_city(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._from_opening(tracker, "vacancy_city", "city")

    async def extract_vacancy_company(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._from_opening(tracker, "vacancy_company", "company")

    async def extract_vacancy_phone(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._from_opening(tracker, "vacancy_phone", "phone")

    # -- validation -----------------------------------------------------------------------
    def validate_vacancy_company(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        name = _whole_answer(tracker, "vacancy_company", _text(slot_value))
        if len(name) < 2 or len(name) > MAX_COMPANY or normalise_phone(name):
            dispatcher.utter_message(
                text=f"请说一下单位或店铺的名称（2到{MAX_COMPANY}个字），比如“鑫达电子厂”。"
            )
            return {"vacancy_company": None}
        return {"vacancy_company": name}

    def validate_vacancy_phone(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        phone = normalise_phone(slot_value)
        if phone is None:
            dispatcher.utter_message(
                text="这个电话号码好像不对。请输入11位手机号，或带区号的座机号，比如 0571-88881234。"
            )
            return {"vacancy_phone": None}
        return {"vacancy_phone": phone}

    def validate_vacancy_consent(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if slot_value is True or _text(slot_value).lower() in {"true", "同意", "好", "可以", "是"}:
            return {"vacancy_consent": True}
        if slot_value is False or _text(slot_value).lower() in {"false", "不同意", "不行", "不"}:
            return {"vacancy_consent": False}
        dispatcher.utter_message(response="utter_ask_vacancy_consent")
        return {"vacancy_consent": None}

    def validate_vacancy_title(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        title = _text(slot_value)
        if len(title) < 2 or len(title) > MAX_TITLE:
            dispatcher.utter_message(
                text=f"请用一句短话说招什么岗位（2到{MAX_TITLE}个字），比如“仓库分拣员”或“小区保安”。"
            )
            return {"vacancy_title": None}
        return {"vacancy_title": title}

    def validate_vacancy_city(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        gazetteer = get_gazetteer()
        value = _text(slot_value)
        city = gazetteer.normalize_city(value)
        if city:
            return {"vacancy_city": city}
        owner = gazetteer.city_of_district(value)
        if owner:
            return {
                "vacancy_city": owner,
                "vacancy_district": gazetteer.normalize_district(owner, value),
            }
        dispatcher.utter_message(
            text=f"没找到“{value[:20]}”这个城市。工作地点在哪个城市？请说地级市名字，比如杭州。"
        )
        return {"vacancy_city": None}

    def validate_vacancy_district(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        value = _text(slot_value)
        if value in _SKIP:
            return {"vacancy_district": "不限"}
        city = tracker.get_slot("vacancy_city")
        district = get_gazetteer().normalize_district(city, value)
        if district:
            return {"vacancy_district": district}
        if re.fullmatch(r"[\u4e00-\u9fff]{1,10}(?:区|县|市|镇|旗)", value):
            return {"vacancy_district": value}  # a real-looking place the gazetteer lacks
        dispatcher.utter_message(
            text=f"没找到“{value[:20]}”这个区县。请说区县名称，比如“余杭区”，或者说“跳过”。"
        )
        return {"vacancy_district": None}

    def validate_vacancy_salary(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        salary = parse_vacancy_salary(slot_value)
        if salary is None or salary.high <= 0:
            dispatcher.utter_message(
                text="工资我没听明白。请说月薪，比如“4500”或“4000-6000”；日结可以说“200元/天”。"
            )
            return {"vacancy_salary": None}
        low, high = salary.monthly()
        if high < 1000 or low > 200_000:
            dispatcher.utter_message(
                text=f"工资“{salary.text()}”看起来不太对，请再确认一下（按月、按天或按小时都可以）。"
            )
            return {"vacancy_salary": None}
        return {"vacancy_salary": salary.text()}

    def validate_vacancy_headcount(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        count = parse_headcount(slot_value)
        if count is None or not 1 <= count <= 9999:
            dispatcher.utter_message(text="要招几个人？请说一个数字，比如“3”或“五个”。")
            return {"vacancy_headcount": None}
        return {"vacancy_headcount": float(count)}

    def validate_vacancy_requirements(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        text = _text(slot_value)
        if text in _SKIP:
            return {"vacancy_requirements": "无"}
        if len(text) > MAX_REQUIREMENTS:
            dispatcher.utter_message(
                text=f"内容太长了（{len(text)}字），没有保存。请控制在{MAX_REQUIREMENTS}字以内，说说主要要求就行，比如“50岁以下，能上夜班，包吃住”。"
            )
            return {"vacancy_requirements": None}
        return {"vacancy_requirements": text}


def vacancy_job(tracker: Tracker, today: date | None = None) -> Job:
    """The posting the vacancy slots describe."""
    gazetteer = get_gazetteer()
    today = today or date.today()
    title = _text(tracker.get_slot("vacancy_title"))
    city = _text(tracker.get_slot("vacancy_city"))
    district = _text(tracker.get_slot("vacancy_district"))
    requirements = _text(tracker.get_slot("vacancy_requirements"))
    requirements = "" if requirements == "无" else requirements
    salary = parse_vacancy_salary(tracker.get_slot("vacancy_salary"))
    unit = salary.unit if salary else "month"
    employment = (
        {"day": "日结", "hour": "小时工"}.get(unit)
        or gazetteer.normalize_employment_type(requirements)
        or "全职"
    )
    benefits = tuple(
        b
        for b in sorted(gazetteer.benefits, key=len, reverse=True)
        if b in f"{title}{requirements}"
    )
    headcount = tracker.get_slot("vacancy_headcount")
    job = Job(
        title=title,
        company=_text(tracker.get_slot("vacancy_company")),
        city=city,
        province=gazetteer.province_of.get(city, ""),
        district=None if district in ("", "不限") else district,
        job_type=gazetteer.normalize_job_type(title) or "其他",
        employment_type=employment,
        salary=salary,
        benefits=benefits,
        description=requirements,
        requirements=requirements,
        contact_phone=_text(tracker.get_slot("vacancy_phone")),
        headcount=int(headcount) if headcount else None,
        posted_at=today,
        expires_at=today + timedelta(days=VALID_DAYS),
        source=SOURCE,
    )
    # The same employer posting the same vacancy twice gets the same key: no duplicate.
    key = "\x1f".join(
        [
            job.company,
            job.contact_phone,
            job.title,
            job.city,
            job.district or "",
            job.salary_text,
            requirements,
        ]
    )
    return replace(job, external_id=hashlib.sha1(key.encode("utf-8")).hexdigest())


def read_back(job: Job) -> str:
    place = f"{job.city}{job.district or ''}"
    return (
        "请核对招聘信息：\n"
        f"单位：{job.company}\n联系电话：{job.contact_phone}\n岗位：{job.title}（{job.job_type}）\n"
        f"地点：{place}\n工资：{job.salary_text}\n人数：{job.headcount}人\n要求：{job.requirements or '无'}\n"
        "确认发布吗？"
    )


class ActionConfirmVacancy(Action):
    """Read the posting back with 确认/修改 buttons (or explain why nothing is posted)."""

    def name(self) -> str:
        return "action_confirm_vacancy"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if tracker.get_slot("vacancy_consent") is not True:
            dispatcher.utter_message(response="utter_vacancy_no_consent")
            return [SlotSet(s, None) for s in VACANCY_SLOTS]
        job = vacancy_job(tracker)
        if tracker.get_slot("channel_mode") == "voice":
            text = f"请确认：{job.company}招{job.title}{job.headcount}人，在{job.city}，工资{job.salary_text}。确认发布吗？"
        else:
            text = read_back(job)
        dispatcher.utter_message(
            text=text,
            buttons=[
                {"title": "确认发布", "payload": "/affirm"},
                {"title": "修改", "payload": "/deny"},
            ],
        )
        return []


class ActionSubmitVacancy(Action):
    """Store the confirmed posting; workers can find it at once."""

    def name(self) -> str:
        return "action_submit_vacancy"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        reset = [SlotSet(s, None) for s in VACANCY_SLOTS]
        if not any(tracker.get_slot(s) for s in VACANCY_SLOTS):
            # A bare 好的/是 with no posting being confirmed: not a confirmation, offer the menu.
            dispatcher.utter_message(response="utter_help")
            return []
        if tracker.get_slot("vacancy_consent") is not True or not tracker.get_slot("vacancy_title"):
            dispatcher.utter_message(response="utter_vacancy_no_consent")
            return reset
        job = vacancy_job(tracker)
        search = get_job_search()
        existing = search.store.find(job.source, job.external_id)
        if existing is not None:
            dispatcher.utter_message(
                text=f"这条招聘信息已经发布过了（编号{existing.id}），不会重复发布。"
            )
            return reset
        try:
            stored = search.add(job)
        except Exception:  # the store is down or refused: say so, keep nothing half-done
            log.exception("vacancy could not be stored for %s", redact(job.contact_phone))
            dispatcher.utter_message(
                text="抱歉，系统暂时没能保存这条招聘信息，请稍后再试，或说“转人工”。"
            )
            return reset
        log.info("vacancy %s stored (%s, %s)", stored.id, stored.city, stored.job_type)
        dispatcher.utter_message(
            text=f"已发布！编号{stored.id}。{stored.city}找{stored.job_type}工作的求职者现在就能搜到，有效期{VALID_DAYS}天。"
        )
        return reset


class ActionEditVacancy(Action):
    """After 修改: clear the posting's fields (keeping company, phone and consent) so the form asks again."""

    def name(self) -> str:
        return "action_edit_vacancy"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        keep = {"vacancy_company", "vacancy_phone", "vacancy_consent"}
        return [SlotSet(s, None) for s in VACANCY_SLOTS if s not in keep]
