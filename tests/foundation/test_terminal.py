"""The terminal chat shows buttons as numbered choices and sends the chosen payload."""

from __future__ import annotations

from connectors.rasa_client import BotMessage
from connectors.terminal import render, resolve_choice


def test_buttons_numbered_across_messages_and_chosen_by_number() -> None:
    messages = [
        BotMessage.from_json(
            {"text": "想做什么？", "buttons": [{"title": "找工作", "payload": "/search_job"}]}
        ),
        BotMessage.from_json(
            {
                "text": "依据如下",
                "buttons": [{"title": "问政策", "payload": "/ask_policy"}],
                "custom": {
                    "type": "policy_answer",
                    "citations": [{"document": "失业保险条例", "article": "第十四条"}],
                },
            }
        ),
    ]
    text, buttons = render(messages)
    assert "1. 找工作" in text and "2. 问政策" in text
    assert "《失业保险条例》第十四条" in text
    assert resolve_choice("2", buttons) == "/ask_policy"
    assert resolve_choice(" 3 ", buttons) == "3"  # out of range: sent as typed
    assert resolve_choice("杭州", buttons) == "杭州"
