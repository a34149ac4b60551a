"""The few errors Byline raises, each saying what to do about it."""

from __future__ import annotations

from pathlib import Path


class BylineError(Exception):
    """Base class: every Byline error carries a message meant for a person."""


class IndexNotFound(BylineError):
    def __init__(self, path: Path) -> None:
        super().__init__(f'no index at {path} — run "byline index add PATH" first')
        self.path = path


class IndexCorrupt(BylineError):
    def __init__(self, path: Path, detail: str) -> None:
        super().__init__(
            f"the index at {path} cannot be read ({detail}) — rebuild it: "
            f'move the folder away and run "byline index add PATH" again'
        )
        self.path = path


class IndexMismatch(BylineError):
    def __init__(self, path: Path, built_with: str, asked_for: str) -> None:
        super().__init__(
            f"the index at {path} was built with the embedding model {built_with!r}, "
            f"not {asked_for!r} — open it with --model {built_with!r} (BYLINE_MODEL), "
            f"or build a new index in another folder"
        )
        self.path = path


class IndexBusy(BylineError):
    def __init__(self, path: Path) -> None:
        super().__init__(f"another byline process is writing to the index at {path} — wait for it to finish")
        self.path = path
