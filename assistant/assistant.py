"""Assistant: the one object a user needs — open an index, add articles, ask questions."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from byline.settings import Settings
from byline.types import AddReport, Answer, ArticleInfo, IndexStats
from byline.index.errors import IndexNotFound
from byline.index.store import IndexStore, StoreOptions

if TYPE_CHECKING:
    from byline.answer import Answerer
    from byline.conversation import Conversation

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]
"""Called as progress(done, total, stage) during long work."""


@dataclass(frozen=True, slots=True)
class Filters:
    """Narrow a question to some articles: by source (exact, case-insensitive) and date range."""

    source: str | None = None
    since: str | None = None  # ISO date, inclusive
    until: str | None = None  # ISO date, inclusive

    def allows(self, info: ArticleInfo) -> bool:
        if self.source and info.source.casefold() != self.source.casefold():
            return False
        if self.since and (not info.published or info.published[:10] < self.since):
            return False
        return not (self.until and (not info.published or info.published[:10] > self.until))

    @property
    def active(self) -> bool:
        return bool(self.source or self.since or self.until)


class Assistant:
    """Answers questions from an index of news articles, citing the sentences that say so.

    >>> bot = Assistant.open("my-index")
    >>> bot.add(["samples/"])
    >>> print(bot.ask("Who leads Ukraine's delegation?").text)
    """

    def __init__(self, store: IndexStore, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._answerer: Answerer | None = None  # built on the first question (loads spaCy)

    @classmethod
    def open(
        cls,
        index_dir: str | Path | None = None,
        *,
        settings: Settings | None = None,
        create: bool = True,
    ) -> Assistant:
        """Return an Assistant over the index at `index_dir` (created empty when `create`).

        Raises IndexNotFound when there is no index and `create` is False, IndexMismatch when
        the index was built with another embedding model, IndexCorrupt when it cannot be read.
        """
        settings = settings or Settings.from_env()
        path = Path(index_dir).expanduser() if index_dir else settings.resolved_index_dir()
        if not create and not IndexStore.exists(path):
            raise IndexNotFound(path)
        store = IndexStore.open(path, settings=_index_settings(settings), create=create)
        return cls(store, settings)

    # -- articles ---------------------------------------------------------------------------

    def add(self, paths: Iterable[str | Path], *, progress: Progress | None = None) -> AddReport:
        """Index the articles in `paths` (files or folders); return what was added, skipped, failed."""
        from byline.index.indexer import add_paths

        report = add_paths(self.store, [Path(p) for p in paths], progress=progress)
        self._reset_answerer()
        return report

    def articles(self) -> list[ArticleInfo]:
        """Return every indexed article, newest first."""
        return self.store.articles()

    def remove(self, article_id: str) -> bool:
        """Remove an article from the index; return False when it was not there."""
        removed = self.store.remove([article_id]) > 0
        self._reset_answerer()
        return removed

    def stats(self) -> IndexStats:
        """Return the size and shape of the index."""
        return self.store.stats()

    # -- questions --------------------------------------------------------------------------

    def ask(
        self,
        question: str,
        *,
        filters: Filters | None = None,
        history: Iterable[tuple[str, Answer]] = (),
    ) -> Answer:
        """Return the answer to `question`, with the sentences that support it.

        `history` holds earlier (question, answer) turns of a conversation, so follow-ups such
        as "And Russia's?" are understood; `Conversation` keeps it for you.
        """
        from byline.answer import Answerer

        started = time.perf_counter()
        if self._answerer is None:
            self._answerer = Answerer(self.store, self.settings)
        answer = self._answerer.answer(question, filters=filters or Filters(), history=list(history))
        return replace(answer, seconds=time.perf_counter() - started)

    def conversation(self, *, filters: Filters | None = None) -> Conversation:
        """Return a conversation: ask() calls that remember the earlier turns."""
        from byline.conversation import Conversation

        return Conversation(self, filters=filters)

    def warm_up(self) -> None:
        """Load the models now rather than on the first question."""
        self.ask("Who said what to whom, and where?")

    def _reset_answerer(self) -> None:
        if self._answerer is not None:
            self._answerer.refresh()


def _index_settings(settings: Settings) -> StoreOptions:
    return StoreOptions(
        model=settings.model,
        chunk_sentences=settings.chunk_sentences,
        chunk_overlap=settings.chunk_overlap,
        batch_size=settings.batch_size,
        exact_search_below=settings.exact_search_below,
    )
