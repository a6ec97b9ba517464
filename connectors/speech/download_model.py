"""`make models`: install the production Chinese Vosk model (vosk-model-small-cn-0.22).

Downloads and unpacks it into ``var/models/`` where the network allows; otherwise prints what
the operator must do by hand. Never run at service start: models are installed, not fetched.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import urllib.request
import zipfile
from pathlib import Path

from connectors.speech._model import PRODUCTION_MODEL

MODEL_URL = f"https://alphacephei.com/vosk/models/{PRODUCTION_MODEL}.zip"
MODEL_SIZE_HINT = "about 42 MB"


def _instructions(target: Path, reason: str) -> str:
    return f"""
Could not download the Chinese speech model: {reason}

Install it by hand:
  1. On a machine with internet access, download
       {MODEL_URL}   ({MODEL_SIZE_HINT})
  2. Unpack it and copy the folder '{PRODUCTION_MODEL}' to
       {target}
     (it must contain am/, conf/, graph/ and ivector/)
  3. Point the assistant at it, e.g. in the environment or the YAML settings file:
       JOBBOT_VOSK_MODEL_PATH={target}
  4. Check it:  .venv/bin/python -m connectors.speech some_question.wav

Until then the kiosk and Telegram voice messages say that voice input is unavailable;
text input keeps working.
"""


def install(models_dir: Path, url: str = MODEL_URL, timeout_s: float = 60.0) -> Path:
    """Download and unpack the model into ``models_dir``; returns the model folder."""
    target = models_dir / PRODUCTION_MODEL
    if (target / "am").is_dir():
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=models_dir, prefix=".download-") as tmp:
        archive = Path(tmp) / "model.zip"
        with urllib.request.urlopen(url, timeout=timeout_s) as response, archive.open("wb") as fh:
            shutil.copyfileobj(response, fh)
        with zipfile.ZipFile(archive) as zf:
            for name in zf.namelist():
                # Refuse paths that would escape the folder (zip slip).
                if name.startswith("/") or ".." in Path(name).parts:
                    raise ValueError(f"unsafe path in archive: {name}")
            zf.extractall(tmp)
        unpacked = Path(tmp) / PRODUCTION_MODEL
        if not (unpacked / "am").is_dir():
            raise ValueError(f"the archive has no {PRODUCTION_MODEL}/am folder")
        unpacked.rename(target)
    return target


def main(argv: list[str] | None = None) -> int:
    from knowledge.settings import get_settings

    settings = get_settings()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--dir",
        type=Path,
        default=settings.data_dir / "models",
        help="where to unpack (default: var/models)",
    )
    parser.add_argument("--url", default=MODEL_URL)
    args = parser.parse_args(argv)
    target = args.dir / PRODUCTION_MODEL
    if (target / "am").is_dir():
        print(f"{PRODUCTION_MODEL} is already installed in {target}")
    else:
        print(f"downloading {args.url} ...")
        try:
            install(args.dir, args.url)
        except Exception as exc:  # any network or archive failure ends in the same advice
            print(_instructions(target.resolve(), f"{type(exc).__name__}: {exc}"), file=sys.stderr)
            return 1
        print(f"installed {PRODUCTION_MODEL} in {target}")
    configured = settings.vosk_model_path
    if not configured or Path(configured).resolve() != target.resolve():
        print(
            f"set JOBBOT_VOSK_MODEL_PATH={target.resolve()} to use it"
            + (f" (now: {configured})" if configured else " (now: not set, voice is off)")
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
