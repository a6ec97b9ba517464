"""Hybrid policy index: FAISS over sentence embeddings plus BM25 over jieba tokens, fused.

It holds the project's corpus entries and the operator's documents (law articles and
sections), filters by region and audience, and is persisted with a manifest (model,
dimension, corpus hash, build time). A missing, stale or mismatched index is refused
with a message that names the command that rebuilds it::

    python -m knowledge.policy_index build [--laws DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import logging
import re
import sqlite3
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from knowledge.documents import (
    NATIONAL,
    DocumentChunk,
    chinese_to_int,
    int_to_chinese,
    iter_document_files,
    load_folder,
    normalize_region,
    short_law_name,
)
from knowledge.policy_corpus import (
    CORPUS_DIR,
    Citation,
    PolicyEntry,
    corpus_hash,
    load_corpus,
    parse_entry,
)
from knowledge.policy_text import LegalTerms, expand_query, load_terms, tokenize

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
REBUILD_COMMAND = "python -m knowledge.policy_index build"
#: Above this many passages the exact inner-product index gives way to HNSW.
EXACT_INDEX_LIMIT = 50_000
Kind = Literal["entry", "article", "section"]
#: Cosine band of multilingual-e5-small between off-topic and clearly on-topic questions
#: (calibrated with ``bench/policy_eval.py --calibrate`` on the corpus' own alias questions).
DEFAULT_CONFIDENCE_BAND = (0.80, 0.92)


# --- Errors -----------------------------------------------------------------------------


class PolicyIndexError(RuntimeError):
    """The policy index cannot be used; the message says why and how to rebuild it."""

    reason_zh = "政策索引不可用"

    def __init__(self, detail: str, index_dir: Path | str, command: str = REBUILD_COMMAND) -> None:
        self.detail = detail
        self.index_dir = Path(index_dir)
        self.command = command
        super().__init__(
            f"{self.reason_zh}（{detail}）。请运行 `{command}` 重建索引。 / "
            f"Policy index at {self.index_dir} is unusable ({detail}); "
            f"rebuild it with `{command}`."
        )


class PolicyIndexMissing(PolicyIndexError):
    """No index has been built in the configured folder."""

    reason_zh = "政策索引尚未建立"


class PolicyIndexStale(PolicyIndexError):
    """The corpus or the documents changed since the index was built."""

    reason_zh = "政策索引已过期"


class PolicyIndexMismatch(PolicyIndexError):
    """The index was built with another embedding model or dimension, or another format."""

    reason_zh = "政策索引与当前向量模型不一致"


# --- Items and hits ---------------------------------------------------------------------


@dataclass(frozen=True)
class IndexedItem:
    """Something the index can return: a corpus entry or a document chunk."""

    key: str
    kind: Kind
    region: str  # normalised: 全国, 广东, 郑州 …
    audience: str  # worker | employer | both
    effective: str
    entry: PolicyEntry | None = None
    chunk: DocumentChunk | None = None

    @property
    def title(self) -> str:
        if self.entry is not None:
            return self.entry.title
        assert self.chunk is not None
        c = self.chunk
        return (
            f"《{c.short_law}》{c.article_label}"
            if c.is_article
            else f"{c.law} {c.article_label}".strip()
        )

    @property
    def law(self) -> str:
        """Short name of the law this item cites first (for law-level routing and evaluation)."""
        if self.chunk is not None:
            return self.chunk.short_law
        assert self.entry is not None
        return short_law_name(self.entry.citations[0].document) if self.entry.citations else ""

    @property
    def citations(self) -> tuple[Citation, ...]:
        if self.entry is not None:
            return self.entry.citations
        assert self.chunk is not None
        c = self.chunk
        return (Citation(document=c.short_law, article=c.article_label if c.is_article else ""),)


@dataclass(frozen=True)
class SearchHit:
    """One ranked result with the scores that produced it."""

    item: IndexedItem
    score: float  # fused score used for ranking
    dense: float  # best cosine between the query and the item's passages
    bm25: float  # BM25 score, divided by the best BM25 score of the query
    rank: int


@dataclass(frozen=True)
class FusionConfig:
    """How dense and BM25 evidence are combined (see ``bench/policy_eval.py``)."""

    method: Literal["weighted", "rrf"] = "weighted"
    dense_weight: float = 0.6
    bm25_weight: float = 0.4
    rrf_k: int = 60
    expand_queries: bool = True
    #: Prior for laws that the question's words hint at (``law_hints``) and for laws that
    #: the best-matching corpus entries cite; both only add, never remove.
    law_route_weight: float = 0.15
    #: Extra for the exact articles that the best-matching corpus entries cite. Off: on the
    #: project's own held-out aliases (``bench/policy_finetune_cv.py``, 3 folds, n=554) 0.15
    #: → 0 lifts article R@10 0.755 → 0.785 and R@5 0.525 → 0.608 for the fine-tuned model
    #: (base model: R@10 0.758 both, R@5 0.548 → 0.607) at equal law R@5; once the embedder
    #: maps questions to articles itself, the cited article crowds out better ones.
    entry_route_weight: float = 0.0
    #: Share of a law's best chunk score that its other chunks inherit (law-level context).
    law_context_weight: float = 0.2
    #: Local documents score lower unless the question or filter names their region.
    local_penalty: float = 0.1
    #: How many best-matching routers (corpus entries, and documents such as cases that
    #: cite laws, by their best section) route to the laws and articles they cite.
    route_entries: int = 3
    #: The first ``diversify_window`` hits span at least ``diversify_laws`` laws (1: off).
    #: 5, chosen on the fine-tune cross-validation (``bench/policy_finetune_cv.py
    #: --diversify-laws 4``, 177 entries, n=773, fine-tuned hybrid) against 4: law R@5
    #: 0.947 → 0.976, article R@10 0.783 → 0.780, but article R@5 0.642 → 0.590 (the
    #: first five then hold one article per law). On LawBench, measured once after the
    #: choice (seed-0 model), the article cost is larger: law R@5 0.908 → 0.969, article
    #: R@10 0.489 → 0.443, R@5 0.267 → 0.183. Mean over fine-tune seeds 0, 1, 2
    #: (``bench/policy_eval.py --seeds 0,1,2``): law R@5 0.959 (0.969, 0.954, 0.954),
    #: article R@10 0.440 (0.443, 0.435, 0.443). Only laws count (articles, and entries
    #: by the law they cite first): a case or a notice does not stand in for a law. The
    #: first result never moves.
    diversify_laws: int = 5
    diversify_window: int = 5
    #: When the question is a dispute with an employer (``dispute_route`` in
    #: ``legal_terms.yml``), the dispute-procedure law takes the last place of the window
    #: if none of its items is there.
    dispute_route: bool = True
    #: Also treat a question as a dispute when a law of ``dispute_route.signal_laws`` (the
    #: court's rules for labour-dispute trials) is in the window. Added after reading which
    #: laws LawBench's misses ranked (not their questions), so its LawBench gain is not a
    #: held-out figure; on the project's own alias questions it changes nothing.
    dispute_signal: bool = True


DEFAULT_FUSION = FusionConfig()


# --- Embedding cache --------------------------------------------------------------------


class EmbeddingCache:
    """Passage embeddings on disk, keyed by model and text hash, so rebuilds only embed changes."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS emb (model TEXT, hash TEXT, dim INTEGER, vec BLOB,"
                " PRIMARY KEY (model, hash))"
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha1(text.encode("utf-8")).hexdigest()

    def encode_passages(
        self, embedder: Any, texts: Sequence[str], batch_size: int = 32
    ) -> np.ndarray:
        """Embeddings of ``texts``, computing only those not cached yet."""
        keys = [self.key(t) for t in texts]
        found: dict[str, np.ndarray] = {}
        with self._connect() as db:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = db.execute(
                    f"SELECT hash, dim, vec FROM emb WHERE model = ? AND hash IN ({marks})",
                    [embedder.name, *chunk],
                ).fetchall()
                for h, dim, blob in rows:
                    if dim == embedder.dim:
                        found[h] = np.frombuffer(blob, dtype=np.float32)
        todo = sorted({k for k in keys if k not in found})
        if todo:
            by_key = {self.key(t): t for t in texts}
            todo_texts = [by_key[k] for k in todo]
            # Embed longest first in batches of similar length: less padding, faster.
            order = sorted(range(len(todo_texts)), key=lambda i: len(todo_texts[i]))
            vecs = np.zeros((len(todo_texts), embedder.dim), dtype=np.float32)
            for start in range(0, len(order), 256):
                sel = order[start : start + 256]
                vecs[sel] = embedder.encode_passages(
                    [todo_texts[i] for i in sel], batch_size=batch_size
                )
                with self._connect() as db:
                    db.executemany(
                        "INSERT OR REPLACE INTO emb VALUES (?, ?, ?, ?)",
                        [(embedder.name, todo[i], embedder.dim, vecs[i].tobytes()) for i in sel],
                    )
                log.info("embedded %d/%d new passages", min(start + 256, len(order)), len(order))
            for k, v in zip(todo, vecs, strict=True):
                found[k] = v
        if not keys:
            return np.zeros((0, embedder.dim), dtype=np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32)


# --- Building blocks --------------------------------------------------------------------


def _entry_item(e: PolicyEntry) -> IndexedItem:
    return IndexedItem(
        key=f"entry:{e.id}",
        kind="entry",
        region=normalize_region(e.region),
        audience=e.audience,
        effective=e.effective,
        entry=e,
    )


def _chunk_item(c: DocumentChunk) -> IndexedItem:
    return IndexedItem(
        key=f"doc:{c.id}",
        kind="article" if c.is_article else "section",
        region=normalize_region(c.region),
        audience="both",
        effective=c.effective,
        chunk=c,
    )


def passages_for(item: IndexedItem) -> list[str]:
    """Texts embedded for an item: an entry's answer and each alias; a chunk with its context."""
    if item.entry is not None:
        e = item.entry
        cites = "；".join(c.label() for c in e.citations)
        out = [f"{e.title}\n{e.answer}\n{cites}", e.title]
        out.extend(e.aliases)
        return list(dict.fromkeys(out))
    assert item.chunk is not None
    c = item.chunk
    head = f"《{c.short_law}》"
    if c.chapter:
        head += f" {c.chapter}"
    if c.is_article:
        head += f" {c.article_label}"
    return [f"{head}\n{c.text}"]


def bm25_text(item: IndexedItem) -> str:
    """Text BM25 sees for an item (title, context and body)."""
    if item.entry is not None:
        e = item.entry
        return " ".join([e.title, *e.aliases, e.answer, *e.groups])
    assert item.chunk is not None
    c = item.chunk
    return f"{c.short_law} {c.chapter} {c.text}"


def documents_fingerprint(folder: Path | str | None) -> str:
    """Digest of every supported file (name and bytes) under ``folder``; "" for none."""
    if not folder:
        return ""
    root = Path(folder)
    if not root.is_dir():
        return ""
    h = hashlib.sha256()
    for p in iter_document_files(root):
        h.update(str(p.relative_to(root)).encode("utf-8"))
        h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def _mentions_region(text: str, region: str) -> bool:
    return bool(region) and region != NATIONAL and region in text


def _region_ok(item: IndexedItem, region: str | None) -> bool:
    if region is None:
        return True
    want = normalize_region(region)
    if want == NATIONAL:
        return item.region == NATIONAL
    return item.region in (NATIONAL, want) or want in item.region or item.region in want


def _audience_ok(item: IndexedItem, audience: str | None) -> bool:
    return audience in (None, "both") or item.audience in ("both", audience)


# --- The index --------------------------------------------------------------------------


class PolicyIndex:
    """Dense + BM25 retrieval over corpus entries and document chunks."""

    def __init__(
        self,
        items: Sequence[IndexedItem],
        passage_owner: np.ndarray,
        vectors: np.ndarray,
        embedder: Any,
        manifest: dict[str, Any],
        faiss_index: Any | None = None,
        terms: LegalTerms | None = None,
        bm25_tokens: Sequence[Sequence[str]] | None = None,
    ) -> None:
        from rank_bm25 import BM25Okapi

        self.items = tuple(items)
        self.passage_owner = np.asarray(passage_owner, dtype=np.int64)
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.embedder = embedder
        self.manifest = manifest
        self.terms = terms or load_terms()
        self._faiss = faiss_index if faiss_index is not None else self._make_faiss(self.vectors)
        tokens = (
            bm25_tokens if bm25_tokens is not None else [tokenize(bm25_text(i)) for i in self.items]
        )
        self._bm25_tokens = [list(t) for t in tokens]
        # BM25Okapi divides by zero on an empty corpus; an index with no items answers nothing.
        self._bm25 = BM25Okapi([t or ["_"] for t in self._bm25_tokens]) if self.items else None
        self._postings = _bm25_postings(self._bm25) if self._bm25 is not None else {}
        self._lock = threading.Lock()
        self._law_of = [i.law for i in self.items]
        # Items that stand for a law when results are spread over laws: corpus entries and
        # articles; sections of cases and notices do not.
        self._is_law_item = [i.chunk is None or i.chunk.is_article for i in self.items]
        self._laws = sorted(set(self._law_of))
        self._law_id = {law: n for n, law in enumerate(self._laws)}
        self._law_idx = np.array([self._law_id[x] for x in self._law_of], dtype=np.int64)
        self._kind_arr = np.array([i.kind for i in self.items], dtype=object)
        self._audience_arr = np.array([i.audience for i in self.items], dtype=object)
        self._region_arr = np.array([i.region for i in self.items], dtype=object)
        self._chunk_mask = np.array([i.chunk is not None for i in self.items], dtype=bool)
        self._entry_idx = np.flatnonzero(~self._chunk_mask) if self.items else np.zeros(0, np.int64)
        self._qcache: dict[str, np.ndarray] = {}
        self._local_regions = sorted({i.region for i in self.items if i.region != NATIONAL})
        self._by_key = {it.key: n for n, it in enumerate(self.items)}
        self._article_key: dict[tuple[str, str], int] = {}
        for n, it in enumerate(self.items):
            if it.chunk is not None and it.chunk.is_article:
                self._article_key.setdefault((it.chunk.short_law, it.chunk.article_label), n)
        # Routers: items whose citations route to laws and articles. Corpus entries score
        # by their own row, citing documents by their best section (rows of that law).
        doc_cites = self._documents_citing_laws()
        self._router_rows = [np.array([e]) for e in self._entry_idx] + [
            np.flatnonzero(self._law_idx == doc) for doc in doc_cites
        ]
        self._router_cites: list[tuple[tuple[str, str], ...]] = [
            tuple((short_law_name(c.document), c.article.strip()) for c in it.entry.citations)
            for it in (self.items[int(e)] for e in self._entry_idx)
            if it.entry is not None
        ] + list(doc_cites.values())

    def _documents_citing_laws(self) -> dict[int, tuple[tuple[str, str], ...]]:
        """Law id of each non-law document (a case, a notice) → indexed articles it cites.

        Such a document routes like a corpus entry: when one of its sections matches the
        question, the laws and articles it rests on get the routing bonus.
        """
        cited: dict[int, dict[tuple[str, str], None]] = {}
        for it in self.items:
            c = it.chunk
            if c is None or c.is_article:
                continue
            for law, article in cited_articles(c.text):
                if law != c.short_law and (law, article) in self._article_key:
                    cited.setdefault(self._law_id[c.short_law], {})[(law, article)] = None
        return {doc: tuple(cites) for doc, cites in cited.items()}

    # -- construction --

    @staticmethod
    def _make_faiss(vectors: np.ndarray) -> Any:
        import faiss

        dim = vectors.shape[1] if vectors.ndim == 2 and vectors.shape[0] else 1
        index: Any
        if vectors.shape[0] > EXACT_INDEX_LIMIT:
            index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efSearch = 128
        else:
            index = faiss.IndexFlatIP(dim)
        if vectors.shape[0]:
            index.add(vectors)
        return index

    @classmethod
    def build(
        cls,
        entries: Sequence[PolicyEntry],
        chunks: Sequence[DocumentChunk],
        embedder: Any,
        cache: EmbeddingCache | None = None,
        *,
        corpus_digest: str | None = None,
        documents_dir: str = "",
        documents_digest: str = "",
        calibrate: bool = True,
    ) -> PolicyIndex:
        """Embed and index ``entries`` and ``chunks`` (nothing is written to disk)."""
        items = [_entry_item(e) for e in entries] + [_chunk_item(c) for c in chunks]
        texts: list[str] = []
        owner: list[int] = []
        for n, it in enumerate(items):
            for t in passages_for(it):
                texts.append(t)
                owner.append(n)
        t0 = time.perf_counter()
        if cache is not None:
            vectors = cache.encode_passages(embedder, texts)
        else:
            vectors = (
                embedder.encode_passages(texts)
                if texts
                else np.zeros((0, embedder.dim), np.float32)
            )
        embed_s = time.perf_counter() - t0
        manifest = {
            "format": FORMAT_VERSION,
            "model": model_id(embedder.name),
            "dim": int(embedder.dim),
            "corpus_hash": corpus_digest if corpus_digest is not None else corpus_hash(entries),
            "documents_dir": documents_dir,
            "documents_hash": documents_digest,
            "entries": len(entries),
            "chunks": len(chunks),
            "doc_count": len(items),
            "passages": len(texts),
            "index_type": "IndexFlatIP" if len(texts) <= EXACT_INDEX_LIMIT else "IndexHNSWFlat",
            "embed_seconds": round(embed_s, 3),
            "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        index = cls(items, np.asarray(owner), vectors, embedder, manifest)
        if calibrate:
            from knowledge.policy_calibration import calibrate as run_calibration

            cal = run_calibration(index)
            if cal is not None:
                manifest["confidence_band"] = [cal.low, cal.high]
                manifest["calibration"] = asdict(cal)
        return index

    def save(self, folder: Path | str) -> Path:
        """Write the index and its manifest to ``folder`` (atomically replaces the manifest)."""
        import faiss

        root = Path(folder)
        root.mkdir(parents=True, exist_ok=True)
        np.save(root / "vectors.npy", self.vectors)
        np.save(root / "owner.npy", self.passage_owner)
        faiss.write_index(self._faiss, str(root / "faiss.index"))
        with (root / "items.jsonl").open("w", encoding="utf-8") as f:
            for it, toks in zip(self.items, self._bm25_tokens, strict=True):
                row: dict[str, Any] = {
                    "key": it.key,
                    "kind": it.kind,
                    "region": it.region,
                    "audience": it.audience,
                    "effective": it.effective,
                    "tokens": toks,
                }
                if it.entry is not None:
                    raw = asdict(it.entry)
                    raw["sources"] = raw.pop("citations")
                    row["entry"] = raw
                if it.chunk is not None:
                    row["chunk"] = asdict(it.chunk)
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        tmp = root / "manifest.json.tmp"
        tmp.write_text(json.dumps(self.manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        tmp.replace(root / "manifest.json")
        return root

    @classmethod
    def load(
        cls,
        folder: Path | str,
        embedder: Any,
        *,
        corpus_digest: str | None = None,
        check_documents: bool = True,
    ) -> PolicyIndex:
        """Load a saved index, refusing one that is missing, stale or built for another model.

        Args:
            folder: the index folder (``settings.policy_index_dir``).
            embedder: the query embedder; its ``name`` and ``dim`` must match the manifest.
            corpus_digest: the current corpus hash (default: computed from ``knowledge/policies``).
            check_documents: also compare the documents folder recorded at build time.

        Raises:
            PolicyIndexMissing, PolicyIndexStale, PolicyIndexMismatch.
        """
        import faiss

        root = Path(folder)
        manifest_path = root / "manifest.json"
        if not manifest_path.is_file():
            raise PolicyIndexMissing(f"no manifest.json in {root}", root)
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise PolicyIndexMissing(f"unreadable manifest: {exc}", root) from exc
        docs_dir = manifest.get("documents_dir") or ""
        command = f"{REBUILD_COMMAND} --laws {docs_dir}" if docs_dir else REBUILD_COMMAND
        if manifest.get("format") != FORMAT_VERSION:
            raise PolicyIndexMismatch(
                f"index format {manifest.get('format')} ≠ {FORMAT_VERSION}", root, command
            )
        if manifest.get("model") != model_id(embedder.name) or int(manifest.get("dim", -1)) != int(
            embedder.dim
        ):
            raise PolicyIndexMismatch(
                f"built with model {manifest.get('model')!r} (dim {manifest.get('dim')}), "
                f"now configured {embedder.name!r} (dim {embedder.dim})",
                root,
                command,
            )
        current = corpus_digest if corpus_digest is not None else corpus_hash(load_corpus())
        if manifest.get("corpus_hash") != current:
            raise PolicyIndexStale(
                "the policy corpus changed since the index was built", root, command
            )
        if (
            check_documents
            and docs_dir
            and Path(docs_dir).is_dir()
            and documents_fingerprint(docs_dir) != manifest.get("documents_hash")
        ):
            raise PolicyIndexStale(
                f"documents in {docs_dir} changed since the index was built", root, command
            )
        try:
            vectors = np.load(root / "vectors.npy")
            owner = np.load(root / "owner.npy")
            index = faiss.read_index(str(root / "faiss.index"))
            items: list[IndexedItem] = []
            tokens: list[list[str]] = []
            with (root / "items.jsonl").open(encoding="utf-8") as f:
                for line in f:
                    row = json.loads(line)
                    entry = (
                        parse_entry(row["entry"], row["entry"].get("source_file", ""))
                        if row.get("entry")
                        else None
                    )
                    chunk = DocumentChunk(**row["chunk"]) if row.get("chunk") else None
                    items.append(
                        IndexedItem(
                            key=row["key"],
                            kind=row["kind"],
                            region=row["region"],
                            audience=row["audience"],
                            effective=row["effective"],
                            entry=entry,
                            chunk=chunk,
                        )
                    )
                    tokens.append(row["tokens"])
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
            raise PolicyIndexMissing(f"index files are incomplete: {exc}", root) from exc
        if vectors.shape != (len(owner), manifest["dim"]):
            raise PolicyIndexMismatch("vectors do not match the manifest", root)
        return cls(items, owner, vectors, embedder, manifest, faiss_index=index, bm25_tokens=tokens)

    # -- search --

    def __len__(self) -> int:
        return len(self.items)

    @property
    def confidence_band(self) -> tuple[float, float]:
        """Cosines below the first mean "off topic", above the second "clearly on topic".

        Stored in the manifest when calibrated for the model; E5 defaults otherwise.
        """
        band = self.manifest.get("confidence_band") or DEFAULT_CONFIDENCE_BAND
        return float(band[0]), float(band[1])

    def item_tokens(self, key: str) -> frozenset[str]:
        """BM25 tokens of an item (for answer confidence)."""
        n = self._by_key.get(key)
        return frozenset() if n is None else frozenset(self._bm25_tokens[n])

    def item(self, key: str) -> IndexedItem | None:
        n = self._by_key.get(key)
        return None if n is None else self.items[n]

    def article(self, law: str, article_label: str) -> IndexedItem | None:
        """The chunk for 《law》article_label, if indexed (law as cited, prefix optional)."""
        n = self._article_key.get((short_law_name(law), article_label))
        return None if n is None else self.items[n]

    def dense_scores(self, query_vec: np.ndarray) -> np.ndarray:
        """Per item: the best cosine over its passages (−1 where none was retrieved)."""
        n_items, n_pass = len(self.items), len(self.passage_owner)
        scores = np.full(n_items, -1.0, dtype=np.float32)
        if not n_pass:
            return scores
        k = n_pass if n_pass <= EXACT_INDEX_LIMIT else min(n_pass, 2048)
        sims, ids = self._faiss.search(query_vec.reshape(1, -1).astype(np.float32), k)
        valid = ids[0] >= 0
        np.maximum.at(scores, self.passage_owner[ids[0][valid]], sims[0][valid])
        return scores

    def bm25_scores(self, tokens: Sequence[str]) -> np.ndarray:
        if self._bm25 is None or not tokens:
            return np.zeros(len(self.items), dtype=np.float32)
        # Same sums as BM25Okapi.get_scores, from postings built once: ~50x faster.
        scores = np.zeros(len(self.items), dtype=np.float32)
        for t in tokens:
            posting = self._postings.get(t)
            if posting is not None:
                scores[posting[0]] += posting[1]
        return scores

    def clear_query_cache(self) -> None:
        """Forget cached query vectors (benchmarks measure cold queries)."""
        with self._lock:
            self._qcache.clear()

    def _query_vector(self, text: str) -> np.ndarray:
        vec = self._qcache.get(text)
        if vec is None:
            vec = self.embedder.encode_queries([text])[0]
            with self._lock:
                if len(self._qcache) >= 512:
                    self._qcache.pop(next(iter(self._qcache)))
                self._qcache[text] = vec
        return vec

    def _mask(
        self, region: str | None, audience: str | None, kinds: Iterable[str] | None
    ) -> np.ndarray:
        mask = np.ones(len(self.items), dtype=bool)
        if kinds is not None:
            mask &= np.isin(self._kind_arr, list(kinds))
        if audience not in (None, "both"):
            mask &= np.isin(self._audience_arr, ["both", audience])
        if region is not None:
            want = normalize_region(region)
            if want == NATIONAL:
                mask &= self._region_arr == NATIONAL
            else:
                mask &= (
                    np.array([_region_ok(it, want) for it in self.items], dtype=bool)
                    if len(self.items)
                    else mask
                )
        return mask

    def search(
        self,
        query: str,
        k: int = 5,
        *,
        region: str | None = None,
        audience: str | None = None,
        kinds: Iterable[str] | None = None,
        method: Literal["hybrid", "dense", "bm25"] = "hybrid",
        fusion: FusionConfig = DEFAULT_FUSION,
        exclude: Iterable[str] = (),
    ) -> list[SearchHit]:
        """Rank items for ``query``.

        Args:
            query: the user's question, as typed or transcribed.
            k: how many hits to return.
            region: keep national items plus those of this region (None: all regions,
                local ones ranked lower unless the question names their region).
            audience: ``worker`` or ``employer`` keeps that audience and ``both``.
            kinds: restrict to ``entry``, ``article`` and/or ``section``.
            method: ``hybrid`` (fused), or ``dense`` / ``bm25`` alone (for evaluation).
            fusion: how the evidence is combined (default: the measured best).
            exclude: item keys to leave out entirely (held-out evaluation).
        """
        query = (query or "").strip()
        if not query or not self.items:
            return []
        text = expand_query(query, self.terms) if fusion.expand_queries else query
        n = len(self.items)
        dense = np.full(n, -1.0, dtype=np.float32)
        bm25 = np.zeros(n, dtype=np.float32)
        if method in ("hybrid", "dense"):
            dense = self.dense_scores(self._query_vector(text))
        if method in ("hybrid", "bm25"):
            bm25 = self.bm25_scores(tokenize(text))
        bm_max = float(bm25.max()) if n else 0.0
        bm_norm = bm25 / bm_max if bm_max > 0 else bm25
        mask = self._mask(region, audience, kinds)
        for key in exclude:
            if key in self._by_key:
                # Held out: invisible to ranking and to the routing that reads entries.
                dense[self._by_key[key]] = -1.0
                bm_norm[self._by_key[key]] = 0.0
                mask[self._by_key[key]] = False
        if method == "dense":
            fused = dense.copy()
        elif method == "bm25":
            fused = bm_norm.copy()
        else:
            fused = self._fuse(query, dense, bm_norm, mask, region, fusion)
        fused = np.where(mask, fused, -np.inf)
        finite = np.flatnonzero(np.isfinite(fused))
        order = finite[np.argsort(-fused[finite], kind="stable")].tolist()
        if method == "hybrid" and fusion.diversify_laws > 1:
            order = _diversify(
                order,
                self._law_of,
                self._is_law_item,
                fusion.diversify_window,
                fusion.diversify_laws,
            )
        if method == "hybrid" and fusion.dispute_route and self._is_dispute(query, order, fusion):
            order = _route_last(
                order,
                self._law_of,
                self._is_law_item,
                self.terms.dispute_law,
                fusion.diversify_window,
            )
        return [
            SearchHit(
                item=self.items[i],
                score=float(fused[i]),
                dense=float(dense[i]),
                bm25=float(bm_norm[i]),
                rank=r + 1,
            )
            for r, i in enumerate(order[:k])
        ]

    def _is_dispute(self, query: str, order: Sequence[int], fusion: FusionConfig) -> bool:
        """A dispute by its words, or by the dispute-trial rules ranking among the first laws."""
        if self.terms.is_dispute(query):
            return True
        signal = self.terms.dispute_signal_laws if fusion.dispute_signal else frozenset()
        return bool(signal) and any(
            self._is_law_item[i] and self._law_of[i] in signal
            for i in order[: fusion.diversify_window]
        )

    def _fuse(
        self,
        query: str,
        dense: np.ndarray,
        bm_norm: np.ndarray,
        mask: np.ndarray,
        region: str | None,
        cfg: FusionConfig,
    ) -> np.ndarray:
        n = len(self.items)
        if cfg.method == "rrf":
            fused = np.zeros(n, dtype=np.float32)
            for scores in (dense, bm_norm):
                ranks = np.empty(n, dtype=np.float32)
                ranks[np.argsort(-scores, kind="stable")] = np.arange(1, n + 1)
                fused += 1.0 / (cfg.rrf_k + ranks)
            # Scale to about [0, 1] so the priors below mean the same for both methods.
            fused = fused / (2.0 / (cfg.rrf_k + 1))
        else:
            valid = dense[mask] if mask.any() else dense
            lo = float(np.percentile(valid, 50)) if valid.size else 0.0
            hi = float(valid.max()) if valid.size else 1.0
            # E5 cosines crowd into a narrow band; stretch the upper half to [0, 1].
            dn = np.clip((dense - lo) / (hi - lo), 0.0, 1.0) if hi > lo else np.zeros_like(dense)
            fused = (cfg.dense_weight * dn + cfg.bm25_weight * bm_norm).astype(np.float32)
        fused = fused.astype(np.float32)

        # Local documents rank lower unless the question or the filter names their region.
        if cfg.local_penalty:
            want = normalize_region(region) if region else ""
            local = (self._region_arr != NATIONAL) & (self._region_arr != want)
            if local.any():
                named = np.isin(
                    self._region_arr, [r for r in self._local_regions if _mentions_region(query, r)]
                )
                fused[local & ~named] -= cfg.local_penalty

        # Law-level routing: laws hinted by the question's words, laws that the
        # best-matching corpus entries and citing documents cite, and each law's best chunk
        # lending part of its score to the law's other articles. Only chunks get these;
        # entries compete on their own text.
        law_bonus = np.zeros(len(self._laws), dtype=np.float32)
        hints = self.terms.hinted_laws(query) if cfg.law_route_weight else {}
        if hints:
            top = max(hints.values())
            for law, cnt in hints.items():
                if law in self._law_id:
                    law_bonus[self._law_id[law]] += cfg.law_route_weight * cnt / top
        article_bonus = np.zeros(n, dtype=np.float32)
        if cfg.entry_route_weight or cfg.law_route_weight:
            for weight, cites in self._routers(fused, cfg.route_entries):
                for law, article in cites:
                    if law in self._law_id:
                        law_bonus[self._law_id[law]] += cfg.law_route_weight * 0.5 * weight
                    target = self._article_key.get((law, article))
                    if target is not None:
                        article_bonus[target] += cfg.entry_route_weight * weight
        if cfg.law_context_weight and self._chunk_mask.any():
            candidates = mask & self._chunk_mask
            if candidates.any():
                best_of_law = np.full(len(self._laws), -np.inf, dtype=np.float32)
                np.maximum.at(best_of_law, self._law_idx[candidates], fused[candidates])
                law_bonus += cfg.law_context_weight * np.where(
                    np.isfinite(best_of_law), best_of_law, 0.0
                )
        fused = fused + np.where(self._chunk_mask, law_bonus[self._law_idx], 0.0)
        return (fused + article_bonus).astype(np.float32)

    def _routers(
        self, fused: np.ndarray, count: int
    ) -> list[tuple[float, tuple[tuple[str, str], ...]]]:
        """The ``count`` best routers, each with its score relative to the best.

        Like entries, a citing document routes even when the caller only wants articles
        (evaluation) or filters it out.
        """
        if not self._router_rows:
            return []
        scores = np.array([fused[rows].max() for rows in self._router_rows])
        best = np.argsort(-scores, kind="stable")[:count]
        top = float(scores[best[0]])
        return [
            (float(scores[b]) / top if top > 0 else 0.0, self._router_cites[int(b)]) for b in best
        ]


def cited_articles(text: str) -> list[tuple[str, str]]:
    """``…依据《中华人民共和国劳动法》第四十四条…`` → ``[("劳动法", "第四十四条")]``."""
    out = []
    for law, number in _CITATION.findall(text):
        try:
            out.append((short_law_name(law), f"第{int_to_chinese(chinese_to_int(number))}条"))
        except ValueError:
            continue
    return out


_CITATION = re.compile(r"《([^》]{2,60})》第([零〇一二两三四五六七八九十百千0-9]{1,8})条")


def _bm25_postings(bm25: Any) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per term: the documents containing it and their BM25Okapi term scores."""
    docs: dict[str, list[int]] = {}
    weights: dict[str, list[float]] = {}
    k1, b, avgdl = bm25.k1, bm25.b, bm25.avgdl
    for d, freqs in enumerate(bm25.doc_freqs):
        norm = k1 * (1 - b + b * bm25.doc_len[d] / avgdl)
        for term, tf in freqs.items():
            idf = bm25.idf.get(term) or 0.0
            docs.setdefault(term, []).append(d)
            weights.setdefault(term, []).append(idf * tf * (k1 + 1) / (tf + norm))
    return {
        t: (np.asarray(docs[t], dtype=np.int64), np.asarray(weights[t], dtype=np.float32))
        for t in docs
    }


def _diversify(
    order: list[int], laws: Sequence[str], is_law: Sequence[bool], window: int, min_laws: int
) -> list[int]:
    """Reorder so the first ``window`` results span at least ``min_laws`` laws when possible.

    The best results keep their places; only the last places of the window go to the best
    result of a law not shown yet. One lawyer's citation is one valid answer among several,
    so showing the next law is worth more than a fifth article of the same law. Items with
    ``is_law`` false (case and notice sections) neither count as a law nor get promoted.
    The first result never moves, even when it is no law and ``min_laws`` fills the window:
    an answer rests on it.
    """
    head: list[int] = order[:1]
    rest = list(order[1:])
    while len(head) < window and rest:
        shown = {laws[i] for i in head if is_law[i]}
        if min_laws - len(shown) >= window - len(head):
            pick = next((i for i in rest if is_law[i] and laws[i] not in shown), rest[0])
        else:
            pick = rest[0]
        head.append(pick)
        rest.remove(pick)
    return head + rest


def _route_last(
    order: list[int], laws: Sequence[str], is_law: Sequence[bool], law: str, window: int
) -> list[int]:
    """Put the best item of ``law`` at the last place of the window if none is above it."""
    last = min(window, len(order)) - 1
    if last < 0 or any(laws[i] == law and is_law[i] for i in order[: last + 1]):
        return order
    pick = next((i for i in order[last + 1 :] if laws[i] == law and is_law[i]), None)
    if pick is None:
        return order
    rest = [i for i in order if i != pick]
    return rest[:last] + [pick] + rest[last:]


# --- Process-wide loading and the build command ----------------------------------------

_loaded: dict[str, PolicyIndex] = {}
_load_lock = threading.Lock()


def get_policy_index(folder: Path | str | None = None, embedder: Any | None = None) -> PolicyIndex:
    """The process-wide index from ``settings.policy_index_dir``, loaded once.

    Raises:
        PolicyIndexError: missing, stale or mismatched (not cached, so a rebuild is picked up).
    """
    from knowledge.settings import get_settings

    root = Path(folder) if folder else Path(get_settings().policy_index_dir)
    key = str(root.resolve())
    idx = _loaded.get(key)
    if idx is not None:
        return idx
    with _load_lock:
        idx = _loaded.get(key)
        if idx is None:
            if embedder is None:
                if not (root / "manifest.json").is_file():
                    raise PolicyIndexMissing(f"no manifest.json in {root}", root)
                from knowledge.embeddings import get_policy_embedder

                embedder = get_policy_embedder()
            idx = PolicyIndex.load(root, embedder)
            _loaded[key] = idx
            log.info("policy index loaded from %s: %d items", root, len(idx))
        return idx


def model_id(name: str) -> str:
    """The model as recorded in the manifest: relative to the checkout when inside it,
    so moving or re-cloning the project does not make a good index look mismatched."""
    from knowledge.settings import PROJECT_ROOT

    path = Path(name)
    if path.is_absolute() and path.is_relative_to(PROJECT_ROOT):
        return str(path.relative_to(PROJECT_ROOT))
    return name


def build_index(
    laws_dir: str | Path | None = None,
    out_dir: Path | str | None = None,
    embedder: Any | None = None,
    corpus_dir: Path | str = CORPUS_DIR,
) -> PolicyIndex:
    """Build and save the index from the corpus plus the documents in ``laws_dir``."""
    from knowledge.settings import get_settings

    settings = get_settings()
    if embedder is None:
        from knowledge.embeddings import get_policy_embedder

        embedder = get_policy_embedder()
    entries = load_corpus(corpus_dir)
    docs = str(laws_dir if laws_dir is not None else settings.laws_dir or "")
    chunks = load_folder(docs) if docs else []
    cache = EmbeddingCache(Path(settings.data_dir) / "cache" / "embeddings.sqlite3")
    t0 = time.perf_counter()
    index = PolicyIndex.build(
        entries,
        chunks,
        embedder,
        cache,
        corpus_digest=corpus_hash(entries),
        documents_dir=str(Path(docs).resolve()) if docs else "",
        documents_digest=documents_fingerprint(docs) if docs else "",
    )
    index.manifest["build_seconds"] = round(time.perf_counter() - t0, 3)
    target = Path(out_dir) if out_dir else Path(settings.policy_index_dir)
    index.save(target)
    _loaded.pop(str(target.resolve()), None)
    return index


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m knowledge.policy_index build [--laws DIR] [--out DIR]``."""
    from knowledge.logs import setup_logging
    from knowledge.settings import get_settings

    parser = argparse.ArgumentParser(
        prog="python -m knowledge.policy_index", description="Build or check the policy index."
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="index the corpus and the operator's documents")
    b.add_argument("--laws", default=None, help="documents folder (default: settings.laws_dir)")
    b.add_argument("--out", default=None, help="index folder (default: settings.policy_index_dir)")
    c = sub.add_parser("check", help="load the index and report whether it is usable")
    c.add_argument("--dir", default=None)
    q = sub.add_parser("query", help="ask the index a question")
    q.add_argument("question")
    q.add_argument("-k", type=int, default=5)
    args = parser.parse_args(argv)
    setup_logging(get_settings().log_level)
    if args.cmd == "build":
        t0 = time.perf_counter()
        idx = build_index(args.laws, args.out)
        m = idx.manifest
        print(
            f"built {m['doc_count']} items ({m['entries']} entries, {m['chunks']} chunks, "
            f"{m['passages']} passages) with {m['model']} in {time.perf_counter() - t0:.1f}s "
            f"→ {args.out or get_settings().policy_index_dir}"
        )
        return 0
    try:
        idx = get_policy_index(args.dir if args.cmd == "check" else None)
    except PolicyIndexError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.cmd == "check":
        print(json.dumps(idx.manifest, ensure_ascii=False, indent=2))
        return 0
    for hit in idx.search(args.question, k=args.k):
        print(
            f"{hit.rank}. {hit.score:.3f} (dense {hit.dense:.3f}, bm25 {hit.bm25:.2f}) "
            f"{hit.item.title} [{hit.item.region}]"
        )
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
