"""Byline's public API: `from byline import Assistant`.

    bot = Assistant.open("my-index")
    answer = bot.ask("Who leads Ukraine's delegation?")
    for c in answer.citations: print(c.text, "—", c.title, c.source, c.published)

Names are imported on first use, so `byline --help` and the warm-process client of
`byline ask` start without loading numpy, FAISS or the models.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from byline.assistant import Assistant
    from byline.conversation import Conversation
    from byline.evaluation import evaluate
    from byline.index.errors import (
        BylineError,
        IndexBusy,
        IndexCorrupt,
        IndexMismatch,
        IndexNotFound,
        SettingsError,
        UsageError,
    )
    from byline.settings import Settings
    from byline.types import AddReport, Answer, ArticleInfo, Citation, Filters, IndexStats

_WHERE = {
    "Assistant": "byline.assistant",
    "Conversation": "byline.conversation",
    "Settings": "byline.settings",
    "evaluate": "byline.evaluation",
    **dict.fromkeys(["AddReport", "Answer", "ArticleInfo", "Citation", "Filters", "IndexStats"], "byline.types"),
    **dict.fromkeys(
        ["BylineError", "IndexBusy", "IndexCorrupt", "IndexMismatch", "IndexNotFound", "SettingsError", "UsageError"],
        "byline.index.errors",
    ),
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(import_module(_WHERE[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'byline' has no attribute {name!r}")
