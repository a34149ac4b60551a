"""The records a question produces: Citation and Answer.

They continue the chain started in `index/types.py`:
Article → Sentence → Chunk → Hit → Answer(citations: list[Citation]).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from byline.index.types import AddReport, Article, ArticleInfo, Chunk, Failure, Hit, IndexStats, Sentence

__all__ = [
    "AddReport",
    "Answer",
    "Article",
    "ArticleInfo",
    "Chunk",
    "Citation",
    "Failure",
    "Hit",
    "IndexStats",
    "Sentence",
]


@dataclass(frozen=True, slots=True)
class Citation:
    """A sentence that supports an answer, with where it came from.

    `start`/`end` are character offsets of the sentence in the article's cleaned text;
    `answer_start`/`answer_end` locate the short answer inside `text` (-1 when it is not in it).
    `paragraph` is the whole paragraph holding the sentence, for reading it in context.
    """

    text: str
    start: int
    end: int
    article_id: str
    title: str
    source: str
    published: str
    url: str
    score: float
    position: int = 0
    paragraph: str = ""
    paragraph_start: int = 0
    answer_start: int = -1
    answer_end: int = -1


@dataclass(frozen=True, slots=True)
class Answer:
    """The reply to one question.

    `text` is the short answer (e.g. "defence minister Rustem Umerov"), or, when `abstained`,
    a sentence saying the articles don't answer it. `citations` is empty when abstaining.
    `retrieved` holds the passages retrieval returned before answer extraction (for evaluation).
    """

    question: str
    text: str
    abstained: bool
    citations: tuple[Citation, ...] = ()
    confidence: float = 0.0
    note: str = ""  # e.g. why a question was refused or rewritten
    standalone_question: str = ""  # the question as understood after conversation context
    retrieved: tuple[Hit, ...] = field(default=(), repr=False)
    seconds: float = 0.0

    def to_dict(self, *, with_retrieved: bool = False) -> dict[str, Any]:
        """Return the answer as plain JSON-ready data."""
        data = asdict(self)
        if not with_retrieved:
            data.pop("retrieved")
        else:
            data["retrieved"] = [
                {
                    "chunk_id": h.chunk.id,
                    "article_id": h.chunk.article_id,
                    "first": h.chunk.first,
                    "last": h.chunk.last,
                    "text": h.chunk.text,
                    "score": h.score,
                }
                for h in self.retrieved
            ]
        return data
