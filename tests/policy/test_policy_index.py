"""Hybrid index: search, filters, persistence and refusal of missing/stale/mismatched indexes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from knowledge.documents import load_folder
from knowledge.policy_corpus import corpus_hash
from knowledge.policy_index import (
    EmbeddingCache,
    PolicyIndex,
    PolicyIndexMismatch,
    PolicyIndexMissing,
    PolicyIndexStale,
    cited_articles,
    get_policy_index,
)
from knowledge.policy_text import expand_query, tokenize

from .conftest import SAMPLE_ENTRIES, FakeEmbedder


@pytest.fixture
def index(fake_embedder: FakeEmbedder, law_folder: Path) -> PolicyIndex:
    return PolicyIndex.build(SAMPLE_ENTRIES, load_folder(law_folder), fake_embedder)


def test_manifest_describes_the_build(index: PolicyIndex) -> None:
    m = index.manifest
    assert m["model"] == "fake-bigram" and m["dim"] == 256
    assert m["entries"] == 4 and m["chunks"] == 5 and m["doc_count"] == 9
    assert m["corpus_hash"] == corpus_hash(SAMPLE_ENTRIES)
    assert m["index_type"] == "IndexFlatIP"
    assert m["built_at"]


def test_alias_finds_its_entry(index: PolicyIndex) -> None:
    hits = index.search("失业金能领几个月", k=3)
    assert hits[0].item.key == "entry:ui-duration"
    assert [h.rank for h in hits] == [1, 2, 3]
    assert hits[0].score >= hits[1].score


@pytest.mark.parametrize("method", ["bm25", "dense", "hybrid"])
def test_each_method_finds_the_article(index: PolicyIndex, method: str) -> None:
    hits = index.search(
        "具备什么条件的失业人员可以领取失业保险金", k=3, kinds=["article"], method=method
    )  # type: ignore[arg-type]
    assert all(h.item.kind == "article" for h in hits)
    assert hits[0].item.chunk is not None and hits[0].item.chunk.article_label == "第十四条"


def test_audience_filter(index: PolicyIndex) -> None:
    worker = index.search("招残疾人有什么优惠", k=10, audience="worker", kinds=["entry"])
    assert "entry:emp-disabled" not in {h.item.key for h in worker}
    employer = index.search("招残疾人有什么优惠", k=1, audience="employer", kinds=["entry"])
    assert employer[0].item.key == "entry:emp-disabled"


def test_region_filter_and_local_penalty(index: PolicyIndex) -> None:
    national = index.search("失业金一个月多少钱", k=10, region="全国")
    assert all(h.item.region == "全国" for h in national)
    guangdong = index.search("失业金一个月多少钱", k=10, region="广东省")
    assert "entry:gd-ui-amount" in {h.item.key for h in guangdong}
    elsewhere = index.search("失业金一个月多少钱", k=10, region="杭州")
    assert "entry:gd-ui-amount" not in {h.item.key for h in elsewhere}

    # Without a region the local entry ranks lower than when the question names 广东.
    def gd_score(query: str) -> float:
        return next(
            h.score for h in index.search(query, k=10) if h.item.key == "entry:gd-ui-amount"
        )

    named, plain = "广东失业金一个月多少钱", "失业金一个月多少钱"
    assert gd_score(named) > gd_score(plain)
    # The penalty itself: the same question scores the local entry higher with its region.
    assert next(
        h.score
        for h in index.search(plain, k=10, region="广东")
        if h.item.key == "entry:gd-ui-amount"
    ) > gd_score(plain)


def test_empty_query_and_empty_index(index: PolicyIndex, fake_embedder: FakeEmbedder) -> None:
    assert index.search("   ") == []
    empty = PolicyIndex.build([], [], fake_embedder)
    assert empty.search("失业金") == []


def test_save_load_round_trip(
    index: PolicyIndex, tmp_path: Path, fake_embedder: FakeEmbedder
) -> None:
    index.save(tmp_path / "idx")
    loaded = PolicyIndex.load(
        tmp_path / "idx", fake_embedder, corpus_digest=corpus_hash(SAMPLE_ENTRIES)
    )
    assert [i.key for i in loaded.items] == [i.key for i in index.items]
    assert loaded.items[0].entry == index.items[0].entry
    q = "辞职了能不能领失业金"
    assert [h.item.key for h in loaded.search(q)] == [h.item.key for h in index.search(q)]


def test_missing_index_is_refused(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    with pytest.raises(PolicyIndexMissing) as err:
        PolicyIndex.load(tmp_path / "nothing", fake_embedder, corpus_digest="x")
    msg = str(err.value)
    assert "python -m knowledge.policy_index build" in msg
    assert "政策索引尚未建立" in msg and "rebuild" in msg
    with pytest.raises(PolicyIndexMissing):
        get_policy_index(tmp_path / "nothing2")


def test_stale_index_is_refused(
    index: PolicyIndex, tmp_path: Path, fake_embedder: FakeEmbedder
) -> None:
    index.save(tmp_path / "idx")
    with pytest.raises(PolicyIndexStale) as err:
        PolicyIndex.load(tmp_path / "idx", fake_embedder, corpus_digest="another-corpus")
    assert "政策索引已过期" in str(err.value)
    assert "python -m knowledge.policy_index build" in str(err.value)


def test_changed_documents_make_the_index_stale(
    tmp_path: Path, fake_embedder: FakeEmbedder, law_folder: Path
) -> None:
    from knowledge.policy_index import documents_fingerprint

    idx = PolicyIndex.build(
        SAMPLE_ENTRIES,
        load_folder(law_folder),
        fake_embedder,
        documents_dir=str(law_folder),
        documents_digest=documents_fingerprint(law_folder),
    )
    idx.save(tmp_path / "idx")
    digest = corpus_hash(SAMPLE_ENTRIES)
    PolicyIndex.load(tmp_path / "idx", fake_embedder, corpus_digest=digest)
    (law_folder / "新规定.md").write_text("# 新规定\n\n第一条 内容。\n", encoding="utf-8")
    with pytest.raises(PolicyIndexStale) as err:
        PolicyIndex.load(tmp_path / "idx", fake_embedder, corpus_digest=digest)
    assert f"python -m knowledge.policy_index build --laws {law_folder}" in str(err.value)


@pytest.mark.parametrize("other", [FakeEmbedder(name="another-model"), FakeEmbedder(dim=128)])
def test_mismatched_model_is_refused(
    index: PolicyIndex, tmp_path: Path, other: FakeEmbedder
) -> None:
    index.save(tmp_path / "idx")
    with pytest.raises(PolicyIndexMismatch) as err:
        PolicyIndex.load(tmp_path / "idx", other, corpus_digest=corpus_hash(SAMPLE_ENTRIES))
    assert "向量模型不一致" in str(err.value)


def test_corrupt_index_files_are_refused(
    index: PolicyIndex, tmp_path: Path, fake_embedder: FakeEmbedder
) -> None:
    index.save(tmp_path / "idx")
    (tmp_path / "idx" / "faiss.index").unlink()
    with pytest.raises(PolicyIndexMissing):
        PolicyIndex.load(tmp_path / "idx", fake_embedder, corpus_digest=corpus_hash(SAMPLE_ENTRIES))
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text(encoding="utf-8"))
    manifest["format"] = 0
    (tmp_path / "idx" / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(PolicyIndexMismatch):
        PolicyIndex.load(tmp_path / "idx", fake_embedder, corpus_digest=corpus_hash(SAMPLE_ENTRIES))


def test_embedding_cache_only_embeds_new_texts(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    cache = EmbeddingCache(tmp_path / "emb.sqlite3")
    first = cache.encode_passages(fake_embedder, ["甲乙丙", "丁戊己"])
    calls = fake_embedder.calls
    again = cache.encode_passages(fake_embedder, ["丁戊己", "甲乙丙"])
    assert fake_embedder.calls == calls
    assert (again[1] == first[0]).all()
    cache.encode_passages(fake_embedder, ["甲乙丙", "庚辛壬"])
    assert fake_embedder.calls == calls + 1


def test_query_expansion_and_tokens() -> None:
    expanded = expand_query("老板把我开除了")
    assert "用人单位" in expanded and "解除劳动合同" in expanded
    tokens = tokenize("用人单位解除劳动合同的，应当支付经济补偿。")
    assert "用人单位" in tokens and "经济补偿" in tokens
    assert "的" not in tokens and "，" not in tokens


def test_bm25_postings_match_rank_bm25(index: PolicyIndex) -> None:
    import numpy as np

    for query in ("失业保险金 领取 条件 条件", "残疾人 优惠", "没有这个词"):
        tokens = tokenize(query)
        expected = np.asarray(index._bm25.get_scores(tokens), dtype=np.float32)  # type: ignore[union-attr]
        assert np.allclose(index.bm25_scores(tokens), expected, atol=1e-5)


def test_build_command_writes_a_loadable_index(
    tmp_path: Path, law_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from knowledge.policy_index import build_index
    from knowledge.settings import get_settings

    monkeypatch.setenv("JOBBOT_DATA_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    try:
        embedder = FakeEmbedder()
        built = build_index(law_folder, tmp_path / "idx", embedder=embedder)
        assert (tmp_path / "var" / "cache" / "embeddings.sqlite3").is_file()
        assert built.manifest["chunks"] == 5
        assert built.manifest["documents_dir"] == str(law_folder.resolve())
        loaded = get_policy_index(tmp_path / "idx", embedder=embedder)
        assert loaded is get_policy_index(tmp_path / "idx", embedder=embedder)  # loaded once
        hit = loaded.search("具备什么条件的失业人员可以领取失业保险金", k=1, kinds=["article"])[0]
        assert hit.item.chunk is not None and hit.item.chunk.article_label == "第十四条"
    finally:
        get_settings.cache_clear()


def test_cited_articles_are_parsed() -> None:
    text = "依据《中华人民共和国劳动法》第四十四条和《失业保险条例》第17条，另见《某办法》。"
    assert cited_articles(text) == [("劳动法", "第四十四条"), ("失业保险条例", "第十七条")]


CASE_MD = """# 某公司停发失业待遇案

<!-- INFO END -->

## 基本案情

王某在某厂干了三年，工厂倒闭后去社保机构申请，被告知只能领半年。

## 案例分析

依照《测试失业保险条例》第十七条，缴费满一年不足五年的最长可领十二个月。
"""


def test_a_document_citing_a_law_routes_to_the_cited_article(
    fake_embedder: FakeEmbedder, law_folder: Path
) -> None:
    """A case that matches the question lends routing weight to the article it cites."""
    from dataclasses import replace

    from knowledge.policy_index import DEFAULT_FUSION

    (law_folder / "某公司停发失业待遇案.md").write_text(CASE_MD, encoding="utf-8")
    index = PolicyIndex.build((), load_folder(law_folder), fake_embedder)
    assert index._router_cites == [(("测试失业保险条例", "第十七条"),)]
    query = "工厂倒闭后社保机构说只能领半年"

    def article_17(fusion: object) -> float:
        hits = index.search(query, k=20, kinds=["article"], fusion=fusion)  # type: ignore[arg-type]
        return next(h.score for h in hits if h.item.chunk and h.item.chunk.article_no == 17)

    on = replace(DEFAULT_FUSION, entry_route_weight=0.15, law_route_weight=0.15)
    off = replace(DEFAULT_FUSION, entry_route_weight=0.0, law_route_weight=0.0)
    assert article_17(on) > article_17(off) + 0.1


def test_diversify_counts_only_laws() -> None:
    """A case section keeps its rank but does not stand in for a law."""
    from knowledge.policy_index import _diversify

    laws = ["A", "A", "case", "A", "B", "C"]
    is_law = [True, True, False, True, True, True]
    # Three laws wanted in the first four: the case does not count, so B and C move up.
    assert _diversify([0, 1, 2, 3, 4, 5], laws, is_law, window=4, min_laws=3)[:4] == [0, 1, 4, 5]


def test_diversify_never_moves_the_first_result() -> None:
    """Even when every place of the window must go to a new law, the best result stays."""
    from knowledge.policy_index import _diversify

    laws = ["case", "A", "A", "B", "C", "D", "E"]
    is_law = [False, True, True, True, True, True, True]
    assert _diversify(list(range(7)), laws, is_law, window=5, min_laws=5)[:5] == [0, 1, 3, 4, 5]
    # A law first: it stays, and the next places go to laws not shown yet.
    laws = ["A", "A", "B", "A", "C", "D", "E"]
    is_law = [True] * 7
    assert _diversify(list(range(7)), laws, is_law, window=5, min_laws=5)[:5] == [0, 2, 4, 5, 6]


def test_route_last_puts_the_procedure_law_at_the_end_of_the_window() -> None:
    from knowledge.policy_index import _route_last

    laws = ["A", "B", "A", "C", "A", "P", "P"]
    is_law = [True] * 7
    assert _route_last(list(range(7)), laws, is_law, "P", window=5) == [0, 1, 2, 3, 5, 4, 6]
    # Already shown, or absent: nothing moves.
    assert _route_last([5, 0, 1, 2, 3, 4], laws, is_law, "P", window=5) == [5, 0, 1, 2, 3, 4]
    assert _route_last([0, 1, 2], laws, is_law, "Q", window=5) == [0, 1, 2]


DISPUTE_LAW_MD = """# 测试劳动争议调解仲裁法

<!-- INFO END -->

## 第一章 总则

第一条 为了公正及时地解决劳动争议，制定本法。

第五条 发生劳动争议，当事人可以协商，也可以申请调解；不愿调解的，可以向仲裁委员会申请仲裁。

第二十七条 劳动争议申请仲裁的时效期间为一年。
"""


PROCEDURE_LAW = "测试劳动争议调解仲裁法"


def _dispute_search(
    fake_embedder: FakeEmbedder, law_folder: Path, **terms: object
) -> Callable[..., list[str]]:
    """``search(query, **fusion)`` → the laws of the first five articles, over the test laws
    plus the procedure law, with only the dispute rule (no rewrites or hints that could lift
    the procedure law) and ``terms`` on top."""
    from dataclasses import replace

    from knowledge.policy_index import DEFAULT_FUSION
    from knowledge.policy_text import load_terms

    (law_folder / f"{PROCEDURE_LAW}.md").write_text(DISPUTE_LAW_MD, encoding="utf-8")
    built = PolicyIndex.build((), load_folder(law_folder), fake_embedder)
    rules = replace(
        load_terms(), rewrites={}, law_hints={}, dispute_law=PROCEDURE_LAW, dispute_cues=()
    )
    index = PolicyIndex(
        built.items,
        built.passage_owner,
        built.vectors,
        fake_embedder,
        built.manifest,
        terms=replace(rules, **terms),  # type: ignore[arg-type]
    )

    def search(query: str, **fusion: object) -> list[str]:
        cfg = replace(DEFAULT_FUSION, diversify_laws=1, **fusion)  # type: ignore[arg-type]
        return [h.item.law for h in index.search(query, k=5, kinds=["article"], fusion=cfg)]

    return search


def test_a_dispute_question_also_gets_the_procedure_law(
    fake_embedder: FakeEmbedder, law_folder: Path
) -> None:
    """拖欠 … 怎么办 is a dispute: the procedure law is among the first five, even when its
    words do not match the question; a plain question gets no such place."""
    from dataclasses import replace

    from knowledge.policy_text import load_terms

    terms = replace(load_terms(), dispute_law=PROCEDURE_LAW, dispute_cues=("拖欠",))
    assert terms.is_dispute("失业保险金被拖欠了怎么办")
    assert not terms.is_dispute("失业保险金能领多久")
    laws = _dispute_search(fake_embedder, law_folder, dispute_cues=("拖欠",))
    assert laws("失业保险金被拖欠了怎么办")[-1] == PROCEDURE_LAW
    assert PROCEDURE_LAW not in laws("失业保险金被拖欠了怎么办", dispute_route=False)
    assert PROCEDURE_LAW not in laws("失业保险金能领多久")


def test_a_question_the_dispute_trial_rules_answer_is_a_dispute(
    fake_embedder: FakeEmbedder, law_folder: Path
) -> None:
    """No complaint words, but a signal law (the court's rules for dispute trials) ranks
    among the first five: the procedure law takes the last place; without the signal, not."""
    question = "失业保险金能领多久"
    plain = _dispute_search(fake_embedder, law_folder)(question)
    assert PROCEDURE_LAW not in plain
    signal = frozenset({plain[0]})
    signalled = _dispute_search(fake_embedder, law_folder, dispute_signal_laws=signal)(question)
    assert signalled[:4] == plain[:4]
    assert signalled[-1] == PROCEDURE_LAW
    # A signal law that is not among the first five changes nothing.
    elsewhere = frozenset({"某部不在前五的法"})
    assert (
        _dispute_search(fake_embedder, law_folder, dispute_signal_laws=elsewhere)(question) == plain
    )
