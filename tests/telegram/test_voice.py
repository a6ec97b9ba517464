"""Voice notes through the real speech module (ffmpeg + Vosk with the Korean test model)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from connectors.telegram.app import VOICE_BAD_AUDIO, VOICE_HEARD, VOICE_UNAVAILABLE
from tests.telegram.fakes import FakeBotAPI, mock_rasa, running_bot

CHAT = 5550777
HANGUL = re.compile(r"[\uac00-\ud7a3 ]+")


@pytest.mark.slow
async def test_voice_note_is_transcribed_echoed_and_forwarded(
    fake_bot_api: FakeBotAPI, korean_voice_note: bytes, korean_model_path: str
) -> None:
    received: list[str] = []

    def rasa(body: dict[str, Any]) -> list[dict[str, Any]]:
        received.append(body["message"])
        return [{"text": "好的"}]

    async with running_bot(fake_bot_api, mock_rasa(rasa), vosk_model_path=korean_model_path):
        await fake_bot_api.send_voice(CHAT, korean_voice_note, duration=3)
        echo, answer = await fake_bot_api.wait_messages(CHAT, 2, timeout=120)
        await fake_bot_api.send_voice(CHAT, b"OggS\x00 this is not audio", duration=1)
        bad = (await fake_bot_api.wait_messages(CHAT, 3, timeout=60))[2]
    [heard] = received
    # espeak-ng's Korean is rough: the small model gets the phrase endings, not every word.
    assert HANGUL.fullmatch(heard) and ("하세요" in heard or "있어요" in heard), heard
    assert echo["text"].startswith(VOICE_HEARD.format(text=heard))
    assert answer["text"] == "好的"
    assert bad["text"] == VOICE_BAD_AUDIO
    assert fake_bot_api.methods("sendChatAction")  # "typing…" while recognising


@pytest.mark.slow
async def test_missing_model_folder_says_voice_is_unavailable(
    fake_bot_api: FakeBotAPI, korean_voice_note: bytes, tmp_path: Any
) -> None:
    async with running_bot(
        fake_bot_api, mock_rasa(lambda body: []), vosk_model_path=str(tmp_path / "none")
    ):
        await fake_bot_api.send_voice(CHAT, korean_voice_note, duration=3)
        [reply] = await fake_bot_api.wait_messages(CHAT, 1, timeout=30)
    assert reply["text"] == VOICE_UNAVAILABLE
