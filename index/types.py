"""The records that flow through indexing: Article → Sentence → Chunk, and the Hit a search returns.

`assistant/types.py` continues the chain with Citation and Answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

Progress = Callable[[int, int, str], None]
"""Called as progress(done, total, stage) during long work (indexing, evaluation)."""


@dataclass(frozen=True, slots=True)
class Article:
    """One cleaned news article. `text` is what sentence offsets point into."""

    id: str
    title: str
    text: str
    source: str = ""
    published: str = ""  # ISO date (YYYY-MM-DD) when known
    url: str = ""
    author: str = ""
    origin: str = ""  # the file (and line) it was read from
    dropped: tuple[str, ...] = ()  # page furniture removed by cleaning, kept for inspection
    key: str = ""  # the source's identity (resolved file, plus the record id inside it); "" = origin


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence, located by character offsets in its article's text."""

    article_id: str
    position: int  # 0-based order in the article
    paragraph: int  # 0-based paragraph the sentence belongs to
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Chunk:
    """A window of whole sentences: the unit of passage retrieval."""

    id: int
    article_id: str
    first: int  # position of the first sentence it holds
    last: int  # position of the last sentence it holds (inclusive)
    text: str

    @property
    def positions(self) -> range:
        return range(self.first, self.last + 1)


@dataclass(frozen=True, slots=True)
class Hit:
    """A chunk returned by a search, with the score that ranked it."""

    chunk: Chunk
    score: float
    dense_rank: int | None = None  # 1-based rank in dense search, None when it was not found there
    lexical_rank: int | None = None  # 1-based rank in BM25 search
    days_outside: int | None = None  # days its article lies outside the question's date window (None: no window, or undated)


@dataclass(frozen=True, slots=True)
class ArticleInfo:
    """What the index knows about an article, without its text."""

    id: str
    title: str
    source: str
    published: str
    url: str
    sentences: int
    origin: str = ""


@dataclass(frozen=True, slots=True)
class Failure:
    """An input that could not be indexed, and why."""

    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class Notice:
    """Something about an input that was indexed anyway, e.g. a field that was not stored."""

    path: str
    message: str


@dataclass(frozen=True, slots=True)
class AddReport:
    """The outcome of adding a batch of files: nothing is silently dropped."""

    added: tuple[ArticleInfo, ...] = ()
    duplicates: tuple[ArticleInfo, ...] = ()
    failed: tuple[Failure, ...] = ()
    seconds: float = 0.0
    updated: tuple[ArticleInfo, ...] = ()  # sources indexed before whose text changed
    warnings: tuple[Notice, ...] = ()  # indexed, but with something left out or repaired


@dataclass(frozen=True, slots=True)
class IndexStats:
    """Size and shape of an index, for `byline index stats` and the UI panel."""

    path: Path
    articles: int
    sentences: int
    chunks: int
    sources: tuple[str, ...]
    first_published: str
    last_published: str
    model: str
    dimension: int
    vector_index: str  # e.g. "Flat" or "HNSW32"
    bytes_on_disk: int
    extra: dict[str, str] = field(default_factory=dict)
