"""Policy questions: answer from the hybrid policy index with citation, region and date.

Thin on purpose: the index (and the embedding model) load lazily in ``knowledge`` once per
process; this module only reads the tracker and sends what ``knowledge.answers`` composed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from knowledge.answers import HANDOFF_PAYLOAD, PolicyAnswer, answer_question

logger = logging.getLogger(__name__)

EMPLOYER_INTENT = "ask_hiring_policy"
UNAVAILABLE_RESPONSE = "utter_policy_unavailable"
ASK_QUESTION_RESPONSE = {
    False: "utter_ask_policy_question",
    True: "utter_ask_hiring_policy_question",
}


def _default_index() -> Any:
    from knowledge.policy_index import get_policy_index

    return get_policy_index()


class ActionAnswerPolicy(Action):
    """``action_answer_policy``: answer the latest user question from the policy index."""

    def __init__(self, index_loader: Callable[[], Any] | None = None) -> None:
        # Injected in tests; the default loads settings.policy_index_dir once per process.
        self._index_loader = index_loader or _default_index

    def name(self) -> str:
        return "action_answer_policy"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        message = tracker.latest_message or {}
        question = str(message.get("text") or "")
        intent = (message.get("intent") or {}).get("name")
        audience = (
            "employer"
            if intent == EMPLOYER_INTENT
            else (
                tracker.get_slot("policy_audience") if intent not in ("ask_policy",) else "worker"
            )
            or "worker"
        )
        region = tracker.get_slot("city") if "city" in tracker.slots else None
        voice = tracker.get_slot("channel_mode") == "voice"

        if not question.strip() or question.lstrip().startswith("/"):
            # A button payload such as /ask_policy carries no question of its own.
            dispatcher.utter_message(response=ASK_QUESTION_RESPONSE[audience == "employer"])
            return [SlotSet("policy_audience", audience)]

        try:
            answer = await asyncio.to_thread(self._answer, question, audience, region)
        except Exception as exc:  # index missing/stale or model unusable: apologise, log why
            from knowledge.policy_index import PolicyIndexError

            if isinstance(exc, PolicyIndexError):
                logger.error("policy answer unavailable: %s", exc)
            else:
                logger.exception("policy answer failed")
            dispatcher.utter_message(response=UNAVAILABLE_RESPONSE)
            return [SlotSet("policy_audience", audience)]

        self._send(dispatcher, answer, voice)
        return [SlotSet("policy_audience", audience)]

    def _answer(self, question: str, audience: str, region: str | None) -> PolicyAnswer:
        from knowledge.answers import check_question

        bad = check_question(question)
        if bad is not None:  # no need to load the index for input we cannot use
            return bad
        return answer_question(question, self._index_loader(), audience=audience, region=region)

    @staticmethod
    def _send(dispatcher: CollectingDispatcher, answer: PolicyAnswer, voice: bool) -> None:
        buttons = [{"title": r.title, "payload": r.question} for r in answer.related]
        if answer.offer_handoff:
            buttons.append({"title": "转人工服务", "payload": HANDOFF_PAYLOAD})
        dispatcher.utter_message(
            text=answer.short if voice else answer.text, buttons=buttons or None
        )
        if answer.kind != "invalid":
            dispatcher.utter_message(json_message=answer.payload())
