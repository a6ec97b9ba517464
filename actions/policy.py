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

from knowledge.answers import (
    ASK_EMPLOYER_QUESTION,
    ASK_WORKER_QUESTION,
    HANDOFF_PAYLOAD,
    UNAVAILABLE,
    CannedReply,
    PolicyAnswer,
    answer_question,
)

logger = logging.getLogger(__name__)

EMPLOYER_INTENT = "ask_hiring_policy"


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
        # Employers ask with ask_hiring_policy; a follow-up with another intent (a tapped
        # related question) keeps the audience of the conversation so far.
        if intent == EMPLOYER_INTENT:
            audience = "employer"
        elif intent == "ask_policy":
            audience = "worker"
        else:
            audience = tracker.get_slot("policy_audience") or "worker"
        region = tracker.get_slot("city") if "city" in tracker.slots else None
        voice = tracker.get_slot("channel_mode") == "voice"

        if not question.strip() or question.lstrip().startswith("/"):
            # A button payload such as /ask_policy carries no question of its own.
            reply = ASK_EMPLOYER_QUESTION if audience == "employer" else ASK_WORKER_QUESTION
            self._send_canned(dispatcher, reply, voice)
            return [SlotSet("policy_audience", audience)]

        try:
            answer = await asyncio.to_thread(self._answer, question, audience, region)
        except Exception as exc:  # index missing/stale or model unusable: apologise, log why
            from knowledge.policy_index import PolicyIndexError

            if isinstance(exc, PolicyIndexError):
                logger.error("policy answer unavailable: %s", exc)
            else:
                logger.exception("policy answer failed")
            self._send_canned(dispatcher, UNAVAILABLE, voice)
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
    def _send_canned(dispatcher: CollectingDispatcher, reply: CannedReply, voice: bool) -> None:
        buttons = [{"title": t, "payload": p} for t, p in reply.buttons]
        dispatcher.utter_message(text=reply.short if voice else reply.text, buttons=buttons or None)

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
