"""Shared helpers for benchmarks: percentiles, intervals, resident memory, tables and JSON reports."""

from __future__ import annotations

import json
import resource
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

REPORTS = Path(__file__).resolve().parent.parent / "reports"


def percentiles_ms(seconds: Sequence[float]) -> dict[str, float]:
    """p50/p95/mean of durations given in seconds, in milliseconds."""
    values = np.asarray(seconds, dtype=float) * 1000.0
    return {
        "p50_ms": round(float(np.percentile(values, 50)), 2),
        "p95_ms": round(float(np.percentile(values, 95)), 2),
        "mean_ms": round(float(values.mean()), 2),
        "n": int(values.size),
    }


def peak_rss_mb() -> float:
    """Peak resident memory of this process (Linux reports kilobytes)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)


def current_rss_mb() -> float:
    """Current resident memory of this process."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024.0, 1)
    return peak_rss_mb()


def proportion_interval(hits: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of ``hits / n`` (scipy): how far a recall on few questions can move."""
    from scipy.stats import binomtest

    if n <= 0:
        return (0.0, 1.0)
    ci = binomtest(hits, n).proportion_ci(confidence_level=confidence, method="wilson")
    return (round(float(ci.low), 3), round(float(ci.high), 3))


def print_table(title: str, rows: Sequence[dict[str, Any]]) -> None:
    """Print rows of equal keys as an aligned table."""
    print(f"\n## {title}")
    if not rows:
        print("(no rows)")
        return
    headers = list(rows[0].keys())
    cells = [[str(r.get(h, "")) for h in headers] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))


def write_report(name: str, data: dict[str, Any]) -> Path:
    """Write reports/<name>.json with a timestamp."""
    REPORTS.mkdir(exist_ok=True)
    path = REPORTS / f"{name}.json"
    payload = {"generated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **data}
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
    return path
