"""The one HTTP client every connector uses to talk to Rasa's REST channel."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

import httpx

logger = logging.getLogger(__name__)

REST_WEBHOOK = "/webhooks/rest/webhook"


class RasaUnavailable(Exception):
    """Rasa could not be reached or answered with a server error after retries."""


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class BotMessage:
    """One reply message from Rasa, typed."""

    text: str = ""
    buttons: tuple[Button, ...] = ()
    image: str = ""
    custom: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BotMessage:
        buttons = tuple(
            Button(title=str(b.get("title", "")), payload=str(b.get("payload", "")))
            for b in data.get("buttons") or []
        )
        custom = data.get("custom")
        return cls(
            text=str(data.get("text") or ""),
            buttons=buttons,
            image=str(data.get("image") or ""),
            custom=custom if isinstance(custom, dict) else {},
        )


class RasaClient:
    """Sends user messages to Rasa's REST channel; retries with backoff on connection errors.

    Args:
        http: an ``httpx.AsyncClient`` whose ``base_url`` is the Rasa server (injected so tests
            and connectors can choose transports and timeouts).
        retries: attempts after the first one when Rasa is unreachable or answers 5xx.
        backoff_s: first delay between attempts; doubles each time.
    """

    def __init__(self, http: httpx.AsyncClient, retries: int = 2, backoff_s: float = 0.5) -> None:
        self._http = http
        self._retries = retries
        self._backoff_s = backoff_s

    async def send(
        self,
        sender: str,
        message: str,
        metadata: dict[str, Any] | None = None,
        fill_empty: bool = True,
    ) -> list[BotMessage]:
        """Send one user message and return Rasa's replies in order.

        Rasa answers ``[]`` when a custom action could not run (action server down): with
        ``fill_empty`` the user then gets ``NO_REPLY`` instead of silence.
        """
        body: dict[str, Any] = {"sender": sender, "message": message}
        if metadata:
            body["metadata"] = metadata
        delay = self._backoff_s
        for attempt in range(self._retries + 1):
            try:
                response = await self._http.post(REST_WEBHOOK, json=body)
                if response.status_code >= 500:
                    raise httpx.HTTPStatusError(
                        f"Rasa answered {response.status_code}",
                        request=response.request,
                        response=response,
                    )
                response.raise_for_status()
                replies = [BotMessage.from_json(m) for m in response.json() if isinstance(m, dict)]
                if not replies and fill_empty and message.strip():
                    logger.warning("Rasa sent no reply (is the action server up?)")
                    return [BotMessage(text=NO_REPLY)]
                return replies
            except (httpx.TransportError, httpx.HTTPStatusError) as exc:
                logger.warning("Rasa request failed (attempt %d): %s", attempt + 1, exc)
                if attempt == self._retries:
                    raise RasaUnavailable(str(exc)) from exc
                await asyncio.sleep(delay)
                delay *= 2
        raise RasaUnavailable("unreachable")  # pragma: no cover

    async def healthy(self) -> bool:
        """True when Rasa answers on ``/`` ."""
        try:
            response = await self._http.get("/")
        except httpx.TransportError:
            return False
        return response.status_code == 200

    async def restart(self, sender: str) -> None:
        """Start a fresh conversation for ``sender`` (used by /cancel and the kiosk idle timeout)."""
        await self.send(sender, "/restart", fill_empty=False)


RASA_DOWN_REPLY = "抱歉，助手暂时连不上，请稍后再试。需要帮助也可以直接到附近的就业服务站。"
NO_REPLY = "抱歉，系统暂时出了点问题，没能处理您的请求。请稍后再试，或直接到附近的就业服务站办理。"
