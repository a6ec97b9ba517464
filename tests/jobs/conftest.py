"""Fixtures for the job tests: a tiny lexical embedder, stores and searches on temp files."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from knowledge.jobs import JobSearch, JobStore
from knowledge.jobs.generator import generate_into

REPO = Path(__file__).resolve().parents[2]
FEED_51JOB = REPO.parent / "shared" / "data" / "jobs" / "51job.csv"
TODAY = date.today()  # generated postings are dated relative to the day the tests run


class HashingEmbedder:
    """Character uni- and bigrams hashed into 256 dimensions, L2-normalised: fast and lexical."""

    name = "test-hashing"
    dim = 256

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            low = text.lower()
            grams = list(low) + [low[i : i + 2] for i in range(len(low) - 1)]
            for gram in grams:
                if gram.strip():
                    out[row, int(hashlib.md5(gram.encode()).hexdigest()[:6], 16) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)

    def encode_queries(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        return self._encode(texts)

    def encode_passages(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        return self._encode(texts)


@pytest.fixture
def embedder() -> HashingEmbedder:
    return HashingEmbedder()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[JobStore]:
    s = JobStore(f"sqlite:///{tmp_path / 'jobs.sqlite3'}")
    yield s
    s.close()


@pytest.fixture
def search(store: JobStore, embedder: HashingEmbedder, tmp_path: Path) -> JobSearch:
    return JobSearch(store, embedder, tmp_path / "index")


@pytest.fixture(scope="session")
def generated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6,000 generated postings, made once per session and copied by tests that write."""
    path = tmp_path_factory.mktemp("gen") / "jobs.sqlite3"
    s = JobStore(f"sqlite:///{path}")
    generate_into(s, 6000, seed=11, as_of=TODAY)
    s.close()
    return path


@pytest.fixture
def generated_search(generated_db: Path, tmp_path: Path, embedder: HashingEmbedder) -> JobSearch:
    copy = tmp_path / "jobs.sqlite3"
    copy.write_bytes(generated_db.read_bytes())
    return JobSearch(JobStore(f"sqlite:///{copy}"), embedder, tmp_path / "index")
