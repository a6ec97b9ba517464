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

import yaml

from knowledge.documents import short_law_name

TERMS_PATH = Path(__file__).resolve().parent / "data" / "legal_terms.yml"

_STOPWORDS = frozenset(
    """
    的 了 是 我 你 他 她 它 我们 你们 他们 吗 呢 吧 啊 呀 哦 嘛 么 怎么 怎么办 怎样 怎么样 什么
    如何 为什么 哪些 哪里 哪个 多少 可以 可不可以 能 能不能 会 会不会 要 需要 应该 应当 在 和 与
    及 以及 或 或者 就 都 也 还 又 被 把 给 对 向 从 到 于 这 那 这个 那个 这样 那样 个 请问 问
    一下 一个 有 有没有 是不是 是否 如果 但是 但 而 并 等 其 之 所 该 本 则 即 且 已 已经 现在
    时候 自己 这种 情况 问题 法律 规定 依法 按照 根据 谁 啥 咋 咋办 嘞 哈 嗯 哎 呗 么样
    """.split()
)
_PUNCT_RE = re.compile(r"[\s\W_]+", re.UNICODE)
_jieba_lock = threading.Lock()


@dataclass(frozen=True)
class LegalTerms:
    """Colloquial → legal rewrites and word → law hints."""

    rewrites: dict[str, tuple[str, ...]]
    law_hints: dict[str, tuple[str, ...]]

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
    return LegalTerms(rewrites=rewrites, law_hints=hints)


@lru_cache(maxsize=1)
def _tokenizer():  # type: ignore[no-untyped-def]
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
    for extra in ("劳动合同", "经济补偿", "二倍工资", "失业保险金", "工伤保险", "社会保险",
                  "试用期", "劳务派遣", "竞业限制", "最低工资", "用人单位", "劳动者"):
        tok.add_word(extra, freq=50000)
    return tok


def tokenize(text: str) -> list[str]:
    """jieba tokens for BM25: punctuation and function words dropped, ASCII lower-cased."""
    tok = _tokenizer()
    with _jieba_lock:  # jieba's tokenizer is not documented as thread-safe
        words = tok.lcut(text, HMM=True)
    out: list[str] = []
    for w in words:
        w = _PUNCT_RE.sub("", w).lower()
        if w and w not in _STOPWORDS:
            out.append(w)
    return out


def expand_query(text: str, terms: LegalTerms | None = None) -> str:
    """The question with the legal terms for its colloquial words appended."""
    terms = terms or load_terms()
    extra = terms.expansions(text)
    return f"{text} {' '.join(extra)}" if extra else text
