"""Process-wide logging set-up: one format, redaction of personal data on every handler."""

from __future__ import annotations

import logging

from knowledge.privacy import install_redacting_log_filter


def setup_logging(level: str = "INFO") -> None:
    """Configure the root logger once and make every handler redact personal data."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(
            level=level.upper(),
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
    else:
        root.setLevel(level.upper())
    install_redacting_log_filter()
    # Libraries that would otherwise log request URLs (which may carry tokens).
    for noisy in ("httpx", "httpcore", "telegram.ext.ExtBot"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
