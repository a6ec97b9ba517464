"""Voice through the kiosk WebSocket: real Vosk (Korean test model), fake Rasa, real espeak-ng."""

from __future__ import annotations

from typing import Any

import psutil
import pytest
from starlette.testclient import TestClient

from connectors.kiosk.app import MAX_FRAME_BYTES, PROMPT_NOT_HEARD
from connectors.speech import SAMPLE_RATE, SpeechModel
from connectors.tts import EspeakTTS, SilentTTS
from tests.kiosk.fakes import FakeRasa, kiosk_app
from tests.speech.helpers import korean_model_path, noise, room, silence, speech_pcm

pytestmark = pytest.mark.slow

FRAME = SAMPLE_RATE // 10 * 2  # 100 ms, as the page's AudioWorklet sends


@pytest.fixture(scope="module")
def model() -> SpeechModel:
    return SpeechModel.get(korean_model_path())


@pytest.fixture
def rasa() -> FakeRasa:
    return FakeRasa()


def stream(ws: Any, pcm: bytes, frame: int = FRAME) -> None:
    for i in range(0, len(pcm), frame):
        ws.send_bytes(pcm[i : i + frame])


def collect(ws: Any, until: str) -> list[dict[str, Any]]:
    out = []
    for _ in range(200):
        msg = ws.receive_json()
        out.append(msg)
        if msg["type"] == until:
            return out
    raise AssertionError(f"no {until!r} in {[m['type'] for m in out]}")


def test_hands_free_speech_to_reply_and_quick_reply_by_voice(
    rasa: FakeRasa, model: SpeechModel
) -> None:
    app = kiosk_app(rasa, speech=model, tts=EspeakTTS())
    with TestClient(app) as client, client.websocket_connect("/ws") as ws:
        assert ws.receive_json()["voice"] is True
        ws.send_json({"type": "start"})
        assert ws.receive_json() == {"type": "listening", "on": True}
        # Hands-free: nobody presses anything; the pause after the sentence ends the utterance.
        stream(ws, room(0.3) + speech_pcm("어서 오세요 월요일 입니다") + room(1.5))
        got = collect(ws, "bot")
        partials = [m["text"] for m in got if m["type"] == "partial"]
        final = next(m for m in got if m["type"] == "final")
        bot = got[-1]
        assert partials and final["reliable"]
        for word in ("어서", "오세요", "월요일"):
            assert word in final["text"]
        assert bot["user"] == final["text"]
        assert bot["messages"][0]["text"] == f"您说的是：{final['text']}"
        assert bot["audio"].startswith("data:audio/wav;base64,")
        # The reply offered "어서 오세요" as a quick reply: saying it sends its payload.
        ws.send_json({"type": "start"})
        stream(ws, room(0.3) + speech_pcm("어서 오세요") + room(1.5))
        second = collect(ws, "bot")[-1]
        assert second["user"] == "어서 오세요"
    assert rasa.messages()[1] == '/greet{"lang": "ko"}'
    said = [r for r in rasa.requests if r["message"] != "/restart"]
    assert all(r.get("metadata") == {"channel_mode": "voice"} for r in said)


def test_push_to_talk_release_ends_the_utterance(rasa: FakeRasa, model: SpeechModel) -> None:
    with (
        TestClient(kiosk_app(rasa, speech=model, tts=SilentTTS())) as client,
        client.websocket_connect("/ws") as ws,
    ):
        ws.receive_json()
        ws.send_json({"type": "start"})
        stream(ws, room(0.2) + speech_pcm("어서 오세요"))  # released right after speaking
        ws.send_json({"type": "stop"})
        got = collect(ws, "bot")
        assert "오세요" in next(m for m in got if m["type"] == "final")["text"]


@pytest.mark.parametrize("kind", ["silence", "room", "loud-noise"])
def test_nothing_understood_gets_a_prompt(rasa: FakeRasa, model: SpeechModel, kind: str) -> None:
    audio = {"silence": silence(2), "room": room(2), "loud-noise": noise(2, level=6000, seed=5)}[
        kind
    ]
    with (
        TestClient(kiosk_app(rasa, speech=model, tts=EspeakTTS())) as client,
        client.websocket_connect("/ws") as ws,
    ):
        ws.receive_json()
        ws.send_json({"type": "start"})
        stream(ws, audio)
        ws.send_json({"type": "stop"})
        collect(ws, "listening")  # listening on
        collect(ws, "listening")  # listening off after stop
        nxt = ws.receive_json()
        if kind == "loud-noise" and nxt["type"] in ("final", "bot"):
            # Noise may come out as words; then they must be marked or answered, never crash.
            assert nxt["type"] in ("final", "bot")
        else:
            assert nxt["type"] == "prompt" and nxt["text"] == PROMPT_NOT_HEARD
            assert nxt["audio"].startswith("data:audio/wav;base64,")
        ws.send_json({"type": "ping"})
        assert collect(ws, "pong")


def test_bad_frames_are_refused_not_buffered(rasa: FakeRasa, model: SpeechModel) -> None:
    with (
        TestClient(kiosk_app(rasa, speech=model, tts=SilentTTS())) as client,
        client.websocket_connect("/ws") as ws,
    ):
        ws.receive_json()
        ws.send_bytes(b"\0" * (MAX_FRAME_BYTES + 2))
        assert collect(ws, "error")[-1]["text"] == "audio frame too large"
        ws.send_json({"type": "start"})
        for size in (1, 3, 1001, 7):  # odd sizes split samples across frames
            ws.send_bytes(b"\x01" * size)
        ws.send_json({"type": "stop"})
        assert collect(ws, "prompt")[-1]["text"] == PROMPT_NOT_HEARD


def test_ten_minute_stream_is_bounded(rasa: FakeRasa, model: SpeechModel) -> None:
    """A stuck button streaming ten minutes: decoding stops at the listening cap, memory flat."""
    app = kiosk_app(rasa, speech=model, tts=SilentTTS())
    app.state.kiosk.max_listen_s = 20.0
    proc = psutil.Process()
    talk = speech_pcm("어서 오세요 월요일 입니다")
    with TestClient(app) as client, client.websocket_connect("/ws") as ws:
        ws.receive_json()
        ws.send_json({"type": "start"})
        collect(ws, "listening")
        rss0 = proc.memory_info().rss
        half_second = SAMPLE_RATE // 2 * 2
        # Some talk (so the page heard something), then ten minutes of room noise.
        stream(ws, talk[: len(talk) // 2], frame=half_second)
        stream(ws, room(600), frame=half_second)
        ws.send_json({"type": "ping"})
        got = collect(ws, "pong")
        rss1 = proc.memory_info().rss
    types = [m["type"] for m in got]
    assert {"type": "listening", "on": False} in got, types
    assert any(m["type"] == "prompt" and m["text"] == PROMPT_NOT_HEARD for m in got)
    assert rss1 - rss0 < 60 * 1024 * 1024, f"memory grew by {(rss1 - rss0) >> 20} MB"
