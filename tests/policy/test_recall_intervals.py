"""The 95% intervals printed next to the LawBench recalls."""

from __future__ import annotations

import math

import pytest

from bench.report import proportion_interval


def _wilson(hits: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    p = hits / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return centre - half, centre + half


@pytest.mark.parametrize(("hits", "n"), [(122, 131), (125, 131), (3, 10), (0, 20), (20, 20)])
def test_interval_is_the_wilson_score_interval(hits: int, n: int) -> None:
    lo, hi = proportion_interval(hits, n)
    want_lo, want_hi = _wilson(hits, n)
    assert lo == pytest.approx(want_lo, abs=0.0011)
    assert hi == pytest.approx(want_hi, abs=0.0011)
    assert 0.0 <= lo <= hits / n <= hi <= 1.0


def test_about_130_questions_cannot_tell_0_93_from_0_95() -> None:
    """Why the note reports intervals: the aim lies inside the interval of 122/131."""
    lo, hi = proportion_interval(122, 131)
    assert lo < 0.95 < hi


def test_no_questions_is_the_whole_range() -> None:
    assert proportion_interval(0, 0) == (0.0, 1.0)
