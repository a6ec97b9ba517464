"""`make run`: start the action server, Rasa and the configured connectors; stop all on Ctrl-C.

Assumes `make build` ran (environments, knowledge, model). Any child dying stops the rest.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from knowledge.logs import setup_logging
from knowledge.settings import get_settings
from scripts.rasa_model import model_path
from scripts.supervisor import ROOT, ServiceStack, install_signal_handlers


def main() -> int:
    settings = get_settings()
    setup_logging(settings.log_level)
    model = model_path()
    if not model.exists():
        print(f"没有找到训练好的模型 {model.name}：请先运行 make build", file=sys.stderr)
        return 1
    connectors = list(settings.connectors)
    if settings.telegram_token.get_secret_value() and "telegram" not in connectors:
        connectors.append("telegram")
    endpoints = Path(os.environ.get("JOBBOT_RASA_ENDPOINTS", ROOT / "bot" / "endpoints.yml"))
    stack = ServiceStack(
        model_path=model,
        rasa_port=settings.rasa_port,
        action_port=settings.action_port,
        log_dir=settings.data_dir / "logs",
        tracker_db=settings.data_dir / "tracker.sqlite3",
        endpoints=endpoints,
        connectors=connectors,
    )
    install_signal_handlers(stack)
    started = time.monotonic()
    waiting: set[str] = set()

    def on_wait(name: str) -> None:
        if name not in waiting:
            waiting.add(name)
            print(f"… 正在启动 {name}", flush=True)

    try:
        stack.start(on_wait=on_wait)
        print(f"\n就业助手已启动（{time.monotonic() - started:.0f} 秒）", flush=True)
        print(f"  Rasa REST:  {stack.rasa_url}/webhooks/rest/webhook")
        print("  终端聊天:   make chat")
        if "kiosk" in connectors:
            print(f"  自助终端:   http://{settings.kiosk_host}:{settings.kiosk_port}/")
        if "telegram" in connectors:
            print("  Telegram:   已连接（令牌来自 JOBBOT_TELEGRAM_TOKEN）")
        print(f"  日志:       {stack.log_dir}")
        print("按 Ctrl-C 停止全部服务。", flush=True)
        while True:
            dead = stack.first_dead()
            if dead is not None:
                print(
                    f"{dead.name} 已退出（见 {dead.log_path}），正在停止全部服务。", file=sys.stderr
                )
                return 1
            time.sleep(1.0)
    except KeyboardInterrupt:
        print("\n正在停止全部服务…", flush=True)
        return 0
    except (RuntimeError, TimeoutError) as exc:
        print(f"启动失败：{exc}", file=sys.stderr)
        return 1
    finally:
        stack.stop()
        print("已全部停止。", flush=True)


if __name__ == "__main__":
    sys.exit(main())
