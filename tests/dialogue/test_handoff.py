"""Hand-off form validation, the ticket store (durable across a kill) and action_create_ticket."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import (
    ActionCreateTicket,
    ValidateHandoffForm,
    clean_name,
    normalise_mobile,
    transcript_from_events,
)
from knowledge.tickets import TicketStore, Turn
from tests.dialogue.helpers import ROOT, bot, load_domain, slot, tracker, user


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("+86 138-1234-5678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("12812345678", None),
        ("1381234567", None),
        ("0571-88888888", None),
        ("我不告诉你", None),
    ],
)
def test_mobile_numbers(text: str, expected: str | None) -> None:
    assert normalise_mobile(text) == expected


def test_names() -> None:
    assert clean_name("我叫王芳") == "王芳"
    assert clean_name("跳过") == ""
    assert clean_name("/deny") == ""
    assert clean_name("138123") is None
    assert clean_name("我" * 30) is None


async def test_phone_is_asked_only_after_consent() -> None:
    form, domain = ValidateHandoffForm(), load_domain()
    dispatcher = CollectingDispatcher()
    base = ["handoff_name", "handoff_consent", "handoff_phone"]
    no = tracker(slots={"handoff_consent": False})
    yes = tracker(slots={"handoff_consent": True})
    assert await form.required_slots(base, dispatcher, no, domain) == base[:2]
    assert await form.required_slots(base, dispatcher, yes, domain) == base

    t = tracker(
        slots={"handoff_name": "老王", "handoff_consent": True},
        events=[user("可以", "affirm"), slot("handoff_consent", True)],
        active_loop="handoff_form",
    )
    events = await form.run(dispatcher, t, domain)
    assert events[-1]["name"] == "requested_slot" and events[-1]["value"] == "handoff_phone"


async def test_name_skip_bad_phone_and_change_of_mind() -> None:
    form, domain = ValidateHandoffForm(), load_domain()
    dispatcher = CollectingDispatcher()
    t = tracker(
        slots={"handoff_name": "/deny"},
        events=[user("/deny", "deny"), slot("handoff_name", "/deny")],
        active_loop="handoff_form",
    )
    values = {e["name"]: e["value"] for e in await form.run(dispatcher, t, domain)}
    assert values["handoff_name"] == ""

    t = tracker(
        slots={"handoff_name": "", "handoff_consent": True, "handoff_phone": "12345"},
        events=[user("12345", "inform"), slot("handoff_phone", "12345")],
        active_loop="handoff_form",
    )
    values = {e["name"]: e["value"] for e in await form.run(dispatcher, t, domain)}
    assert values["handoff_phone"] is None
    assert dispatcher.messages[-1]["response"] == "utter_invalid_phone"

    t = tracker(
        slots={"handoff_name": "", "handoff_consent": True, "handoff_phone": "不用了"},
        events=[user("不用了", "deny"), slot("handoff_phone", "不用了")],
        active_loop="handoff_form",
    )
    values = {e["name"]: e["value"] for e in await form.run(dispatcher, t, domain)}
    assert values["handoff_consent"] is False and values["handoff_phone"] is None
    assert values["requested_slot"] is None  # no phone needed any more: the form is done


def test_store_round_trip(tmp_path: Path) -> None:
    store = TicketStore(tmp_path / "t.sqlite3")
    ticket = store.create("u1", [Turn("user", "转人工", 1.0)], name="王芳", phone="13812345678")
    again = store.get(ticket.ticket_id)
    assert again == ticket
    assert store.list_open() == [ticket]
    assert store.get("nope") is None
    mode = store._conn.execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    store.close()


_CHILD = """
import os, sys, time
from knowledge.tickets import TicketStore, Turn
store = TicketStore(sys.argv[1])
ticket = store.create("killed-user", [Turn("user", "我要找人工")], phone="13812345678")
print(ticket.ticket_id, flush=True)
time.sleep(60)  # killed here, without closing anything
"""


def test_ticket_survives_a_kill_right_after_creation(tmp_path: Path) -> None:
    db = tmp_path / "tickets.sqlite3"
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(db)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        ticket_id = child.stdout.readline().strip()
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        if child.stdout:
            child.stdout.close()
    assert ticket_id.startswith("RG") and child.returncode == -signal.SIGKILL
    # Reopen as a new process would: with plain sqlite3, then through the store.
    row = (
        sqlite3.connect(db)
        .execute("SELECT sender_id, phone FROM tickets WHERE ticket_id = ?", (ticket_id,))
        .fetchone()
    )
    assert row == ("killed-user", "13812345678")
    reopened = TicketStore(db).get(ticket_id)
    assert reopened is not None and reopened.transcript[0].text == "我要找人工"


def test_transcript_keeps_user_and_bot_turns() -> None:
    events = [
        {"event": "action", "name": "action_listen"},
        user("你好", "greet"),
        bot("您好！"),
        {"event": "bot", "text": None, "data": {"custom": {"type": "stations"}}},
        user("转人工", "human_handoff"),
    ]
    turns = transcript_from_events(events)
    assert [(t.speaker, t.text) for t in turns] == [
        ("user", "你好"),
        ("bot", "您好！"),
        ("bot", "[stations]"),
        ("user", "转人工"),
    ]


@pytest.mark.parametrize("consent", [True, False])
async def test_create_ticket_stores_before_replying(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, consent: bool
) -> None:
    store = TicketStore(tmp_path / "t.sqlite3")
    action = ActionCreateTicket()
    monkeypatch.setattr(action, "store", lambda: store)
    slots = {"handoff_name": "王芳", "handoff_consent": consent, "handoff_phone": "13812345678"}
    events = [user("你好", "greet"), bot("您好！"), user("找人工", "human_handoff")]
    dispatcher = CollectingDispatcher()
    result = await action.run(dispatcher, tracker(slots=slots, events=events), load_domain())

    custom = dispatcher.messages[1]["custom"]
    assert custom["type"] == "handoff" and custom["office_hours"]
    ticket = store.get(custom["ticket_id"])
    assert ticket is not None
    assert ticket.name == "王芳" and ticket.channel == "rest/text"
    assert ticket.phone == ("13812345678" if consent else "")  # never kept without consent
    assert len(ticket.transcript) == 3
    text = dispatcher.messages[0]["text"]
    assert custom["ticket_id"] in text and custom["office_hours"] in text
    assert {e["name"] for e in result} == {"handoff_name", "handoff_consent", "handoff_phone"}
    store.close()
