"""Rasa's REST channel with its request body checked and its failures logged without text.

Rasa 3.6's own ``rest`` channel reads ``request.json.get(...)``: a JSON array, a number or
a string as the body fails inside Rasa with a bare 500, a body without ``sender`` lands in
the shared ``default`` conversation, and a message whose handling fails is logged with its
full text, which may hold a phone or ID number. This channel keeps Rasa's URL
(``/webhooks/rest/webhook``) and replies, and differs only there:

- a body that is not a JSON object with a non-empty string ``sender`` and a string
  ``message`` (``metadata`` an object, ``input_channel`` a string, where given) gets a 400
  that says what is expected;
- a message whose handling fails or times out is logged with the error but not the text
  (the sender as a short hash); the client gets what was collected so far, as with
  Rasa's channel.
"""

from __future__ import annotations

import hashlib
import logging
from asyncio import CancelledError
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint
from sanic.exceptions import InvalidUsage
from sanic.request import Request

log = logging.getLogger(__name__)

EXPECTED = '请求格式不对：需要 JSON 对象 {"sender": "会话编号", "message": "文字"}。'


def _body(request: Request) -> dict[str, Any]:
    """The JSON object of the request (Sanic answers 400 itself for JSON it cannot parse)."""
    body = request.json
    if not isinstance(body, dict):
        raise InvalidUsage(EXPECTED)
    return body


def _field(request: Request, key: str, kind: type, *, required: bool) -> Any:
    value = _body(request).get(key)
    if value is None and not required:
        return None
    if not isinstance(value, kind):
        raise InvalidUsage(EXPECTED)
    return value


def _tag(message: UserMessage) -> str:
    """A short hash of the sender, computed only when something is logged."""
    return hashlib.sha256(str(message.sender_id).encode()).hexdigest()[:12]


class GuardedRestInput(RestInput):
    """``rest`` with checked bodies; see the module docstring."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    async def _extract_sender(self, req: Request) -> str:
        sender = _field(req, "sender", str, required=True)
        if not sender.strip():
            raise InvalidUsage(EXPECTED)
        return sender

    def _extract_message(self, req: Request) -> str:
        return _field(req, "message", str, required=True)

    def _extract_input_channel(self, req: Request) -> str:
        return _field(req, "input_channel", str, required=False) or self.name()

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        return _field(request, "metadata", dict, required=False)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        async def handle(message: UserMessage) -> None:
            # Rasa's channel catches these two too, but logs the text with them.
            try:
                await on_new_message(message)
            except CancelledError:
                log.error("a REST message timed out (sender #%s; text not logged)", _tag(message))
            except Exception:
                log.exception("a REST message failed (sender #%s; text not logged)", _tag(message))

        return super().blueprint(handle)
