"""Run a list of report-producing steps in order, keep going past a failure, summarise at the end."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Sequence

from scripts.supervisor import MAIN_PYTHON, ROOT


def run_steps(title: str, steps: Sequence[tuple[str, str, Sequence[str]]]) -> int:
    """Each step is (label, python module, args). Returns 1 if any step failed."""
    results: list[tuple[str, int, float]] = []
    for label, module, args in steps:
        print(f"\n===== {title}: {label} (python -m {module}) =====", flush=True)
        started = time.monotonic()
        rc = subprocess.call([str(MAIN_PYTHON), "-m", module, *args], cwd=ROOT)
        results.append((label, rc, time.monotonic() - started))
    print(f"\n===== {title}: summary =====")
    for label, rc, seconds in results:
        print(f"  {'ok    ' if rc == 0 else 'FAILED'}  {label:<32} {seconds:7.0f} s")
    print("  reports: reports/*.json")
    return 1 if any(rc for _, rc, _ in results) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use scripts.evaluate or scripts.benchmark")
