"""Fine-tune the embedder for policy retrieval on the project's own question → answer pairs.

People ask in everyday words (老板不给签合同怎么办); laws and the corpus answer in legal
ones. Every corpus entry carries several colloquial alias questions, and cites the articles
it rests on, so the corpus itself is a small supervised set: each alias is paired with its
entry's answer and, when the cited law is indexed, with the article text. A few hundred
steps of in-batch-negatives contrastive training (MultipleNegativesRanking, symmetric)
teach the model that mapping; the word embeddings stay frozen, so the tokeniser's long
tail keeps the base model's meaning.

The result is a sentence-transformers folder with a ``finetune.json`` recording the base
model, the recipe and the hash of the pairs: it is retrained only when those change.
Evaluation questions are never part of the pairs (see ``bench/policy_eval.py``).

``python -m knowledge.embeddings.finetune [--laws DIR] [--out DIR]`` (``make knowledge``).
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import logging
import random
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from knowledge.documents import DocumentChunk
    from knowledge.policy_corpus import PolicyEntry

log = logging.getLogger(__name__)

RECORD = "finetune.json"


@dataclass(frozen=True)
class Recipe:
    """Training settings; part of the model's identity (changing one retrains)."""

    version: int = 1
    epochs: int = 2
    batch_size: int = 32
    learning_rate: float = 3e-5
    scale: float = 20.0
    max_seq_length: int = 192
    seed: int = 0


RECIPE = Recipe()


def training_pairs(
    entries: Sequence[PolicyEntry], chunks: Sequence[DocumentChunk] = ()
) -> list[tuple[str, str]]:
    """(question, passage) pairs: each alias with its entry, and with each cited article found."""
    from knowledge.documents import short_law_name
    from knowledge.policy_index import _chunk_item, _entry_item, passages_for

    articles = {(c.short_law, c.article_label): c for c in chunks if c.is_article}
    pairs: list[tuple[str, str]] = []
    for entry in sorted(entries, key=lambda e: e.id):
        answer = passages_for(_entry_item(entry))[0]
        for alias in entry.aliases:
            pairs.append((alias, answer))
            for cite in entry.citations:
                chunk = articles.get((short_law_name(cite.document), cite.article.strip()))
                if chunk is not None:
                    pairs.append((alias, passages_for(_chunk_item(chunk))[0]))
    return list(dict.fromkeys(pairs))


def pairs_digest(base: Path | str, pairs: Sequence[tuple[str, str]], recipe: Recipe) -> str:
    h = hashlib.sha256()
    h.update(json.dumps([str(Path(base).name), asdict(recipe)], sort_keys=True).encode())
    for q, p in pairs:
        h.update(q.encode("utf-8") + b"\x00" + p.encode("utf-8") + b"\x01")
    return h.hexdigest()[:16]


def is_current(out: Path, digest: str) -> bool:
    try:
        record = json.loads((out / RECORD).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False
    return bool(record.get("digest") == digest)


def _batches(
    pairs: list[tuple[str, str]], size: int, rng: random.Random
) -> list[list[tuple[str, str]]]:
    """Shuffled batches in which no passage repeats (in-batch negatives must be negatives)."""
    pool = list(pairs)
    rng.shuffle(pool)
    batches: list[list[tuple[str, str]]] = []
    while pool:
        batch: list[tuple[str, str]] = []
        seen: set[str] = set()
        rest: list[tuple[str, str]] = []
        for q, p in pool:
            if p in seen or len(batch) >= size:
                rest.append((q, p))
            else:
                batch.append((q, p))
                seen.add(p)
        batches.append(batch)
        pool = rest
    return [b for b in batches if len(b) > 1]


def train(
    base: Path | str, out: Path | str, pairs: Sequence[tuple[str, str]], recipe: Recipe = RECIPE
) -> dict[str, object]:
    """Fine-tune ``base`` on ``pairs`` and save the model to ``out`` (replaced atomically)."""
    import torch
    from sentence_transformers import SentenceTransformer

    out = Path(out)
    torch.manual_seed(recipe.seed)
    rng = random.Random(recipe.seed)
    model = SentenceTransformer(str(base), device="cpu")
    model.max_seq_length = recipe.max_seq_length
    backbone: Any = model[0].auto_model
    backbone.embeddings.word_embeddings.requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(params, lr=recipe.learning_rate)
    started = time.monotonic()
    losses: list[float] = []
    model.train()
    for epoch in range(recipe.epochs):
        total, steps = 0.0, 0
        for batch in _batches(list(pairs), recipe.batch_size, rng):
            queries = model.preprocess(["query: " + q for q, _ in batch])
            passages = model.preprocess(["passage: " + p for _, p in batch])
            q = torch.nn.functional.normalize(model(queries)["sentence_embedding"], dim=-1)
            p = torch.nn.functional.normalize(model(passages)["sentence_embedding"], dim=-1)
            scores = q @ p.T * recipe.scale
            labels = torch.arange(len(batch))
            loss = (
                torch.nn.functional.cross_entropy(scores, labels)
                + torch.nn.functional.cross_entropy(scores.T, labels)
            ) / 2
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += float(loss.item())
            steps += 1
        losses.append(round(total / max(steps, 1), 4))
        log.info("fine-tune epoch %d/%d: loss %.3f", epoch + 1, recipe.epochs, losses[-1])
    model.eval()
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save(str(tmp))
    record = {
        "base": str(Path(base).name),
        "recipe": asdict(recipe),
        "pairs": len(pairs),
        "digest": pairs_digest(base, pairs, recipe),
        "epoch_losses": losses,
        "seconds": round(time.monotonic() - started, 1),
    }
    (tmp / RECORD).write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return record


def ensure(
    base: Path | str,
    out: Path | str,
    entries: Sequence[PolicyEntry],
    chunks: Sequence[DocumentChunk] = (),
    recipe: Recipe = RECIPE,
) -> bool:
    """Train ``out`` unless it is current for these pairs; True when it (re)trained."""
    out = Path(out)
    pairs = training_pairs(entries, chunks)
    digest = pairs_digest(base, pairs, recipe)
    if is_current(out, digest):
        return False
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out.parent / f".{out.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one trainer at a time (make run + make test)
        if is_current(out, digest):
            return False
        log.info("fine-tuning %s on %d pairs → %s", Path(base).name, len(pairs), out)
        record = train(base, out, pairs, recipe)
        log.info("fine-tuned in %.0f s (losses %s)", record["seconds"], record["epoch_losses"])
    return True


def main(argv: Sequence[str] | None = None) -> int:
    from knowledge.documents import load_folder
    from knowledge.logs import setup_logging
    from knowledge.policy_corpus import load_corpus
    from knowledge.settings import get_settings

    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m knowledge.embeddings.finetune")
    parser.add_argument("--base", default=settings.embedding_model)
    parser.add_argument("--out", default=settings.policy_embedding_model)
    parser.add_argument("--laws", default=settings.laws_dir, help="documents to pair with")
    args = parser.parse_args(argv)
    setup_logging(settings.log_level)
    if not args.out:
        print("policy_embedding_model is empty: the base model serves policy retrieval")
        return 0
    chunks = load_folder(args.laws) if args.laws else []
    trained = ensure(args.base, args.out, load_corpus(), chunks)
    print(f"policy embedding model {'trained' if trained else 'is current'}: {args.out}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
