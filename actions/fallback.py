"""Two-stage fallback: offer the top two guesses as buttons, then offer a person."""

from __future__ import annotations

import json
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

logger = logging.getLogger(__name__)

# What each intent means to a user, as a button title. Intents missing here are not offered.
INTENT_TITLES: dict[str, str] = {
    "greet": "打个招呼",
    "goodbye": "结束对话",
    "thank": "表示感谢",
    "affirm": "是的",
    "deny": "不是",
    "help": "看看你能做什么",
    "bot_challenge": "问我是不是机器人",
    "restart": "重新开始",
    "repeat": "再说一遍",
    "human_handoff": "找人工服务",
    "search_job": "找工作",
    "inform": "补充信息",
    "more_results": "看更多结果",
    "ask_policy": "问就业政策",
    "ask_hiring_policy": "问招聘用工政策",
    "check_eligibility": "查能不能领补贴",
    "find_service_station": "找附近服务站",
    "post_vacancy": "发布招聘",
    "share_location": "发送我的位置",
}
NONE_OF_THESE = {"title": "都不是", "payload": "/out_of_scope"}
# Not offered as guesses: they carry no request of their own.
_NOT_OFFERED = {"nlu_fallback", "out_of_scope", "affirm", "deny", "inform", "share_location"}


def _payload(intent: str, entities: list[dict[str, Any]]) -> str:
    """``/intent{"entity": "value"}`` keeping the entities the user already gave."""
    values: dict[str, Any] = {}
    for entity in entities:
        name, value = entity.get("entity"), entity.get("value")
        if name and value is not None and name not in values:
            values[name] = value
    if not values:
        return f"/{intent}"
    return f"/{intent}{json.dumps(values, ensure_ascii=False, separators=(',', ':'))}"


# When NLU ranked too few offerable intents (e.g. a bare payload), fill up with the most asked.
COMMON_REQUESTS = ("search_job", "ask_policy", "find_service_station")


def top_intents(latest_message: dict[str, Any], n: int = 2) -> list[str]:
    """The ``n`` best-ranked intents that can be offered as guesses, filled up with common ones."""
    ranking = latest_message.get("intent_ranking") or []
    ranked = sorted(ranking, key=lambda r: r.get("confidence") or 0.0, reverse=True)
    names: list[str] = []
    for name in [r.get("name") for r in ranked] + list(COMMON_REQUESTS):
        if name and name not in _NOT_OFFERED and name in INTENT_TITLES and name not in names:
            names.append(name)
        if len(names) == n:
            break
    return names


class ActionDefaultAskAffirmation(Action):
    """First stage: "您是想……吗？" with the two most likely intents as buttons, plus 都不是."""

    def name(self) -> str:
        return "action_default_ask_affirmation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        latest = tracker.latest_message or {}
        guesses = top_intents(latest)
        entities = latest.get("entities") or []
        buttons = [
            {"title": INTENT_TITLES[name], "payload": _payload(name, entities)} for name in guesses
        ]
        buttons.append(NONE_OF_THESE)
        dispatcher.utter_message(response="utter_ask_affirmation", buttons=buttons)
        return []


class ActionDefaultFallback(Action):
    """Second stage: say we did not understand and offer a person or the menu."""

    def name(self) -> str:
        return "action_default_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_offer_person")
        # Revert the misunderstood message so it does not steer the next prediction.
        return [UserUtteranceReverted()]
