"""Fuse: the evidence retrieval finds for each article, weighed by a model fitted on news quizzes.

Each article found by a search gets one row of features: its best chunk's dense similarity and
rank, its best chunk's BM25 score and rank, the BM25 of its head (headline and lede, which say
what an article is about), the equal reciprocal-rank fusion it replaces, how many of its chunks
were found, and when it was published against the day the question is asked and the window of
days the question names. A logistic regression over those rows, fitted by
`benchmarks/fit_retrieval.py` on the RealTime QA 2022 development weeks, turns a row into the
probability that the article answers the question. Every number comes from
`params/retrieval-v1.json`.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from byline.index.errors import SettingsError
from byline.index.lexical import tokenize
from byline.index.types import ArticleInfo
from byline.pipeline.dates import DateWindow, parse_day
from byline.pipeline.paramfile import read_params

if TYPE_CHECKING:
    from byline.index.store import IndexStore

PARAMS = "retrieval-v1.json"
HEAD_SENTENCES = 2  # lede sentences joined to the headline when no fitted file says otherwise
FEATURES = (
    "dense_cos", "dense_rrank", "bm25_rel", "bm25_rrank", "head_bm25_rel", "head_bm25_rrank", "rrf",
    "n_chunks", "in_window", "window_gap", "recent_7", "recent_31", "log_gap", "undated",
)


@dataclass(frozen=True, slots=True)
class FusionParams:
    """The fitted fusion, as `benchmarks/fit_retrieval.py` wrote it."""

    version: str
    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    head_sentences: int  # lede sentences joined to the headline
    raw: Mapping[str, Any]

    @classmethod
    def load(cls, path: Path | None = None) -> FusionParams:
        """Return the parameters in `path`, by default the file shipped with the package."""
        data = read_params(PARAMS, path)
        try:
            features = tuple(data["features"])
            if features != FEATURES:
                raise ValueError(f"features {features} differ from this version's {FEATURES}")
            return cls(
                version=data["version"], features=features,
                mean=np.asarray(data["scaler"]["mean"], dtype=np.float64),
                scale=np.asarray(data["scaler"]["scale"], dtype=np.float64),
                coef=np.asarray(data["coef"], dtype=np.float64), intercept=float(data["intercept"]),
                head_sentences=int(data["head_sentences"]), raw=data,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise SettingsError(
                f"retrieval parameter file {path or PARAMS} is unusable ({exc}) — rerun benchmarks/fit_retrieval.py"
            ) from None

    def probability(self, rows: np.ndarray) -> np.ndarray:
        """Return the fitted probability that each row's article answers the question."""
        z = ((rows - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-z))


@lru_cache(maxsize=1)
def shipped_fusion() -> FusionParams:
    """Return the fusion parameters shipped with the package (read once)."""
    return FusionParams.load()


class ArticleHeads:
    """A BM25 index over every article's headline and lede, rebuilt when the index changes."""

    def __init__(self, store: IndexStore, sentences: int) -> None:
        self.store = store
        self.sentences = sentences
        self._lock = threading.Lock()
        self._built_for: str | None = None
        self._infos: list[ArticleInfo] = []
        self._by_id: dict[str, ArticleInfo] = {}
        self._published: dict[str, str] = {}
        self._bm25: Any = None

    def _refresh(self) -> None:
        with self._lock:
            if self._built_for == self.store.generation and self._bm25 is not None:
                return
            import bm25s

            infos = self.store.articles()
            ledes = self.store.ledes(self.sentences)
            bm25 = bm25s.BM25()
            if infos:
                bm25.index(tokenize([f"{headline(a.title)}. {ledes.get(a.id, '')}" for a in infos]), show_progress=False)
            self._infos, self._bm25, self._built_for = infos, bm25, self.store.generation
            self._by_id = {a.id: a for a in infos}
            self._published = {a.id: a.published for a in infos}

    def info(self) -> dict[str, ArticleInfo]:
        """Return what the index knows of each article, by id."""
        self._refresh()
        return self._by_id

    def published(self) -> dict[str, str]:
        """Return each article's publication date (ISO, or "" when unknown), by id."""
        self._refresh()
        return self._published

    def search(self, question: str, k: int) -> dict[str, tuple[int, float]]:
        """Return article id → (1-based rank, BM25 score) of the `k` best heads for the question."""
        self._refresh()
        infos, bm25 = self._infos, self._bm25
        tokens = tokenize([question])
        if not infos or not any(tokens.ids):
            return {}
        docs, scores = bm25.retrieve(tokens, k=min(k, len(infos)), show_progress=False, n_threads=1)
        return {
            infos[int(d)].id: (rank, float(s))
            for rank, (d, s) in enumerate(zip(docs[0], scores[0], strict=True), start=1)
            if s > 0
        }


def headline(title: str) -> str:
    """Return a title without the site name a feed appends ("… - CNN", "… | Reuters")."""
    return title.rsplit(" - ", 1)[0].rsplit(" | ", 1)[0]


@dataclass(frozen=True, slots=True)
class Found:
    """One search's hits, as (chunk id, score) best first, and the article of each chunk."""

    dense: Sequence[tuple[int, float]]
    lexical: Sequence[tuple[int, float]]
    heads: Mapping[str, tuple[int, float]]
    article_of: Mapping[int, str]


def reciprocal_rank_fusion(*ranked: Sequence[tuple[int, float]], k: int) -> dict[int, float]:
    """Return each chunk's sum of 1 / (k + rank) over the best-first lists it appears in."""
    fused: dict[int, float] = {}
    for hits in ranked:
        for rank, (chunk_id, _) in enumerate(hits, start=1):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (k + rank)
    return fused


def article_rows(
    found: Found, published: Mapping[str, str], as_of: date | None, window: DateWindow | None,
    depth: int, rrf_k: int,
) -> tuple[list[str], np.ndarray]:
    """Return the candidate articles (those any search found) and one feature row each."""

    def best(hits: Sequence[tuple[int, float]]) -> dict[str, tuple[int, float]]:
        out: dict[str, tuple[int, float]] = {}
        for rank, (chunk_id, score) in enumerate(hits, start=1):
            article = found.article_of.get(chunk_id)
            if article is not None and article not in out:
                out[article] = (rank, score)
        return out

    dense, lexical = best(found.dense), best(found.lexical)
    rrf: dict[str, float] = {}
    fused = reciprocal_rank_fusion(found.dense, found.lexical, k=rrf_k)
    n_chunks: dict[str, int] = {}
    for chunk_id, value in fused.items():
        article = found.article_of.get(chunk_id)
        if article is not None:
            rrf[article] = max(rrf.get(article, 0.0), value)
            n_chunks[article] = n_chunks.get(article, 0) + 1
    candidates = list(dict.fromkeys([*rrf, *found.heads]))
    bm25_top = max((s for _, s in lexical.values()), default=0.0) or 1.0
    head_top = max((s for _, s in found.heads.values()), default=0.0) or 1.0
    miss = 2 * depth
    rows = []
    for article in candidates:
        dense_rank, cosine = dense.get(article, (miss, 0.0))
        bm25_rank, bm25 = lexical.get(article, (miss, 0.0))
        head_rank, head = found.heads.get(article, (miss, 0.0))
        rows.append([
            cosine, 1 / dense_rank, bm25 / bm25_top, 1 / bm25_rank, head / head_top, 1 / head_rank,
            rrf.get(article, 0.0) * (rrf_k / 2), math.log1p(n_chunks.get(article, 0)),
            *_date_features(published.get(article, ""), as_of, window),
        ])
    return candidates, np.asarray(rows, dtype=np.float64).reshape(len(candidates), len(FEATURES))


def _date_features(published: str, as_of: date | None, window: DateWindow | None) -> list[float]:
    """in_window, window_gap, recent_7, recent_31, log_gap, undated: all 0 when no day is known."""
    if as_of is None:
        return [0.0] * 6
    day = parse_day(published)
    if day is None:
        return [0.0, 0.0, 0.0, 0.0, 0.0, 1.0]
    gap = (as_of - day).days
    outside = window.distance(published) if window is not None else None
    return [
        float(outside == 0), math.log1p(outside) if outside else 0.0,
        float(0 <= gap <= 7), float(8 <= gap <= 31), math.log1p(abs(gap)), 0.0,
    ]
