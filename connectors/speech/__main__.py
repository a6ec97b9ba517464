"""Diagnostics: recognise a recording (any format ffmpeg reads) or the local microphone.

    python -m connectors.speech question.wav [--model DIR] [--phrase 找工作 ...]
    python -m connectors.speech --mic            (needs the optional 'sounddevice' package)

Prints each partial result as it changes and the final text with its confidence.
"""

from __future__ import annotations

import argparse
import queue
import sys
import time
from pathlib import Path

from connectors.speech import (
    SAMPLE_RATE,
    AudioDecodeError,
    Final,
    Partial,
    Recognizer,
    SpeechModel,
    SpeechUnavailable,
    Transcript,
    decode_audio,
)


def _print_final(t: Transcript) -> None:
    flag = "reliable" if t.is_reliable else "NOT reliable: ask to repeat"
    print(f"final   : {t.text or '(nothing heard)'}  [conf {t.confidence:.2f}, {flag}, {t.reason}]")
    if t.matched_phrase is not None or (t.free_text and t.free_text != t.text):
        print(f"free    : {t.free_text}")


def _stream(rec: Recognizer, chunks: queue.Queue[bytes | None]) -> None:
    while (chunk := chunks.get()) is not None:
        for event in rec.feed(chunk):
            if isinstance(event, Partial):
                print(f"partial : {event.text}", flush=True)
            elif isinstance(event, Final):
                _print_final(event.transcript)
    _print_final(rec.finish().transcript)


def main(argv: list[str] | None = None) -> int:
    from knowledge.logs import setup_logging
    from knowledge.settings import get_settings

    settings = get_settings()
    setup_logging(settings.log_level)
    parser = argparse.ArgumentParser(
        prog="python -m connectors.speech",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", nargs="?", type=Path, help="audio file to recognise")
    parser.add_argument("--mic", action="store_true", help="listen to the default microphone")
    parser.add_argument("--seconds", type=float, default=10.0, help="--mic: how long to listen")
    parser.add_argument(
        "--model",
        default=settings.vosk_model_path,
        help="Vosk model folder (default: JOBBOT_VOSK_MODEL_PATH)",
    )
    parser.add_argument(
        "--phrase",
        action="append",
        default=None,
        help="a menu phrase to match (repeat the option for several)",
    )
    args = parser.parse_args(argv)
    if not args.file and not args.mic:
        parser.error("give an audio file or --mic")
    try:
        t0 = time.perf_counter()
        model = SpeechModel.get(args.model)
        print(f"model   : {model.path} (loaded in {time.perf_counter() - t0:.1f} s)")
    except SpeechUnavailable as exc:
        print(f"speech unavailable: {exc}", file=sys.stderr)
        return 2
    rec = Recognizer(model, phrases=args.phrase)
    chunks: queue.Queue[bytes | None] = queue.Queue()
    if args.file:
        try:
            pcm = decode_audio(args.file.read_bytes())
        except (OSError, AudioDecodeError) as exc:
            print(f"cannot read {args.file}: {exc}", file=sys.stderr)
            return 1
        print(f"audio   : {len(pcm) / (2 * SAMPLE_RATE):.2f} s")
        step = SAMPLE_RATE // 5 * 2  # 0.2 s pieces, as a live stream would arrive
        for i in range(0, len(pcm), step):
            chunks.put(pcm[i : i + step])
        chunks.put(None)
        _stream(rec, chunks)
        return 0
    try:
        import sounddevice
    except ImportError:
        print(
            "--mic needs the 'sounddevice' package: .venv/bin/pip install sounddevice",
            file=sys.stderr,
        )
        return 2

    def on_audio(indata: bytes, frames: int, when: object, status: object) -> None:
        chunks.put(bytes(indata))

    print(f"listening for {args.seconds:.0f} s ...")
    with sounddevice.RawInputStream(
        samplerate=SAMPLE_RATE,
        channels=1,
        dtype="int16",
        blocksize=SAMPLE_RATE // 10,
        callback=on_audio,
    ):
        time.sleep(args.seconds)
    chunks.put(None)
    _stream(rec, chunks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
