"""A stand-in for Rasa's REST channel (an httpx transport) and the kiosk app built around it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from connectors.kiosk import create_app
from connectors.rasa_client import RasaClient
from connectors.speech import SpeechModel
from connectors.tts import TextToSpeech
from knowledge.settings import Settings


@dataclass
class FakeRasa:
    """Answers like Rasa's REST webhook: echoes the text with a quick reply, records requests.

    Set ``down`` to make it refuse connections as a stopped Rasa would.
    """

    requests: list[dict[str, Any]] = field(default_factory=list)
    down: bool = False

    def handler(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        body = json.loads(request.content)
        self.requests.append(body)
        sender, text = body["sender"], body["message"]
        if text == "/restart":
            return httpx.Response(200, json=[])
        if text == "/human_handoff":
            reply = [{"recipient_id": sender, "text": "好的，正在为您联系工作人员。"}]
            return httpx.Response(200, json=reply)
        reply = [
            {"recipient_id": sender, "text": f"您说的是：{text}"},
            {
                "recipient_id": sender,
                "text": "还需要什么帮助？",
                "buttons": [
                    {"title": "找工作", "payload": "/search_job"},
                    {"title": "어서 오세요", "payload": '/greet{"lang": "ko"}'},
                ],
            },
        ]
        return httpx.Response(200, json=reply)

    def client(self) -> RasaClient:
        http = httpx.AsyncClient(
            base_url="http://rasa.test", transport=httpx.MockTransport(self.handler)
        )
        return RasaClient(http, retries=0, backoff_s=0.01)

    def messages(self) -> list[str]:
        return [r["message"] for r in self.requests]


def kiosk_app(
    rasa: FakeRasa,
    speech: SpeechModel | None = None,
    tts: TextToSpeech | None = None,
    **settings: Any,
) -> Any:
    s = Settings(vosk_model_path="", **settings)
    return create_app(s, rasa.client(), speech=speech, tts=tts, load_speech=False)
