"""Cross-validate the policy fine-tune on the project's own questions (a fair development figure).

``bench/policy_eval.py`` can only judge the fine-tuned embedder on LawBench: its tuning set
(the corpus's alias questions) is what the model trained on. This splits the corpus entries
into folds; for each fold the embedder is fine-tuned without that fold's entries (their
aliases never reach training) and the fold's aliases are then asked with their own entry
held out of the index, as ``dev_questions`` does for the base model. Recipe choices (epochs,
learning rate, seeds) can be compared here without reading the evaluation questions.

Each fold trains once (about 25 min on two free cores) into its own folder under
``var/models``; later runs reuse it while the corpus and recipe are unchanged. A recipe
other than the default (``--epochs``, ``--learning-rate``, ``--seed``) trains into folders
named after what it changes, so the default's fold models are kept for comparison.

``--diversify-laws N`` adds a hybrid row per model with that law diversification, scored
on the same fold models, so a fusion change is judged on the fine-tuned embedder too.

Usage: ``python -m bench.policy_finetune_cv [--folds 3] [--epochs 1] [--learning-rate 5e-5]
[--diversify-laws 4]`` (writes ``reports/policy_finetune_cv.json``, or
``policy_finetune_cv-<changes>.json``)
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from dataclasses import asdict, fields, replace
from pathlib import Path
from typing import Any

from bench.policy_eval import KS, ROOT, dev_questions, recall_table
from bench.report import print_table, write_report
from knowledge.documents import load_folder
from knowledge.embeddings.finetune import RECIPE, Recipe
from knowledge.policy_corpus import load_corpus
from knowledge.policy_index import DEFAULT_FUSION, EmbeddingCache, FusionConfig, PolicyIndex

METHODS = ("dense", "hybrid")


def folds_of(ids: Sequence[str], k: int) -> list[set[str]]:
    """Entry ids dealt round-robin in sorted order: stable, and every fold spans the corpus."""
    ordered = sorted(ids)
    return [set(ordered[i::k]) for i in range(k)]


def recipe_suffix(recipe: Recipe) -> str:
    """``""`` for the default recipe, else its changes, e.g. ``-epochs1-learning_rate5e-05``."""
    changed = [
        f"{f.name}{getattr(recipe, f.name)}"
        for f in fields(recipe)
        if getattr(recipe, f.name) != getattr(RECIPE, f.name)
    ]
    return "".join(f"-{c}" for c in changed)


def pooled(tables: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Recall over all folds' questions together (each fold weighted by its size)."""
    n = sum(t["n"] for t in tables) or 1
    return {
        level: {
            f"R@{k}": round(sum(t[level][f"R@{k}"] * t["n"] for t in tables) / n, 3) for k in KS
        }
        for level in ("article", "law")
    } | {"n": n}


def scored_variants(diversify_laws: int | None = None) -> list[tuple[str, str, FusionConfig]]:
    """(row label, method, fusion) scored per fold: each method with the default fusion, and
    the hybrid with ``diversify_laws`` laws in its first results where that is asked for."""
    variants = [(m, m, DEFAULT_FUSION) for m in METHODS]
    if diversify_laws is not None:
        label = f"hybrid, {diversify_laws} laws in first {DEFAULT_FUSION.diversify_window}"
        variants.append((label, "hybrid", replace(DEFAULT_FUSION, diversify_laws=diversify_laws)))
    return variants


def run(
    data: Path, folds: int, recipe: Recipe = RECIPE, diversify_laws: int | None = None
) -> dict[str, Any]:
    from knowledge.embeddings import get_embedder
    from knowledge.embeddings.finetune import ensure
    from knowledge.settings import get_settings

    settings = get_settings()
    entries = load_corpus()
    chunks = load_folder(data / "laws")
    cache = EmbeddingCache(Path(settings.data_dir) / "cache" / "embeddings.sqlite3")
    base_index = PolicyIndex.build(entries, chunks, get_embedder(settings.embedding_model), cache)
    variants = scored_variants(diversify_laws)
    tables: dict[str, list[dict[str, Any]]] = {
        f"{label} ({model})": [] for model in ("base", "fine-tuned") for label, _, _ in variants
    }
    for i, held_out in enumerate(folds_of([e.id for e in entries], folds)):
        name = f"multilingual-e5-small-policy-cv{folds}-{i}{recipe_suffix(recipe)}"
        folder = Path(settings.data_dir) / "models" / name
        ensure(
            settings.embedding_model,
            folder,
            [e for e in entries if e.id not in held_out],
            chunks,
            recipe,
        )
        tuned_index = PolicyIndex.build(entries, chunks, get_embedder(str(folder)), cache)
        for model, index in (("base", base_index), ("fine-tuned", tuned_index)):
            entry_of = {it.key: it.entry.id for it in index.items if it.entry is not None}
            questions = [q for q in dev_questions(index) if entry_of[q["exclude"][0]] in held_out]
            for label, method, fusion in variants:
                tables[f"{label} ({model})"].append(recall_table(index, questions, method, fusion))
    report = {
        "folds": folds,
        "recipe": asdict(recipe),
        "corpus_entries": len(entries),
        "law_chunks": len(chunks),
        "methods": {name: {"pooled": pooled(t), "per_fold": t} for name, t in tables.items()},
    }
    n = next(iter(report["methods"].values()))["pooled"]["n"]
    print_table(
        f"Fine-tune cross-validation: {folds} folds of {len(entries)} entries; each fold's "
        f"aliases (n={n} in all) asked of a model trained without them; recipe "
        f"{recipe_suffix(recipe)[1:] or 'default'}",
        [
            {"method": name}
            | {f"art {k}": v for k, v in r["pooled"]["article"].items()}
            | {f"law {k}": v for k, v in r["pooled"]["law"].items()}
            for name, r in report["methods"].items()
        ],
    )
    print(f"\nwritten {write_report('policy_finetune_cv' + recipe_suffix(recipe), report)}")
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=RECIPE.epochs)
    parser.add_argument("--learning-rate", type=float, default=RECIPE.learning_rate)
    parser.add_argument("--seed", type=int, default=RECIPE.seed)
    parser.add_argument(
        "--diversify-laws", type=int, help="also score the hybrid with this many laws first"
    )
    args = parser.parse_args(argv)
    if not (args.data / "laws").is_dir():
        raise SystemExit(f"laws not found under {args.data} (need laws/)")
    logging.basicConfig(level=logging.WARNING)
    recipe = replace(RECIPE, epochs=args.epochs, learning_rate=args.learning_rate, seed=args.seed)
    run(args.data, max(2, args.folds), recipe, args.diversify_laws)
    return 0


if __name__ == "__main__":
    sys.exit(main())
