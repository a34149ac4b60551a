"""Assistant: the one object a user needs — open an index, add articles, ask questions."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from byline.index.errors import IndexNotFound, UsageError
from byline.index.store import IndexStore
from byline.settings import Settings
from byline.types import AddReport, Answer, ArticleInfo, Filters, IndexStats, Progress, Turn

if TYPE_CHECKING:
    from byline.conversation import Conversation
    from byline.index.vector_store import ChunkVectors
    from byline.pipeline.compose import Composer
    from byline.pipeline.pipeline import Pipeline
    from byline.pipeline.read import Reader

log = logging.getLogger(__name__)

class Assistant:
    """Answers questions from an index of news articles, citing the sentences that say so.

    >>> bot = Assistant.open("my-index")
    >>> bot.add(["samples/"])
    >>> print(bot.ask("Who leads Ukraine's delegation?").text)
    """

    def __init__(
        self, store: IndexStore, settings: Settings, *, reader: Reader | Callable[[IndexStore], Reader] | None = None,
        composer: Composer | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self._reader = reader
        self._composer = composer
        self._pipeline: Pipeline | None = None  # built on the first question (loads spaCy)

    @classmethod
    def open(
        cls,
        index_dir: str | Path | None = None,
        *,
        settings: Settings | None = None,
        create: bool = True,
        reader: Reader | Callable[[IndexStore], Reader] | None = None,
        composer: Composer | None = None,
        vector_store: ChunkVectors | Any | None = None,
    ) -> Assistant:
        """Return an Assistant over the index at `index_dir` (created empty when `create`).

        Replace a step of the answering pipeline with `reader` (a Reader, or a function that
        makes one from the index store) or `composer`; search `vector_store` (a ChunkVectors,
        or any llama-index VectorStore holding the index's chunk vectors) instead of FAISS.

        Raises IndexNotFound when there is no index and `create` is False, IndexMismatch when
        the index was built with another embedding model, IndexCorrupt when it cannot be read.
        """
        settings = settings or Settings.from_env()
        path = Path(index_dir).expanduser() if index_dir else settings.resolved_index_dir()
        if not create and not IndexStore.exists(path):
            raise IndexNotFound(path)
        store = IndexStore.open(path, settings=settings.store_options(), create=create)
        if vector_store is not None:
            store.attach_vector_store(_chunk_vectors(vector_store))
        return cls(store, settings, reader=reader, composer=composer)

    # -- articles ---------------------------------------------------------------------------

    def add(self, paths: str | Path | Iterable[str | Path], *, progress: Progress | None = None) -> AddReport:
        """Index the articles in `paths` (files or folders); return what was added, skipped, failed."""
        from byline.index.indexer import add_paths

        if isinstance(paths, str | Path):
            paths = [paths]
        return add_paths(self.store, [Path(p) for p in paths], progress=progress)

    def articles(self) -> list[ArticleInfo]:
        """Return every indexed article, newest first."""
        return self.store.articles()

    def remove(self, article_id: str) -> bool:
        """Remove an article from the index; return False when it was not there."""
        return self.store.remove([article_id]) > 0

    def stats(self) -> IndexStats:
        """Return the size and shape of the index."""
        return self.store.stats()

    # -- questions --------------------------------------------------------------------------

    def ask(
        self,
        question: str,
        *,
        filters: Filters | None = None,
        history: Iterable[Turn] = (),
        as_of: date | str | None = None,
        write: bool = True,
    ) -> Answer:
        """Return the answer to `question`, with the sentences that support it.

        `history` holds earlier (question, answer) turns of a conversation, so follow-ups such
        as "And Russia's?" are understood; `Conversation` keeps it for you. `as_of` is the day
        the question is asked (a date or "YYYY-MM-DD"): "this week" or "in March" are read
        against it, and articles published after it are left out. With a language model
        configured (`Settings.llm`) the answer is written by it and verified; `write=False`
        gives the extractive answer all the same.
        """
        for item in self.ask_stream(question, filters=filters, history=history, as_of=as_of, write=write):
            if isinstance(item, Answer):
                return item
        raise AssertionError("ask_stream ended without an Answer")

    def ask_stream(
        self,
        question: str,
        *,
        filters: Filters | None = None,
        history: Iterable[Turn] = (),
        as_of: date | str | None = None,
        write: bool = True,
    ) -> Iterator[str | Answer]:
        """Yield the written answer's text as the language model writes it, then the Answer.

        The text pieces (str) are the model's raw output, before verification: show them as
        progress, then replace them by the Answer, the last item, whose `text` keeps only the
        verified statements. Without a model (or with `write=False`) the Answer is all it yields.
        Arguments as for `ask`.
        """
        started = time.perf_counter()
        for item in self.pipeline.stream(
            question, filters=filters or Filters(), history=list(history), as_of=as_date(as_of), write=write,
        ):
            yield replace(item, seconds=time.perf_counter() - started) if isinstance(item, Answer) else item

    @property
    def pipeline(self) -> Pipeline:
        """The answering pipeline (rewrite → retrieve → rank → read → compose), built once."""
        if self._pipeline is None:
            from byline.pipeline.pipeline import build_pipeline

            reader = self._reader(self.store) if callable(self._reader) else self._reader
            self._pipeline = build_pipeline(self.store, self.settings, reader=reader, composer=self._composer)
        return self._pipeline

    def conversation(self, *, filters: Filters | None = None) -> Conversation:
        """Return a conversation: ask() calls that remember the earlier turns."""
        from byline.conversation import Conversation

        return Conversation(self, filters=filters)

    def warm_up(self) -> None:
        """Load the models now rather than on the first question."""
        self.ask("Who said what to whom, and where?", write=False)


def as_date(day: date | str | None) -> date | None:
    """Return `day` as a date; raise UsageError for text that is not YYYY-MM-DD."""
    if day is None or isinstance(day, date):
        return day
    try:
        return date.fromisoformat(day.strip()[:10])
    except ValueError:
        raise UsageError(f"as_of must be a date like 2025-05-16, not {day!r}") from None


def _chunk_vectors(vector_store: Any) -> ChunkVectors:
    """Return `vector_store` behind the ChunkVectors seam (llama-index stores are wrapped)."""
    if all(hasattr(vector_store, m) for m in ("search", "add_vectors", "remove_ids")):
        return vector_store  # type: ignore[no-any-return]
    if hasattr(vector_store, "query") and hasattr(vector_store, "add"):
        from byline.index.llama_store import LlamaIndexChunkStore

        return LlamaIndexChunkStore(vector_store)
    raise UsageError(
        f"vector_store must be a ChunkVectors or a llama-index VectorStore, not {type(vector_store).__name__}"
    )
