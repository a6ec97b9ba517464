"""Job search benchmark (part of `make bench`): build time, memory, filtered semantic search
latency p50/p95 and approximate-vs-exact recall at 20,000 and 1,000,000 postings.

    python -m bench.jobs                       # both sizes, real embedding model
    python -m bench.jobs --sizes 20000 --queries 100

Postings come from the seeded generator into a fresh SQLite file per size under
var/bench/. Vectors are cached by text hash in settings.jobs_index_dir, so only distinct
texts are ever encoded, and only once. Query vectors are encoded before timing (their
encoding cost is reported on its own); search latency covers filters, FAISS ranking,
relaxation and fetching the page's postings from the store.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from bench.report import current_rss_mb, peak_rss_mb, percentiles_ms, print_table, write_report
from knowledge.jobs import JobQuery, JobSearch, JobStore, get_gazetteer
from knowledge.jobs.generator import PROFILES, generate_into
from knowledge.logs import setup_logging
from knowledge.settings import get_settings

PHRASES = (
    "{t}",
    "找{t}的活",
    "{t} 包吃住",
    "{t} 无经验可",
    "{t} 五险一金",
    "附近的{t}工作",
    "{t} 退役军人优先",
)
CITIES = (
    "北京",
    "上海",
    "广州",
    "深圳",
    "杭州",
    "成都",
    "武汉",
    "南京",
    "苏州",
    "重庆",
    "西安",
    "长沙",
    "郑州",
    "天津",
    "宁波",
    "合肥",
    "青岛",
    "东莞",
    "厦门",
    "昆明",
)


def make_queries(n: int, seed: int = 99) -> list[JobQuery]:
    """Seeded worker queries: city and job type always, district/salary/employment type sometimes."""
    rng = random.Random(seed)
    gazetteer = get_gazetteer()
    types = list(PROFILES)
    queries = []
    for _ in range(n):
        city = rng.choice(CITIES)
        job_type = rng.choice(types)
        districts = gazetteer.districts.get(city, ())
        queries.append(
            JobQuery(
                city=city,
                district=rng.choice(districts) if districts and rng.random() < 0.3 else None,
                job_types=(job_type,),
                min_monthly_salary=rng.choice((3000, 4000, 5000, 6000, 8000))
                if rng.random() < 0.3
                else None,
                employment_type=rng.choice(("全职", "兼职", "日结", "小时工"))
                if rng.random() < 0.2
                else None,
                text=rng.choice(PHRASES).format(t=job_type),
            )
        )
    return queries


def bench_size(
    size: int,
    embedder: Any,
    queries: list[JobQuery],
    workdir: Path,
    index_dir: Path,
    nprobes: list[int],
) -> dict[str, Any]:
    db = workdir / f"jobs_{size}.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    rss_start = current_rss_mb()
    store = JobStore(f"sqlite:///{db}")
    started = time.perf_counter()
    inserted = generate_into(store, size, seed=7, as_of=date.today())
    generate_s = time.perf_counter() - started

    search = JobSearch(store, embedder, index_dir, approximate=None)
    cached_before = len(search.vectors.hashes)
    started = time.perf_counter()
    search.refresh()  # load columns, encode distinct texts not cached yet, train IVF
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    # The approximate index over the distinct texts; nlist ≈ √n as FAISS suggests for small sets.
    search.vectors.build_ivf(nlist=max(8, int(np.sqrt(len(search.vectors.hashes)))))
    ivf_s = time.perf_counter() - started
    distinct = len({search.vectors.hashes[r] for r in np.unique(search._cols.text_row)})  # noqa: SLF001
    rss_index = current_rss_mb()

    today = date.today()
    for q in queries:  # query vectors once, outside the timings
        search.encode_query(_text(q))
    timings: dict[str, list[float]] = {"exact": [], "approx": []}
    relaxed = 0
    for mode, flag in (("exact", False), ("approx", True)):
        for q in queries:
            t0 = time.perf_counter()
            result = search.search(q, today=today, approximate=flag)
            timings[mode].append(time.perf_counter() - t0)
            relaxed += bool(result.relaxed) and mode == "exact"
    recall = {}
    for nprobe in nprobes:
        hits = total = 0
        for q in queries:
            positions = search.candidates(q, today)
            if len(positions) == 0:
                continue
            vector = search.encode_query(_text(q))
            exact = search.rank(positions, vector, 10, approximate=False)[:10]
            approx = search.rank(positions, vector, 10, approximate=True, nprobe=nprobe)[:10]
            hits += len(set(exact.tolist()) & set(approx.tolist()))
            total += len(exact)
        recall[nprobe] = round(hits / max(total, 1), 4)
    cols = search._cols  # noqa: SLF001
    columns_mb = sum(getattr(cols, f).nbytes for f in cols.__dataclass_fields__) / 2**20
    row = {
        "postings": size,
        "inserted": inserted,
        "distinct_texts": distinct,
        "encoded_now": len(search.vectors.hashes) - cached_before,
        "generate_insert_s": round(generate_s, 1),
        "load_encode_index_s": round(load_s, 1),
        "ivf_train_s": round(ivf_s, 2),
        "ivf_nlist": search.vectors.ivf.nlist if search.vectors.ivf else 0,
        "exact": percentiles_ms(timings["exact"]),
        "approx": percentiles_ms(timings["approx"]),
        "recall_at_10_by_nprobe": recall,
        "relaxed_queries": relaxed,
        "index_columns_mb": round(columns_mb, 1),
        "vectors_mb": round(search.vectors.memory_bytes() / 2**20, 1),
        "rss_delta_mb": round(rss_index - rss_start, 1),
        "rss_mb": current_rss_mb(),
    }
    store.close()
    del search, store
    gc.collect()
    return row


def _text(query: JobQuery) -> str:
    from knowledge.jobs.search import semantic_text

    return semantic_text(query)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20000,1000000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--nprobe", default="1,2,4,8")
    parser.add_argument(
        "--embedder", default=None, help="embedding model (default: settings.embedding_model)"
    )
    args = parser.parse_args(argv)
    settings = get_settings()
    setup_logging("WARNING")
    from knowledge.embeddings import get_embedder

    started = time.perf_counter()
    embedder = get_embedder(args.embedder)
    model_load_s = time.perf_counter() - started
    queries = make_queries(args.queries)
    sample = list(dict.fromkeys(_text(q) for q in queries))[:20]
    encode_times = []
    for text in sample:
        t0 = time.perf_counter()
        embedder.encode_queries([text])
        encode_times.append(time.perf_counter() - t0)
    workdir = settings.data_dir / "bench"
    workdir.mkdir(parents=True, exist_ok=True)
    rows = [
        bench_size(
            int(s),
            embedder,
            queries,
            workdir,
            Path(settings.jobs_index_dir),
            [int(n) for n in args.nprobe.split(",")],
        )
        for s in args.sizes.split(",")
    ]
    table = []
    for r in rows:
        best = next((n for n, v in sorted(r["recall_at_10_by_nprobe"].items()) if v >= 0.95), None)
        table.append(
            {
                "postings": f"{r['postings']:,}",
                "texts": r["distinct_texts"],
                "build s (gen+insert / load+encode+ivf)": f"{r['generate_insert_s']} / {r['load_encode_index_s']}",
                "exact p50/p95 ms": f"{r['exact']['p50_ms']} / {r['exact']['p95_ms']}",
                "ivf p50/p95 ms": f"{r['approx']['p50_ms']} / {r['approx']['p95_ms']}",
                "recall@10 by nprobe": " ".join(
                    f"{n}:{v}" for n, v in r["recall_at_10_by_nprobe"].items()
                ),
                "nprobe≥0.95": best,
                "index MB (cols+vec)": f"{r['index_columns_mb']}+{r['vectors_mb']}",
                "RSS Δ/now MB": f"{r['rss_delta_mb']} / {r['rss_mb']}",
            }
        )
    print_table("Job search: filtered semantic search (query vectors precomputed)", table)
    encode = percentiles_ms(encode_times)
    print(
        f"query encoding ({embedder.name}): p50 {encode['p50_ms']} ms, p95 {encode['p95_ms']} ms "
        f"(model load {model_load_s:.1f} s); peak RSS {peak_rss_mb()} MB"
    )
    path = write_report(
        "jobs_bench",
        {
            "embedder": embedder.name,
            "dim": embedder.dim,
            "model_load_s": round(model_load_s, 1),
            "query_encoding": encode,
            "queries": args.queries,
            "sizes": rows,
            "peak_rss_mb": peak_rss_mb(),
            "target": "p95 < 50 ms at 1,000,000 postings; approximate recall@10 vs exact ≥ 0.95",
        },
    )
    print(f"report: {path}")
    at_1m = [r for r in rows if r["postings"] >= 1_000_000]
    ok = all(r["exact"]["p95_ms"] < 50 for r in at_1m) and all(
        max(r["recall_at_10_by_nprobe"].values()) >= 0.95 for r in rows
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
