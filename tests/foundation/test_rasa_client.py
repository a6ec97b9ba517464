"""RasaClient against httpx's MockTransport: parsing, retries, a clear error when Rasa is down."""

from __future__ import annotations

import json

import httpx
import pytest

from connectors.rasa_client import BotMessage, RasaClient, RasaUnavailable


async def test_parses_text_buttons_and_custom() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        assert body == {"sender": "u1", "message": "你好", "metadata": {"channel_mode": "voice"}}
        return httpx.Response(
            200,
            json=[
                {
                    "recipient_id": "u1",
                    "text": "您好",
                    "buttons": [{"title": "找工作", "payload": "/search_job"}],
                },
                {"recipient_id": "u1", "custom": {"type": "jobs", "items": []}},
            ],
        )

    async with httpx.AsyncClient(
        transport=httpx.MockTransport(handler), base_url="http://rasa"
    ) as http:
        replies = await RasaClient(http).send("u1", "你好", {"channel_mode": "voice"})
    assert replies[0] == BotMessage.from_json(
        {"text": "您好", "buttons": [{"title": "找工作", "payload": "/search_job"}]}
    )
    assert replies[0].buttons[0].payload == "/search_job"
    assert replies[1].custom["type"] == "jobs"


async def test_retries_then_succeeds() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, json=[{"text": "好的"}])

    async with httpx.AsyncClient(
        transport=httpx.MockTransport(handler), base_url="http://rasa"
    ) as http:
        replies = await RasaClient(http, retries=2, backoff_s=0.01).send("u", "hi")
    assert calls == 3 and replies[0].text == "好的"


async def test_gives_up_with_rasa_unavailable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, text="overloaded")

    async with httpx.AsyncClient(
        transport=httpx.MockTransport(handler), base_url="http://rasa"
    ) as http:
        with pytest.raises(RasaUnavailable):
            await RasaClient(http, retries=1, backoff_s=0.01).send("u", "hi")


async def test_empty_reply_becomes_a_chinese_apology_but_not_for_restart() -> None:
    from connectors.rasa_client import NO_REPLY

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=[])

    async with httpx.AsyncClient(
        transport=httpx.MockTransport(handler), base_url="http://rasa"
    ) as http:
        client = RasaClient(http)
        assert [m.text for m in await client.send("u", "杭州有保安的活吗")] == [NO_REPLY]
        assert await client.send("u", "/restart", fill_empty=False) == []
        await client.restart("u")  # no apology for a silent restart
