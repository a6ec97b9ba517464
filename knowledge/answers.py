"""Compose a grounded policy answer from retrieval hits: text, voice version, citation, region, date.

Every answer that states a rule carries its source, region and date. When retrieval is not
sure, the answer says so, offers the closest topics and a person instead of guessing.
Unusable input (empty, very long, emoji only, not Chinese) gets a clear reply, never an error.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from knowledge.documents import NATIONAL
from knowledge.policy_corpus import Citation
from knowledge.policy_index import IndexedItem, PolicyIndex, SearchHit
from knowledge.policy_text import tokenize

MAX_QUESTION_CHARS = 300
EXCERPT_CHARS = 160
SHORT_EXCERPT_CHARS = 60
HANDOFF_PAYLOAD = "/human_handoff"
#: Confidence a law excerpt gives up against a corpus entry (entries read better).
DOCUMENT_MARGIN = 0.1

AnswerKind = Literal["entry", "article", "section", "unsure", "invalid"]

EMPTY_REPLY = "请告诉我您想了解的政策，比如：“失业金能领几个月？”或“招高校毕业生有什么补贴？”"
TOO_LONG_REPLY = (
    f"您的问题有点长，我一次只能看{MAX_QUESTION_CHARS}个字以内。"
    "请用一两句话说说想了解哪项政策，比如“失业金怎么领”。"
)
NO_TEXT_REPLY = "我只能看懂文字问题。请用文字说说您想了解的政策，比如“灵活就业社保补贴怎么申请”。"
NOT_CHINESE_REPLY = (
    "目前我只能用中文回答政策问题，请用中文提问，比如“失业金能领几个月？”"
    "（Policy questions can only be answered in Chinese for now.）"
)
UNSURE_INTRO = "我不太确定您问的是哪项政策。"
UNSURE_CHOICES = "您是不是想了解下面这些？"
HANDOFF_OFFER = "如果都不是，我可以帮您转接工作人员。"
LOCAL_VARIES = "具体金额和办理方式以当地规定为准。"


@dataclass(frozen=True)
class CannedReply:
    """A fixed reply with its voice version and buttons (Rasa's ``title``/``payload`` form)."""

    text: str
    short: str
    buttons: tuple[tuple[str, str], ...] = ()


HANDOFF_BUTTON = ("转人工服务", "/human_handoff")
UNAVAILABLE = CannedReply(
    text="抱歉，政策知识库暂时不可用，我现在没法回答政策问题。请稍后再试，或者点“转人工服务”联系工作人员。",
    short="抱歉，政策知识库暂时用不了。您可以稍后再问，或者说“转人工”。",
    buttons=(HANDOFF_BUTTON,),
)
# A bare /ask_policy (e.g. the 问政策 button) carries no question: ask for one.
ASK_WORKER_QUESTION = CannedReply(
    text="您想了解哪方面的政策？可以直接输入问题，也可以点下面的常见问题：",
    short="您想了解哪方面的政策？直接说问题就行，比如：失业金怎么领。",
    buttons=(
        ("失业金怎么领", "失业金怎么领"),
        ("灵活就业社保补贴", "灵活就业人员有社保补贴吗"),
        ("没签劳动合同怎么办", "老板不跟我签劳动合同怎么办"),
        ("创业担保贷款", "创业担保贷款怎么申请"),
    ),
)
ASK_EMPLOYER_QUESTION = CannedReply(
    text="您想了解哪方面的招用工政策？可以直接输入问题，也可以点下面的常见问题：",
    short="您想了解哪方面的招用工政策？比如：招高校毕业生有什么补贴。",
    buttons=(
        ("吸纳就业补贴", "企业招高校毕业生有什么补贴"),
        ("招用残疾人", "公司招残疾人有什么优惠"),
        ("稳岗返还", "稳岗返还怎么申请"),
    ),
)


@dataclass(frozen=True)
class RelatedQuestion:
    """A follow-up the user can tap: button title and the question it sends."""

    title: str
    question: str


@dataclass(frozen=True)
class PolicyAnswer:
    """What the assistant says to a policy question, for text and for voice."""

    kind: AnswerKind
    text: str
    short: str
    citations: tuple[Citation, ...] = ()
    citation_line: str = ""
    region: str = ""
    effective: str = ""
    related: tuple[RelatedQuestion, ...] = ()
    confidence: float = 0.0
    offer_handoff: bool = False
    source_key: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def confident(self) -> bool:
        return self.kind in ("entry", "article", "section")

    def payload(self) -> dict[str, Any]:
        """The ``policy_answer`` custom payload connectors receive (see docs/CONTRACT.md)."""
        return {
            "type": "policy_answer",
            "citations": [{"document": c.document, "article": c.article} for c in self.citations],
            "region": self.region,
            "effective": self.effective,
            "related": [r.question for r in self.related],
            "confident": self.confident,
        }


# --- Input checks ----------------------------------------------------------------------

_CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_RE = re.compile(r"[A-Za-z]")


def _is_texty(ch: str) -> bool:
    cat = unicodedata.category(ch)
    return cat[0] in ("L", "N")


def check_question(question: str | None) -> PolicyAnswer | None:
    """A clear reply for input that cannot be a policy question; None when it can."""
    text = (question or "").strip()
    if not text:
        return PolicyAnswer(kind="invalid", text=EMPTY_REPLY, short=EMPTY_REPLY)
    if len(text) > MAX_QUESTION_CHARS:
        return PolicyAnswer(kind="invalid", text=TOO_LONG_REPLY, short=TOO_LONG_REPLY)
    if not any(_is_texty(ch) for ch in text):
        return PolicyAnswer(kind="invalid", text=NO_TEXT_REPLY, short=NO_TEXT_REPLY)
    if not _CJK_RE.search(text):
        return PolicyAnswer(kind="invalid", text=NOT_CHINESE_REPLY, short=NOT_CHINESE_REPLY)
    return None


# --- Confidence -------------------------------------------------------------------------


def confidence(hit: SearchHit, question: str, index: PolicyIndex) -> float:
    """How sure we are that ``hit`` answers ``question``, in [0, 1].

    Two pieces of absolute evidence: the cosine between question and the item's best
    passage, stretched over the band where the embedder separates on-topic from
    off-topic questions (``dense_floor``–``dense_ceiling``), and the share of the
    question's content words the item contains.
    """
    lo, hi = index.confidence_band
    dense = min(max((hit.dense - lo) / (hi - lo), 0.0), 1.0) if hi > lo else 0.0
    q_tokens = set(tokenize(question))
    if not q_tokens:
        return dense
    item_tokens = index.item_tokens(hit.item.key)
    coverage = len(q_tokens & item_tokens) / len(q_tokens)
    return round(0.7 * dense + 0.3 * coverage, 4)


# --- Composition -----------------------------------------------------------------------


def _date_phrase(effective: str) -> str:
    return f"{effective}起施行" if effective else "施行日期见原文"


def citation_line(citations: Sequence[Citation], region: str, effective: str) -> str:
    """``依据：《失业保险条例》第十七条（全国，1999-01-22起施行）``."""
    cites = "、".join(c.label() for c in citations) or "相关规定"
    return f"依据：{cites}（{region or NATIONAL}，{_date_phrase(effective)}）"


def _excerpt(text: str, limit: int) -> str:
    flat = re.sub(r"\s*\n\s*", "", text).strip()
    if len(flat) <= limit:
        return flat
    cut = flat[:limit]
    # End at the last full clause when there is one close to the limit.
    for mark in ("。", "；", "，"):
        pos = cut.rfind(mark)
        if pos >= limit * 0.5:
            return cut[: pos + 1] + ("……" if mark != "。" else "")
    return cut + "……"


def _question_for(hit: SearchHit) -> RelatedQuestion:
    return _question_for_item(hit.item)


def _question_for_item(it: IndexedItem) -> RelatedQuestion:
    if it.entry is not None:
        q = it.entry.aliases[0] if it.entry.aliases else it.entry.title
        return RelatedQuestion(title=it.entry.title, question=q)
    return RelatedQuestion(title=it.title, question=f"{it.title}是怎么规定的？")


def _related(
    index: PolicyIndex,
    primary: SearchHit,
    others: Sequence[SearchHit],
    question: str,
    limit: int = 3,
) -> tuple[RelatedQuestion, ...]:
    out: list[RelatedQuestion] = []
    seen = {primary.item.key}
    # A complaint about an employer also gets the route for claiming it (协商、调解、仲裁),
    # unless the answer is already about that route.
    route = index.item(f"entry:{index.terms.dispute_entry}") if index.terms.dispute_entry else None
    if (
        route is not None
        and route.entry is not None
        and primary.item.law != index.terms.dispute_law
        and index.terms.is_dispute(question)
    ):
        seen.add(route.key)
        limit -= 1
    else:
        route = None
    if primary.item.entry is not None:
        for rid in primary.item.entry.related:
            item = index.item(f"entry:{rid}")
            if item is not None and item.entry is not None and item.key not in seen:
                seen.add(item.key)
                q = item.entry.aliases[0] if item.entry.aliases else item.entry.title
                out.append(RelatedQuestion(title=item.entry.title, question=q))
    for hit in others:
        if len(out) >= limit:
            break
        if hit.item.key in seen or (primary.item.entry is not None and hit.item.entry is None):
            continue
        seen.add(hit.item.key)
        out.append(_question_for(hit))
    out = out[:limit]
    if route is not None:
        out.append(_question_for_item(route))
    return tuple(out)


def _entry_answer(
    index: PolicyIndex, hit: SearchHit, others: Sequence[SearchHit], conf: float, question: str
) -> PolicyAnswer:
    e = hit.item.entry
    assert e is not None
    region = e.region or NATIONAL
    line = citation_line(e.citations, region, e.effective)
    body = e.answer
    short = e.short
    if e.local_amounts_vary:
        body = f"{body}\n{LOCAL_VARIES}"
        if "当地" not in short:
            short = f"{short}{LOCAL_VARIES}"
    cite_short = "、".join(c.label() for c in e.citations[:1])
    return PolicyAnswer(
        kind="entry",
        text=f"{body}\n{line}",
        short=f"{short}依据{cite_short}。" if cite_short and cite_short not in short else short,
        citations=e.citations,
        citation_line=line,
        region=region,
        effective=e.effective,
        related=_related(index, hit, others, question),
        confidence=conf,
        source_key=hit.item.key,
    )


def _chunk_answer(
    index: PolicyIndex, hit: SearchHit, others: Sequence[SearchHit], conf: float, question: str
) -> PolicyAnswer:
    c = hit.item.chunk
    assert c is not None
    cite = Citation(document=c.short_law, article=c.article_label if c.is_article else "")
    line = citation_line((cite,), c.region, c.effective)
    where = cite.label() if c.is_article else f"《{c.short_law}》"
    text = f"{where}规定：{_excerpt(c.text, EXCERPT_CHARS)}\n{line}"
    short = f"根据{where}：{_excerpt(c.text, SHORT_EXCERPT_CHARS)}"
    return PolicyAnswer(
        kind="article" if c.is_article else "section",
        text=text,
        short=short,
        citations=(cite,),
        citation_line=line,
        region=c.region,
        effective=c.effective,
        related=_related(index, hit, others, question),
        confidence=conf,
        source_key=hit.item.key,
    )


def _unsure(hits: Sequence[SearchHit], conf: float) -> PolicyAnswer:
    topics: list[RelatedQuestion] = []
    seen: set[str] = set()
    # Corpus topics first: they are written as questions people ask.
    for hit in sorted(hits, key=lambda h: (h.item.entry is None, h.rank)):
        if hit.item.key not in seen and len(topics) < 3:
            seen.add(hit.item.key)
            topics.append(_question_for(hit))
    if topics:
        text = f"{UNSURE_INTRO}{UNSURE_CHOICES}\n{HANDOFF_OFFER}"
        short = f"{UNSURE_INTRO}您可以换个说法，或者说“转人工”。"
    else:
        text = f"{UNSURE_INTRO}{HANDOFF_OFFER}"
        short = text
    return PolicyAnswer(
        kind="unsure",
        text=text,
        short=short,
        related=tuple(topics),
        confidence=conf,
        offer_handoff=True,
    )


def answer_question(
    question: str | None,
    index: PolicyIndex,
    *,
    audience: str | None = None,
    region: str | None = None,
    threshold: float | None = None,
) -> PolicyAnswer:
    """Answer one policy question from the index.

    Args:
        question: the user's words.
        index: a loaded :class:`PolicyIndex`.
        audience: ``worker`` or ``employer`` (employers' questions prefer employer entries).
        region: the user's city or province when known.
        threshold: minimum confidence (default ``settings.policy_score_threshold``).
    """
    bad = check_question(question)
    if bad is not None:
        return bad
    assert question is not None
    q = question.strip()
    if threshold is None:
        from knowledge.settings import get_settings

        threshold = get_settings().policy_score_threshold
    # Corpus entries first: they are written for people and carry a short version. Law
    # articles answer when no entry is close enough.
    entry_hits = index.search(q, k=6, audience=audience, region=region, kinds=("entry",))
    doc_hits = index.search(q, k=6, audience=audience, region=region, kinds=("article", "section"))
    candidates: list[tuple[float, SearchHit]] = []
    if entry_hits:
        candidates.append((confidence(entry_hits[0], q, index), entry_hits[0]))
    if doc_hits:
        # A law excerpt must be clearly better than the best entry to be preferred.
        candidates.append((confidence(doc_hits[0], q, index) - DOCUMENT_MARGIN, doc_hits[0]))
    if not candidates:
        return _unsure([], 0.0)
    conf, top = max(candidates, key=lambda c: c[0])
    conf = max(conf, 0.0)
    hits = entry_hits + doc_hits
    others = [h for h in hits if h.item.key != top.item.key]
    if conf < threshold:
        return _unsure(hits, conf)
    if top.item.entry is not None:
        return _entry_answer(index, top, entry_hits[1:], conf, q)
    return _chunk_answer(index, top, others, conf, q)
