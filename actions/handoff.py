"""Hand-off to a person: optional name, a phone number only with consent, a durable ticket."""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict

from actions.session import channel_mode, is_voice
from knowledge.settings import get_settings
from knowledge.tickets import TicketStore, Turn, get_store

logger = logging.getLogger(__name__)

HANDOFF_SLOTS = ("handoff_name", "handoff_consent", "handoff_phone")
SKIP_WORDS = {
    "跳过",
    "不说",
    "不想说",
    "不告诉你",
    "不用",
    "不用了",
    "算了",
    "没有",
    "匿名",
    "skip",
}
_NAME_PREFIX = re.compile(r"^(我叫|我是|叫我|我姓|姓名是|名字是|名字叫)")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
MAX_NAME_LEN = 20


def normalise_mobile(text: str) -> str | None:
    """A mainland mobile number as 11 digits, or None. Accepts spaces, dashes and +86."""
    digits = re.sub(r"[\s\-()（）]", "", str(text))
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits if _MOBILE.match(digits) else None


def clean_name(text: str) -> str | None:
    """The name to store: "" when the user skips, None when it does not look like a name."""
    text = str(text).strip().strip("。.!！,，")
    if not text or text.lower() in SKIP_WORDS or text.startswith("/"):
        return ""
    text = _NAME_PREFIX.sub("", text).strip()
    if not text or len(text) > MAX_NAME_LEN or any(ch.isdigit() for ch in text):
        return None
    return text


class ValidateHandoffForm(FormValidationAction):
    """Name (may be skipped) → consent to a call-back → phone, only when consent was given."""

    def name(self) -> str:
        return "validate_handoff_form"

    async def next_requested_slot(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> EventType | None:
        # Always name the next slot ourselves (rasa-sdk leaves it to Rasa when the list
        # happens to equal the domain's), so the order is decided in one place.
        required = await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain)
        missing = next((s for s in required if tracker.slots.get(s) is None), None)
        return SlotSet(REQUESTED_SLOT, missing)

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        slots = ["handoff_name", "handoff_consent"]
        if tracker.get_slot("handoff_consent") is True:
            slots.append("handoff_phone")
        return slots

    def validate_handoff_name(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        person = next(tracker.get_latest_entity_values("person_name"), None)
        if person:
            return {"handoff_name": str(person)[:MAX_NAME_LEN]}
        if intent == "deny":
            return {"handoff_name": ""}
        name = clean_name(slot_value)
        if name is None:
            dispatcher.utter_message(response="utter_invalid_name")
            return {"handoff_name": None}
        return {"handoff_name": name}

    def validate_handoff_consent(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        return {"handoff_consent": bool(slot_value)}

    def validate_handoff_phone(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent == "deny":
            # Changed their mind: no phone, no call-back.
            return {"handoff_phone": None, "handoff_consent": False}
        phone = normalise_mobile(str(slot_value or ""))
        if phone is None:
            dispatcher.utter_message(response="utter_invalid_phone")
            return {"handoff_phone": None}
        return {"handoff_phone": phone}


def transcript_from_events(events: list[dict[str, Any]]) -> list[Turn]:
    """The conversation so far: user texts and bot texts, in order, from tracker events."""
    turns: list[Turn] = []
    for event in events:
        kind = event.get("event")
        if kind not in ("user", "bot"):
            continue
        text = event.get("text") or ""
        if kind == "bot" and not text:
            custom = (event.get("data") or {}).get("custom")
            if isinstance(custom, dict) and custom.get("type"):
                text = f"[{custom['type']}]"
        if text:
            turns.append(Turn(speaker=kind, text=text, timestamp=event.get("timestamp")))
    return turns


class ActionCreateTicket(Action):
    """Stores the ticket (committed before replying), tells the user its number and office hours."""

    def name(self) -> str:
        return "action_create_ticket"

    def store(self) -> TicketStore:
        return get_store(get_settings().tickets_db)

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        settings = get_settings()
        consent = tracker.get_slot("handoff_consent") is True
        phone = (tracker.get_slot("handoff_phone") or "") if consent else ""
        name = tracker.get_slot("handoff_name") or ""
        channel = tracker.get_latest_input_channel() or ""
        mode = channel_mode(tracker)
        ticket = self.store().create(
            sender_id=tracker.sender_id,
            transcript=transcript_from_events(tracker.events),
            name=name,
            phone=phone,
            channel=f"{channel}/{mode}" if channel else mode,
        )
        logger.info("handoff ticket %s created (call-back: %s)", ticket.ticket_id, bool(phone))
        hours = settings.office_hours
        if is_voice(tracker):
            number = "，".join(ticket.ticket_id[-4:])
            text = f"已为您转人工，工单尾号是{number}。工作人员{hours}上班。"
            if phone:
                text += "会打电话联系您。"
        else:
            callback = "工作人员会按您留的电话回电。" if phone else "工作人员会在这里回复您。"
            text = (
                f"已为您登记人工服务，工单号：{ticket.ticket_id}。\n"
                f"人工服务时间：{hours}。{callback}\n"
                "着急的话也可以拨打人社服务热线 12333。"
            )
        dispatcher.utter_message(text=text)
        dispatcher.utter_message(
            json_message={"type": "handoff", "ticket_id": ticket.ticket_id, "office_hours": hours}
        )
        return [SlotSet(slot, None) for slot in HANDOFF_SLOTS]
