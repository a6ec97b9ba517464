"""Session start (channel mode from the connector's metadata) and "再说一遍" (repeat the last reply)."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import (
    ActionExecuted,
    EventType,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
)
from rasa_sdk.executor import CollectingDispatcher

logger = logging.getLogger(__name__)

CHANNEL_MODES = ("text", "voice")


def channel_mode(tracker: Tracker) -> str:
    """``voice`` for kiosks and phone lines, else ``text``."""
    return "voice" if tracker.get_slot("channel_mode") == "voice" else "text"


def is_voice(tracker: Tracker) -> bool:
    return channel_mode(tracker) == "voice"


class ActionSessionStart(Action):
    """Starts a session and sets ``channel_mode`` from the session metadata.

    Connectors send ``{"channel_mode": "voice"}`` as message metadata; Rasa hands the metadata
    of the message that opened the session to this action in ``session_started_metadata``.
    Slots of the previous session are carried over except the per-conversation ones,
    so a kiosk keeps its mode across an expired session.
    """

    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        metadata = tracker.get_slot("session_started_metadata") or {}
        mode = metadata.get("channel_mode") if isinstance(metadata, dict) else None
        if mode not in CHANNEL_MODES:
            mode = tracker.get_slot("channel_mode") or "text"
        events: list[EventType] = [SessionStarted()]
        if domain.get("session_config", {}).get("carry_over_slots_to_new_session"):
            events.extend(
                SlotSet(name, value)
                for name, value in tracker.current_slot_values().items()
                if value is not None and name not in ("channel_mode", "requested_slot")
            )
        events.append(SlotSet("channel_mode", mode))
        events.append(ActionExecuted("action_listen"))
        return events


def _previous_bot_messages(tracker: Tracker) -> list[dict[str, Any]]:
    """Bot messages sent between the previous user message and the current one."""
    user_seen = 0
    collected: list[dict[str, Any]] = []
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            user_seen += 1
            if user_seen == 2:
                break
        elif kind == "bot" and user_seen == 1:
            collected.append(event)
        elif kind in ("restart", "session_started"):
            break
    collected.reverse()
    return collected


class ActionRepeat(Action):
    """Sends the bot's previous reply again and leaves the dialogue where it was.

    The repeat request is reverted, so a form that was asking a question keeps asking it.
    """

    def name(self) -> str:
        return "action_repeat"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        messages = _previous_bot_messages(tracker)
        if not messages:
            dispatcher.utter_message(response="utter_nothing_to_repeat")
            return [UserUtteranceReverted()]
        for message in messages:
            data = message.get("data") or {}
            kwargs: dict[str, Any] = {}
            if data.get("buttons"):
                kwargs["buttons"] = data["buttons"]
            if data.get("image"):
                kwargs["image"] = data["image"]
            if data.get("custom"):
                kwargs["json_message"] = data["custom"]
            dispatcher.utter_message(text=message.get("text") or None, **kwargs)
        return [UserUtteranceReverted()]
