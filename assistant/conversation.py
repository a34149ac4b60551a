"""Conversation: questions that remember earlier turns, so follow-ups are understood."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from typing import Protocol

from byline.types import Answer, Filters, Turn


class Asks(Protocol):
    """What a conversation talks to: `Assistant` (kept as a protocol so neither imports the other)."""

    def ask(
        self, question: str, *, filters: Filters | None = None, history: Iterable[Turn] = (),
        as_of: date | str | None = None, write: bool = True,
    ) -> Answer: ...

    def ask_stream(
        self, question: str, *, filters: Filters | None = None, history: Iterable[Turn] = (),
        as_of: date | str | None = None, write: bool = True,
    ) -> Iterator[str | Answer]: ...


class Conversation:
    """A chat with an Assistant. `ask("And Russia's?")` reads the earlier turns."""

    def __init__(self, assistant: Asks, *, filters: Filters | None = None, keep: int = 4) -> None:
        self.assistant = assistant
        self.filters = filters
        self.keep = keep
        self.turns: list[Turn] = []

    def ask(
        self, question: str, *, filters: Filters | None = None, as_of: date | str | None = None,
        write: bool = True,
    ) -> Answer:
        """Return the answer to `question`, read in the light of the earlier turns.

        `filters` narrows this question only; without it the conversation's own filters apply.
        """
        for item in self.ask_stream(question, filters=filters, as_of=as_of, write=write):
            if isinstance(item, Answer):
                return item
        raise AssertionError("ask_stream ended without an Answer")

    def ask_stream(
        self, question: str, *, filters: Filters | None = None, as_of: date | str | None = None,
        write: bool = True,
    ) -> Iterator[str | Answer]:
        """Yield the written answer's text as it comes, then the Answer (see `Assistant.ask_stream`)."""
        filters = filters if filters is not None else self.filters
        for item in self.assistant.ask_stream(
            question, filters=filters, history=self.turns[-self.keep :], as_of=as_of, write=write,
        ):
            if isinstance(item, Answer):
                self.turns.append((question, item))
            yield item

    def reset(self) -> None:
        """Forget the earlier turns."""
        self.turns.clear()
