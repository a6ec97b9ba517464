"""Voice notes → text with the shared speech module (ffmpeg decoding, Vosk recognition)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

logger = logging.getLogger(__name__)


class VoiceUnavailable(Exception):
    """No speech model is configured or it could not be loaded."""


class VoiceNotUnderstood(Exception):
    """The audio could not be decoded."""


@dataclass(frozen=True)
class Heard:
    """What a voice note said; ``reliable`` is False when the recogniser was unsure."""

    text: str
    reliable: bool


class VoiceTranscriber:
    """Transcribes voice notes off the event loop, a few at a time.

    Decoding and recognition are CPU-bound, so they run in worker threads; the semaphore keeps a
    burst of voice notes from starving the text chats on a small machine. The model itself is
    loaded once per process by ``connectors.speech.SpeechModel.get``.

    Args:
        model_path: the Vosk model folder (``settings.vosk_model_path``); empty means none.
        parallel: how many voice notes may be decoded and recognised at the same time.
    """

    def __init__(self, model_path: str, parallel: int = 2) -> None:
        self._model_path = model_path
        self._slots = asyncio.Semaphore(parallel)

    @property
    def available(self) -> bool:
        """Whether a speech model is configured at all."""
        return bool(self._model_path)

    async def transcribe(self, data: bytes) -> Heard:
        """What a voice note says, in any container ffmpeg reads (Telegram sends OGG/Opus).

        Raises:
            VoiceUnavailable: no model configured, or it cannot be loaded.
            VoiceNotUnderstood: the audio could not be decoded.
        """
        if not self._model_path:
            raise VoiceUnavailable("no speech model configured")
        # Imported here so a deployment without Vosk still runs the text channel.
        from connectors import speech

        async with self._slots:
            try:
                model = await asyncio.to_thread(speech.SpeechModel.get, self._model_path)
            except speech.SpeechUnavailable as exc:
                raise VoiceUnavailable(str(exc)) from exc
            try:
                pcm = await asyncio.to_thread(speech.decode_audio, data)
            except speech.AudioDecodeError as exc:
                raise VoiceNotUnderstood(str(exc)) from exc
            transcript = await asyncio.to_thread(speech.recognize, model, pcm)
        return Heard(text=transcript.text.strip(), reliable=bool(transcript.is_reliable))
