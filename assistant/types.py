"""The records that flow when a question is answered: Filters in; Citation and Answer out.

They continue the chain started in `index/types.py` (re-exported here, so one import gives
them all): Article → Sentence → Chunk → Hit → Answer(citations: tuple[Citation, ...]).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from byline.index.types import (
    AddReport,
    Article,
    ArticleInfo,
    Chunk,
    Failure,
    Hit,
    IndexStats,
    Progress,
    Sentence,
)

__all__ = [
    "AddReport",
    "Answer",
    "Candidate",
    "Article",
    "ArticleInfo",
    "Chunk",
    "Citation",
    "Failure",
    "Filters",
    "Progress",
    "Turn",
    "Hit",
    "IndexStats",
    "Sentence",
    "Span",
    "Statement",
]


@dataclass(frozen=True, slots=True)
class Filters:
    """Narrow a question to some articles: by source (exact, case-insensitive) and date range."""

    source: str | None = None
    since: str | None = None  # ISO date, inclusive
    until: str | None = None  # ISO date, inclusive
    exclude: frozenset[str] = frozenset()  # article ids left out (e.g. to test abstaining)
    published_by: str | None = None  # ISO date: leave out articles published later (undated stay)

    @classmethod
    def of(cls, options: dict[str, str | None]) -> Filters:
        """Return the filters named in `options` (source, since, until), as the CLI and the socket send them."""
        return cls(source=options.get("source"), since=options.get("since"), until=options.get("until"))

    def allows(self, info: ArticleInfo) -> bool:
        """Return True when the article passes every filter that is set."""
        if info.id in self.exclude:
            return False
        if self.published_by and info.published and info.published[:10] > self.published_by:
            return False
        if self.source and info.source.casefold() != self.source.casefold():
            return False
        if self.since and (not info.published or info.published[:10] < self.since):
            return False
        return not (self.until and (not info.published or info.published[:10] > self.until))

    @property
    def active(self) -> bool:
        return bool(self.source or self.since or self.until or self.exclude or self.published_by)

    def as_of(self, day: str | None) -> Filters:
        """Return these filters also leaving out articles published after `day` (ISO; None: as they are)."""
        if not day or (self.published_by and self.published_by <= day):
            return self
        return replace(self, published_by=day)


@dataclass(frozen=True, slots=True)
class Span:
    """A candidate short answer: character offsets in its sentence, and how well it fits."""

    start: int
    end: int
    text: str
    score: float
    typed: bool  # carries an entity label the question asked for
    role: float = 0.0  # how directly it fills the question's slot in the parse (0..1)


@dataclass(slots=True)
class Candidate:
    """A sentence considered as evidence (ranking fills the first scores, reading the rest)."""

    sentence: Sentence
    row: int  # the sentence's vector row in the index
    hit: Hit  # the passage it came from
    hit_rank: int  # that passage's 1-based retrieval rank
    dense: float = 0.0
    lexical: float = 0.0
    score: float = 0.0
    span: Span | None = None
    missing: int = 0  # question entities absent from the sentence's article
    score_prior: float = 0.0  # from the passage's retrieval rank (and the previous turn)


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
class Statement:
    """One statement of an answer written by a language model, checked against what it cites.

    `citations` are 1-based numbers: into `Answer.citations` once the answer is composed (into
    the sentences the model was shown while it is being checked). `support` is the share of its
    content words found in, or close in meaning to, the cited sentences (0..1); `problems` says,
    for people, why it is not `verified` ("names “Medinsky”, which the cited sentence does not").
    """

    text: str  # without its [n] markers
    citations: tuple[int, ...]
    support: float
    verified: bool
    problems: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Answer:
    """The reply to one question.

    `text` is the short answer (e.g. "defence minister Rustem Umerov"), or, when `abstained`,
    a sentence saying the articles don't answer it. `citations` is empty when abstaining.
    `retrieved` holds the passages retrieval returned before answer extraction (for evaluation).

    With a language model configured (`Settings.llm`), `written` is what the model wrote and
    `statements` each of its statements, checked; `verified` is True when `text` is the written
    answer's verified statements (with `[n]` markers into `citations`), False when the model's
    answer failed and `text` is the extractive answer (then `note` says why in one line).
    """

    question: str
    text: str
    abstained: bool
    citations: tuple[Citation, ...] = ()
    confidence: float = 0.0
    note: str = ""  # e.g. why a question was refused or rewritten
    standalone_question: str = ""  # the question as understood after conversation context
    as_of: str = ""  # the day the question was read against (ISO), when one was given
    retrieved: tuple[Hit, ...] = field(default=(), repr=False)
    seconds: float = 0.0
    written: str = ""
    statements: tuple[Statement, ...] = ()
    verified: bool = False
    vote: str = ""  # the short answer the `reader_llm` model gave, which the fitted reader weighed ("": none)

    @property
    def fully_verified(self) -> bool:
        """True when the model wrote an answer and every one of its statements passed the checks."""
        return bool(self.statements) and all(s.verified for s in self.statements)

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


Turn = tuple[str, Answer]
"""One earlier exchange of a conversation: the question as asked, and its answer."""
