"""`make chat`: a terminal chat over Rasa's REST channel; buttons become numbered choices."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid

import httpx

from connectors.rasa_client import RASA_DOWN_REPLY, BotMessage, Button, RasaClient, RasaUnavailable
from knowledge.settings import get_settings


def render(messages: list[BotMessage]) -> tuple[str, list[Button]]:
    """Text for the terminal and the buttons offered (numbered from 1)."""
    lines: list[str] = []
    buttons: list[Button] = []
    for message in messages:
        if message.text:
            lines.append(message.text)
        if message.image:
            lines.append(f"[图片] {message.image}")
        if message.custom.get("type") == "policy_answer":
            for citation in message.custom.get("citations", []):
                lines.append(
                    f"  依据：《{citation.get('document', '')}》{citation.get('article', '')}"
                )
        for button in message.buttons:
            buttons.append(button)
            lines.append(f"  {len(buttons)}. {button.title}")
    return "\n".join(lines), buttons


def resolve_choice(line: str, buttons: list[Button]) -> str:
    """A bare number picks the numbered button; anything else is sent as typed."""
    stripped = line.strip()
    if stripped.isdigit() and 1 <= int(stripped) <= len(buttons):
        return buttons[int(stripped) - 1].payload
    return stripped


async def chat(rasa: RasaClient, sender: str) -> None:
    print("就业助手（输入 /quit 退出，输入数字选择按钮）")
    buttons: list[Button] = []
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, lambda: input("你：") if sys.stdin else "")
        if line.strip() in {"/quit", "/exit"}:
            return
        message = resolve_choice(line, buttons)
        if not message:
            continue
        try:
            replies = await rasa.send(sender, message)
        except RasaUnavailable:
            print(f"助手：{RASA_DOWN_REPLY}")
            continue
        text, buttons = render(replies)
        print("助手：" + (text or "（没有回复）"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default=get_settings().rasa_url, help="Rasa server URL")
    parser.add_argument("--sender", default=f"terminal-{uuid.uuid4().hex[:8]}")
    args = parser.parse_args()

    async def run() -> None:
        async with httpx.AsyncClient(base_url=args.url, timeout=60.0) as http:
            await chat(RasaClient(http), args.sender)

    try:
        asyncio.run(run())
    except (EOFError, KeyboardInterrupt):
        print()
    except json.JSONDecodeError:
        print("助手返回了无法解析的内容。", file=sys.stderr)


if __name__ == "__main__":
    main()
