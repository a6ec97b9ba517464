"""Builders for rasa-sdk trackers and the dialogue-core domain, shared by the dialogue tests."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Tracker

ROOT = Path(__file__).resolve().parents[2]
DOMAIN_FILES = ("core.yml", "eligibility.yml", "stations.yml", "handoff.yml")


def load_domain() -> dict[str, Any]:
    """The dialogue-core domain files merged into one dict, as the action server receives it."""
    domain: dict[str, Any] = {"slots": {}, "forms": {}, "responses": {}, "actions": []}
    for name in DOMAIN_FILES:
        part = yaml.safe_load((ROOT / "bot" / "domain" / name).read_text(encoding="utf-8"))
        for key in ("slots", "forms", "responses"):
            domain[key].update(part.get(key) or {})
        domain["actions"].extend(part.get("actions") or [])
        if "session_config" in part:
            domain["session_config"] = {
                "session_expiration_time": part["session_config"]["session_expiration_time"],
                "carry_over_slots_to_new_session": part["session_config"][
                    "carry_over_slots_to_new_session"
                ],
            }
    return domain


def user(text: str, intent: str, entities: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "event": "user",
        "timestamp": time.time(),
        "text": text,
        "parse_data": {
            "text": text,
            "intent": {"name": intent, "confidence": 0.95},
            "entities": entities or [],
        },
        "input_channel": "rest",
    }


def bot(text: str, **data: Any) -> dict[str, Any]:
    return {"event": "bot", "timestamp": time.time(), "text": text, "data": data}


def slot(name: str, value: Any) -> dict[str, Any]:
    return {"event": "slot", "timestamp": time.time(), "name": name, "value": value}


def tracker(
    *,
    slots: dict[str, Any] | None = None,
    events: list[dict[str, Any]] | None = None,
    latest_message: dict[str, Any] | None = None,
    active_loop: str | None = None,
    sender_id: str = "tester",
) -> Tracker:
    """A tracker whose latest message defaults to the last user event in ``events``."""
    events = events or []
    if latest_message is None:
        last_user = next((e for e in reversed(events) if e.get("event") == "user"), None)
        latest_message = dict(last_user["parse_data"]) if last_user else {}
    return Tracker(
        sender_id,
        dict(slots or {}),
        latest_message,
        events,
        False,
        None,
        {"name": active_loop} if active_loop else {},
        "action_listen",
    )
