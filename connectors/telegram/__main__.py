"""``python -m connectors.telegram``: run the Telegram channel (long polling, or a webhook when
``JOBBOT_TELEGRAM_WEBHOOK_URL`` is set) until Ctrl-C or SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

import httpx
from telegram.error import InvalidToken, NetworkError

from connectors.rasa_client import RasaClient
from connectors.telegram.app import (
    ALLOWED_UPDATES,
    build_application,
    set_commands,
    webhook_options,
)
from knowledge.logs import setup_logging
from knowledge.settings import Settings, get_settings

logger = logging.getLogger("connectors.telegram")


async def serve(settings: Settings, stop: asyncio.Event) -> None:
    """Run the channel until ``stop`` is set, then shut down cleanly.

    Telegram being unreachable at start is retried with backoff; a wrong token is not.
    """
    async with httpx.AsyncClient(
        base_url=settings.rasa_url, timeout=settings.rasa_timeout_s
    ) as http:
        app = build_application(settings, RasaClient(http))
        delay = 1.0
        while True:
            try:
                await app.initialize()
                break
            except InvalidToken:
                raise
            except NetworkError as exc:
                logger.warning("Telegram unreachable (%s); retrying in %.0f s", exc, delay)
                try:
                    await asyncio.wait_for(stop.wait(), delay)
                    return
                except TimeoutError:
                    delay = min(delay * 2, 60.0)
        try:
            await set_commands(app)
            await app.start()
            assert app.updater is not None
            if settings.telegram_webhook_url:
                options = webhook_options(settings)
                await app.updater.start_webhook(**options)
                logger.info(
                    "Telegram webhook listening on %s:%s", options["listen"], options["port"]
                )
            else:
                await app.updater.start_polling(
                    allowed_updates=ALLOWED_UPDATES, bootstrap_retries=-1
                )
                logger.info("Telegram long polling started")
            await stop.wait()
            await app.updater.stop()
            await app.stop()
        finally:
            await app.shutdown()


async def _main(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await serve(settings, stop)


def main() -> int:
    settings = get_settings()
    setup_logging(settings.log_level)
    if not settings.telegram_token.get_secret_value():
        print("Set JOBBOT_TELEGRAM_TOKEN to the bot token from @BotFather.", file=sys.stderr)
        return 2
    try:
        asyncio.run(_main(settings))
    except InvalidToken:
        logger.error("Telegram rejected the bot token (JOBBOT_TELEGRAM_TOKEN).")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
