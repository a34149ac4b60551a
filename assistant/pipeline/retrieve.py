"""Retrieve: dense (through the vector-store seam) and BM25 search, fused by reciprocal rank."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import numpy as np

from byline.index.lexical import tokenize
from byline.pipeline.dates import DateWindow, resolve
from byline.types import Filters, Hit

if TYPE_CHECKING:
    from byline.index.store import IndexStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Retrieval:
    """What retrieval found for a question: its vector, the passages (best first), and the days
    the question points at when it names some ("this week", "in March") against `as_of`."""

    question: str
    vector: np.ndarray
    hits: tuple[Hit, ...]
    window: DateWindow | None = None


class HybridRetriever:
    """Pipeline step: a standalone question in, the best passages out.

    `top` passages are kept; each search looks `depth` deep (20 times deeper when filters may
    discard most of what it finds); `rrf_k` is the usual reciprocal-rank-fusion constant, which
    keeps rank 1 and rank 10 comparable.
    """

    def __init__(self, store: IndexStore, *, top: int = 12, depth: int = 50, rrf_k: int = 60) -> None:
        self.store = store
        self.top = top
        self.depth = depth
        self.rrf_k = rrf_k

    def run(self, question: str, filters: Filters, as_of: date | None = None) -> Retrieval:
        """Return the question's vector and its `top` passages, fusing dense and BM25 ranks.

        With `as_of` (the day the question is asked), articles published later are left out.
        """
        vector = self.store.embedder.embed_query(question)
        if as_of is not None:
            filters = filters.as_of(as_of.isoformat())
        window = resolve(question, as_of) if as_of is not None else None
        return Retrieval(question, vector, tuple(self._search(question, vector, filters)), window)

    def _search(self, question: str, vector: np.ndarray, filters: Filters) -> list[Hit]:
        store, top = self.store, self.top
        if store.vector_store is None:
            return []
        depth = self.depth * 20 if filters.active else self.depth
        dense = store.vector_store.search(vector, depth)
        dense_ranks = {chunk_id: r for r, (chunk_id, _) in enumerate(dense, start=1)}
        lexical_ranks = self._bm25_ranks(question, depth)
        fused: dict[int, float] = {}
        for ranks in (dense_ranks, lexical_ranks):
            for chunk_id, rank in ranks.items():
                fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (self.rrf_k + rank)
        order = sorted(fused, key=fused.__getitem__, reverse=True)
        chunks = store.chunks(order[: top * 4 if filters.active else top])
        hits: list[Hit] = []
        for chunk_id in order:
            chunk = chunks.get(chunk_id)
            if chunk is None:
                continue
            if filters.active:
                info = store.article_info(chunk.article_id)
                if info is None or not filters.allows(info):
                    continue
            hits.append(Hit(chunk, fused[chunk_id], dense_ranks.get(chunk_id), lexical_ranks.get(chunk_id)))
            if len(hits) == top:
                break
        return hits

    def _bm25_ranks(self, question: str, depth: int) -> dict[int, int]:
        found = self.store.bm25()
        if found is None:
            return {}
        retriever, ids = found
        tokens = tokenize([question])
        if not any(tokens.ids):
            return {}
        k = min(depth, len(ids))
        if k == 0:
            return {}
        docs, scores = retriever.retrieve(tokens, k=k, show_progress=False, n_threads=1)
        return {
            int(ids[d]): rank
            for rank, (d, s) in enumerate(zip(docs[0], scores[0], strict=True), start=1)
            if s > 0
        }
