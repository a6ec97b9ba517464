"""Policy questions end to end: real Rasa + action server over the REST channel.

Needs the policy index built by `make build` (settings.policy_index_dir).
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from knowledge.answers import ASK_WORKER_QUESTION

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def post(stack: Any, sender: str, message: str) -> list[dict[str, Any]]:
    response = httpx.post(
        f"{stack.rasa_url}/webhooks/rest/webhook",
        json={"sender": sender, "message": message},
        timeout=120,
    )
    assert response.status_code == 200, response.text
    return response.json()


def policy_payload(replies: list[dict[str, Any]]) -> dict[str, Any]:
    found = [
        r["custom"]
        for r in replies
        if isinstance(r.get("custom"), dict) and r["custom"].get("type") == "policy_answer"
    ]
    assert found, f"no policy_answer payload in {replies}"
    return found[-1]


def test_policy_button_then_a_question(rasa_stack: Any) -> None:
    sender = f"e2e-policy-{uuid.uuid4().hex[:8]}"
    replies = post(rasa_stack, sender, "/ask_policy")
    assert replies[0]["text"] == ASK_WORKER_QUESTION.text
    assert replies[0]["buttons"]
    # Tapping a suggested question sends its text, which goes through NLU.
    replies = post(rasa_stack, sender, ASK_WORKER_QUESTION.buttons[0][1])
    payload = policy_payload(replies)
    assert payload["citations"] and payload["citations"][0]["document"]
    assert payload["effective"] and payload["region"]
    text = replies[0]["text"]
    assert "依据：《" in text and "起施行" in text
    assert len(replies[0].get("buttons") or []) == len(payload["related"])
