"""Word similarity from the embedding model: do two words mean the same idea?"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from byline.index.embed import Embedder
    from byline.pipeline.question import Question


class WordVectors:
    """Word vectors from the index's model, cached, and the similarity read from them.

    MiniLM rates single words low (lead ≈ head 0.42, speak ≈ tell 0.35), so similarity is
    stretched into a match strength: below `match_from` two words are unrelated; between
    `floor` and `same` the strength rises from 0 to 1. `cache_size` bounds the cache (384
    floats a word: about 77 MB at 50,000) so a long-running server does not grow without bound.
    """

    def __init__(
        self, embedder: Embedder, *, match_from: float = 0.33, floor: float = 0.25,
        same: float = 0.5, cache_size: int = 50_000,
    ) -> None:
        self.embedder = embedder
        self.match_from = match_from
        self.floor = floor
        self.same = same
        self.cache_size = cache_size
        self._cache: dict[str, np.ndarray] = {}

    def embed(self, words: set[str]) -> dict[str, np.ndarray]:
        """Return the vectors of `words`, embedding the unseen ones in one model call."""
        cache = self._cache
        missing = sorted(w for w in words if w not in cache)
        if missing:
            if len(cache) + len(missing) > self.cache_size:
                # other threads keep the old dict; this call starts a new one
                cache = self._cache = {w: cache[w] for w in words if w in cache}
            for w, v in zip(missing, self.embedder.embed_small(missing), strict=True):
                cache[w] = v
        return {w: cache[w] for w in words}

    def strength(self, similarity: float) -> float:
        """Return a cosine similarity as match strength (0 unrelated … 1 the same idea)."""
        if similarity < self.match_from:
            return 0.0
        return min(1.0, (similarity - self.floor) / (self.same - self.floor))

    def similar(self, word: str, other: str) -> float:
        """Return how surely two words mean the same idea (1 when equal, 0 when unrelated)."""
        if word == other:
            return 1.0
        vectors = self.embed({word, other})
        return self.strength(float(vectors[word] @ vectors[other]))

    def soft_matches(self, q: Question, docs: list[Any]) -> dict[str, float]:
        """Return sentence lemmas close in meaning to a question word that they do not repeat."""
        q_words = [w for w in q.content if w.isalpha()]
        words = sorted({
            t.lemma_.lower() for d in docs for t in d
            if t.is_alpha and not t.is_stop and t.pos_ in {"VERB", "NOUN"} and t.lemma_.lower() not in q_words
        })
        if not q_words or not words:
            return {}
        vectors = self.embed(set(q_words) | set(words))
        qv = np.vstack([vectors[w] for w in q_words])
        wv = np.vstack([vectors[w] for w in words])
        sims = (wv @ qv.T).max(axis=1)
        strengths = {w: self.strength(float(s)) for w, s in zip(words, sims, strict=True)}
        return {w: s for w, s in strengths.items() if s > 0}
