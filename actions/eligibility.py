"""Guided eligibility checks: which benefit, then up to five yes/no questions, then a likely verdict."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict

from actions.session import is_voice
from knowledge.eligibility import MAX_QUESTIONS, BenefitRule, evaluate, get_rules

ELIG_SLOTS = tuple(f"elig_{i}" for i in range(1, MAX_QUESTIONS + 1))
YES_NO_BUTTONS = [{"title": "是", "payload": "/affirm"}, {"title": "否", "payload": "/deny"}]

# Spellings users (or NLU without synonym mapping) may produce, mapped to the canonical key.
_BENEFIT_ALIASES = {
    "失业保险金": "unemployment_insurance",
    "失业金": "unemployment_insurance",
    "失业保险": "unemployment_insurance",
    "一次性吸纳就业补贴": "hiring_subsidy",
    "吸纳就业补贴": "hiring_subsidy",
    "灵活就业社保补贴": "flexible_social_insurance",
    "社保补贴": "flexible_social_insurance",
    "职业技能培训补贴": "training_subsidy",
    "培训补贴": "training_subsidy",
    "就业困难人员认定": "hardship_recognition",
    "就业困难人员": "hardship_recognition",
}


def canonical_benefit(value: Any) -> str | None:
    """The rules key for a ``benefit`` slot value, or None when unknown."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    rules = get_rules()
    if value in rules:
        return value
    return _BENEFIT_ALIASES.get(value)


def _rule_for(tracker: Tracker) -> BenefitRule | None:
    key = canonical_benefit(tracker.get_slot("benefit"))
    return get_rules().get(key) if key else None


class ValidateEligibilityForm(FormValidationAction):
    """Asks for the benefit, then exactly as many ``elig_N`` questions as that benefit has."""

    def name(self) -> str:
        return "validate_eligibility_form"

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
        rule = _rule_for(tracker)
        if rule is None:
            return ["benefit"]
        return ["benefit", *ELIG_SLOTS[: len(rule.questions)]]

    def validate_benefit(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        key = canonical_benefit(slot_value)
        if key is None:
            dispatcher.utter_message(response="utter_unknown_benefit")
            return {"benefit": None}
        # A new benefit starts a fresh set of answers.
        return {"benefit": key, **{slot: None for slot in ELIG_SLOTS}}


class _AskEligQuestion(Action):
    """Asks question N of the chosen benefit with 是/否 buttons."""

    index = 0

    def name(self) -> str:
        return f"action_ask_elig_{self.index}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        rule = _rule_for(tracker)
        if rule is None or self.index > len(rule.questions):
            dispatcher.utter_message(response="utter_ask_benefit")
            return []
        question = rule.questions[self.index - 1]
        total = len(rule.questions)
        if is_voice(tracker):
            text = f"第{self.index}个问题。{question.voice}请说是或者不是。"
        else:
            text = f"【{rule.title}】问题 {self.index}/{total}：{question.text}"
        dispatcher.utter_message(text=text, buttons=YES_NO_BUTTONS)
        return []


class ActionAskElig1(_AskEligQuestion):
    index = 1


class ActionAskElig2(_AskEligQuestion):
    index = 2


class ActionAskElig3(_AskEligQuestion):
    index = 3


class ActionAskElig4(_AskEligQuestion):
    index = 4


class ActionAskElig5(_AskEligQuestion):
    index = 5


class ActionEligibilityResult(Action):
    """States the likely verdict, the reasons and the source; the local office decides."""

    def name(self) -> str:
        return "action_eligibility_result"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        reset = [SlotSet(slot, None) for slot in ("benefit", *ELIG_SLOTS)]
        rule = _rule_for(tracker)
        if rule is None:
            dispatcher.utter_message(response="utter_ask_benefit")
            return reset
        answers = [tracker.get_slot(slot) for slot in ELIG_SLOTS[: len(rule.questions)]]
        result = evaluate(rule, [a if isinstance(a, bool) else None for a in answers])
        sources = "、".join(rule.sources)
        if is_voice(tracker):
            # Short sentences, at most three reasons, no list markup.
            reasons = "".join(result.reasons[:3])
            text = (
                f"{rule.title}：您{result.verdict_text}。{reasons}"
                f"依据是{rule.sources[0]}。最终以当地经办机构审核为准。"
            )
        else:
            reasons = "\n".join(f"· {r}" for r in result.reasons)
            text = (
                f"【{rule.title}】初步判断：您{result.verdict_text}。\n"
                f"原因：\n{reasons}\n"
                f"依据：{sources}\n"
                f"说明：{rule.note}\n"
                "以上只是初步判断，能否享受以当地人社部门或经办机构的审核为准。"
            )
        dispatcher.utter_message(text=text)
        return reset
