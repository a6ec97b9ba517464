"""Audio decoding and resampling to the one format Vosk is fed: 16 kHz mono signed 16-bit PCM."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from math import gcd

import numpy as np

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16000
"""Vosk is always fed this rate; every input is converted to it."""

BYTES_PER_SECOND = SAMPLE_RATE * 2
MAX_INPUT_BYTES = 25 * 1024 * 1024
"""Largest encoded input accepted (Telegram bots may download files up to 20 MB)."""
MAX_DURATION_S = 120.0
"""Longest audio accepted; longer input is refused rather than recognised for minutes."""
_FFMPEG_TIMEOUT_S = 60.0


class AudioDecodeError(ValueError):
    """The input is not audio ffmpeg can read, is empty, or is truncated before any sound."""


class AudioTooLong(AudioDecodeError):
    """The audio lasts longer than the accepted maximum."""


def _ffmpeg() -> str:
    path = shutil.which("ffmpeg")
    if not path:
        raise AudioDecodeError("ffmpeg is not installed: install the Debian package 'ffmpeg'")
    return path


def _run_ffmpeg(args: list[str], stdin: bytes | None) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            args, input=stdin, capture_output=True, timeout=_FFMPEG_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise AudioDecodeError(f"ffmpeg took longer than {_FFMPEG_TIMEOUT_S:.0f} s") from exc


def decode_audio(
    data: bytes,
    *,
    max_bytes: int = MAX_INPUT_BYTES,
    max_duration_s: float = MAX_DURATION_S,
) -> bytes:
    """Decode any audio container/codec/rate/channel layout to 16 kHz mono s16le PCM.

    Args:
        data: the encoded file (WAV, OGG/Opus as Telegram sends it, MP3, M4A, WebM, ...).
        max_bytes: refuse larger inputs before running ffmpeg.
        max_duration_s: refuse audio longer than this (``AudioTooLong``).

    Returns:
        Raw PCM bytes: 16 kHz, mono, signed 16-bit little endian.

    Raises:
        AudioDecodeError: empty, oversized, unreadable or truncated-before-any-sound input.
        AudioTooLong: longer than ``max_duration_s``.
    """
    if not data:
        raise AudioDecodeError("no audio data")
    if len(data) > max_bytes:
        raise AudioDecodeError(f"audio file too large: {len(data)} bytes > {max_bytes} bytes")
    # Decode at most a little more than the limit so a long file is detected without
    # decoding (and holding) all of it.
    limit = f"{max_duration_s + 0.5:.2f}"
    out_args = ["-t", limit, "-vn", "-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "s16le", "pipe:1"]
    base = [_ffmpeg(), "-nostdin", "-hide_banner", "-loglevel", "error"]
    proc = _run_ffmpeg([*base, "-i", "pipe:0", *out_args], data)
    if proc.returncode != 0 or not proc.stdout:
        # Some containers (MP4/M4A with the index at the end) need a seekable input: retry
        # from a private temporary file that is removed at once.
        fd, tmp = tempfile.mkstemp(prefix="jobbot-audio-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            proc = _run_ffmpeg([*base, "-i", tmp, *out_args], None)
        finally:
            os.unlink(tmp)
    pcm = proc.stdout
    if proc.returncode != 0 and not pcm:
        reason = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = reason[-1] if reason else f"exit status {proc.returncode}"
        raise AudioDecodeError(f"cannot decode audio: {detail}")
    if len(pcm) < BYTES_PER_SECOND // 10:
        raise AudioDecodeError("audio is empty or truncated (less than 0.1 s of sound decoded)")
    if len(pcm) > max_duration_s * BYTES_PER_SECOND:
        raise AudioTooLong(f"audio is longer than {max_duration_s:.0f} s")
    # An odd byte count would misalign every later sample.
    return pcm[: len(pcm) - (len(pcm) % 2)]


def resample_pcm(pcm: bytes, sample_rate: int, channels: int = 1) -> bytes:
    """Convert raw s16le PCM at any rate and channel count to 16 kHz mono.

    Channels are averaged; resampling uses a polyphase filter (scipy), which is exact for the
    usual rate ratios (8, 22.05, 44.1, 48 kHz).
    """
    if sample_rate <= 0 or channels <= 0:
        raise AudioDecodeError(f"invalid PCM format: {sample_rate} Hz, {channels} channels")
    frame = 2 * channels
    samples = np.frombuffer(pcm[: len(pcm) - len(pcm) % frame], dtype="<i2")
    if channels > 1:
        mono = samples.reshape(-1, channels).astype(np.float32).mean(axis=1)
    else:
        mono = samples.astype(np.float32)
    if sample_rate != SAMPLE_RATE and mono.size:
        from scipy.signal import resample_poly

        g = gcd(SAMPLE_RATE, sample_rate)
        mono = resample_poly(mono, SAMPLE_RATE // g, sample_rate // g)
    return np.clip(np.rint(mono), -32768, 32767).astype("<i2").tobytes()


def pcm_level_dbfs(pcm: bytes) -> float:
    """RMS level of s16le PCM in dBFS (-inf for digital silence); used to spot silent input."""
    samples = np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], dtype="<i2").astype(np.float64)
    if samples.size == 0:
        return float("-inf")
    rms = float(np.sqrt(np.mean(samples**2)))
    return float("-inf") if rms == 0 else 20.0 * float(np.log10(rms / 32768.0))
