"""Settings: environment variables, an optional YAML file, secrets only from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from knowledge.settings import Settings


def test_defaults_work_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JOBBOT_CONFIG", raising=False)
    settings = Settings()
    assert settings.rasa_url.startswith("http://")
    assert settings.vosk_model_path == ""
    assert settings.telegram_token.get_secret_value() == ""


def test_env_overrides_yaml_and_yaml_cannot_carry_the_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "jobbot.yml"
    config.write_text(
        "rasa_url: http://rasa.internal:5005\nkiosk_port: 9000\ntelegram_token: from-yaml\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("JOBBOT_CONFIG", str(config))
    monkeypatch.setenv("JOBBOT_KIOSK_PORT", "9100")
    settings = Settings()
    assert settings.rasa_url == "http://rasa.internal:5005"
    assert settings.kiosk_port == 9100  # the environment wins
    assert settings.telegram_token.get_secret_value() == ""
    monkeypatch.setenv("JOBBOT_TELEGRAM_TOKEN", "123:abc")
    settings = Settings()
    assert settings.telegram_token.get_secret_value() == "123:abc"
    assert "123:abc" not in repr(settings)


def test_settings_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(ValidationError):
        settings.rasa_port = 1  # type: ignore[misc]
