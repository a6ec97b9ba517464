"""One typed settings object for every process: environment variables plus an optional YAML file."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Runtime configuration. Env prefix ``JOBBOT_``; YAML file from ``JOBBOT_CONFIG``."""

    model_config = SettingsConfigDict(env_prefix="JOBBOT_", frozen=True, extra="ignore")

    data_dir: Path = PROJECT_ROOT / "var"
    log_level: str = "INFO"

    # Rasa and the action server.
    rasa_url: str = "http://localhost:5005"
    rasa_port: int = 5005
    action_port: int = 5055
    rasa_timeout_s: float = 30.0

    # Knowledge.
    embedding_model: str = str(PROJECT_ROOT / "var" / "models" / "multilingual-e5-small")
    #: The embedding model fine-tuned on the corpus's own question → answer pairs, made by
    #: ``make knowledge`` (knowledge.embeddings.finetune); "" uses embedding_model as it is.
    policy_embedding_model: str = str(
        PROJECT_ROOT / "var" / "models" / "multilingual-e5-small-policy"
    )
    policy_index_dir: Path = PROJECT_ROOT / "var" / "index" / "policies"
    laws_dir: str = ""
    policy_score_threshold: float = 0.5
    jobs_db_url: str = "sqlite:///" + str(PROJECT_ROOT / "var" / "jobs.sqlite3")
    jobs_index_dir: Path = PROJECT_ROOT / "var" / "index" / "jobs"
    tickets_db: Path = PROJECT_ROOT / "var" / "tickets.sqlite3"
    stations_csv: str = ""
    office_hours: str = "工作日 9:00-17:00"

    # Speech and kiosk.
    vosk_model_path: str = ""
    tts_engine: str = "espeak-ng"
    tts_voice: str = "cmn"
    kiosk_host: str = "127.0.0.1"
    kiosk_port: int = 8080
    kiosk_idle_timeout_s: int = 120

    # Telegram (token only from the environment, never from YAML or logs).
    telegram_token: SecretStr = Field(default=SecretStr(""))
    telegram_base_url: str = "https://api.telegram.org/bot"
    telegram_base_file_url: str = "https://api.telegram.org/file/bot"
    telegram_webhook_url: str = ""
    telegram_webhook_listen: str = "127.0.0.1"
    telegram_webhook_port: int = 8443

    # Which connectors `make run` starts besides Rasa and the action server.
    connectors: list[str] = Field(default_factory=lambda: ["kiosk"])

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        yaml_path = os.environ.get("JOBBOT_CONFIG")
        if yaml_path:
            sources.append(_YamlWithoutSecrets(settings_cls, yaml_file=yaml_path))
        return tuple(sources)


class _YamlWithoutSecrets(YamlConfigSettingsSource):
    """YAML settings source that refuses secrets: they come only from the environment."""

    def __call__(self) -> dict[str, Any]:
        values = super().__call__()
        values.pop("telegram_token", None)
        return values


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
