"""Retrieval: dense (through the VectorStore seam) and BM25 search, fused by reciprocal rank."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np

from byline.index.lexical import tokenize
from byline.index.types import Hit

if TYPE_CHECKING:
    from byline.assistant import Filters
    from byline.index.store import IndexStore

log = logging.getLogger(__name__)
RRF_K = 60  # the usual reciprocal-rank-fusion constant: rank 1 and rank 10 stay comparable


def search(
    store: IndexStore, question: str, vector: np.ndarray, *, filters: Filters, top: int,
    depth: int = 50,
) -> list[Hit]:
    """Return the `top` passages for a question, best first, fusing dense and BM25 ranks."""
    if store.vector_store is None:
        return []
    depth = depth * 20 if filters.active else depth
    dense = store.vector_store.search(vector, depth)
    dense_ranks = {chunk_id: r for r, (chunk_id, _) in enumerate(dense, start=1)}
    lexical_ranks = _bm25_ranks(store, question, depth)
    fused: dict[int, float] = {}
    for ranks in (dense_ranks, lexical_ranks):
        for chunk_id, rank in ranks.items():
            fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (RRF_K + rank)
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


def _bm25_ranks(store: IndexStore, question: str, depth: int) -> dict[int, int]:
    found = store.bm25()
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
