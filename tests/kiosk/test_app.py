"""The kiosk WebSocket protocol with a fake Rasa: text, buttons, 人工服务, 再说一遍, idle reset."""

from __future__ import annotations

import base64
import time
from typing import Any

import pytest
from starlette.testclient import TestClient

from connectors.kiosk.app import HUMAN_PAYLOAD, PROMPT_NO_VOICE, WELCOME
from connectors.rasa_client import RASA_DOWN_REPLY
from connectors.tts import EspeakTTS, SilentTTS
from tests.kiosk.fakes import FakeRasa, kiosk_app


def receive_until(ws: Any, kind: str, limit: int = 20) -> dict[str, Any]:
    for _ in range(limit):
        msg = ws.receive_json()
        if msg["type"] == kind:
            return msg
    raise AssertionError(f"no {kind!r} message")


@pytest.fixture
def rasa() -> FakeRasa:
    return FakeRasa()


def test_page_and_assets_are_served(rasa: FakeRasa) -> None:
    with TestClient(kiosk_app(rasa, tts=SilentTTS())) as client:
        page = client.get("/")
        assert page.status_code == 200
        assert "就业助手" in page.text and "再说一遍" in page.text and "人工服务" in page.text
        for asset in ("kiosk.js", "kiosk.css", "pcm-worklet.js"):
            assert client.get(f"/static/{asset}").status_code == 200
        assert client.get("/healthz").json() == {"ok": True, "voice": False, "tts": "none"}


def test_text_goes_to_rasa_as_voice_channel_and_reply_is_spoken(rasa: FakeRasa) -> None:
    with (
        TestClient(kiosk_app(rasa, tts=EspeakTTS())) as client,
        client.websocket_connect("/ws") as ws,
    ):
        ready = ws.receive_json()
        assert ready["type"] == "ready" and ready["welcome"] == WELCOME
        assert ready["voice"] is False and ready["notice"] == PROMPT_NO_VOICE
        ws.send_json({"type": "text", "text": "我想找工作"})
        bot = receive_until(ws, "bot")
        assert bot["user"] == "我想找工作"
        assert [m["text"] for m in bot["messages"]] == ["您说的是：我想找工作", "还需要什么帮助？"]
        assert bot["messages"][1]["buttons"][0] == {"title": "找工作", "payload": "/search_job"}
        assert bot["audio"].startswith("data:audio/wav;base64,")
        wav = base64.b64decode(bot["audio"].split(",", 1)[1])
        assert wav[:4] == b"RIFF" and len(wav) > 10_000
    assert rasa.requests[0]["metadata"] == {"channel_mode": "voice"}


def test_quick_reply_human_and_repeat(rasa: FakeRasa) -> None:
    with (
        TestClient(kiosk_app(rasa, tts=SilentTTS())) as client,
        client.websocket_connect("/ws") as ws,
    ):
        receive_until(ws, "ready")
        ws.send_json({"type": "button", "title": "找工作", "payload": "/search_job"})
        first = receive_until(ws, "bot")
        assert first["user"] == "找工作"
        ws.send_json({"type": "human"})
        human = receive_until(ws, "bot")
        assert human["messages"][0]["text"].startswith("好的")
        ws.send_json({"type": "repeat"})
        again = receive_until(ws, "bot")
        assert again["repeat"] is True and again["messages"] == human["messages"]
    assert rasa.messages()[:2] == ["/search_job", HUMAN_PAYLOAD]


def test_rasa_down_gets_a_clear_reply(rasa: FakeRasa) -> None:
    rasa.down = True
    with (
        TestClient(kiosk_app(rasa, tts=SilentTTS())) as client,
        client.websocket_connect("/ws") as ws,
    ):
        receive_until(ws, "ready")
        ws.send_json({"type": "text", "text": "你好"})
        bot = receive_until(ws, "bot")
        assert bot["messages"][0]["text"] == RASA_DOWN_REPLY


def test_idle_timeout_clears_and_starts_a_new_rasa_session(rasa: FakeRasa) -> None:
    app = kiosk_app(rasa, tts=SilentTTS(), kiosk_idle_timeout_s=1)
    with TestClient(app) as client, client.websocket_connect("/ws") as ws:
        receive_until(ws, "ready")
        ws.send_json({"type": "text", "text": "第一位"})
        receive_until(ws, "bot")
        t0 = time.monotonic()
        reset = receive_until(ws, "reset")
        assert reset["reason"] == "idle" and 0.9 < time.monotonic() - t0 < 5
        assert receive_until(ws, "ready")["welcome"] == WELCOME
        ws.send_json({"type": "repeat"})  # the last reply is gone with the session
        assert receive_until(ws, "prompt")["text"] == WELCOME
        ws.send_json({"type": "text", "text": "第二位"})
        receive_until(ws, "bot")
    first, restart, second = rasa.requests[0], rasa.requests[1], rasa.requests[2]
    assert restart == {"sender": first["sender"], "message": "/restart"}
    assert second["message"] == "第二位" and second["sender"] != first["sender"]


def test_unused_screen_is_not_reset(rasa: FakeRasa) -> None:
    app = kiosk_app(rasa, tts=SilentTTS(), kiosk_idle_timeout_s=1)
    with TestClient(app) as client, client.websocket_connect("/ws") as ws:
        receive_until(ws, "ready")
        time.sleep(1.6)
        ws.send_json({"type": "ping"})
        assert ws.receive_json()["type"] == "pong"  # no reset came before it
    assert rasa.requests == []


def test_garbage_from_the_page_never_breaks_the_connection(rasa: FakeRasa) -> None:
    with (
        TestClient(kiosk_app(rasa, tts=SilentTTS())) as client,
        client.websocket_connect("/ws") as ws,
    ):
        receive_until(ws, "ready")
        ws.send_text("not json")
        assert receive_until(ws, "error")["text"] == "not JSON"
        ws.send_json({"type": "launch-rockets"})
        assert receive_until(ws, "error")
        ws.send_json([1, 2, 3])
        ws.send_bytes(b"\x01\x02\x03")  # audio while voice is off: ignored
        ws.send_json({"type": "start"})
        assert receive_until(ws, "prompt")["text"] == PROMPT_NO_VOICE
        ws.send_json({"type": "text", "text": "还在吗"})
        assert receive_until(ws, "bot")["user"] == "还在吗"


def test_disconnect_restarts_the_rasa_conversation(rasa: FakeRasa) -> None:
    with TestClient(kiosk_app(rasa, tts=SilentTTS())) as client:
        with client.websocket_connect("/ws") as ws:
            receive_until(ws, "ready")
            ws.send_json({"type": "text", "text": "你好"})
            receive_until(ws, "bot")
        deadline = time.monotonic() + 3
        while len(rasa.requests) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert rasa.requests[-1] == {"sender": rasa.requests[0]["sender"], "message": "/restart"}
