"""Out-of-domain rejection: how many general-assistant utterances stay out of job/policy intents.

Posts every utterance of ../shared/data/ood/smp2017_ecdt_task1.tsv (3,069 real requests to a
general assistant, none about employment; never used for training) to Rasa's `/model/parse`
and counts those NOT classified into a job or policy intent above the fallback threshold.
Small talk (greet, goodbye, thank, ...), out_of_scope and nlu_fallback are fine. Also reports
`/model/parse` latency p50/p95 and, from the intent ranking, what other fallback thresholds
would give, to tune the FallbackClassifier.

Target (issue 4): >= 85 %. Boots Rasa on a free port unless --rasa-url is given (a server
started with `--enable-api`).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.report import percentiles_ms, print_table, write_report
from bench.stack import rasa_url_or_stack

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "ood" / "smp2017_ecdt_task1.tsv"
TARGET = 0.85
FALLBACK = "nlu_fallback"
# Intents that would send an off-topic user into a job or policy flow.
DOMAIN_INTENTS = frozenset(
    {
        "search_job",
        "inform",
        "more_results",
        "ask_policy",
        "ask_hiring_policy",
        "check_eligibility",
        "find_service_station",
        "post_vacancy",
        "human_handoff",
    }
)
SWEEP = (0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


@dataclass(frozen=True)
class Parsed:
    """One utterance as Rasa understood it."""

    text: str
    domain: str
    intent: str  # after the FallbackClassifier (may be nlu_fallback)
    top_intent: str  # best real intent from the ranking
    top_confidence: float
    margin: float  # top minus second real intent confidence
    seconds: float

    @property
    def leaked(self) -> bool:
        return self.intent in DOMAIN_INTENTS


def read_utterances(path: Path, limit: int | None) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [
            (r["Sentence"].strip(), r["Tag"].strip())
            for r in csv.DictReader(handle, delimiter="\t")
        ]
    rows = [r for r in rows if r[0]]
    return rows[:limit] if limit else rows


def parse_all(http: httpx.Client, utterances: Iterable[tuple[str, str]]) -> list[Parsed]:
    results: list[Parsed] = []
    for text, domain in utterances:
        started = time.perf_counter()
        response = http.post("/model/parse", json={"text": text})
        elapsed = time.perf_counter() - started
        response.raise_for_status()
        body = response.json()
        ranking = [r for r in body.get("intent_ranking") or [] if r.get("name") != FALLBACK]
        top = ranking[0] if ranking else {"name": body["intent"]["name"], "confidence": 0.0}
        second = ranking[1]["confidence"] if len(ranking) > 1 else 0.0
        results.append(
            Parsed(
                text=text,
                domain=domain,
                intent=body["intent"]["name"],
                top_intent=top["name"],
                top_confidence=float(top["confidence"]),
                margin=float(top["confidence"]) - float(second),
                seconds=elapsed,
            )
        )
    return results


def share_rejected(results: Sequence[Parsed], threshold: float, ambiguity: float) -> float:
    """Share kept out of domain intents if the FallbackClassifier used these thresholds."""
    leaked = sum(
        1
        for r in results
        if r.top_intent in DOMAIN_INTENTS
        and r.top_confidence >= threshold
        and r.margin >= ambiguity
    )
    return 1.0 - leaked / len(results)


def summarise(results: Sequence[Parsed], ambiguity: float) -> dict[str, object]:
    leaked = [r for r in results if r.leaked]
    rejected = 1.0 - len(leaked) / len(results)
    by_domain: dict[str, list[Parsed]] = defaultdict(list)
    for r in results:
        by_domain[r.domain].append(r)
    return {
        "utterances": len(results),
        "rejected_share": round(rejected, 4),
        "target": TARGET,
        "passed": rejected >= TARGET,
        "predicted_intents": dict(Counter(r.intent for r in results).most_common()),
        "leaked_intents": dict(Counter(r.intent for r in leaked).most_common()),
        "by_domain": {
            d: {"n": len(rs), "rejected_share": round(1 - sum(r.leaked for r in rs) / len(rs), 4)}
            for d, rs in sorted(by_domain.items(), key=lambda kv: -len(kv[1]))
        },
        "threshold_sweep": {str(t): round(share_rejected(results, t, ambiguity), 4) for t in SWEEP},
        "model_parse_latency": percentiles_ms([r.seconds for r in results]),
        "leaked_examples": [
            {
                "text": r.text,
                "domain": r.domain,
                "intent": r.intent,
                "confidence": round(r.top_confidence, 3),
            }
            for r in sorted(leaked, key=lambda r: -r.top_confidence)[:40]
        ],
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rasa-url", default="", help="running Rasa server with --enable-api")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--limit", type=int, default=None, help="only the first N utterances")
    parser.add_argument(
        "--ambiguity", type=float, default=0.1, help="ambiguity_threshold for the sweep"
    )
    args = parser.parse_args()
    if not args.data.exists():
        print(f"skipped: {args.data} is absent (the shared evaluation data is not checked out)")
        return 0
    utterances = read_utterances(args.data, args.limit)

    with (
        rasa_url_or_stack(args.rasa_url, "bench-ood-") as rasa_url,
        httpx.Client(base_url=rasa_url, timeout=60.0) as http,
    ):
        results = parse_all(http, utterances)

    summary = summarise(results, args.ambiguity)
    latency = summary["model_parse_latency"]
    assert isinstance(latency, dict)
    print_table(
        "Out-of-domain utterances (SMP2017-ECDT task 1)",
        [
            {"metric": "utterances", "value": summary["utterances"]},
            {
                "metric": "not in a job/policy intent",
                "value": summary["rejected_share"],
                "target": TARGET,
            },
            {"metric": "/model/parse p50 ms", "value": latency["p50_ms"]},
            {"metric": "/model/parse p95 ms", "value": latency["p95_ms"]},
        ],
    )
    print_table(
        "Where the leaks went",
        [{"intent": k, "count": v} for k, v in summary["leaked_intents"].items()],  # type: ignore[union-attr]
    )
    print_table(
        "By source domain (worst first)",
        sorted(
            ({"domain": d, **v} for d, v in summary["by_domain"].items()),  # type: ignore[union-attr]
            key=lambda row: row["rejected_share"],
        )[:12],
    )
    print_table(
        f"If the fallback threshold were ... (ambiguity {args.ambiguity})",
        [{"threshold": t, "rejected_share": v} for t, v in summary["threshold_sweep"].items()],  # type: ignore[union-attr]
    )
    path = write_report("nlu_ood", {"rasa_url": args.rasa_url, "data": str(args.data), **summary})
    print(f"\nreport: {path}")
    return 0 if summary["passed"] else 2


if __name__ == "__main__":
    sys.exit(main())
