"""Calibrate the answer-confidence band of a built policy index for its embedding model.

Cosines depend on the model (E5 puts almost everything between 0.7 and 0.95), so each build
measures where the corpus' own alias questions land (held out from their entry) and where
clearly off-topic questions land, and stores the band in the manifest. With the band,
``knowledge.answers.confidence`` maps a cosine to [0, 1] so that the default threshold
(``settings.policy_score_threshold`` = 0.5) sits between the two groups.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from knowledge.policy_text import tokenize

if TYPE_CHECKING:
    from knowledge.policy_index import PolicyIndex


#: Off-topic questions, written by the project, that a policy answer must not claim to know.
OFF_TOPIC_QUESTIONS = (
    "明天杭州会下雨吗",
    "帮我放一首周杰伦的歌",
    "红烧肉怎么做才好吃",
    "附近有什么好吃的火锅店",
    "今天股市行情怎么样",
    "给我讲个笑话吧",
    "从北京到上海的高铁几点有",
    "世界上最高的山是哪座",
    "帮我订一张去成都的机票",
    "现在几点了",
    "推荐一部好看的电影",
    "我家的猫不吃饭怎么办",
    "iPhone 多少钱一台",
    "怎么减肥最快",
    "篮球比赛谁赢了",
    "帮我算一下三加五等于几",
    "明天是星期几",
    "怎么养多肉植物",
    "西湖门票多少钱",
    "感冒了吃什么药好",
    "打开空调",
    "导航去最近的加油站",
    "你喜欢什么颜色",
    "故宫周一开门吗",
    "英语四级怎么复习",
    "小孩发烧三十八度怎么办",
    "手机屏幕碎了去哪修",
    "哪个牌子的洗衣机好",
    "今年春节是几号",
    "给妈妈发个微信说我晚点回家",
)


@dataclass(frozen=True)
class Calibration:
    """The cosine band and how well it separates on-topic from off-topic questions."""

    low: float
    high: float
    positives: int
    negatives: int
    positive_dense_median: float
    negative_dense_median: float


def calibrate(index: PolicyIndex, max_positives: int = 300) -> Calibration | None:
    """Measure the band on ``index``; None when the corpus has no alias questions."""
    entries = [
        (n, it) for n, it in enumerate(index.items) if it.entry is not None and it.entry.aliases
    ]
    if not entries:
        return None
    from knowledge.policy_index import passages_for

    owners = index.passage_owner
    pos: list[float] = []
    aliases = [(n, a) for n, it in entries if it.entry for a in it.entry.aliases][:max_positives]
    qv = index.embedder.encode_queries([a for _, a in aliases])
    for (n, alias), v in zip(aliases, qv, strict=True):
        rows = np.flatnonzero(owners == n)
        texts = passages_for(index.items[n])
        sims = index.vectors[rows] @ v
        # Hold the alias out: its own passage would match trivially.
        keep = [float(s) for s, t in zip(sims, texts, strict=False) if t != alias]
        if keep:
            pos.append(max(keep))
    neg: list[float] = []
    nv = index.embedder.encode_queries(list(OFF_TOPIC_QUESTIONS))
    for v in nv:
        neg.append(float(np.max(index.vectors @ v)) if len(index.vectors) else 0.0)
    if not pos:
        return None
    p_med, n_med = float(np.median(pos)), float(np.median(neg))
    # Confidence 0.5 ≈ the midpoint between a typical off-topic best match and a typical
    # held-out alias; the band spans from the off-topic median to the alias 75th percentile.
    low = n_med
    high = max(float(np.percentile(pos, 75)), low + 1e-3)
    return Calibration(
        low=round(low, 4),
        high=round(high, 4),
        positives=len(pos),
        negatives=len(neg),
        positive_dense_median=round(p_med, 4),
        negative_dense_median=round(n_med, 4),
    )


def token_coverage(question: str, tokens: frozenset[str]) -> float:
    """Share of the question's content words found in ``tokens``."""
    q = set(tokenize(question))
    return len(q & tokens) / len(q) if q else 0.0
