"""Retrieve: dense (through the vector-store seam) and BM25 search, fused by a fitted model."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING

import numpy as np

from byline.index.lexical import tokenize
from byline.pipeline.dates import DateWindow, resolve
from byline.pipeline.fusion import (
    FEATURES,
    HEAD_SENTENCES,
    ArticleHeads,
    Found,
    FusionParams,
    article_rows,
    reciprocal_rank_fusion,
)
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

    Dense search (through the vector-store seam) and BM25 each look `depth` chunks deep (20
    times deeper when filters may discard most of what they find). With `fusion` (the default
    is the fitted model shipped in `params/retrieval-v1.json`), the articles they find, plus
    those whose headline and lede match, are ordered by the fitted probability that they answer
    the question; a chunk ranks by its article's probability times its share of that article's
    best chunk (by reciprocal rank), and `top` passages are kept, always including the best one of
    each of the `min_articles` most probable articles; a hit's score is its article's probability. With `fusion=None` chunks are ordered by equal reciprocal-
    rank fusion (`rrf_k` is its constant), as before the model was fitted.
    """

    def __init__(
        self, store: IndexStore, *, top: int = 12, depth: int = 100, rrf_k: int = 60,
        fusion: FusionParams | None = None, head_depth: int = 50, min_articles: int = 5,
    ) -> None:
        self.store = store
        self.top = top
        self.depth = depth
        self.min_articles = min_articles
        self.rrf_k = rrf_k
        self.fusion = fusion
        self.head_depth = head_depth
        self.heads = ArticleHeads(store, fusion.head_sentences if fusion is not None else HEAD_SENTENCES)

    def run(self, question: str, filters: Filters, as_of: date | None = None) -> Retrieval:
        """Return the question's vector and its `top` passages.

        With `as_of` (the day the question is asked), articles published later are left out, and
        when the question names days ("this week") each hit says how far outside them its article is.
        """
        vector = self.store.embedder.embed_query(question)
        if as_of is not None:
            filters = filters.as_of(as_of.isoformat())
        window = resolve(question, as_of) if as_of is not None else None
        if self.fusion is None:
            hits = self._search(question, vector, filters)
        else:
            hits = self._fused(self.fusion, question, vector, filters, as_of, window)
        if window is not None:
            published = self.heads.published()
            hits = [replace(h, days_outside=window.distance(published.get(h.chunk.article_id, ""))) for h in hits]
        return Retrieval(question, vector, tuple(hits), window)

    # -- the fitted fusion --------------------------------------------------------------------

    def articles(
        self, question: str, vector: np.ndarray, filters: Filters, as_of: date | None, window: DateWindow | None,
    ) -> tuple[list[str], np.ndarray, Found]:
        """Return the candidate articles the filters allow, their feature rows and the searches."""
        store = self.store
        if store.vector_store is None:
            return [], np.zeros((0, len(FEATURES))), Found((), (), {}, {})
        depth = self.depth * 20 if filters.active else self.depth
        dense = store.vector_store.search(vector, depth)
        lexical = self._bm25_hits(question, depth)
        heads = self.heads.search(question, self.head_depth * 20 if filters.active else self.head_depth)
        article_of = store.chunk_articles([c for c, _ in dense] + [c for c, _ in lexical])
        info = self.heads.info()
        if filters.active:
            allowed = {a for a, i in info.items() if filters.allows(i)}
            article_of = {c: a for c, a in article_of.items() if a in allowed}
            heads = {a: v for a, v in heads.items() if a in allowed}
        found = Found(
            [h for h in dense if h[0] in article_of], [h for h in lexical if h[0] in article_of], heads, article_of
        )
        candidates, rows = article_rows(found, self.heads.published(), as_of, window, self.depth, self.rrf_k)
        return candidates, rows, found

    def _fused(
        self, fusion: FusionParams, question: str, vector: np.ndarray, filters: Filters, as_of: date | None,
        window: DateWindow | None,
    ) -> list[Hit]:
        candidates, rows, found = self.articles(question, vector, filters, as_of, window)
        if not candidates:
            return []
        probability = fusion.probability(rows)
        order = np.argsort(-probability, kind="stable")
        dense_ranks = {c: r for r, (c, _) in enumerate(found.dense, start=1)}
        lexical_ranks = {c: r for r, (c, _) in enumerate(found.lexical, start=1)}
        rrf = reciprocal_rank_fusion(found.dense, found.lexical, k=self.rrf_k)
        best_rrf: dict[str, float] = {}
        for chunk_id, value in rrf.items():
            article = found.article_of[chunk_id]
            best_rrf[article] = max(best_rrf.get(article, 0.0), value)
        p_of = {candidates[int(i)]: float(probability[i]) for i in order}
        # a chunk counts its article's probability times its share of that article's best
        # chunk, so a dominant article gives many passages and close ones take turns; an article
        # found by its headline alone gives its opening chunk
        weighted: list[tuple[float, str, int | None]] = [
            (p_of[found.article_of[c]] * v / best_rrf[found.article_of[c]], found.article_of[c], c) for c, v in rrf.items()
        ]
        weighted += [(p, a, None) for a, p in p_of.items() if a not in best_rrf]
        weighted.sort(key=lambda item: -item[0])
        leaders = {candidates[int(i)] for i in order[: self.min_articles]}
        first: dict[str, tuple[float, str, int | None]] = {}
        for item in weighted:  # each leading article's best passage is kept whatever the others score
            if item[1] in leaders and item[1] not in first:
                first[item[1]] = item
        rest = [item for item in weighted if first.get(item[1]) is not item]
        chosen = sorted([*first.values(), *rest[: max(0, self.top - len(first))]], key=lambda item: -item[0])
        chunks = self.store.chunks([c for _, _, c in chosen if c is not None])
        openings = self.store.first_chunks([a for _, a, c in chosen if c is None])
        hits = []
        for _, article, wanted in chosen:
            chunk = chunks.get(wanted) if wanted is not None else openings.get(article)
            if chunk is not None:
                hits.append(Hit(chunk, p_of[article], dense_ranks.get(chunk.id), lexical_ranks.get(chunk.id)))
        return hits

    def _bm25_hits(self, question: str, depth: int) -> list[tuple[int, float]]:
        found = self.store.bm25()
        if found is None:
            return []
        retriever, ids = found
        tokens = tokenize([question])
        k = min(depth, len(ids))
        if not any(tokens.ids) or k == 0:
            return []
        docs, scores = retriever.retrieve(tokens, k=k, show_progress=False, n_threads=1)
        return [(int(ids[d]), float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]

    # -- equal reciprocal-rank fusion ---------------------------------------------------------

    def _search(self, question: str, vector: np.ndarray, filters: Filters) -> list[Hit]:
        store, top = self.store, self.top
        if store.vector_store is None:
            return []
        depth = self.depth * 20 if filters.active else self.depth
        dense = store.vector_store.search(vector, depth)
        lexical = self._bm25_hits(question, depth)
        dense_ranks = {chunk_id: r for r, (chunk_id, _) in enumerate(dense, start=1)}
        lexical_ranks = {chunk_id: r for r, (chunk_id, _) in enumerate(lexical, start=1)}
        fused = reciprocal_rank_fusion(dense, lexical, k=self.rrf_k)
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
