"""The Vosk model, loaded once per process and shared by every recogniser (wyoming-vosk style)."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any, ClassVar

logger = logging.getLogger(__name__)

PRODUCTION_MODEL = "vosk-model-small-cn-0.22"


class SpeechUnavailable(RuntimeError):
    """No usable Vosk model: none configured, the folder is missing, or Vosk cannot load it."""


class SpeechModel:
    """A loaded Vosk model. Use :meth:`get`; recognisers made from it are cheap, per request.

    Attributes:
        path: the model folder.
        vosk: the ``vosk.Model`` (thread-safe to share across recognisers).
    """

    _cache: ClassVar[dict[Path, SpeechModel]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, path: Path, vosk_model: Any) -> None:
        self.path = path
        self.vosk = vosk_model
        self._known: dict[str, bool] = {}
        self._known_lock = threading.Lock()

    @classmethod
    def get(cls, path: str | os.PathLike[str] | None) -> SpeechModel:
        """The model at ``path``, loaded on first use and cached for the process.

        Raises:
            SpeechUnavailable: ``path`` is empty, missing, or not a Vosk model folder.
        """
        if path is None or not str(path).strip():
            raise SpeechUnavailable(
                "no speech model configured: set JOBBOT_VOSK_MODEL_PATH to an unpacked Vosk "
                f"model folder (production: {PRODUCTION_MODEL}; `make models` fetches it)"
            )
        folder = Path(path).expanduser().resolve()
        if not folder.is_dir():
            raise SpeechUnavailable(
                f"Vosk model folder not found: {folder} (check JOBBOT_VOSK_MODEL_PATH; "
                "`make models` downloads and unpacks the production model)"
            )
        with cls._lock:
            cached = cls._cache.get(folder)
            if cached is not None:
                return cached
            try:
                import vosk
            except ImportError as exc:  # pragma: no cover - vosk is a declared dependency
                raise SpeechUnavailable("the 'vosk' package is not installed") from exc
            vosk.SetLogLevel(-1)
            if not (folder / "am").is_dir() and not (folder / "final.mdl").exists():
                raise SpeechUnavailable(
                    f"{folder} does not look like a Vosk model (no am/ folder); point "
                    "JOBBOT_VOSK_MODEL_PATH at the unpacked model folder itself"
                )
            try:
                model = vosk.Model(str(folder))
            except Exception as exc:  # vosk raises a bare Exception on a bad model
                raise SpeechUnavailable(
                    f"Vosk could not load the model in {folder}: {exc}"
                ) from exc
            logger.info("loaded Vosk model %s", folder)
            loaded = cls(folder, model)
            cls._cache[folder] = loaded
            return loaded

    def knows(self, word: str) -> bool:
        """Whether ``word`` is in the model's vocabulary (grammar entries must be)."""
        with self._known_lock:
            hit = self._known.get(word)
            if hit is None:
                hit = self.vosk.vosk_model_find_word(word) != -1
                self._known[word] = hit
            return hit

    @property
    def supports_grammar(self) -> bool:
        """Small/lookahead models (HCLr.fst + Gr.fst) can decode with a runtime phrase list."""
        graph = self.path / "graph"
        return (graph / "HCLr.fst").exists() and (graph / "Gr.fst").exists()

    def __repr__(self) -> str:
        return f"SpeechModel({str(self.path)!r})"
