"""`python -m connectors.kiosk`: serve the kiosk page on settings.kiosk_host:kiosk_port."""

from __future__ import annotations

import httpx
import uvicorn

from connectors.kiosk.app import MAX_FRAME_BYTES, create_app
from connectors.rasa_client import RasaClient
from knowledge.logs import setup_logging
from knowledge.settings import get_settings


def main() -> None:
    settings = get_settings()
    setup_logging(settings.log_level)
    http = httpx.AsyncClient(base_url=settings.rasa_url, timeout=settings.rasa_timeout_s)
    app = create_app(settings, RasaClient(http))
    uvicorn.run(
        app,
        host=settings.kiosk_host,
        port=settings.kiosk_port,
        log_level=settings.log_level.lower(),
        ws_max_size=MAX_FRAME_BYTES * 2,
        # The access log would carry nothing personal, but it is noise on a kiosk.
        access_log=False,
    )


if __name__ == "__main__":
    main()
