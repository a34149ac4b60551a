"""Folds for judging fitted parts out of fold: whole quiz weeks, so one week's story never sits on both sides."""

from __future__ import annotations

from collections.abc import Iterable


def week_folds(weeks: Iterable[str], k: int = 5) -> dict[str, int]:
    """Return each week's fold: the distinct weeks, sorted, dealt round-robin into `k` folds."""
    return {week: i % k for i, week in enumerate(sorted(set(weeks)))}
