"""End to end through the real Rasa and action servers: greeting, isolation, bad input, failures."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

CJK = re.compile(r"[\u4e00-\u9fff]")
ROOT = Path(__file__).resolve().parents[2]


def post(stack: Any, sender: str, message: str) -> list[dict[str, Any]]:
    response = httpx.post(
        f"{stack.rasa_url}/webhooks/rest/webhook",
        json={"sender": sender, "message": message},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return response.json()


def texts(replies: list[dict[str, Any]]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def slots(stack: Any, sender: str) -> dict[str, Any]:
    response = httpx.get(f"{stack.rasa_url}/conversations/{sender}/tracker", timeout=30)
    response.raise_for_status()
    return response.json()["slots"]


def test_greeting_in_chinese(rasa_stack: Any) -> None:
    replies = post(rasa_stack, "greet-1", "你好")
    assert replies, "Rasa sent no reply to 你好"
    assert CJK.search(texts(replies)), texts(replies)


def test_two_senders_never_share_slots(rasa_stack: Any) -> None:
    async def converse(sender: str, city: str) -> None:
        async with httpx.AsyncClient(base_url=rasa_stack.rasa_url, timeout=60) as http:
            for message in ("我想找工作", f"在{city}", "保安"):
                response = await http.post(
                    "/webhooks/rest/webhook", json={"sender": sender, "message": message}
                )
                assert response.status_code == 200

    async def both() -> None:
        await asyncio.gather(converse("iso-a", "杭州"), converse("iso-b", "宁波"))

    asyncio.run(both())
    assert slots(rasa_stack, "iso-a")["city"] == "杭州"
    assert slots(rasa_stack, "iso-b")["city"] == "宁波"


@pytest.mark.parametrize(
    "message",
    ["", "   ", "😀😀😀", "<script>alert(1)</script>", "工" * 20_000, "'; DROP TABLE events; --"],
    ids=["empty", "blank", "emoji", "markup", "20k-chars", "sql"],
)
def test_odd_messages_get_a_chinese_answer_and_server_lives(rasa_stack: Any, message: str) -> None:
    replies = post(rasa_stack, f"odd-{abs(hash(message)) % 10_000}", message)
    for reply in replies:
        text = reply.get("text", "")
        assert "Traceback" not in text and "Error" not in text
        if text:
            assert CJK.search(text), text
    if message.strip():
        # What a user sees through any connector: Rasa's reply, or (when the dialogue
        # policy chose to stay silent, e.g. junk classified as a bare `inform`) the
        # RasaClient's Chinese apology. Never silence, never English.
        seen = asyncio.run(_through_connector_client(rasa_stack, message))
        assert seen and all(CJK.search(m.text) for m in seen if m.text), seen
    # The server is still alive and answering.
    assert post(rasa_stack, "odd-after", "你好")


async def _through_connector_client(stack: Any, message: str) -> list[Any]:
    from connectors.rasa_client import RasaClient

    async with httpx.AsyncClient(base_url=stack.rasa_url, timeout=60) as http:
        return await RasaClient(http).send(f"odd-client-{abs(hash(message)) % 10_000}", message)


@pytest.mark.parametrize(
    ("body", "content_type", "explained"),
    [
        (b'{"sender": "x", "message": ', "application/json", False),
        (b"\xff\xfe\x00not utf-8 \x80\x81", "application/json", False),
        (b"just text", "text/plain", False),
        # Valid JSON of the wrong shape: Rasa 3.6's own REST channel answered these with a
        # bare 500, or (no sender) put the message into a shared "default" conversation;
        # bot/channels/rest.py answers 400 and says what it expects.
        (b'["not", "an", "object"]', "application/json", True),
        (b'"just a string"', "application/json", True),
        (b'{"message": "\xe4\xbd\xa0\xe5\xa5\xbd"}', "application/json", True),
        (b'{"sender": "   ", "message": "hi"}', "application/json", True),
        (b'{"sender": "x"}', "application/json", True),
        (b'{"sender": "x", "message": 5}', "application/json", True),
        (b'{"sender": "x", "message": "hi", "metadata": "m"}', "application/json", True),
    ],
    ids=[
        "truncated-json",
        "non-utf8",
        "not-json",
        "json-array",
        "json-string",
        "no-sender",
        "blank-sender",
        "no-message",
        "number-message",
        "string-metadata",
    ],
)
def test_broken_bodies_get_a_400_without_details(
    rasa_stack: Any, body: bytes, content_type: str, explained: bool
) -> None:
    response = httpx.post(
        f"{rasa_stack.rasa_url}/webhooks/rest/webhook",
        content=body,
        headers={"Content-Type": content_type},
        timeout=30,
    )
    assert response.status_code == 400, (response.status_code, response.text[:200])
    assert "Traceback" not in response.text and 'File "' not in response.text
    if explained:
        shown = response.text
        with contextlib.suppress(ValueError):  # a JSON error body may escape the Chinese
            shown = json.dumps(response.json(), ensure_ascii=False)
        assert "请求格式不对" in shown and "sender" in shown, shown[:300]
    assert post(rasa_stack, "broken-after", "你好")


def test_action_server_stopped_mid_conversation(rasa_stack: Any) -> None:
    """With the action server down, Rasa stays up; after a restart the conversation goes on."""
    action_server = rasa_stack.services[0]
    sender = "stop-actions"
    assert post(rasa_stack, sender, "你好")
    action_server.stop()
    try:
        replies = post(rasa_stack, sender, "杭州有没有保安的工作")
        for reply in replies:
            assert "Traceback" not in reply.get("text", "")
        assert post(rasa_stack, sender, "你好"), "Rasa must still answer from its own responses"
    finally:
        action_server.start()
        deadline = time.monotonic() + 120
        while not action_server.healthy() and time.monotonic() < deadline:
            time.sleep(0.5)
    assert action_server.healthy()
    assert CJK.search(texts(post(rasa_stack, sender, "失业保险金怎么领")))


def test_make_run_starts_once_trained_and_ctrl_c_leaves_no_process(tmp_path: Path) -> None:
    """`scripts.run` (what `make run` calls) with nothing changed: no retraining, clean Ctrl-C."""
    from scripts.rasa_model import model_path
    from scripts.supervisor import free_port

    model = model_path()
    assert model.exists(), "the session fixture trains the model first"
    mtime = model.stat().st_mtime
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "JOBBOT_RASA_PORT": str(free_port()),
        "JOBBOT_ACTION_PORT": str(free_port()),
        "JOBBOT_DATA_DIR": str(tmp_path),
        "JOBBOT_CONNECTORS": '["kiosk"]',
        "JOBBOT_KIOSK_PORT": str(free_port()),
    }
    started = time.monotonic()
    # Started as a shell starts a background job (`make run &`, CI): SIGINT ignored. The
    # supervisor must still stop on it.
    proc = subprocess.Popen(
        [sys.executable, "-m", "scripts.run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),  # noqa: PLW1509
    )
    output: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        output.append(line)
        if "已启动" in line or "启动失败" in line:
            break
    startup_s = time.monotonic() - started
    assert any("已启动" in line for line in output), "".join(output)
    children = _descendants(proc.pid)
    assert len(children) >= 2, children
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    time.sleep(1)
    survivors = [pid for pid in children if Path(f"/proc/{pid}").exists() and not _zombie(pid)]
    assert survivors == [], survivors
    assert model.stat().st_mtime == mtime, "the model was retrained although nothing changed"
    print(f"start-up with an up-to-date model: {startup_s:.1f} s")


def _descendants(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True).stdout
    parents: dict[int, list[int]] = {}
    for line in out.split("\n"):
        if line.strip():
            child, parent = map(int, line.split())
            parents.setdefault(parent, []).append(child)
    found: list[int] = []
    stack = [pid]
    while stack:
        for child in parents.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except (FileNotFoundError, IndexError):
        return True
