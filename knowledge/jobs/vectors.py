"""Embedding vectors of posting texts, cached by text hash, and the FAISS indexes over them.

Postings that share a text (generated data, re-posted ads) share one vector, so a million
postings need only as many encodings as they have distinct texts. Vectors persist under
``settings.jobs_index_dir`` keyed by the embedder's name and dimension.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import faiss
import numpy as np

log = logging.getLogger(__name__)

IVF_MIN_VECTORS = 1000  # below this an approximate index buys nothing over exact search


class TextVectors:
    """Distinct texts' vectors with exact (IndexFlatIP) and approximate (IVF) FAISS indexes.

    Row ``i`` of :attr:`vectors` is the text whose hash is ``hashes[i]``; FAISS ids are rows.
    """

    def __init__(self, dim: int, model: str, directory: Path | None = None) -> None:
        self.dim = dim
        self.model = model
        self.directory = directory
        self.hashes: list[str] = []
        self.row_of: dict[str, int] = {}
        self.vectors = np.zeros((0, dim), dtype=np.float32)
        self.flat = faiss.IndexFlatIP(dim)
        self.ivf: faiss.IndexIVFFlat | None = None
        self.nprobe = 8
        self._lock = threading.Lock()
        if directory is not None:
            self._load()

    # -- persistence --------------------------------------------------------------------
    @property
    def _stem(self) -> str:
        return re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{Path(self.model).name or self.model}-{self.dim}")

    def _paths(self) -> tuple[Path, Path]:
        assert self.directory is not None
        return (
            self.directory / f"{self._stem}.vectors.npy",
            self.directory / f"{self._stem}.manifest.json",
        )

    def _load(self) -> None:
        vec_path, manifest_path = self._paths()
        if not (vec_path.is_file() and manifest_path.is_file()):
            return
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        vectors = np.load(vec_path)
        if (
            manifest.get("model") != self.model
            or manifest.get("dim") != self.dim
            or len(manifest["hashes"]) != len(vectors)
        ):
            log.warning(
                "job vector cache %s does not match model %s/%d; rebuilding",
                vec_path,
                self.model,
                self.dim,
            )
            return
        self.hashes = list(manifest["hashes"])
        self.row_of = {h: i for i, h in enumerate(self.hashes)}
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.flat.add(self.vectors)

    def save(self) -> None:
        if self.directory is None:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        vec_path, manifest_path = self._paths()
        tmp = vec_path.with_suffix(".tmp.npy")
        np.save(tmp, self.vectors)
        tmp.replace(vec_path)
        manifest = {
            "model": self.model,
            "dim": self.dim,
            "count": len(self.hashes),
            "hashes": self.hashes,
        }
        tmp_manifest = manifest_path.with_suffix(".tmp")
        tmp_manifest.write_text(json.dumps(manifest), encoding="utf-8")
        tmp_manifest.replace(manifest_path)

    # -- adding ---------------------------------------------------------------------------
    def ensure(
        self,
        texts_by_hash: dict[str, str] | Callable[[list[str]], dict[str, str]],
        hashes: Sequence[str],
        encode: Callable[[list[str]], np.ndarray],
        batch_size: int = 256,
    ) -> int:
        """Encode the texts of ``hashes`` not cached yet; returns how many were encoded.

        ``texts_by_hash`` maps hash → text, or is a function fetching them for a list of hashes.
        """
        missing = [h for h in dict.fromkeys(hashes) if h not in self.row_of]
        if not missing:
            return 0
        lookup = texts_by_hash(missing) if callable(texts_by_hash) else texts_by_hash
        encoded = 0
        for start in range(0, len(missing), batch_size):
            part = missing[start : start + batch_size]
            vectors = encode([lookup[h] for h in part])
            self.add(part, vectors)
            encoded += len(part)
            log.info("job texts encoded: %d/%d", encoded, len(missing))
        self.save()
        return encoded

    def add(self, hashes: Sequence[str], vectors: np.ndarray) -> None:
        """Incremental add to the cache and both indexes (IVF needs no retraining)."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        with self._lock:
            keep = [i for i, h in enumerate(hashes) if h not in self.row_of]
            if not keep:
                return
            vectors = vectors[keep]
            for i in keep:
                self.row_of[hashes[i]] = len(self.hashes)
                self.hashes.append(hashes[i])
            self.vectors = np.concatenate([self.vectors, vectors]) if len(self.vectors) else vectors
            self.flat.add(vectors)
            if self.ivf is not None:
                self.ivf.add(vectors)

    def build_ivf(
        self, nlist: int | None = None, nprobe: int | None = None, seed: int = 1234
    ) -> bool:
        """Train the approximate index over the cached vectors; False when too few vectors."""
        count = len(self.vectors)
        if count < IVF_MIN_VECTORS and nlist is None:
            self.ivf = None
            return False
        nlist = nlist or max(4, min(int(4 * math.sqrt(count)), count // 39))
        quantizer = faiss.IndexFlatIP(self.dim)
        ivf = faiss.IndexIVFFlat(quantizer, self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
        ivf.cp.seed = seed
        ivf.train(self.vectors)
        ivf.add(self.vectors)
        self.ivf = ivf
        self.nprobe = nprobe or max(1, nlist // 4)
        return True

    # -- searching ------------------------------------------------------------------------
    def search(
        self,
        query: np.ndarray,
        allowed: np.ndarray | None,
        k: int,
        approximate: bool = False,
        nprobe: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` rows (and inner products) for ``query`` among ``allowed`` rows (None: all)."""
        q = np.ascontiguousarray(query, dtype=np.float32).reshape(1, self.dim)
        k = max(1, min(k, len(self.hashes) if allowed is None else len(allowed)))
        selector = (
            faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64))
            if allowed is not None
            else None
        )
        # faiss's generated stubs do not know the keyword constructors of its parameter classes.
        if approximate and self.ivf is not None:
            ivf_params = (
                faiss.SearchParametersIVF(sel=selector, nprobe=nprobe or self.nprobe)  # type: ignore[call-arg]
                if selector
                else faiss.SearchParametersIVF(nprobe=nprobe or self.nprobe)  # type: ignore[call-arg]
            )
            scores, ids = self.ivf.search(q, k, params=ivf_params)
        else:
            flat_params = faiss.SearchParameters(sel=selector) if selector else None  # type: ignore[call-arg]
            scores, ids = self.flat.search(q, k, params=flat_params)
        found = ids[0] >= 0
        return ids[0][found], scores[0][found]

    def memory_bytes(self) -> int:
        ivf = (
            0
            if self.ivf is None
            else self.ivf.ntotal * self.dim * 4 + self.ivf.nlist * self.dim * 4
        )
        return int(self.vectors.nbytes * 2 + ivf)  # cache array + flat index copy + IVF lists
