"""Fine-tuning the policy embedder on the corpus's own question → answer pairs."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from knowledge.documents import DocumentChunk
from knowledge.embeddings.finetune import (
    RECIPE,
    RECORD,
    _batches,
    ensure,
    is_current,
    pairs_digest,
    training_pairs,
)
from knowledge.settings import get_settings
from tests.policy.conftest import make_entry

ENTRIES = (
    make_entry(
        "ui-duration",
        "失业保险金领取期限",
        "缴费满一年不足五年的，最长领取十二个月。",
        aliases=("失业金能领几个月", "交了三年社保失业金领多久"),
        document="失业保险条例",
        article="第十七条",
    ),
    make_entry(
        "contract-written",
        "订立书面劳动合同",
        "用工之日起一个月内应当订立书面劳动合同。",
        aliases=("老板不给签合同怎么办",),
        document="中华人民共和国劳动合同法",
        article="第八十二条",
    ),
)
CHUNK = DocumentChunk(
    id="ui-17",
    law="失业保险条例",
    article_no=17,
    article_label="第十七条",
    chapter="第三章 失业保险待遇",
    text="失业人员失业前所在单位和本人累计缴费满1年不足5年的，领取失业保险金的期限最长为12个月。",
    source_path="laws/ui.md",
)


def test_pairs_link_each_alias_to_its_entry_and_to_cited_articles_found() -> None:
    pairs = training_pairs(ENTRIES, [CHUNK])
    by_question: dict[str, list[str]] = {}
    for q, p in pairs:
        by_question.setdefault(q, []).append(p)
    assert set(by_question) == {
        "失业金能领几个月",
        "交了三年社保失业金领多久",
        "老板不给签合同怎么办",
    }
    ui = by_question["失业金能领几个月"]
    assert len(ui) == 2 and "失业保险金领取期限" in ui[0] and "《失业保险条例》" in ui[1]
    # The contract law is not indexed: its alias pairs with the entry only.
    assert len(by_question["老板不给签合同怎么办"]) == 1
    assert len(pairs) == len(set(pairs))


def test_batches_never_repeat_a_passage_and_keep_every_usable_pair() -> None:
    pairs = [(f"q{i}", f"p{i % 7}") for i in range(60)]
    batches = _batches(pairs, 8, random.Random(0))
    for batch in batches:
        passages = [p for _, p in batch]
        assert len(passages) == len(set(passages)) and 1 < len(batch) <= 8
    kept = [pair for batch in batches for pair in batch]
    assert len(kept) == len(set(kept)) and len(kept) >= 60 - 7  # only singletons are dropped


def test_digest_follows_pairs_and_recipe(tmp_path: Path) -> None:
    pairs = training_pairs(ENTRIES)
    digest = pairs_digest("base", pairs, RECIPE)
    assert digest == pairs_digest("base", list(pairs), RECIPE)
    assert digest != pairs_digest("base", pairs[:-1], RECIPE)
    assert digest != pairs_digest("base", pairs, replace(RECIPE, epochs=RECIPE.epochs + 1))
    assert not is_current(tmp_path, digest)  # no record
    (tmp_path / RECORD).write_text(json.dumps({"digest": digest}), encoding="utf-8")
    assert is_current(tmp_path, digest) and not is_current(tmp_path, "other")
    (tmp_path / RECORD).write_text("{broken", encoding="utf-8")
    assert not is_current(tmp_path, digest)


@pytest.mark.slow
def test_training_pulls_questions_towards_their_answers(tmp_path: Path) -> None:
    from knowledge.embeddings import SentenceTransformerEmbedder

    base = Path(get_settings().embedding_model)
    if not base.is_dir():
        pytest.skip(f"base embedding model {base} not built (make knowledge)")
    entries = ENTRIES
    pairs = training_pairs(entries, [CHUNK])
    questions = list(dict.fromkeys(q for q, _ in pairs))
    answers = [next(p for q2, p in pairs if q2 == q) for q in questions]

    def margin(model: SentenceTransformerEmbedder) -> float:
        qv = model.encode_queries(questions)
        pv = model.encode_passages(answers)
        sims = qv @ pv.T
        own = np.diag(sims)
        other = (sims.sum(axis=1) - own) / (len(answers) - 1)
        return float(np.mean(own - other))

    before = margin(SentenceTransformerEmbedder(str(base)))
    out = tmp_path / "tuned-policy"
    recipe = replace(RECIPE, epochs=4, batch_size=4, learning_rate=5e-5)
    assert ensure(base, out, entries, [CHUNK], recipe) is True
    assert ensure(base, out, entries, [CHUNK], recipe) is False  # current: not retrained
    record = json.loads((out / RECORD).read_text(encoding="utf-8"))
    assert record["pairs"] == len(pairs) and record["recipe"]["epochs"] == 4
    after = margin(SentenceTransformerEmbedder(str(out)))
    assert after > before, (before, after)
