"""`make bench`: retrieval, job search, Rasa latency and speech benchmarks, one table each."""

from __future__ import annotations

import sys

from scripts.steps import run_steps

STEPS = [
    ("Policy index and query latency", "bench.policy", []),
    ("Job search at 20k and 1M postings", "bench.jobs", []),
    ("Rasa parse and REST turn latency", "bench.rasa_latency", []),
    ("Speech recognition and kiosk", "bench.speech", []),
]

if __name__ == "__main__":
    sys.exit(run_steps("make bench", STEPS))
