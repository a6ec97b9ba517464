"""Fixtures for the Telegram connector tests (the fake Bot API lives in ``fakes.py``)."""

from tests.telegram.fakes import fake_bot_api, korean_model_path, korean_voice_note

__all__ = ["fake_bot_api", "korean_model_path", "korean_voice_note"]
