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
    from byline.assistant import Assistant, Filters
    from byline.conversation import Conversation
    from byline.evaluation import evaluate
    from byline.settings import Settings
    from byline.types import AddReport, Answer, ArticleInfo, Citation, IndexStats
    from byline.index.errors import BylineError, IndexCorrupt, IndexMismatch, IndexNotFound

_WHERE = {
    "Assistant": "byline.assistant",
    "Filters": "byline.assistant",
    "Conversation": "byline.conversation",
    "Settings": "byline.settings",
    "evaluate": "byline.evaluation",
    "AddReport": "byline.types",
    "Answer": "byline.types",
    "ArticleInfo": "byline.types",
    "Citation": "byline.types",
    "IndexStats": "byline.types",
    "BylineError": "byline.index.errors",
    "IndexCorrupt": "byline.index.errors",
    "IndexMismatch": "byline.index.errors",
    "IndexNotFound": "byline.index.errors",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(import_module(_WHERE[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'byline' has no attribute {name!r}")
