"""decode_audio / resample_pcm on real ffmpeg: any format in, 16 kHz mono PCM out, clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from connectors.speech import (
    SAMPLE_RATE,
    AudioDecodeError,
    AudioTooLong,
    decode_audio,
    join_words,
    pcm_level_dbfs,
    resample_pcm,
)
from tests.speech.helpers import dominant_frequency, espeak_wav, ffmpeg_convert, tone, wav_bytes


def seconds(pcm: bytes) -> float:
    return len(pcm) / (2 * SAMPLE_RATE)


@pytest.mark.parametrize(
    ("rate", "channels"), [(8000, 1), (16000, 1), (22050, 1), (44100, 2), (48000, 2)]
)
def test_any_rate_and_layout_becomes_16k_mono(rate: int, channels: int) -> None:
    pcm = decode_audio(wav_bytes(tone(440, 1.0, rate, channels), rate, channels))
    assert seconds(pcm) == pytest.approx(1.0, abs=0.02)
    assert dominant_frequency(pcm) == pytest.approx(440, abs=3)


@pytest.mark.parametrize(
    ("codec", "fmt"), [("libopus", "ogg"), ("libmp3lame", "mp3"), ("flac", "flac")]
)
def test_compressed_containers(codec: str, fmt: str) -> None:
    # Telegram voice notes are OGG/Opus at 48 kHz.
    encoded = ffmpeg_convert(wav_bytes(tone(300, 1.5)), "-c:a", codec, "-ar", "48000", fmt=fmt)
    pcm = decode_audio(encoded)
    assert seconds(pcm) == pytest.approx(1.5, abs=0.1)
    assert dominant_frequency(pcm) == pytest.approx(300, abs=5)


def test_espeak_wav_with_streamed_header() -> None:
    # espeak-ng --stdout writes placeholder sizes in the header; ffmpeg must still read it.
    pcm = decode_audio(espeak_wav("안녕하세요"))
    assert 0.5 < seconds(pcm) < 3


def test_truncated_wav_keeps_what_is_there() -> None:
    whole = wav_bytes(tone(440, 2.0))
    pcm = decode_audio(whole[: len(whole) // 2])
    assert seconds(pcm) == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "no audio"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", "cannot decode|empty or truncated"),
        (wav_bytes(b""), "cannot decode|empty or truncated"),
        (b"this is not audio at all" * 50, "cannot decode"),
        (np.random.default_rng(1).bytes(5000), "cannot decode|empty or truncated"),
    ],
    ids=["empty", "header-cut", "no-samples", "text", "random-bytes"],
)
def test_bad_input_raises_clear_error(data: bytes, message: str) -> None:
    with pytest.raises(AudioDecodeError, match=message):
        decode_audio(data)


def test_oversized_input_refused_before_decoding() -> None:
    with pytest.raises(AudioDecodeError, match="too large"):
        decode_audio(b"\0" * 2000, max_bytes=1000)


def test_too_long_audio_refused() -> None:
    # 8 kHz keeps the file small; the limit is in seconds of audio.
    long_wav = wav_bytes(tone(200, 12.0, rate=8000), rate=8000)
    with pytest.raises(AudioTooLong, match="longer than 10 s"):
        decode_audio(long_wav, max_duration_s=10)
    assert seconds(decode_audio(long_wav, max_duration_s=15)) == pytest.approx(12, abs=0.05)


@pytest.mark.parametrize(("rate", "channels"), [(8000, 1), (48000, 2), (44100, 1)])
def test_resample_raw_pcm(rate: int, channels: int) -> None:
    out = resample_pcm(tone(500, 1.0, rate, channels), rate, channels)
    assert seconds(out) == pytest.approx(1.0, abs=0.01)
    assert dominant_frequency(out) == pytest.approx(500, abs=3)


def test_resample_rejects_nonsense_format() -> None:
    with pytest.raises(AudioDecodeError):
        resample_pcm(b"\0" * 10, 0)


def test_level() -> None:
    assert pcm_level_dbfs(b"\0" * 100) == float("-inf")
    assert -14 < pcm_level_dbfs(tone(440, 0.5)) < -10  # 0.3 full scale sine ~ -13.5 dBFS


@pytest.mark.parametrize(
    ("words", "text"),
    [
        (["你", "好", "世界"], "你好世界"),
        (["我", "要", "找", "工作"], "我要找工作"),
        (["어서", "오세요"], "어서 오세요"),
        (["[unk]", "你", "好"], "你好"),
        (["打", "call", "吧"], "打 call 吧"),
        (["[22]", "일"], "일"),
    ],
)
def test_join_words_strips_spaces_between_chinese_words(words: list[str], text: str) -> None:
    assert join_words(words) == text
