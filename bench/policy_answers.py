"""Which corpus entry answers a question, and when the assistant says it is not sure (part of ``make eval``).

Held-out questions written for evaluation only (``bench/data/policy_answer_questions.yml``,
each labelled with the entries a person would accept) are answered by
:func:`knowledge.answers.answer_question` against the built index at three confidence
thresholds in one run (the default, ``settings.policy_score_threshold``, and one step either
side): answered with an accepted entry, answered wrongly, or "not sure", and then whether one
of the offered topics was right. Prints a table and writes ``reports/policy_answers.json``.

Usage: ``python -m bench.policy_answers``
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from bench.report import print_table, write_report

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "bench" / "data" / "policy_answer_questions.yml"
STEP = 0.1


def load_questions(path: Path = QUESTIONS) -> list[dict[str, Any]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [{"q": str(r["q"]), "ids": {f"entry:{i}" for i in r["ids"]}} for r in data["questions"]]


def score(index: Any, questions: Sequence[dict[str, Any]], threshold: float) -> dict[str, Any]:
    """Shares answered right, answered wrongly, unsure, and unsure with a right topic offered."""
    from knowledge.answers import answer_question

    right = wrong = unsure = offered = 0
    for row in questions:
        a = answer_question(row["q"], index, threshold=threshold)
        if a.kind == "unsure":
            unsure += 1
            keys = {f"entry:{k}" for k in _offered_ids(index, a)}
            offered += bool(keys & row["ids"])
        elif a.source_key in row["ids"]:
            right += 1
        else:
            wrong += 1
    n = len(questions) or 1
    return {
        "right": round(right / n, 3),
        "wrong": round(wrong / n, 3),
        "unsure": round(unsure / n, 3),
        "unsure_right_topic_offered": round(offered / n, 3),
        "n": len(questions),
    }


def _offered_ids(index: Any, answer: Any) -> set[str]:
    """Entry ids behind the topics an unsure answer offers (matched by their question)."""
    out = set()
    for it in index.items:
        if it.entry is not None:
            asked = it.entry.aliases[0] if it.entry.aliases else it.entry.title
            if any(r.question == asked for r in answer.related):
                out.add(it.entry.id)
    return out


def run() -> dict[str, Any]:
    from knowledge.policy_index import get_policy_index
    from knowledge.settings import get_settings

    index = get_policy_index()
    questions = load_questions()
    default = get_settings().policy_score_threshold
    thresholds = [round(default - STEP, 2), default, round(default + STEP, 2)]
    by_threshold = {str(t): score(index, questions, t) for t in thresholds}
    report = {
        "model": index.manifest.get("model"),
        "questions": len(questions),
        "default_threshold": default,
        "thresholds": by_threshold,
    }
    print_table(
        f"Policy answers on {len(questions)} held-out questions, model {report['model']}",
        [
            {
                "threshold": f"{t} (default)" if float(t) == default else t,
                "right": m["right"],
                "wrong": m["wrong"],
                "unsure": m["unsure"],
                "unsure, right topic offered": m["unsure_right_topic_offered"],
            }
            for t, m in by_threshold.items()
        ],
    )
    print(f"written {write_report('policy_answers', report)}")
    return report


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING)
    run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
