"""Lexical tokens for BM25: lower-cased, English stop words removed, Snowball-stemmed."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def quiet_bm25s() -> None:
    """Undo bm25s's import-time `setLevel(DEBUG)`, which would print its progress notes."""
    import bm25s  # noqa: F401

    logging.getLogger("bm25s").setLevel(logging.WARNING)


def tokenize(texts: list[str]) -> Any:
    """Return bm25s tokens for texts (documents or queries alike)."""
    import bm25s

    quiet_bm25s()

    return bm25s.tokenize(texts, stopwords="en", stemmer=stemmer(), show_progress=False)
