"""Load: 50 concurrent chats × 10 messages through the fake Bot API to a fake Rasa over HTTP.

Nothing may be lost, nothing delivered to the wrong chat, and each chat keeps its order although
the fake Rasa answers after a random delay. Throughput is printed and written to ``reports/``.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from telegram.ext import AIORateLimiter

from connectors.rasa_client import RasaClient
from tests.telegram.fakes import FakeBotAPI, rasa_http_server, running_bot

CHATS = 50
MESSAGES = 10
BURST = 600
REPORTS = Path(__file__).resolve().parents[2] / "reports"


async def _run_load(fake: FakeBotAPI, limiter: AIORateLimiter, label: str) -> dict[str, Any]:
    rng = random.Random(6)
    received: dict[str, list[int]] = {}

    async def echo(body: dict[str, Any]) -> list[dict[str, Any]]:
        # Random latency so replies would overtake each other without the per-chat order.
        await asyncio.sleep(rng.uniform(0.0, 0.02))
        sender, seq = body["sender"], int(body["message"].rsplit("#", 1)[1])
        received.setdefault(sender, []).append(seq)
        return [{"recipient_id": sender, "text": f"echo {sender}#{seq}"}]

    chats = [9_000_000 + i for i in range(CHATS)]
    pushed_at: dict[tuple[int, int], float] = {}
    async with (
        rasa_http_server(echo) as rasa_url,
        httpx.AsyncClient(base_url=rasa_url, timeout=30) as http,
        running_bot(fake, RasaClient(http), rate_limiter=limiter),
    ):
        started = time.monotonic()
        for seq in range(MESSAGES):  # interleaved, as 50 people typing at once
            for chat in chats:
                pushed_at[(chat, seq)] = time.monotonic()
                await fake.send_text(chat, f"消息 #{seq}")
        await fake.wait_for(
            lambda: sum(len(fake.chats.get(c, [])) for c in chats) >= CHATS * MESSAGES, timeout=240
        )
        elapsed = time.monotonic() - started
        await asyncio.sleep(0.2)  # anything extra (duplicates) would arrive now

    latencies = []
    for chat in chats:
        messages = fake.chats[chat]
        assert [m["text"] for m in messages] == [f"echo {chat}#{seq}" for seq in range(MESSAGES)], (
            chat
        )
        assert received[str(chat)] == list(range(MESSAGES))  # Rasa saw each chat in order
        latencies += [
            fake.sent_at[m["message_id"]] - pushed_at[(chat, n)] for n, m in enumerate(messages)
        ]
    assert sum(len(v) for v in fake.chats.values()) == CHATS * MESSAGES  # none lost, none extra

    sends = sorted(fake.sent_at.values())
    busiest_second = max(sum(1 for t in sends if s <= t < s + 1.0) for s in sends)
    busiest_5s = max(sum(1 for t in sends if s <= t < s + 5.0) for s in sends)
    result = {
        "label": label,
        "chats": CHATS,
        "messages_per_chat": MESSAGES,
        "seconds": round(elapsed, 2),
        "messages_per_s": round(CHATS * MESSAGES / elapsed, 1),
        "latency_p50_s": round(statistics.median(latencies), 3),
        "latency_p95_s": round(statistics.quantiles(latencies, n=20)[18], 3),
        "busiest_second_sends": busiest_second,
        "busiest_5s_sends": busiest_5s,
    }
    print(f"\n[telegram load] {json.dumps(result, ensure_ascii=False)}")
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / f"telegram_load_{label}.json").write_text(
        json.dumps(result, ensure_ascii=False, indent=2)
    )
    return result


@pytest.mark.slow
async def test_load_50_chats_unthrottled(fake_bot_api: FakeBotAPI) -> None:
    """The connector's own throughput: the rate limiter is in the path but has no overall cap."""
    result = await _run_load(fake_bot_api, AIORateLimiter(overall_max_rate=0), "unthrottled")
    assert result["messages_per_s"] > 20


@pytest.mark.slow
async def test_load_50_chats_within_telegram_limits(fake_bot_api: FakeBotAPI) -> None:
    """With the default limiter (Telegram's 30 messages/s) the bot never sends faster.

    aiolimiter is a leaky bucket of 30: a burst of 30, then 30 a second, so no five-second
    window holds more than 30 + 5 × 30 = 180 sends (the arrival times at the fake server jitter
    by a few milliseconds, which matters for one-second windows but not for five), and 500 sends
    take at least (500 - 30) / 30 seconds.
    """
    result = await _run_load(fake_bot_api, AIORateLimiter(), "telegram_limits")
    assert result["busiest_5s_sends"] <= 190  # 180 plus jitter; unthrottled sends 400+
    assert result["seconds"] >= (CHATS * MESSAGES - 30) / 30 - 0.5


@pytest.mark.slow
async def test_a_burst_in_one_chat_does_not_stall_the_others(fake_bot_api: FakeBotAPI) -> None:
    """600 queued updates of one chat wait for its lock; another chat is still answered at once.

    Waiting updates hold one of the Application's concurrency slots each, so with PTB's default
    of 256 the other chat would wait behind ~350 of the burst.
    """

    async def slow_echo(body: dict[str, Any]) -> list[dict[str, Any]]:
        await asyncio.sleep(0.005)
        return [{"text": f"echo {body['message']}"}]

    spammer, other = 9_100_000, 9_100_001
    async with (
        rasa_http_server(slow_echo) as rasa_url,
        httpx.AsyncClient(base_url=rasa_url, timeout=30) as http,
        running_bot(
            fake_bot_api, RasaClient(http), rate_limiter=AIORateLimiter(overall_max_rate=0)
        ),
    ):
        for n in range(BURST):
            await fake_bot_api.send_text(spammer, f"刷屏 {n}")
        # Wait until the whole burst has been fetched and is queued behind the chat's lock.
        await fake_bot_api.wait_for(lambda: not fake_bot_api.updates, 60)
        await fake_bot_api.wait_for(lambda: len(fake_bot_api.chats.get(spammer, [])) >= 5, 30)
        await fake_bot_api.send_text(other, "你好")
        await fake_bot_api.wait_messages(other, 1, timeout=30)
        spam_done_when_other_answered = len(fake_bot_api.chats[spammer])
        await fake_bot_api.wait_messages(spammer, BURST, timeout=240)
    assert spam_done_when_other_answered < 200, spam_done_when_other_answered
    assert fake_bot_api.texts(spammer) == [f"echo 刷屏 {n}" for n in range(BURST)]
