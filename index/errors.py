"""Every error Byline raises, each saying what to do about it, and the exit code the CLI uses.

They live at the bottom layer (index/) so that every part of Byline can raise them; the public
API re-exports them (`from byline import BylineError`).
"""

from __future__ import annotations

from pathlib import Path


class BylineError(Exception):
    """Base class: every Byline error carries a message meant for a person."""

    exit_code: int = 1  # what `byline` exits with when this error stops a command


class UsageError(BylineError):
    """A command or call that cannot work as given (a bad option, a bad setting)."""

    exit_code = 2


class SettingsError(UsageError):
    """A setting (BYLINE_* variable, .env line, CLI flag or --set) with a value that cannot be used."""


class QuestionFileError(UsageError):
    """A question file (or a line of it) that cannot be used, and how to fix it."""


class RunFileError(UsageError):
    """A saved evaluation run (--baseline) that cannot be read."""


class IndexNotFound(BylineError):
    exit_code = 2  # nothing to work on: like a missing input file

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
    exit_code = 75  # EX_TEMPFAIL: try again later

    def __init__(self, path: Path) -> None:
        super().__init__(f"another byline process is writing to the index at {path} — wait for it to finish")
        self.path = path


class IndexStillBusy(IndexBusy):
    """The write lock stayed taken for the whole wait: nothing was written."""

    def __init__(self, path: Path, waited: float) -> None:
        BylineError.__init__(
            self,
            f"another byline process has been writing to the index at {path} for over "
            f"{waited:.0f} s, so this command changed nothing — run it again once that process "
            f"has finished (or stop it; an interrupted write leaves the index as it was)",
        )
        self.path = path
        self.waited = waited


class DiskFull(BylineError):
    """A write ran out of space; its temporary files are removed and the index is unchanged."""

    def __init__(self, path: Path, detail: str = "") -> None:
        super().__init__(
            f"the disk holding the index at {path} is full{f' ({detail})' if detail else ''} — "
            f"free some space and run the command again; the index is unchanged"
        )
        self.path = path


class MissingExtra(UsageError):
    """An optional part of Byline whose packages are not installed."""

    def __init__(self, module: str, extra: str, purpose: str) -> None:
        super().__init__(
            f"{purpose} needs {module}, which is not installed — pip install 'byline[{extra}]'"
        )


def require(module: str, extra: str, purpose: str) -> None:
    """Raise MissingExtra unless `module` can be imported (without importing it)."""
    from importlib.util import find_spec

    if find_spec(module) is None:
        raise MissingExtra(module, extra, purpose)
