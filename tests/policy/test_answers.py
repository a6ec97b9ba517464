"""Answer composition: citation line, voice version, related questions, unsure, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.answers import (
    PolicyAnswer,
    answer_question,
    check_question,
    citation_line,
)
from knowledge.documents import load_folder
from knowledge.policy_corpus import Citation
from knowledge.policy_index import PolicyIndex

from .conftest import SAMPLE_ENTRIES, FakeEmbedder


@pytest.fixture
def index(law_folder: Path) -> PolicyIndex:
    idx = PolicyIndex.build(SAMPLE_ENTRIES, load_folder(law_folder), FakeEmbedder())
    # The bigram embedder's cosines live on another scale than E5's.
    idx.manifest["confidence_band"] = [0.3, 0.9]
    return idx


def test_citation_line_format() -> None:
    line = citation_line((Citation("失业保险条例", "第十七条"),), "全国", "1999-01-22")
    assert line == "依据：《失业保险条例》第十七条（全国，1999-01-22起施行）"
    two = citation_line(
        (Citation("劳动合同法", "第三十八条"), Citation("《劳动合同法》", "第四十六条")), "广东", ""
    )
    assert two == "依据：《劳动合同法》第三十八条、《劳动合同法》第四十六条（广东，施行日期见原文）"


def test_entry_answer(index: PolicyIndex) -> None:
    a = answer_question("失业金能领几个月", index, threshold=0.3)
    assert a.kind == "entry" and a.confident
    assert a.source_key == "entry:ui-duration"
    assert "最长领12个月" in a.text
    assert a.text.endswith("依据：《失业保险条例》第十七条（全国，1999-01-22起施行）")
    assert "以当地规定为准" in a.text  # local_amounts_vary
    assert a.short != a.text and len(a.short) < len(a.text)
    assert "《失业保险条例》第十七条" in a.short
    assert a.region == "全国" and a.effective == "1999-01-22"
    assert 1 <= len(a.related) <= 3
    payload = a.payload()
    assert payload["type"] == "policy_answer"
    assert payload["citations"] == [{"document": "失业保险条例", "article": "第十七条"}]
    assert payload["region"] == "全国" and payload["effective"] == "1999-01-22"
    assert payload["related"] == [r.question for r in a.related]


def test_related_follow_the_entry_links(index: PolicyIndex) -> None:
    a = answer_question("辞职了能不能领失业金", index, threshold=0.3)
    assert a.source_key == "entry:ui-conditions"
    assert a.related[0].title == "失业保险金能领多久"  # from the entry's own related ids
    assert all(r.question for r in a.related)


def test_law_article_answer_has_excerpt_and_citation(law_folder: Path) -> None:
    idx = PolicyIndex.build((), load_folder(law_folder), FakeEmbedder())
    idx.manifest["confidence_band"] = [0.3, 0.9]
    a = answer_question("具备什么条件的失业人员可以领取失业保险金", idx, threshold=0.3)
    assert a.kind == "article"
    assert a.text.startswith("《测试失业保险条例》第十四条规定：")
    assert "依据：《测试失业保险条例》第十四条（全国，2020-05-01起施行）" in a.text
    assert a.citations == (Citation("测试失业保险条例", "第十四条"),)


def test_unsure_below_threshold_offers_topics_and_a_person(index: PolicyIndex) -> None:
    a = answer_question("今天天气怎么样", index, threshold=0.99)
    assert a.kind == "unsure" and not a.confident
    assert a.text.startswith("我不太确定")
    assert a.offer_handoff
    assert 1 <= len(a.related) <= 3
    assert a.payload()["confident"] is False
    assert a.payload()["citations"] == []


def test_employer_question_gets_employer_entry(index: PolicyIndex) -> None:
    a = answer_question("公司招残疾人有什么优惠", index, audience="employer", threshold=0.3)
    assert a.source_key == "entry:emp-disabled"
    assert "《残疾人就业条例》第八条" in a.citation_line


@pytest.mark.parametrize(
    "question",
    [
        "",
        "   ",
        None,
        "失" * 10_000,
        "😀😀😀",
        "👍",
        "？？？",
        "how do I claim unemployment benefits",
    ],
)
def test_unusable_input_gets_a_clear_reply(index: PolicyIndex, question: str | None) -> None:
    a = answer_question(question, index)
    assert isinstance(a, PolicyAnswer)
    assert a.kind == "invalid" and a.text and a.short
    assert check_question(question) is not None


@pytest.mark.parametrize(
    "question", ["我想问unemployment insurance怎么领", "失业金 how long", "社保 ABC 123"]
)
def test_mixed_script_is_answered_or_declined_without_error(
    index: PolicyIndex, question: str
) -> None:
    a = answer_question(question, index)
    assert a.kind in ("entry", "article", "section", "unsure")
    assert a.text
