"""Personal data never reaches a log line in clear."""

from __future__ import annotations

import logging

import pytest

from knowledge.logs import setup_logging
from knowledge.privacy import redact


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("身份证330106199001011234", "身份证330106********1234"),
        ("ID 11010519491231002X ok", "ID 110105********002X ok"),
        ("电话13812345678", "电话138****5678"),
        ("+86 138-1234-5678", "+86 138****5678"),
        ("8613912345678", "86139****5678"),
        ("薪资5000-8000元", "薪资5000-8000元"),
        ("订单号 1234567890123456789012", "订单号 1234567890123456789012"),
        ("座机0571-88888888", "座机0571-88888888"),
    ],
)
def test_redact(raw: str, expected: str) -> None:
    assert redact(raw) == expected


def test_every_logger_redacts_after_setup(caplog: pytest.LogCaptureFixture) -> None:
    setup_logging("INFO")
    with caplog.at_level(logging.INFO):
        logging.getLogger("some.library").info(
            "user %s called from %s", "330106199001011234", "13812345678"
        )
        logging.getLogger("sanic.access").warning("GET /?phone=13912345678")
    text = caplog.text
    assert "330106199001011234" not in text and "13812345678" not in text
    assert "13912345678" not in text
    assert "330106********1234" in text and "138****5678" in text
