"""Vosk recognition: a streaming recogniser with partials and endpointing, and a one-shot helper.

With a phrase list the audio is decoded twice, once constrained to the phrases and once
free: a constrained decoder maps *any* speech onto some phrase with high confidence, so the
free transcript is the check that the person really said a listed phrase.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any, Literal

from connectors.speech._audio import SAMPLE_RATE
from connectors.speech._model import SpeechModel

logger = logging.getLogger(__name__)

UNKNOWN = "[unk]"
MIN_CONFIDENCE = 0.55
"""Mean word confidence below which a transcript is not trusted."""
MIN_PHRASE_SIMILARITY = 0.5
"""How close the free transcript must be to the matched phrase (character similarity)."""
_CHUNK_S = 0.1
"""Audio is fed to Vosk in pieces this long so partials and endpoints come on time."""

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef"
_CJK_SPACE = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")


_MARKER = re.compile(r"^\[[^\]]*\]$")
"""Vosk lexicon markers such as ``[unk]``, ``[noise]`` or numbered fillers: not words."""


def join_words(words: Sequence[str]) -> str:
    """Join recognised words without markers; Chinese loses the spaces between words."""
    kept = (w for w in words if w and not _MARKER.match(w))
    return _CJK_SPACE.sub("", " ".join(kept)).strip()


def normalise(text: str) -> str:
    """Comparable form of a phrase: NFKC, lower case, no spaces or punctuation."""
    text = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in text if ch.isalnum())


@dataclass(frozen=True)
class Word:
    """One recognised word with its time span (seconds) and Vosk's confidence (0-1)."""

    text: str
    start: float
    end: float
    conf: float


@dataclass(frozen=True)
class Transcript:
    """What was heard in one utterance.

    Attributes:
        text: the transcript (Chinese without spaces); the matched phrase when one matched.
        confidence: mean word confidence, 0 when nothing was heard.
        words: the words with timings.
        is_reliable: False when the caller should ask the person to repeat: nothing heard,
            low confidence, or (with a phrase list) speech that is not one of the phrases.
        matched_phrase: the phrase from the list that was said, when a list was given.
        free_text: the unconstrained transcript (equal to ``text`` without a phrase list).
        free_confidence: mean word confidence of ``free_text``.
        reason: why the utterance ended: silence endpoint, the length cap, or the stream end.
    """

    text: str
    confidence: float
    words: tuple[Word, ...] = ()
    is_reliable: bool = False
    matched_phrase: str | None = None
    free_text: str = ""
    free_confidence: float = 0.0
    reason: Literal["endpoint", "max_duration", "end"] = "end"

    @property
    def is_empty(self) -> bool:
        return not self.text


@dataclass(frozen=True)
class Partial:
    """The running guess while someone is speaking; it changes until the final result."""

    text: str


@dataclass(frozen=True)
class Final:
    """The end of an utterance (silence endpoint, length cap, or end of stream)."""

    transcript: Transcript


Event = Partial | Final


@dataclass
class _Decoder:
    """One KaldiRecognizer with the JSON parsing around it."""

    rec: Any
    pending: list[Word] = field(default_factory=list)

    def accept(self, pcm: bytes) -> bool:
        return bool(self.rec.AcceptWaveform(pcm))

    def accept_keep(self, pcm: bytes) -> None:
        """Accept audio, keeping results of endpoints this decoder finds on its own."""
        if self.accept(pcm):
            self.pending.extend(self.result(final=False))

    def take(self) -> list[Word]:
        """Everything decoded since the last take, flushing the decoder."""
        words = [*self.pending, *self.result(final=True)]
        self.pending.clear()
        return words

    def partial(self) -> str:
        data = json.loads(self.rec.PartialResult())
        return join_words(str(data.get("partial", "")).split())

    def result(self, final: bool) -> list[Word]:
        data = json.loads(self.rec.FinalResult() if final else self.rec.Result())
        return [
            Word(
                text=str(w.get("word", "")),
                start=float(w.get("start", 0.0)),
                end=float(w.get("end", 0.0)),
                conf=float(w.get("conf", 0.0)),
            )
            for w in data.get("result") or []
        ] or [Word(t, 0.0, 0.0, 0.0) for t in str(data.get("text", "")).split()]


def _segment(token: str, model: SpeechModel, max_len: int = 6) -> list[str] | None:
    """Split a token the model does not know into known words (greedy longest match)."""
    if model.knows(token):
        return [token]
    if token.isascii():
        return None
    out: list[str] = []
    i = 0
    while i < len(token):
        for j in range(min(len(token), i + max_len), i, -1):
            if model.knows(token[i:j]):
                out.append(token[i:j])
                i = j
                break
        else:
            return None
    return out


_warned: set[tuple[object, str]] = set()


def grammar_for(model: SpeechModel, phrases: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """Vosk grammar entries for ``phrases`` and a map from normalised entry to phrase.

    Phrases are split into vocabulary words (Chinese phrases come without spaces); a phrase
    with a word the model cannot say is left out and logged.
    """
    entries: list[str] = []
    by_norm: dict[str, str] = {}
    for phrase in phrases:
        words: list[str] = []
        for token in phrase.split():
            pieces = _segment(token, model)
            if pieces is None:
                if (model.path, phrase) not in _warned:  # once per model, not every turn
                    _warned.add((model.path, phrase))
                    logger.warning(
                        "phrase %r left out: %r is not in the vocabulary of %s",
                        phrase,
                        token,
                        model.path.name,
                    )
                words = []
                break
            words.extend(pieces)
        if words:
            entry = " ".join(words)
            entries.append(entry)
            by_norm[normalise(entry)] = phrase
    return entries, by_norm


class Recognizer:
    """Streaming recognition of one audio stream; make one per conversation turn or stream.

    Feed PCM chunks with :meth:`feed` and read :class:`Partial` and :class:`Final` events; call
    :meth:`finish` when the stream ends (push-to-talk released). Nothing is buffered here: audio
    goes straight into Vosk, and an utterance is cut at ``max_utterance_s`` so a ten-minute
    stream holds no more than one utterance of decoder state.

    Args:
        model: the shared model.
        sample_rate: rate of the fed s16le mono PCM (Kaldi resamples to the model's rate).
        phrases: optional menu phrases; see the module docstring.
        max_utterance_s: cut an utterance that lasts longer than this.
        min_confidence: below this mean word confidence a transcript is not reliable.
    """

    def __init__(
        self,
        model: SpeechModel,
        *,
        sample_rate: int = SAMPLE_RATE,
        phrases: Sequence[str] | None = None,
        max_utterance_s: float = 20.0,
        min_confidence: float = MIN_CONFIDENCE,
    ) -> None:
        import vosk

        if sample_rate < 4000 or sample_rate > 192000:
            raise ValueError(f"unsupported sample rate {sample_rate}")
        self.model = model
        self.sample_rate = sample_rate
        self.max_utterance_s = max_utterance_s
        self.min_confidence = min_confidence
        self._chunk_bytes = int(sample_rate * _CHUNK_S) * 2
        self._free = _Decoder(vosk.KaldiRecognizer(model.vosk, float(sample_rate)))
        self._free.rec.SetWords(True)
        self._grammar: _Decoder | None = None
        self._phrases: dict[str, str] = {}
        if phrases:
            entries, self._phrases = grammar_for(model, phrases)
            if entries:
                # "[unk]" lets out-of-list speech fall outside the phrases where the model has it.
                extra = [UNKNOWN] if model.knows(UNKNOWN) else []
                grammar = json.dumps([*entries, *extra], ensure_ascii=False)
                self._grammar = _Decoder(
                    vosk.KaldiRecognizer(model.vosk, float(sample_rate), grammar)
                )
                self._grammar.rec.SetWords(True)
        self._utterance_bytes = 0
        self._last_partial = ""
        self._carry = b""
        self.total_s = 0.0

    @property
    def utterance_s(self) -> float:
        """Seconds of audio in the utterance being decoded."""
        return self._utterance_bytes / (2 * self.sample_rate)

    def feed(self, chunk: bytes) -> list[Event]:
        """Decode a chunk; returns the partials and finals it produced (finals with text only)."""
        data = self._carry + chunk
        usable = len(data) - len(data) % 2
        self._carry = data[usable:]
        events: list[Event] = []
        for i in range(0, usable, self._chunk_bytes):
            piece = data[i : min(i + self._chunk_bytes, usable)]
            self._utterance_bytes += len(piece)
            self.total_s += len(piece) / (2 * self.sample_rate)
            endpoint = self._free.accept(piece)
            if self._grammar is not None:
                # Both decoders see the same audio; the free one drives endpointing.
                self._grammar.accept_keep(piece)
            if endpoint:
                final = self._finish_utterance("endpoint")
                if final.transcript.text:
                    events.append(final)
            elif self.utterance_s >= self.max_utterance_s:
                events.append(self._finish_utterance("max_duration"))
            else:
                text = self._free.partial()
                if text != self._last_partial:
                    self._last_partial = text
                    if text:
                        events.append(Partial(text))
        return events

    def finish(self) -> Final:
        """End the stream: flush what is pending and return its final (possibly empty) result."""
        self._carry = b""
        return self._finish_utterance("end")

    def _finish_utterance(self, reason: Literal["endpoint", "max_duration", "end"]) -> Final:
        # Result() after an endpoint; FinalResult() flushes when cutting or at the end.
        free_words = self._free.result(final=reason != "endpoint")
        grammar_words: list[Word] | None = None
        if self._grammar is not None:
            grammar_words = self._grammar.take()
        self._utterance_bytes = 0
        self._last_partial = ""
        return Final(self._judge(free_words, grammar_words, reason))

    def _judge(
        self,
        free_words: list[Word],
        grammar_words: list[Word] | None,
        reason: Literal["endpoint", "max_duration", "end"],
    ) -> Transcript:
        free_words = [w for w in free_words if not _MARKER.match(w.text)]
        free_text = join_words([w.text for w in free_words])
        free_conf = _mean_conf(free_words)
        if grammar_words is None:
            return Transcript(
                text=free_text,
                confidence=free_conf,
                words=tuple(free_words),
                is_reliable=bool(free_text) and free_conf >= self.min_confidence,
                free_text=free_text,
                free_confidence=free_conf,
                reason=reason,
            )
        said = [w for w in grammar_words if not _MARKER.match(w.text)]
        phrase = self._phrases.get(normalise(" ".join(w.text for w in said)))
        conf = _mean_conf(grammar_words)
        if phrase is None or len(said) != len(grammar_words):
            # Not a listed phrase (or mixed with unknown speech): report what was heard.
            return Transcript(
                text=free_text,
                confidence=free_conf,
                words=tuple(free_words),
                is_reliable=False,
                free_text=free_text,
                free_confidence=free_conf,
                reason=reason,
            )
        similarity = SequenceMatcher(None, normalise(free_text), normalise(phrase)).ratio()
        reliable = conf >= self.min_confidence and similarity >= MIN_PHRASE_SIMILARITY
        return Transcript(
            text=phrase,
            confidence=conf,
            words=tuple(said),
            is_reliable=reliable,
            matched_phrase=phrase,
            free_text=free_text,
            free_confidence=free_conf,
            reason=reason,
        )


def _mean_conf(words: Sequence[Word]) -> float:
    return sum(w.conf for w in words) / len(words) if words else 0.0


def recognize(
    model: SpeechModel,
    pcm16k: bytes,
    phrases: Sequence[str] | None = None,
    *,
    min_confidence: float = MIN_CONFIDENCE,
) -> Transcript:
    """Recognise a whole recording (16 kHz mono s16le, e.g. from :func:`decode_audio`).

    Utterances that Vosk splits at pauses are joined; the result is reliable only when every
    part is (and, with ``phrases``, when the whole recording is one listed phrase).
    """
    rec = Recognizer(
        model,
        phrases=phrases,
        max_utterance_s=max(60.0, len(pcm16k) / (2 * SAMPLE_RATE) + 1),
        min_confidence=min_confidence,
    )
    finals = [e.transcript for e in rec.feed(pcm16k) if isinstance(e, Final)]
    last = rec.finish().transcript
    if last.text or not finals:
        finals.append(last)
    if len(finals) == 1:
        return finals[0]
    words = tuple(w for t in finals for w in t.words)
    return Transcript(
        text=join_words([t.text for t in finals]),
        confidence=_mean_conf(words),
        words=words,
        is_reliable=all(t.is_reliable for t in finals) and not phrases,
        free_text=join_words([t.free_text for t in finals]),
        free_confidence=_mean_conf(words),
        reason="end",
    )
