"""Byline's public API: `from assistant import Assistant`.

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
    from assistant.assistant import Assistant, Filters
    from assistant.conversation import Conversation
    from assistant.evaluation import evaluate
    from assistant.settings import Settings
    from assistant.types import AddReport, Answer, ArticleInfo, Citation, IndexStats
    from index.errors import BylineError, IndexCorrupt, IndexMismatch, IndexNotFound

_WHERE = {
    "Assistant": "assistant.assistant",
    "Filters": "assistant.assistant",
    "Conversation": "assistant.conversation",
    "Settings": "assistant.settings",
    "evaluate": "assistant.evaluation",
    "AddReport": "assistant.types",
    "Answer": "assistant.types",
    "ArticleInfo": "assistant.types",
    "Citation": "assistant.types",
    "IndexStats": "assistant.types",
    "BylineError": "index.errors",
    "IndexCorrupt": "index.errors",
    "IndexMismatch": "index.errors",
    "IndexNotFound": "index.errors",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(import_module(_WHERE[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'assistant' has no attribute {name!r}")
