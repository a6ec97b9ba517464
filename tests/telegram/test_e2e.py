"""End to end: the Telegram connector, through the fake Bot API, against the real Rasa and action
servers. One conversation in one chat; its transcript goes to ``reports/telegram_transcript.md``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.rasa_client import RasaClient
from connectors.telegram.app import CANCELLED, VOICE_HEARD, WELCOME
from tests.telegram.fakes import FakeBotAPI, running_bot

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

ROOT = Path(__file__).resolve().parents[2]
CHAT = 7000001
HANGZHOU = (30.2741, 120.1551)
CJK = re.compile(r"[\u4e00-\u9fff]")


def _buttons(message: dict[str, Any]) -> list[str]:
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return [b["text"] for row in rows for b in row if "callback_data" in b]


def _text(messages: Sequence[dict[str, Any]]) -> str:
    return "\n".join(m.get("text") or m.get("caption") or "" for m in messages)


class Conversation:
    """One person chatting with the bot through the fake Bot API."""

    def __init__(self, fake: FakeBotAPI, chat_id: int, rasa_url: str) -> None:
        self.fake, self.chat, self.rasa_url = fake, chat_id, rasa_url

    @property
    def count(self) -> int:
        return len(self.fake.chats.get(self.chat, []))

    async def say(self, text: str, at_least: int = 1) -> list[dict[str, Any]]:
        before = self.count
        await self.fake.send_text(self.chat, text)
        return await self.fake.wait_reply(self.chat, before, at_least)

    async def press(self, title: str) -> list[dict[str, Any]]:
        before = self.count
        await self.fake.press(self.chat, title)
        return await self.fake.wait_reply(self.chat, before)

    async def voice(self, ogg: bytes, note: str) -> list[dict[str, Any]]:
        before = self.count
        await self.fake.send_voice(self.chat, ogg, duration=3, note=note)
        return await self.fake.wait_reply(self.chat, before, at_least=2)

    async def location(self, latitude: float, longitude: float) -> list[dict[str, Any]]:
        before = self.count
        await self.fake.send_location(self.chat, latitude, longitude)
        return await self.fake.wait_reply(self.chat, before)

    async def answer(
        self, reply: Sequence[dict[str, Any]], wanted: Sequence[str], typed: str
    ) -> list[dict[str, Any]]:
        """Press a button whose title contains one of ``wanted`` when the bot offers one, else type."""
        offered = _buttons(reply[-1]) if reply else []
        for want in wanted:
            for title in offered:
                if want in title:
                    return await self.press(title)
        return await self.say(typed)

    async def tracker(self) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=self.rasa_url, timeout=30) as http:
            response = await http.get(f"/conversations/{self.chat}/tracker")
            response.raise_for_status()
            return dict(response.json())


@pytest.fixture
async def rasa_client(rasa_stack: Any) -> AsyncIterator[RasaClient]:
    async with httpx.AsyncClient(base_url=rasa_stack.rasa_url, timeout=120) as http:
        yield RasaClient(http)


async def test_conversation_through_telegram(
    rasa_stack: Any,
    rasa_client: RasaClient,
    fake_bot_api: FakeBotAPI,
    korean_voice_note: bytes,
    korean_model_path: str,
) -> None:
    chat = Conversation(fake_bot_api, CHAT, rasa_stack.rasa_url)
    try:
        async with running_bot(fake_bot_api, rasa_client, vosk_model_path=korean_model_path):
            # /start: the welcome and the main menu.
            [welcome] = await chat.say("/start")
            assert welcome["text"] == WELCOME
            assert _buttons(welcome) == ["找工作", "问政策", "查补贴", "附近服务站", "人工服务"]

            # A job search driven by button presses (typing only where no button fits).
            reply = await chat.press("找工作")
            assert CJK.search(_text(reply)), reply
            for _ in range(4):
                if "更多" in _buttons(reply[-1]) or re.search(r"\d+\s*元|岗位", _text(reply)):
                    break
                reply = await chat.answer(reply, ["杭州", "保安", "全职"], typed="杭州的保安")
            jobs_text = _text(reply)
            assert re.search(r"元|岗位", jobs_text), jobs_text
            slots = (await chat.tracker())["slots"]
            assert slots.get("city") == "杭州", slots
            if "更多" in _buttons(reply[-1]):
                more = await chat.press("更多")
                assert _text(more) and _text(more) != jobs_text

            [cancelled] = await chat.say("/cancel")
            assert cancelled["text"] == CANCELLED

            # A policy question, after the 问政策 button: an answer that cites its source.
            await chat.press("问政策")
            answer = _text(await chat.say("领失业金的时候医疗保险谁来交？"))
            assert "医疗保险" in answer or "医保" in answer, answer
            assert "依据" in answer and "《" in answer, answer

            # A shared location: the nearest service stations.
            stations = _text(await chat.location(*HANGZHOU))
            assert re.search(r"服务站|零工市场|就业", stations), stations
            slots = (await chat.tracker())["slots"]
            assert slots.get("latitude") == pytest.approx(HANGZHOU[0]), slots

            # A voice note: transcribed, echoed, and forwarded to Rasa as text.
            heard, *rasa_reply = await chat.voice(
                korean_voice_note, note="(韩语测试句，espeak-ng 合成)"
            )
            assert heard["text"].startswith(VOICE_HEARD.format(text=""))
            transcript = heard["text"].removeprefix(VOICE_HEARD.format(text="")).split("（")[0]
            assert transcript and rasa_reply
            latest = (await chat.tracker())["latest_message"]
            assert latest["text"] == transcript
    finally:
        _write_transcript(fake_bot_api)


def _write_transcript(fake: FakeBotAPI) -> None:
    reports = ROOT / "reports"
    reports.mkdir(exist_ok=True)
    body = fake.transcript_markdown(CHAT)
    (reports / "telegram_transcript.md").write_text(
        "# Telegram end-to-end transcript\n\n"
        "Through the fake Bot API, python-telegram-bot and the real Rasa and action servers "
        "(`tests/telegram/test_e2e.py`). Button presses are shown as [按钮]; a message's "
        "keyboard as [title] on its last line.\n\n" + body,
        encoding="utf-8",
    )
