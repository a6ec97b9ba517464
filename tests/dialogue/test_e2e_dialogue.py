"""Dialogue core end to end: real Rasa + action server, driven over the REST channel with payloads.

Payloads (button clicks) keep these tests independent of NLU accuracy; the test stories in
bot/tests cover classification of typed text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from knowledge.tickets import TicketStore

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def post(stack: Any, sender: str, message: str, **metadata: Any) -> list[dict[str, Any]]:
    body: dict[str, Any] = {"sender": sender, "message": message}
    if metadata:
        body["metadata"] = metadata
    response = httpx.post(f"{stack.rasa_url}/webhooks/rest/webhook", json=body, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def texts(replies: list[dict[str, Any]]) -> str:
    return "\n".join(r.get("text") or "" for r in replies)


def customs(replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r["custom"] for r in replies if isinstance(r.get("custom"), dict)]


def test_eligibility_check_asks_the_benefits_questions_then_decides(rasa_stack: Any) -> None:
    sender = "e2e-elig"
    first = post(rasa_stack, sender, '/check_eligibility{"benefit":"unemployment_insurance"}')
    assert "1/3" in texts(first) and "失业保险" in texts(first)
    assert [b["payload"] for b in first[-1]["buttons"]] == ["/affirm", "/deny"]
    assert "2/3" in texts(post(rasa_stack, sender, "/affirm"))
    assert "3/3" in texts(post(rasa_stack, sender, "/deny"))  # quit the job themselves
    result = texts(post(rasa_stack, sender, "/affirm"))
    assert "很可能不符合条件" in result and "《失业保险条例》第十四条" in result
    assert "审核为准" in result


def test_eligibility_asks_which_benefit_first(rasa_stack: Any) -> None:
    sender = "e2e-elig-2"
    ask = post(rasa_stack, sender, "/check_eligibility")
    assert len(ask[-1]["buttons"]) == 5
    # The domain escapes the payload's JSON braces ({{ }}) so Rasa's slot interpolation
    # leaves them alone instead of logging an ERROR (with slot values) for every button.
    assert ask[-1]["buttons"][0]["payload"] == '/inform{"benefit":"unemployment_insurance"}'
    log = (rasa_stack.log_dir / "rasa.log").read_text(encoding="utf-8", errors="replace")
    assert "interpolator" not in log
    q1 = post(rasa_stack, sender, '/inform{"benefit":"flexible_social_insurance"}')
    assert "1/2" in texts(q1)
    post(rasa_stack, sender, "/affirm")
    assert "很可能符合条件" in texts(post(rasa_stack, sender, "/affirm"))


def test_stations_by_location_and_by_district(rasa_stack: Any) -> None:
    replies = post(rasa_stack, "e2e-st", '/share_location{"latitude": 30.259, "longitude": 120.13}')
    (payload,) = customs(replies)
    assert payload["type"] == "stations" and "杭州" in payload["items"][0]["address"]
    replies = post(rasa_stack, "e2e-st-2", '/find_service_station{"district": "朝阳区"}')
    assert "朝阳区" in texts(replies)
    asked = post(rasa_stack, "e2e-st-3", "/find_service_station")
    assert "位置" in texts(asked) and not customs(asked)


def test_handoff_with_consent_stores_a_ticket(rasa_stack: Any) -> None:
    sender = "e2e-handoff"
    assert "称呼" in texts(post(rasa_stack, sender, "/human_handoff"))
    assert "电话" in texts(post(rasa_stack, sender, "/deny"))  # skip the name
    assert "手机号" in texts(post(rasa_stack, sender, "/affirm"))
    assert "不对" in texts(post(rasa_stack, sender, '/inform{"phone": "12345"}'))
    replies = post(rasa_stack, sender, '/inform{"phone": "13812345678"}')
    (payload,) = customs(replies)
    assert payload["type"] == "handoff" and payload["ticket_id"] in texts(replies)
    db = Path(rasa_stack.extra_env["JOBBOT_TICKETS_DB"])
    ticket = TicketStore(db).get(payload["ticket_id"])
    assert ticket is not None and ticket.phone == "13812345678" and ticket.sender_id == sender
    assert any(t.speaker == "bot" for t in ticket.transcript)
    # Stored in the ticket, never written to a log of any service.
    for log in sorted(rasa_stack.log_dir.glob("*.log")):
        assert "13812345678" not in log.read_text(encoding="utf-8", errors="replace"), log.name


def test_voice_channel_gets_short_replies_and_repeat_works(rasa_stack: Any) -> None:
    sender = "e2e-voice"
    greeting = post(rasa_stack, sender, "/greet", channel_mode="voice")
    assert greeting and not greeting[0].get("buttons") and "\n" not in texts(greeting)
    again = post(rasa_stack, sender, "/repeat")
    assert texts(again) == texts(greeting)


def test_fallback_offers_two_guesses_then_a_person(rasa_stack: Any) -> None:
    sender = "e2e-fallback"
    guesses = post(rasa_stack, sender, "/nlu_fallback")
    assert guesses[-1]["buttons"][-1] == {"title": "都不是", "payload": "/out_of_scope"}
    post(rasa_stack, sender, "/out_of_scope")  # none of these: asked to rephrase
    post(rasa_stack, sender, "/nlu_fallback")
    person = post(rasa_stack, sender, "/out_of_scope")
    assert "/human_handoff" in [b["payload"] for b in person[-1].get("buttons", [])]


def test_repeat_inside_a_form_keeps_the_form_going(rasa_stack: Any) -> None:
    sender = "e2e-repeat-form"
    question = post(rasa_stack, sender, '/check_eligibility{"benefit":"hiring_subsidy"}')
    again = post(rasa_stack, sender, "/repeat")
    assert texts(again) == texts(question) and "1/3" in texts(again)
    assert "2/3" in texts(post(rasa_stack, sender, "/affirm"))


def test_restart_forgets_the_conversation(rasa_stack: Any) -> None:
    sender = "e2e-restart"
    post(rasa_stack, sender, '/check_eligibility{"benefit":"training_subsidy"}')
    assert "重新开始" in texts(post(rasa_stack, sender, "/restart"))
    tracker = httpx.get(f"{rasa_stack.rasa_url}/conversations/{sender}/tracker", timeout=30).json()
    assert tracker["slots"]["benefit"] is None and not tracker["active_loop"].get("name")
