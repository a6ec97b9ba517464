"""Text to speech: espeak-ng's Mandarin voice through the TextToSpeech interface."""

from __future__ import annotations

import io
import struct
import wave

import pytest

from connectors.tts import (
    EspeakTTS,
    SilentTTS,
    TextToSpeech,
    TTSError,
    fix_wav_header,
    get_tts,
    speakable,
)
from knowledge.settings import Settings


class _EchoEngine:
    """A plug-in engine as an operator would write one (module:Class in settings)."""

    name = "echo"

    def __init__(self, settings: Settings) -> None:
        self.voice = settings.tts_voice

    def synthesize(self, text: str) -> bytes:
        return b"RIFF" + text.encode()


def _duration(wav: bytes) -> float:
    with wave.open(io.BytesIO(wav)) as w:
        return w.getnframes() / w.getframerate()


def test_espeak_mandarin_speaks_a_reply() -> None:
    tts = EspeakTTS()
    assert isinstance(tts, TextToSpeech)
    short = tts.synthesize("您好")
    long = tts.synthesize("您好，这里是就业服务站。请问您想找工作，还是咨询政策？")
    assert 0.3 < _duration(short) < _duration(long) < 20
    # The header sizes are real (espeak-ng --stdout leaves placeholders), so browsers can play it.
    (riff_size,) = struct.unpack("<I", long[4:8])
    assert riff_size == len(long) - 8


def test_text_that_looks_like_an_option_is_spoken_not_parsed() -> None:
    wav = EspeakTTS().synthesize("--help 是什么")
    assert _duration(wav) > 0.3


def test_nothing_to_say() -> None:
    assert EspeakTTS().synthesize("  ** ") == b""
    assert SilentTTS().synthesize("你好") == b""


def test_speakable_drops_links_and_markup_and_cuts_long_text() -> None:
    assert speakable("详见 https://example.org/a?b=1 **第十四条**") == "详见 第十四条"
    long = "第一句话。" * 200
    cut = speakable(long, max_chars=23)
    assert cut.endswith("。") and len(cut) <= 23


def test_fix_wav_header_rejects_non_wav() -> None:
    with pytest.raises(TTSError):
        fix_wav_header(b"OggS....")


def test_missing_binary() -> None:
    with pytest.raises(TTSError, match="not installed"):
        EspeakTTS(binary="espeak-ng-does-not-exist")


def test_engine_from_settings() -> None:
    assert isinstance(get_tts(Settings(tts_engine="espeak-ng")), EspeakTTS)
    assert isinstance(get_tts(Settings(tts_engine="none")), SilentTTS)
    plugged = get_tts(Settings(tts_engine=f"{__name__}:_EchoEngine", tts_voice="x"))
    assert plugged.synthesize("hi") == b"RIFFhi"
    with pytest.raises(TTSError, match="unknown tts_engine"):
        get_tts(Settings(tts_engine="festival"))
