"""Rank: the sentences of the retrieved passages, scored by meaning, shared words and rank."""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

from byline.pipeline import extract
from byline.pipeline.question import Question
from byline.pipeline.retrieve import Retrieval
from byline.types import Candidate

if TYPE_CHECKING:
    from byline.index.store import IndexStore

_WORD = re.compile(r"[\w’'-]+")


class SentenceRanker:
    """Pipeline step: retrieved passages in, their `keep` most promising sentences out.

    A sentence scores by its embedding similarity to the question (`dense_weight`), the
    inverse-document-frequency share of the question's words it repeats (`lexical_weight`) and
    its passage's rank (`prior_weight`; a passage at rank r counts 1 / (1 + `rank_decay`·(r-1)),
    plus `previous_bonus` when the article answered the previous turn). Sentences shorter than
    `min_chars` (captions, datelines) are not considered.
    """

    def __init__(
        self, store: IndexStore, *, keep: int = 8, min_chars: int = 15, dense_weight: float = 0.5,
        lexical_weight: float = 0.4, prior_weight: float = 0.1, rank_decay: float = 0.05,
        previous_bonus: float = 0.05,
    ) -> None:
        self.store = store
        self.keep = keep
        self.min_chars = min_chars
        self.dense_weight = dense_weight
        self.lexical_weight = lexical_weight
        self.prior_weight = prior_weight
        self.rank_decay = rank_decay
        self.previous_bonus = previous_bonus

    def run(self, question: Question, retrieval: Retrieval, previous: frozenset[str] = frozenset()) -> list[Candidate]:
        """Return the best `keep` sentences, best first; `previous` names the articles cited last turn."""
        pool = self._pool(retrieval)
        if not pool:
            return []
        vectors = self.store.sentence_vectors([c.row for c in pool])
        dense = vectors @ retrieval.vector.astype("float32")
        sentence_stems = [stems(c.sentence.text) for c in pool]
        q_stems = stems(" ".join(question.content) + " " + " ".join(t for t, _ in question.entities))
        idf = {s: math.log(1 + len(pool) / (1 + sum(s in st for st in sentence_stems))) for s in q_stems}
        total = sum(idf.values()) or 1.0
        for cand, sim, st in zip(pool, dense, sentence_stems, strict=True):
            cand.dense = float(sim)
            cand.lexical = sum(w for s, w in idf.items() if s in st) / total
            prior = 1.0 / (1.0 + self.rank_decay * (cand.hit_rank - 1))
            bonus = self.previous_bonus if cand.sentence.article_id in previous else 0.0
            cand.score_prior = prior + bonus
            cand.score = (
                self.dense_weight * cand.dense + self.lexical_weight * cand.lexical
                + self.prior_weight * cand.score_prior
            )
        pool.sort(key=lambda c: c.score, reverse=True)
        return pool[: self.keep]

    def _pool(self, retrieval: Retrieval) -> list[Candidate]:
        seen: dict[tuple[str, int], Candidate] = {}
        for rank, hit in enumerate(retrieval.hits, start=1):
            chunk = hit.chunk
            sentences = self.store.sentences(chunk.article_id, chunk.first, chunk.last)
            rows = self.store.sentence_rows(chunk.article_id, chunk.first, chunk.last)
            for sentence, row in zip(sentences, rows, strict=True):
                k = (sentence.article_id, sentence.position)
                if k not in seen and len(sentence.text) > self.min_chars:
                    seen[k] = Candidate(sentence, row, hit, rank)
        return list(seen.values())


def stems(text: str) -> set[str]:
    """Return the Snowball stems and matching keys of a text's words."""
    from byline.index.lexical import stemmer

    words = [w.lower() for w in _WORD.findall(text)]
    return set(stemmer().stemWords(words)) | {extract.key(w) for w in words}
