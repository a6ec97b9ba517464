"""The Telegram Application against a fake Bot API server and a fake Rasa (fast tests)."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from typing import Any

import httpx
import pytest
from telegram.ext import AIORateLimiter

from connectors.rasa_client import RASA_DOWN_REPLY
from connectors.telegram.app import (
    BUTTON_EXPIRED,
    CANCELLED,
    UNSUPPORTED,
    VOICE_TOO_LONG,
    VOICE_UNAVAILABLE,
    WELCOME,
    build_application,
    webhook_options,
    webhook_secret,
)
from connectors.telegram.render import DONE_MARK
from tests.telegram.fakes import (
    TOKEN,
    FakeBotAPI,
    make_settings,
    mock_rasa,
    rasa_http_server,
    running_bot,
)

CHAT = 5550001


class RecordingRasa:
    """Plays Rasa: records what it receives and answers from a script keyed by message."""

    def __init__(self, script: dict[str, list[dict[str, Any]]] | None = None) -> None:
        self.received: list[tuple[str, str]] = []
        self.script = script or {}

    def __call__(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        self.received.append((body["sender"], body["message"]))
        return self.script.get(
            body["message"], [{"recipient_id": body["sender"], "text": f"收到：{body['message']}"}]
        )


async def test_start_shows_the_main_menu(fake_bot_api: FakeBotAPI) -> None:
    rasa = RecordingRasa()
    async with running_bot(fake_bot_api, mock_rasa(rasa)):
        await fake_bot_api.send_text(CHAT, "/start")
        [welcome] = await fake_bot_api.wait_messages(CHAT, 1)
    assert welcome["text"] == WELCOME
    keyboard = [
        [(b["text"], b["callback_data"]) for b in row]
        for row in welcome["reply_markup"]["inline_keyboard"]
    ]
    assert keyboard == [
        [("找工作", "/search_job"), ("问政策", "/ask_policy")],
        [("查补贴", "/check_eligibility"), ("附近服务站", "/find_service_station")],
        [("人工服务", "/human_handoff")],
    ]
    assert rasa.received == []  # the menu is the connector's own


async def test_text_goes_to_rasa_and_buttons_come_back_as_a_keyboard(
    fake_bot_api: FakeBotAPI,
) -> None:
    long_payload = '/inform{"city": "杭州", "district": "余杭区", "job_type": "仓库管理员"}'
    rasa = RecordingRasa(
        {
            "我想找工作": [
                {
                    "text": "您想在哪个城市找？",
                    "buttons": [
                        {"title": "杭州余杭区仓库", "payload": long_payload},
                        {"title": "宁波", "payload": '/inform{"city": "宁波"}'},
                    ],
                }
            ]
        }
    )
    async with running_bot(fake_bot_api, mock_rasa(rasa)):
        await fake_bot_api.send_text(CHAT, "我想找工作")
        [question] = await fake_bot_api.wait_messages(CHAT, 1)
        assert question["text"] == "您想在哪个城市找？"
        buttons = [b for row in question["reply_markup"]["inline_keyboard"] for b in row]
        assert buttons[1]["callback_data"] == '/inform{"city": "宁波"}'
        assert len(buttons[0]["callback_data"].encode()) <= 64

        await fake_bot_api.press(CHAT, "杭州余杭区仓库")
        await fake_bot_api.wait_messages(CHAT, 2)
    assert rasa.received == [(str(CHAT), "我想找工作"), (str(CHAT), long_payload)]
    assert fake_bot_api.texts(CHAT)[1] == f"收到：{long_payload}"
    [answered] = fake_bot_api.methods("answerCallbackQuery")
    assert answered["callback_query_id"]
    [edit] = fake_bot_api.methods("editMessageReplyMarkup")
    assert edit["message_id"] == str(question["message_id"])
    assert edit["reply_markup"] == {
        "inline_keyboard": [[{"text": "✓ 杭州余杭区仓库", "callback_data": DONE_MARK}]]
    }


async def test_pressing_the_marked_or_an_expired_button(fake_bot_api: FakeBotAPI) -> None:
    rasa = RecordingRasa()
    async with running_bot(fake_bot_api, mock_rasa(rasa)):
        await fake_bot_api.send_text(CHAT, "/start")
        await fake_bot_api.wait_messages(CHAT, 1)
        await fake_bot_api.press(CHAT, "问政策")
        await fake_bot_api.wait_messages(CHAT, 2)
        await fake_bot_api.press(CHAT, "✓ 问政策")  # pressing the mark does nothing
        await fake_bot_api.wait_for(lambda: len(fake_bot_api.methods("answerCallbackQuery")) == 2)
        # A key from before a restart is unknown: the user is told, Rasa is not called.
        fake_bot_api.chats[CHAT][-1]["reply_markup"] = {
            "inline_keyboard": [[{"text": "旧按钮", "callback_data": "#k999"}]]
        }
        await fake_bot_api.press(CHAT, "旧按钮")
        await fake_bot_api.wait_messages(CHAT, 3)
    assert rasa.received == [(str(CHAT), "/ask_policy")]
    assert fake_bot_api.texts(CHAT)[2] == BUTTON_EXPIRED


async def test_location_becomes_a_share_location_payload(fake_bot_api: FakeBotAPI) -> None:
    rasa = RecordingRasa()
    async with running_bot(fake_bot_api, mock_rasa(rasa)):
        await fake_bot_api.send_location(CHAT, 30.27, 120.15)
        await fake_bot_api.wait_messages(CHAT, 1)
    assert rasa.received == [(str(CHAT), '/share_location{"latitude": 30.27, "longitude": 120.15}')]


async def test_voice_without_a_model_says_so_and_does_not_call_rasa(
    fake_bot_api: FakeBotAPI,
) -> None:
    rasa = RecordingRasa()
    async with running_bot(fake_bot_api, mock_rasa(rasa), vosk_model_path=""):
        await fake_bot_api.send_voice(CHAT, b"OggS not really", duration=2)
        [reply] = await fake_bot_api.wait_messages(CHAT, 1)
    assert reply["text"] == VOICE_UNAVAILABLE
    assert rasa.received == []
    assert fake_bot_api.methods("getFile") == []


async def test_overlong_voice_is_refused_before_download(fake_bot_api: FakeBotAPI) -> None:
    async with running_bot(fake_bot_api, mock_rasa(RecordingRasa()), vosk_model_path="/models/any"):
        await fake_bot_api.send_voice(CHAT, b"OggS", duration=600)
        [reply] = await fake_bot_api.wait_messages(CHAT, 1)
    assert reply["text"] == VOICE_TOO_LONG
    assert fake_bot_api.methods("getFile") == []


async def test_rasa_down_gives_the_apology_after_retrying(fake_bot_api: FakeBotAPI) -> None:
    attempts: list[str] = []

    def down(body: dict[str, Any]) -> list[dict[str, Any]]:
        attempts.append(body["message"])
        raise httpx.ConnectError("connection refused")

    async with running_bot(fake_bot_api, mock_rasa(down, retries=2)):
        await fake_bot_api.send_text(CHAT, "你好")
        await fake_bot_api.send_text(CHAT, "/cancel")
        await fake_bot_api.wait_messages(CHAT, 2)
        await fake_bot_api.send_text(CHAT, "/start")  # the bot is still alive
        await fake_bot_api.wait_messages(CHAT, 3)
    assert fake_bot_api.texts(CHAT) == [RASA_DOWN_REPLY, RASA_DOWN_REPLY, WELCOME]
    assert attempts == ["你好"] * 3 + ["/restart"] * 3


async def test_cancel_restarts_the_rasa_conversation(fake_bot_api: FakeBotAPI) -> None:
    rasa = RecordingRasa({"/restart": []})
    async with running_bot(fake_bot_api, mock_rasa(rasa)):
        await fake_bot_api.send_text(CHAT, "/cancel")
        [reply] = await fake_bot_api.wait_messages(CHAT, 1)
    assert rasa.received == [(str(CHAT), "/restart")]
    assert reply["text"] == CANCELLED and reply["reply_markup"]["inline_keyboard"]


async def test_long_replies_are_split_and_images_sent(fake_bot_api: FakeBotAPI) -> None:
    long_text = "\n".join(f"第{i}条：" + "内容" * 100 for i in range(50))  # ~10,300 characters
    rasa = RecordingRasa(
        {
            "长": [
                {"text": long_text, "buttons": [{"title": "好的", "payload": "/affirm"}]},
                {"image": "https://example.org/map.png"},
            ]
        }
    )
    async with running_bot(fake_bot_api, mock_rasa(rasa)):
        await fake_bot_api.send_text(CHAT, "长")
        messages = await fake_bot_api.wait_messages(CHAT, 4)
    texts = [m["text"] for m in messages[:3]]
    assert all(len(t) <= 4096 for t in texts)
    assert "\n".join(texts) == long_text
    assert "reply_markup" in messages[2] and "reply_markup" not in messages[0]
    assert messages[3]["photo_url"] == "https://example.org/map.png"


async def test_unsupported_messages_and_unknown_commands(fake_bot_api: FakeBotAPI) -> None:
    rasa = RecordingRasa()
    async with running_bot(fake_bot_api, mock_rasa(rasa)):
        sticker = {
            "file_id": "st1",
            "file_unique_id": "st1u",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "type": "regular",
        }
        await fake_bot_api.send_raw(CHAT, "[贴纸]", sticker=sticker)
        await fake_bot_api.send_text(CHAT, "/frobnicate")
        await fake_bot_api.wait_messages(CHAT, 2)
    assert fake_bot_api.texts(CHAT)[0] == UNSUPPORTED
    assert fake_bot_api.texts(CHAT)[1].startswith("没有这个命令。")
    assert rasa.received == []


async def test_each_chat_is_its_own_sender_and_keeps_its_order(fake_bot_api: FakeBotAPI) -> None:
    async def slow_first(body: dict[str, Any]) -> list[dict[str, Any]]:
        # The first message of each chat is the slowest: order must still hold.
        await asyncio.sleep(0.2 if body["message"].endswith("-0") else 0.0)
        return [{"text": f"{body['sender']}:{body['message']}"}]

    chats = [CHAT + i for i in range(3)]
    async with running_bot(fake_bot_api, mock_rasa(slow_first)):
        for n in range(3):
            for chat in chats:
                await fake_bot_api.send_text(chat, f"m-{n}")
        for chat in chats:
            await fake_bot_api.wait_messages(chat, 3)
    for chat in chats:
        assert fake_bot_api.texts(chat) == [f"{chat}:m-{n}" for n in range(3)]


async def test_token_never_reaches_the_logs(fake_bot_api: FakeBotAPI) -> None:
    records: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    root = logging.getLogger()
    handler = Collect(level=logging.DEBUG)
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.DEBUG)
    try:
        # The handler exists before the app is built, as with setup_logging in __main__.
        async with running_bot(fake_bot_api, mock_rasa(RecordingRasa())):
            # Even if someone turns httpx request logging back on, the token is masked.
            logging.getLogger("httpx").setLevel(logging.DEBUG)
            await fake_bot_api.send_text(CHAT, "/start")
            await fake_bot_api.wait_messages(CHAT, 1)
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        logging.getLogger("httpx").setLevel(logging.WARNING)
    joined = "\n".join(records)
    assert "HTTP Request: POST http://127.0.0.1" in joined  # httpx did log the URLs…
    assert "/bot<token>/" in joined  # …with the token masked
    assert TOKEN not in joined and TOKEN.split(":")[1] not in joined


async def test_missing_token_is_a_clear_error() -> None:
    from knowledge.settings import Settings

    with pytest.raises(ValueError, match="JOBBOT_TELEGRAM_TOKEN"):
        build_application(Settings(telegram_token=""), mock_rasa(RecordingRasa()))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_webhook_mode(fake_bot_api: FakeBotAPI) -> None:
    rasa = RecordingRasa()
    settings = make_settings(
        fake_bot_api, telegram_webhook_url="https://bot.example.org/telegram/hook"
    )
    options = {**webhook_options(settings), "port": _free_port()}
    assert options["url_path"] == "telegram/hook"
    assert options["secret_token"] == webhook_secret(TOKEN) and TOKEN not in options["secret_token"]
    app = build_application(settings, mock_rasa(rasa), rate_limiter=AIORateLimiter())
    update = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": 0,
            "text": "你好",
            "chat": {"id": CHAT, "type": "private"},
            "from": {"id": CHAT, "is_bot": False, "first_name": "测试"},
        },
    }
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_webhook(**options)
        try:
            assert fake_bot_api.webhook["url"] == "https://bot.example.org/telegram/hook"
            assert fake_bot_api.webhook["secret_token"] == options["secret_token"]
            url = f"http://127.0.0.1:{options['port']}/telegram/hook"
            async with httpx.AsyncClient() as client:
                forged = await client.post(url, json=update)
                assert forged.status_code == 403  # no secret header: refused
                ok = await client.post(
                    url,
                    json=update,
                    headers={"X-Telegram-Bot-Api-Secret-Token": options["secret_token"]},
                )
                assert ok.status_code == 200
            await fake_bot_api.wait_messages(CHAT, 1)
        finally:
            await app.updater.stop()
            await app.stop()
    assert rasa.received == [(str(CHAT), "你好")]
    assert json.dumps(fake_bot_api.texts(CHAT), ensure_ascii=False) == '["收到：你好"]'


async def test_serve_runs_long_polling_until_stopped(fake_bot_api: FakeBotAPI) -> None:
    from connectors.telegram.__main__ import serve

    def echo(body: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"text": f"收到：{body['message']}"}]

    async with rasa_http_server(echo) as rasa_url:
        stop = asyncio.Event()
        task = asyncio.create_task(serve(make_settings(fake_bot_api, rasa_url=rasa_url), stop))
        await fake_bot_api.send_text(CHAT, "你好")
        await fake_bot_api.wait_messages(CHAT, 1)
        stop.set()
        await asyncio.wait_for(task, 10)
    assert fake_bot_api.texts(CHAT) == ["收到：你好"]
    [commands] = fake_bot_api.methods("setMyCommands")
    assert [c["command"] for c in commands["commands"]] == ["start", "help", "cancel"]
    assert fake_bot_api.methods("deleteWebhook")  # polling clears any old webhook first


def test_main_without_token_exits_with_a_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from connectors.telegram.__main__ import main
    from knowledge.settings import get_settings

    monkeypatch.setenv("JOBBOT_TELEGRAM_TOKEN", "")
    get_settings.cache_clear()
    try:
        assert main() == 2
    finally:
        get_settings.cache_clear()
    assert "JOBBOT_TELEGRAM_TOKEN" in capsys.readouterr().err


async def test_a_press_counts_even_when_telegram_refuses_the_answer(
    fake_bot_api: FakeBotAPI,
) -> None:
    rasa = RecordingRasa()
    async with running_bot(fake_bot_api, mock_rasa(rasa)):
        await fake_bot_api.send_text(CHAT, "/start")
        await fake_bot_api.wait_messages(CHAT, 1)
        fake_bot_api.fail_methods["answerCallbackQuery"] = (400, "Bad Request: query is too old")
        fake_bot_api.fail_methods["editMessageReplyMarkup"] = (
            400,
            "Bad Request: message can't be edited",
        )
        await fake_bot_api.press(CHAT, "找工作")
        await fake_bot_api.wait_messages(CHAT, 2)
    assert rasa.received == [(str(CHAT), "/search_job")]
    assert fake_bot_api.texts(CHAT)[1] == "收到：/search_job"


async def test_an_image_telegram_cannot_fetch_is_sent_as_a_link(fake_bot_api: FakeBotAPI) -> None:
    rasa = RecordingRasa({"地图": [{"image": "https://example.org/map.png"}]})
    fake_bot_api.fail_methods["sendPhoto"] = (400, "Bad Request: wrong file identifier/HTTP URL")
    async with running_bot(fake_bot_api, mock_rasa(rasa)):
        await fake_bot_api.send_text(CHAT, "地图")
        [link] = await fake_bot_api.wait_messages(CHAT, 1)
    assert link["text"] == "https://example.org/map.png"
