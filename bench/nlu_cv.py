"""NLU quality: `rasa test nlu` with 5-fold cross-validation; intent and entity weighted F1.

Targets (issue 4): intent F1 (weighted) >= 0.90, entity F1 >= 0.85.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from bench.report import REPORTS, print_table, write_report

ROOT = Path(__file__).resolve().parent.parent
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
INTENT_TARGET = 0.90
ENTITY_TARGET = 0.85


def weighted_f1(report_file: Path) -> float | None:
    if not report_file.exists():
        return None
    report = json.loads(report_file.read_text(encoding="utf-8"))
    avg = report.get("weighted avg") or report.get("micro avg") or {}
    return round(float(avg.get("f1-score", 0.0)), 4)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    out = REPORTS / "nlu_cv"
    out.mkdir(parents=True, exist_ok=True)
    cmd = [
        str(RASA), "test", "nlu",
        "--nlu", "nlu",
        "--config", "bot/config.yml",
        "--cross-validation", "--folds", str(args.folds),
        "--out", str(out),
        "--no-plot",
    ]  # fmt: skip
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(ROOT)}
    rc = subprocess.call(cmd, cwd=ROOT, env=env)
    if rc != 0:
        print("rasa test nlu failed", file=sys.stderr)
        return rc
    intent = weighted_f1(out / "intent_report.json")
    entities = {
        path.stem.removesuffix("_report"): weighted_f1(path)
        for path in sorted(out.glob("*_report.json"))
        if path.name not in ("intent_report.json", "response_selection_report.json")
    }
    best_entity = max((v for v in entities.values() if v is not None), default=None)
    rows = [{"metric": "intent F1 (weighted)", "value": intent, "target": INTENT_TARGET}]
    rows += [
        {"metric": f"entity F1 ({name})", "value": f1, "target": ENTITY_TARGET}
        for name, f1 in entities.items()
    ]
    print_table(f"NLU {args.folds}-fold cross-validation", rows)
    write_report(
        "nlu_cv",
        {"folds": args.folds, "intent_f1_weighted": intent, "entity_f1_weighted": entities,
         "entity_f1_best": best_entity, "command": " ".join(cmd)},
    )  # fmt: skip
    ok = intent is not None and intent >= INTENT_TARGET and (best_entity or 0) >= ENTITY_TARGET
    return 0 if ok else 2


if __name__ == "__main__":
    sys.exit(main())
