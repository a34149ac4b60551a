"""Text templates, kept as files so they can be read and changed without touching code."""

from __future__ import annotations

from importlib.resources import files


def load(name: str) -> str:
    """Return the text of the template `name` (e.g. "answer.txt")."""
    return files(__package__).joinpath(name).read_text(encoding="utf-8")
