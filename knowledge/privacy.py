"""Redaction of personal data (ID-card and mobile numbers) before anything reaches a log."""

from __future__ import annotations

import logging
import re
from typing import Any

# 18-digit resident ID (last char may be X), not part of a longer digit run.
_ID_CARD = re.compile(r"(?<!\d)(\d{6})\d{8}(\d{3}[\dXx])(?!\d)")
# Mainland mobile numbers, optionally with +86 / 86 and separators.
_MOBILE = re.compile(r"(?<!\d)((?:\+?86[-\s]?)?1[3-9]\d)[-\s]?\d{4}[-\s]?(\d{4})(?!\d)")


def redact(text: str) -> str:
    """Mask ID-card and mobile numbers: 330106199001011234 → 330106********1234."""
    text = _ID_CARD.sub(lambda m: f"{m.group(1)}********{m.group(2)}", text)
    return _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(2)}", text)


def _redact_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a broken format string must not stop logging
        message = str(record.msg)
    record.msg = redact(message)
    record.args = None


_installed = False


def install_redacting_log_filter() -> None:
    """Redact every log record of the process at creation, whatever logger or handler emits it.

    A record factory (rather than a handler filter) also covers handlers that libraries
    such as Sanic or Rasa SDK add after start-up.
    """
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _redact_record(record)
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
