"""Rasa latency: `/model/parse` and end-to-end REST turns (Rasa + action server), p50/p95.

Boots the real stack on free ports unless --rasa-url is given.
"""

from __future__ import annotations

import argparse
import itertools
import time

import httpx

from bench.report import percentiles_ms, print_table, write_report
from bench.stack import rasa_url_or_stack

# A realistic mix: small talk, job search with slots, policy questions, stations.
TURNS = [
    "你好",
    "我想找工作",
    "杭州",
    "保安",
    "失业保险金怎么领",
    "招高校毕业生有什么补贴",
    "附近有就业服务站吗",
    "谢谢",
    "再见",
    "有没有日结的活",
]


def measure(rasa_url: str, turns: int) -> dict[str, dict[str, float]]:
    parse_s: list[float] = []
    turn_s: list[float] = []
    with httpx.Client(base_url=rasa_url, timeout=60.0) as http:
        for i, text in zip(range(turns), itertools.cycle(TURNS), strict=False):
            started = time.perf_counter()
            http.post("/model/parse", json={"text": text}).raise_for_status()
            parse_s.append(time.perf_counter() - started)
            sender = f"bench-{i // len(TURNS)}"
            started = time.perf_counter()
            http.post(
                "/webhooks/rest/webhook", json={"sender": sender, "message": text}
            ).raise_for_status()
            turn_s.append(time.perf_counter() - started)
    return {"model_parse": percentiles_ms(parse_s), "rest_turn": percentiles_ms(turn_s)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rasa-url", default="")
    parser.add_argument("--turns", type=int, default=200)
    args = parser.parse_args()
    with rasa_url_or_stack(args.rasa_url, "bench-rasa-") as rasa_url:
        results = measure(rasa_url, args.turns)
    print_table(
        f"Rasa latency over {args.turns} turns",
        [{"what": name, **values} for name, values in results.items()],
    )
    write_report("rasa_latency", results)


if __name__ == "__main__":
    main()
