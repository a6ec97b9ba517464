"""Retrieval with the real embedding model over the real statutes and the project corpus (slow)."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.answers import answer_question
from knowledge.documents import load_folder
from knowledge.policy_corpus import load_corpus
from knowledge.policy_index import EmbeddingCache, PolicyIndex

from .conftest import LAWS_DIR

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not LAWS_DIR.is_dir(), reason=f"real statutes not found at {LAWS_DIR}"),
]


@pytest.fixture(scope="module")
def index() -> PolicyIndex:
    from knowledge.embeddings import get_embedder
    from knowledge.settings import get_settings

    cache = EmbeddingCache(Path(get_settings().data_dir) / "cache" / "embeddings.sqlite3")
    return PolicyIndex.build(load_corpus(), load_folder(LAWS_DIR), get_embedder(), cache)


@pytest.mark.parametrize(
    ("question", "law", "article"),
    [
        ("失业了要满足哪些条件才能领失业保险金", "失业保险条例", "第十四条"),
        ("单位一直不和我签书面劳动合同，可以要双倍工资吗", "劳动合同法", "第八十二条"),
        ("公司辞退我要给多少经济补偿", "劳动合同法", "第四十七条"),
        ("上下班路上出了车祸算工伤吗", "工伤保险条例", "第十四条"),
        ("劳动仲裁的时效是多久", "劳动争议调解仲裁法", "第二十七条"),
    ],
)
def test_article_in_top_ten(index: PolicyIndex, question: str, law: str, article: str) -> None:
    hits = index.search(question, k=10, kinds=["article"])
    found = [(h.item.law, h.item.chunk.article_label) for h in hits if h.item.chunk]
    assert (law, article) in found, found


def test_citation_chunk_for_unemployment_conditions(index: PolicyIndex) -> None:
    item = index.article("中华人民共和国失业保险条例", "第十四条") or index.article(
        "失业保险条例", "第十四条"
    )
    assert item is not None and item.chunk is not None
    assert item.chunk.chapter == "第三章 失业保险待遇"


def test_answers_are_grounded(index: PolicyIndex) -> None:
    a = answer_question("失业金最多能领多长时间", index)
    assert a.kind in ("entry", "article"), a.text
    assert a.citation_line.startswith("依据：《")
    assert "起施行" in a.citation_line
    off = answer_question("帮我推荐一家好吃的火锅店", index)
    assert off.kind == "unsure" and off.offer_handoff
