"""Text to speech behind a small interface; espeak-ng's Mandarin voice by default.

Another engine plugs in through ``settings.tts_engine``: a registered name (``espeak-ng``,
``none``) or a ``package.module:ClassName`` whose class takes ``(settings)`` and has
``synthesize(text) -> bytes`` returning a WAV file.
"""

from __future__ import annotations

import importlib
import re
import shutil
import struct
import subprocess
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from knowledge.settings import Settings

MAX_TTS_CHARS = 500
"""Longer replies are cut at a sentence end: a kiosk should not talk for minutes."""


class TTSError(RuntimeError):
    """Speech could not be synthesised (engine missing or failed)."""


@runtime_checkable
class TextToSpeech(Protocol):
    """Anything that turns text into a WAV file."""

    name: str

    def synthesize(self, text: str) -> bytes:
        """Return a complete WAV file (RIFF) speaking ``text``; b"" for nothing to say."""
        ...


_SPEAKABLE_DROP = re.compile(r"https?://\S+|[*_#`>|]+")
_SENTENCE_END = re.compile(r"[。！？!?；;\n]")


def speakable(text: str, max_chars: int = MAX_TTS_CHARS) -> str:
    """Text as it should be read aloud: no links or markup, cut at a sentence end."""
    text = _SPEAKABLE_DROP.sub(" ", text)
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) <= max_chars:
        return text
    cut = text[:max_chars]
    ends = [m.end() for m in _SENTENCE_END.finditer(cut)]
    return cut[: ends[-1]] if ends else cut


def fix_wav_header(wav: bytes) -> bytes:
    """Set the RIFF and data sizes of a streamed WAV (espeak-ng --stdout leaves them at max)."""
    if len(wav) < 12 or wav[:4] != b"RIFF" or wav[8:12] != b"WAVE":
        raise TTSError("engine did not return a WAV file")
    pos = 12
    while pos + 8 <= len(wav):
        chunk_id = wav[pos : pos + 4]
        if chunk_id == b"data":
            size = len(wav) - pos - 8
            size -= size % 2
            body = wav[: pos + 4] + struct.pack("<I", size) + wav[pos + 8 : pos + 8 + size]
            return body[:4] + struct.pack("<I", len(body) - 8) + body[8:]
        (chunk_size,) = struct.unpack("<I", wav[pos + 4 : pos + 8])
        pos += 8 + chunk_size + (chunk_size % 2)
    raise TTSError("WAV file without a data chunk")


class EspeakTTS:
    """espeak-ng through its command line; Mandarin (``cmn``) by default.

    Args:
        voice: an espeak-ng voice (``espeak-ng --voices``); ``cmn`` is Mandarin.
        speed: words per minute; a little slower than espeak's 175 for older listeners.
        binary: the executable.
    """

    name = "espeak-ng"

    def __init__(self, voice: str = "cmn", speed: int = 150, binary: str = "espeak-ng") -> None:
        path = shutil.which(binary)
        if path is None:
            raise TTSError(f"{binary} is not installed (Debian package 'espeak-ng')")
        self._binary = path
        self.voice = voice
        self.speed = speed

    def synthesize(self, text: str) -> bytes:
        text = speakable(text)
        if not text:
            return b""
        try:
            # Text goes through stdin so nothing in it can be read as an option.
            proc = subprocess.run(
                [self._binary, "-v", self.voice, "-s", str(self.speed), "--stdout", "--stdin"],
                input=text.encode("utf-8"),
                capture_output=True,
                timeout=30,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise TTSError("espeak-ng took too long") from exc
        if proc.returncode != 0 or not proc.stdout:
            raise TTSError(f"espeak-ng failed: {proc.stderr.decode('utf-8', 'replace').strip()}")
        return fix_wav_header(proc.stdout)


class SilentTTS:
    """No speech at all (``tts_engine: none``): the page shows text only."""

    name = "none"

    def synthesize(self, text: str) -> bytes:
        return b""


_ENGINES: dict[str, Callable[[Settings], TextToSpeech]] = {
    "espeak-ng": lambda s: EspeakTTS(voice=s.tts_voice),
    "espeak": lambda s: EspeakTTS(voice=s.tts_voice),
    "none": lambda s: SilentTTS(),
}


def get_tts(settings: Settings) -> TextToSpeech:
    """The engine named by ``settings.tts_engine`` (a registered name or ``module:Class``)."""
    engine = settings.tts_engine.strip()
    factory = _ENGINES.get(engine)
    if factory is not None:
        return factory(settings)
    module_name, sep, class_name = engine.partition(":")
    if not sep:
        known = ", ".join(sorted(_ENGINES))
        raise TTSError(f"unknown tts_engine {engine!r}: use one of {known} or 'module:Class'")
    cls = getattr(importlib.import_module(module_name), class_name)
    tts = cls(settings)
    if not isinstance(tts, TextToSpeech):
        raise TTSError(f"{engine} has no synthesize(text) method")
    return tts
