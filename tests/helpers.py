"""Small helpers shared by test packages."""

from __future__ import annotations

from typing import Any


def all_strings(value: Any) -> list[str]:
    """Every string inside nested dicts and lists (YAML or JSON data), in order."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in all_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in all_strings(v)]
    return []
