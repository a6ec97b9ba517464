"""The kiosk web app: a touch page whose microphone audio is recognised here and sent to Rasa.

One WebSocket per page. The page streams 16 kHz s16le PCM (binary frames) and JSON commands;
the server answers with partial and final transcripts, Rasa's replies (text, quick-reply
buttons) and the reply spoken as a WAV (base64). Nothing is stored: audio goes straight into
the recogniser, and the one thing kept (the last reply, for 再说一遍) lives in the
connection's memory until the idle timeout starts a new Rasa session.

Client → server JSON: ``{"type": "start"}`` (listening begins: push-to-talk pressed or
hands-free on), ``{"type": "stop"}`` (released), ``{"type": "text", "text": ...}``,
``{"type": "button", "title": ..., "payload": ...}``, ``{"type": "human"}``,
``{"type": "repeat"}``, ``{"type": "reset"}``, ``{"type": "ping"}``.
Server → client: ``ready``, ``listening``, ``partial``, ``final``, ``prompt``, ``bot``,
``reset``, ``error`` (see ``static/kiosk.js``).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from connectors.rasa_client import RASA_DOWN_REPLY, BotMessage, RasaClient, RasaUnavailable
from connectors.speech import (
    SAMPLE_RATE,
    Final,
    Partial,
    Recognizer,
    SpeechModel,
    SpeechUnavailable,
    Transcript,
)
from connectors.tts import SilentTTS, TextToSpeech, TTSError, get_tts
from knowledge.settings import Settings

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"

VOICE_METADATA = {"channel_mode": "voice"}
HUMAN_PAYLOAD = "/human_handoff"

PROMPT_NOT_HEARD = "没听清，请再说一遍。"
PROMPT_TOO_LONG = "您说的话有点长，请简短地再说一遍。"
PROMPT_NO_VOICE = "语音暂时不可用，请点选按钮或用文字输入。"
WELCOME = "您好！我是就业助手。请按住下面的按钮说话，或者点选您要办的事。"
WELCOME_BUTTONS: tuple[tuple[str, str], ...] = (
    ("找工作", "/search_job"),
    ("政策咨询", "/ask_policy"),
    ("附近服务站", "/find_service_station"),
    ("人工服务", HUMAN_PAYLOAD),
)
# Spoken words the page's own buttons stand for: matched like quick replies.
COMMAND_PHRASES = {"人工服务": HUMAN_PAYLOAD}

MAX_FRAME_BYTES = 64 * 1024
"""A frame is ~0.1-0.5 s of audio; bigger frames are refused, not buffered."""
MAX_LISTEN_S = 60.0
"""Continuous listening without a usable utterance ends with a prompt, so a stuck button or a
ten-minute stream costs at most this much decoding; later audio is dropped until the next start."""
MAX_UTTERANCE_S = 15.0
MIN_TURN_S = 0.4
"""A push-to-talk turn shorter than this is a tap, not a question."""


@dataclass
class KioskSession:
    """One person's conversation at the kiosk, kept only in memory."""

    sender: str = field(default_factory=lambda: "kiosk-" + uuid.uuid4().hex)
    last_reply: dict[str, Any] | None = None
    buttons: tuple[tuple[str, str], ...] = WELCOME_BUTTONS
    recognizer: Recognizer | None = None
    listened_s: float = 0.0
    answered_in_turn: bool = False
    heard_in_turn: bool = False
    deaf_until_start: bool = False
    last_activity: float = field(default_factory=time.monotonic)
    used: bool = False

    def touch(self) -> None:
        self.last_activity = time.monotonic()
        self.used = True


@dataclass
class KioskState:
    """What the app shares across connections: the clients and models, loaded once."""

    settings: Settings
    rasa: RasaClient
    speech: SpeechModel | None
    tts: TextToSpeech
    max_listen_s: float = MAX_LISTEN_S
    max_utterance_s: float = MAX_UTTERANCE_S


def _wav_data_url(wav: bytes) -> str:
    return "data:audio/wav;base64," + base64.b64encode(wav).decode("ascii") if wav else ""


class _Connection:
    """Handles one WebSocket: a receive loop plus an idle watchdog."""

    def __init__(self, ws: WebSocket, state: KioskState) -> None:
        self.ws = ws
        self.state = state
        self.session = KioskSession()
        self._send_lock = asyncio.Lock()
        self._rasa_lock = asyncio.Lock()

    async def send(self, message: dict[str, Any]) -> None:
        async with self._send_lock:
            await self.ws.send_text(json.dumps(message, ensure_ascii=False))

    async def speak(self, text: str) -> str:
        try:
            wav = await asyncio.to_thread(self.state.tts.synthesize, text)
        except TTSError as exc:
            logger.warning("speech synthesis failed: %s", exc)
            return ""
        return _wav_data_url(wav)

    async def prompt(self, text: str) -> None:
        await self.send({"type": "prompt", "text": text, "audio": await self.speak(text)})

    # -- session ---------------------------------------------------------------------------

    async def ready(self) -> None:
        await self.send(
            {
                "type": "ready",
                "voice": self.state.speech is not None,
                "idle_timeout_s": self.state.settings.kiosk_idle_timeout_s,
                "welcome": WELCOME,
                "buttons": [{"title": t, "payload": p} for t, p in WELCOME_BUTTONS],
                "notice": "" if self.state.speech is not None else PROMPT_NO_VOICE,
            }
        )

    async def reset(self, why: str) -> None:
        """Forget this person's conversation and start a new Rasa session for the next one."""
        old = self.session
        self.session = KioskSession()
        if old.used:
            with contextlib.suppress(RasaUnavailable):
                await self.state.rasa.restart(old.sender)
        logger.info("kiosk session reset (%s)", why)
        await self.send({"type": "reset", "reason": why})
        await self.ready()

    async def idle_watchdog(self) -> None:
        timeout = self.state.settings.kiosk_idle_timeout_s
        while True:
            await asyncio.sleep(min(1.0, timeout / 4))
            s = self.session
            if s.used and time.monotonic() - s.last_activity >= timeout:
                await self.reset("idle")

    # -- talking to Rasa -------------------------------------------------------------------

    async def ask_rasa(self, message: str, shown: str) -> None:
        """Send the person's words (or a button payload) to Rasa and return the reply."""
        self.session.touch()
        async with self._rasa_lock:
            try:
                replies = await self.state.rasa.send(
                    self.session.sender, message, metadata=VOICE_METADATA
                )
            except RasaUnavailable:
                replies = [BotMessage(text=RASA_DOWN_REPLY)]
            messages = [_message_json(m) for m in replies]
            buttons = tuple((b.title, b.payload) for m in replies for b in m.buttons)
            self.session.buttons = buttons
            spoken = "。".join(m["text"].rstrip("。") for m in messages if m["text"])
            reply = {
                "type": "bot",
                "user": shown,
                "messages": messages,
                "audio": await self.speak(spoken) if spoken else "",
            }
            self.session.last_reply = reply
            self.session.touch()
            await self.send(reply)

    # -- voice -----------------------------------------------------------------------------

    def _phrases(self) -> list[str]:
        return [t for t, _ in self.session.buttons] + list(COMMAND_PHRASES)

    async def start_listening(self) -> None:
        if self.state.speech is None:
            await self.prompt(PROMPT_NO_VOICE)
            return
        self.session.touch()
        model = self.state.speech
        phrases = self._phrases() if model.supports_grammar else None
        self.session.recognizer = await asyncio.to_thread(
            Recognizer,
            model,
            sample_rate=SAMPLE_RATE,
            phrases=phrases,
            max_utterance_s=self.state.max_utterance_s,
        )
        self.session.listened_s = 0.0
        self.session.answered_in_turn = False
        self.session.heard_in_turn = False
        self.session.deaf_until_start = False
        await self.send({"type": "listening", "on": True})

    async def stop_listening(self, notify: bool = True) -> Transcript | None:
        rec = self.session.recognizer
        self.session.recognizer = None
        if notify:
            await self.send({"type": "listening", "on": False})
        if rec is None:
            return None
        final = await asyncio.to_thread(rec.finish)
        return final.transcript

    async def audio(self, frame: bytes) -> None:
        if self.state.speech is None:
            return
        if len(frame) > MAX_FRAME_BYTES:
            await self.send({"type": "error", "text": "audio frame too large"})
            return
        if self.session.recognizer is None:
            if self.session.deaf_until_start:
                return  # the listening cap was reached: drop audio until the next start
            # Audio without "start": the page is in hands-free mode after a reconnect.
            await self.start_listening()
        rec = self.session.recognizer
        assert rec is not None
        self.session.touch()
        self.session.listened_s += len(frame) / (2 * SAMPLE_RATE)
        events = await asyncio.to_thread(rec.feed, frame)
        for event in events:
            if isinstance(event, Partial):
                self.session.heard_in_turn = True
                await self.send({"type": "partial", "text": event.text})
            elif isinstance(event, Final):
                await self.utterance(event.transcript)
        if self.session.recognizer is rec and self.session.listened_s >= self.state.max_listen_s:
            heard = self.session.heard_in_turn
            await self.stop_listening()
            self.session.deaf_until_start = True
            if heard:
                await self.prompt(PROMPT_NOT_HEARD)

    async def utterance(self, t: Transcript) -> None:
        """Act on one finished utterance: a quick reply, free speech, or a request to repeat."""
        if t.reason == "max_duration":
            await self.prompt(PROMPT_TOO_LONG)
            return
        if not t.text:
            return  # silence between utterances (hands-free) is not an error
        self.session.listened_s = 0.0
        self.session.answered_in_turn = True
        if t.matched_phrase is not None and t.is_reliable:
            payload = dict(self.session.buttons).get(t.matched_phrase) or COMMAND_PHRASES.get(
                t.matched_phrase
            )
            if payload:
                await self.send({"type": "final", "text": t.matched_phrase, "reliable": True})
                await self.ask_rasa(payload, t.matched_phrase)
                return
        words = t.free_text or t.text
        conf = t.free_confidence if t.free_text else t.confidence
        if not words or conf < 0.5:
            await self.send({"type": "final", "text": words, "reliable": False})
            await self.prompt(PROMPT_NOT_HEARD)
            return
        await self.send({"type": "final", "text": words, "reliable": True})
        await self.ask_rasa(words, words)

    # -- the loop --------------------------------------------------------------------------

    async def command(self, data: dict[str, Any]) -> None:
        kind = data.get("type")
        if kind == "start":
            await self.start_listening()
        elif kind == "stop":
            answered = self.session.answered_in_turn
            too_short = self.session.listened_s < MIN_TURN_S
            t = await self.stop_listening()
            if t is None:
                return
            if too_short and not answered:
                # A tap, not speech: Vosk would still guess a syllable from it.
                await self.prompt(PROMPT_NOT_HEARD)
            elif not t.text and t.reason != "max_duration":
                if not answered:
                    await self.prompt(PROMPT_NOT_HEARD)
            else:
                await self.utterance(t)
        elif kind == "text":
            text = str(data.get("text", "")).strip()[:500]
            if text:
                await self.ask_rasa(text, text)
        elif kind == "button":
            payload = str(data.get("payload", "")).strip()[:500]
            if payload:
                await self.ask_rasa(payload, str(data.get("title") or payload)[:100])
        elif kind == "human":
            await self.ask_rasa(HUMAN_PAYLOAD, "人工服务")
        elif kind == "repeat":
            self.session.touch()
            if self.session.last_reply is not None:
                await self.send({**self.session.last_reply, "repeat": True})
            else:
                await self.send(
                    {"type": "prompt", "text": WELCOME, "audio": await self.speak(WELCOME)}
                )
        elif kind == "reset":
            await self.reset("button")
        elif kind == "ping":
            await self.send({"type": "pong"})
        else:
            await self.send({"type": "error", "text": f"unknown message type {kind!r}"})

    async def run(self) -> None:
        await self.ready()
        watchdog = asyncio.create_task(self.idle_watchdog())
        try:
            while True:
                message = await self.ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                if message.get("bytes") is not None:
                    await self.audio(message["bytes"])
                elif message.get("text") is not None:
                    try:
                        data = json.loads(message["text"])
                    except ValueError:
                        await self.send({"type": "error", "text": "not JSON"})
                        continue
                    if isinstance(data, dict):
                        await self.command(data)
        except WebSocketDisconnect:
            pass
        finally:
            watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watchdog
            # The next person must not inherit this conversation.
            self.session.recognizer = None
            if self.session.used:
                with contextlib.suppress(RasaUnavailable):
                    await self.state.rasa.restart(self.session.sender)


def _message_json(m: BotMessage) -> dict[str, Any]:
    return {
        "text": m.text,
        "buttons": [{"title": b.title, "payload": b.payload} for b in m.buttons],
        "custom": m.custom,
        "image": m.image,
    }


def create_app(
    settings: Settings,
    rasa: RasaClient,
    *,
    speech: SpeechModel | None = None,
    tts: TextToSpeech | None = None,
    load_speech: bool = True,
) -> Starlette:
    """The kiosk app (serve with uvicorn).

    Args:
        settings: kiosk host/port, idle timeout, Vosk model path, TTS engine.
        rasa: the shared Rasa client.
        speech: a loaded model; by default ``settings.vosk_model_path`` is loaded at start-up
            (voice is switched off, with a notice on the page, when it is unavailable).
        tts: the speech engine; by default ``settings.tts_engine``.
        load_speech: set False to run text-only without trying to load a model.
    """
    if tts is None:
        try:
            tts = get_tts(settings)
        except TTSError as exc:
            logger.warning("text to speech unavailable, replies are shown only: %s", exc)
            tts = SilentTTS()
    state = KioskState(settings=settings, rasa=rasa, speech=speech, tts=tts)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if state.speech is None and load_speech:
            try:
                state.speech = await asyncio.to_thread(SpeechModel.get, settings.vosk_model_path)
            except SpeechUnavailable as exc:
                logger.warning("voice input off: %s", exc)
        yield

    async def index(request: Request) -> Response:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-store"})

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True, "voice": state.speech is not None, "tts": state.tts.name})

    async def websocket(ws: WebSocket) -> None:
        await ws.accept()
        await _Connection(ws, state).run()

    app = Starlette(
        routes=[
            Route("/", index),
            Route("/healthz", health),
            WebSocketRoute("/ws", websocket),
            Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
        ],
        lifespan=lifespan,
    )
    app.state.kiosk = state
    return app
