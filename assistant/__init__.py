"""Byline's public API: `from assistant import Assistant`.

    bot = Assistant.open("my-index")
    answer = bot.ask("Who leads Ukraine's delegation?")
    for c in answer.citations: print(c.text, "—", c.title, c.source, c.published)
"""

from __future__ import annotations

from assistant.assistant import Assistant, Filters
from assistant.conversation import Conversation
from assistant.settings import Settings
from assistant.types import AddReport, Answer, ArticleInfo, Citation, IndexStats
from index.errors import BylineError, IndexCorrupt, IndexMismatch, IndexNotFound

__all__ = [
    "AddReport",
    "Answer",
    "ArticleInfo",
    "Assistant",
    "BylineError",
    "Citation",
    "Conversation",
    "Filters",
    "IndexCorrupt",
    "IndexMismatch",
    "IndexNotFound",
    "IndexStats",
    "Settings",
]
