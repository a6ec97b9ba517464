"""Text handling for policy retrieval: jieba tokens for BM25 and colloquial → legal query expansion.

The vocabulary (``knowledge/data/legal_terms.yml``) is the project's own: everyday words
people use (老板, 开除, 加班费) mapped to the terms statutes use (用人单位, 解除劳动合同,
延长工作时间 … 工资报酬), plus hints about which law usually answers a question.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from knowledge.documents import short_law_name

TERMS_PATH = Path(__file__).resolve().parent / "data" / "legal_terms.yml"

_PUNCT_RE = re.compile(r"[\s\W_]+", re.UNICODE)
_jieba_lock = threading.Lock()


@dataclass(frozen=True)
class LegalTerms:
    """Colloquial → legal rewrites, word → law hints, and how disputes are recognised."""

    rewrites: dict[str, tuple[str, ...]]
    law_hints: dict[str, tuple[str, ...]]
    stopwords: frozenset[str] = frozenset()
    #: Words of a complaint or a claim against an employer (拖欠, 辞退, 可以要求 …).
    dispute_cues: tuple[str, ...] = ()
    #: The law that says how such a dispute is resolved, and the corpus entry that explains
    #: the route in plain words.
    dispute_law: str = ""
    dispute_entry: str = ""
    #: Laws whose articles among the first results also mark a dispute: the court's rules
    #: for trying labour disputes only apply once a dispute has been through arbitration.
    dispute_signal_laws: frozenset[str] = frozenset()

    def expansions(self, text: str) -> list[str]:
        """Legal terms for the colloquial words found in ``text`` (longest words first)."""
        out: list[str] = []
        seen: set[str] = set()
        for word in sorted(self.rewrites, key=len, reverse=True):
            if word in text:
                for term in self.rewrites[word]:
                    if term not in seen and term not in text:
                        seen.add(term)
                        out.append(term)
        return out

    def hinted_laws(self, text: str) -> dict[str, int]:
        """Short law names hinted by words in ``text``, with how many words hinted each."""
        counts: dict[str, int] = {}
        for word, laws in self.law_hints.items():
            if word in text:
                for law in laws:
                    counts[law] = counts.get(law, 0) + 1
        return counts

    def is_dispute(self, text: str) -> bool:
        """Whether ``text`` complains about an employer or claims something from one."""
        return bool(self.dispute_law) and any(cue in text for cue in self.dispute_cues)


@lru_cache(maxsize=4)
def load_terms(path: Path = TERMS_PATH) -> LegalTerms:
    """Read the vocabulary file (cached)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}

    def split(values: object) -> tuple[str, ...]:
        items = values if isinstance(values, list) else [values]
        return tuple(t for v in items for t in str(v).split() if t)

    rewrites = {str(k): split(v) for k, v in (data.get("rewrites") or {}).items()}
    hints = {
        str(k): tuple(short_law_name(str(x)) for x in (v or []))
        for k, v in (data.get("law_hints") or {}).items()
    }
    stop = frozenset(str(w) for line in (data.get("stopwords") or []) for w in str(line).split())
    route = data.get("dispute_route") or {}
    return LegalTerms(
        rewrites=rewrites,
        law_hints=hints,
        stopwords=stop,
        dispute_cues=split(route.get("cues") or []),
        dispute_law=short_law_name(str(route["law"])) if route.get("law") else "",
        dispute_entry=str(route.get("entry") or ""),
        dispute_signal_laws=frozenset(
            short_law_name(str(x)) for x in (route.get("signal_laws") or [])
        ),
    )


@lru_cache(maxsize=1)
def _tokenizer() -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    tok.initialize()
    terms = load_terms()
    # Legal terms as single tokens, so 用人单位 is not split into 用人 / 单位.
    for values in terms.rewrites.values():
        for t in values:
            if 2 <= len(t) <= 12 and not t.isascii():
                tok.add_word(t, freq=20000)
    for extra in (
        "劳动合同",
        "经济补偿",
        "二倍工资",
        "失业保险金",
        "工伤保险",
        "社会保险",
        "试用期",
        "劳务派遣",
        "竞业限制",
        "最低工资",
        "用人单位",
        "劳动者",
    ):
        tok.add_word(extra, freq=50000)
    return tok


def tokenize(text: str) -> list[str]:
    """jieba tokens for BM25: punctuation and function words dropped, ASCII lower-cased."""
    tok = _tokenizer()
    stop = load_terms().stopwords
    with _jieba_lock:  # jieba's tokenizer is not documented as thread-safe
        words = tok.lcut(text, HMM=True)
    out: list[str] = []
    for w in words:
        w = _PUNCT_RE.sub("", w).lower()
        if w and w not in stop:
            out.append(w)
    return out


def expand_query(text: str, terms: LegalTerms | None = None) -> str:
    """The question with the legal terms for its colloquial words appended."""
    terms = terms or load_terms()
    extra = terms.expansions(text)
    return f"{text} {' '.join(extra)}" if extra else text
