"""Policy retrieval benchmark (part of ``make bench``).

Measures, over the laws in ``../shared/data/laws`` (or ``--laws``) plus the project corpus:
index build throughput (chunks/s, embedding a sample without the cache, and the full
build with it), query latency p50/p95 with the model loaded (hybrid search and the full
answer), and resident memory. Prints a table and writes ``reports/policy_bench.json``.

Usage: ``python -m bench.policy [--laws DIR] [--queries 200] [--sample 200]``
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import resource
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def _rss_mb() -> float:
    """Current resident set size in MiB (Linux /proc; falls back to the peak)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _pct(values: Sequence[float], q: float) -> float:
    return round(float(np.percentile(values, q)) * 1000, 2) if values else 0.0


def run(laws: Path, n_queries: int, sample: int, out: Path | None) -> dict[str, Any]:
    from knowledge.answers import answer_question
    from knowledge.documents import load_folder
    from knowledge.embeddings import get_policy_embedder
    from knowledge.policy_corpus import load_corpus
    from knowledge.policy_index import EmbeddingCache, PolicyIndex, _chunk_item, passages_for
    from knowledge.settings import get_settings

    rss_start = _rss_mb()
    t0 = time.perf_counter()
    embedder = get_policy_embedder()
    embedder.encode_queries(["预热"])
    load_s = time.perf_counter() - t0
    rss_model = _rss_mb()

    t0 = time.perf_counter()
    chunks = load_folder(laws) if laws.is_dir() else []
    entries = load_corpus()
    parse_s = time.perf_counter() - t0

    # Embedding throughput without the cache, on a random sample of chunks.
    rng = random.Random(7)
    picked = rng.sample(chunks, min(sample, len(chunks)))
    texts = [t for c in picked for t in passages_for(_chunk_item(c))]
    t0 = time.perf_counter()
    if texts:
        embedder.encode_passages(texts)
    embed_s = time.perf_counter() - t0

    cache = EmbeddingCache(Path(get_settings().data_dir) / "cache" / "embeddings.sqlite3")
    t0 = time.perf_counter()
    index = PolicyIndex.build(entries, chunks, embedder, cache)
    build_s = time.perf_counter() - t0
    rss_index = _rss_mb()

    # Queries: the corpus' own alias questions (project-written), shuffled.
    questions = [a for e in entries for a in e.aliases] or [c.text[:30] for c in chunks]
    rng.shuffle(questions)
    questions = (questions * (n_queries // max(1, len(questions)) + 1))[:n_queries]
    for q in questions[:5]:
        index.search(q)  # warm caches (jieba, BLAS)
    search_t: list[float] = []
    retrieval_t: list[float] = []
    answer_t: list[float] = []
    for q in questions:
        index.clear_query_cache()
        t1 = time.perf_counter()
        index.search(q, k=8)  # embeds the question: what a user waits for
        search_t.append(time.perf_counter() - t1)
        t1 = time.perf_counter()
        index.search(q, k=8)  # query vector cached: BM25, FAISS and fusion only
        retrieval_t.append(time.perf_counter() - t1)
        index.clear_query_cache()
        t1 = time.perf_counter()
        answer_question(q, index)
        answer_t.append(time.perf_counter() - t1)

    report = {
        "model": embedder.name,
        "items": len(index),
        "passages": index.manifest["passages"],
        "law_chunks": len(chunks),
        "corpus_entries": len(entries),
        "model_load_s": round(load_s, 2),
        "parse_chunks_per_s": round(len(chunks) / parse_s, 1) if parse_s else None,
        "embed_sample_passages": len(texts),
        "embed_passages_per_s": round(len(texts) / embed_s, 2) if embed_s else None,
        "full_build_cached_s": round(build_s, 2),
        "queries": len(questions),
        "search_ms": {"p50": _pct(search_t, 50), "p95": _pct(search_t, 95)},
        "retrieval_only_ms": {"p50": _pct(retrieval_t, 50), "p95": _pct(retrieval_t, 95)},
        "answer_ms": {"p50": _pct(answer_t, 50), "p95": _pct(answer_t, 95)},
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cpu_count": os.cpu_count(),
        "rss_mb": {
            "start": round(rss_start, 1),
            "model_loaded": round(rss_model, 1),
            "index_loaded": round(rss_index, 1),
            "peak": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        },
    }
    print(
        f"\nPolicy retrieval benchmark ({report['model']}): {report['items']} items, "
        f"{report['passages']} passages"
    )
    rows = [
        ("parse documents", f"{report['parse_chunks_per_s']} chunks/s"),
        (
            "embed (uncached sample)",
            f"{report['embed_passages_per_s']} passages/s ({len(texts)} passages)",
        ),
        ("full build (with cache)", f"{report['full_build_cached_s']} s"),
        (
            "search latency",
            f"p50 {report['search_ms']['p50']} ms, p95 {report['search_ms']['p95']} ms",
        ),
        (
            "retrieval without model",
            f"p50 {report['retrieval_only_ms']['p50']} ms, "
            f"p95 {report['retrieval_only_ms']['p95']} ms",
        ),
        (
            "answer latency",
            f"p50 {report['answer_ms']['p50']} ms, p95 {report['answer_ms']['p95']} ms",
        ),
        (
            "resident memory",
            f"{report['rss_mb']['index_loaded']} MiB "
            f"(model {report['rss_mb']['model_loaded']} MiB, peak {report['rss_mb']['peak']} MiB)",
        ),
    ]
    rows.append(
        ("machine load (1 min)", f"{report['load_average_1m']} on {report['cpu_count']} CPUs")
    )
    for name, value in rows:
        print(f"  {name:26} {value}")
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
        print(f"written {out}")
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Policy retrieval benchmark")
    parser.add_argument("--laws", type=Path, default=ROOT.parent / "shared" / "data" / "laws")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--sample",
        type=int,
        default=100,
        help="chunks embedded without the cache to measure throughput",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "policy_bench.json")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    run(args.laws, args.queries, args.sample, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
