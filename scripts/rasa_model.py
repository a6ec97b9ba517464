"""Train the Rasa model only when `bot/` or `nlu/` changed, decided by a content hash.

Usage: python -m scripts.rasa_model [--print-path] [--force]
The model lands in models/jobbot-<hash>.tar.gz; an unchanged project reuses it.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"
TRAINING_INPUTS = ("bot/config.yml", "bot/components", "bot/domain", "bot/data", "nlu")
RASA_BIN = ROOT / ".venv-rasa" / "bin" / "rasa"


def content_hash() -> str:
    """Hash of every file Rasa trains on (paths and bytes), stable across machines."""
    digest = hashlib.sha256()
    for item in TRAINING_INPUTS:
        path = ROOT / item
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if file.suffix not in (".yml", ".yaml", ".txt", ".json", ".py") or not file.exists():
                continue
            digest.update(str(file.relative_to(ROOT)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def model_path(hash_: str | None = None) -> Path:
    return MODELS / f"jobbot-{hash_ or content_hash()}.tar.gz"


def train(force: bool = False) -> Path:
    """Train unless a model for the current content exists; return the model path."""
    MODELS.mkdir(exist_ok=True)
    (ROOT / "var").mkdir(exist_ok=True)
    if model_path().exists() and not force:  # fast path: no need to wait for the lock
        return model_path()
    with open(ROOT / "var" / "rasa-train.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one training at a time on this machine
        target = model_path()
        if target.exists() and not force:
            print(f"Rasa model up to date: {target.relative_to(ROOT)}", file=sys.stderr)
            return target
        print("Training the Rasa model (bot/ or nlu/ changed)…", file=sys.stderr)
        started = time.monotonic()
        cmd = [
            str(RASA_BIN), "train",
            "--config", "bot/config.yml",
            "--domain", "bot/domain",
            "--data", "bot/data", "nlu",
            "--out", str(MODELS),
            "--fixed-model-name", target.name.removesuffix(".tar.gz"),
        ]  # fmt: skip
        # PYTHONPATH: the pipeline's custom components live in bot/components.
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(ROOT)}
        subprocess.run(cmd, cwd=ROOT, check=True, env=env)
        for old in MODELS.glob("jobbot-*.tar.gz"):
            if old != target:
                old.unlink()
        print(f"Trained in {time.monotonic() - started:.0f} s: {target}", file=sys.stderr)
        return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--force", action="store_true", help="retrain even when unchanged")
    parser.add_argument("--print-path", action="store_true", help="only print the model path")
    args = parser.parse_args()
    if args.print_path:
        print(model_path())
        return
    print(train(force=args.force))


if __name__ == "__main__":
    main()
