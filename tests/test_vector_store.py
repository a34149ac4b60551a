"""The vector-store seam: a llama-index VectorStore can stand in for the on-disk FAISS index."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from llama_index.core.vector_stores import SimpleVectorStore

from byline import Assistant
from byline.index.llama_store import LlamaIndexChunkStore
from byline.index.vector_store import FaissChunkStore

QUESTION = "Who leads Ukraine's delegation?"


def test_a_llama_index_vector_store_can_replace_faiss_for_retrieval(own_index: Path) -> None:
    bot = Assistant.open(own_index, create=False)
    with_faiss = bot.ask(QUESTION)
    faiss_store = bot.store.vector_store
    assert isinstance(faiss_store, FaissChunkStore)
    ids, vectors = faiss_store.items()

    other = LlamaIndexChunkStore(SimpleVectorStore())
    other.add_vectors(ids, vectors)
    assert other.size == faiss_store.size == len(ids) > 0
    probe = bot.store.embedder.embed_query(QUESTION)
    assert [i for i, _ in other.search(probe, 5)] == [i for i, _ in faiss_store.search(probe, 5)]

    on_llama_index = Assistant.open(own_index, create=False, vector_store=other)
    assert on_llama_index.store.vector_store is other
    with_llama_index = on_llama_index.ask(QUESTION)
    assert with_llama_index.text == with_faiss.text and "Umerov" in with_llama_index.text
    assert [c.text for c in with_llama_index.citations] == [c.text for c in with_faiss.citations]

    umerov_chunks = np.asarray(
        [h.chunk.id for h in with_faiss.retrieved if "Umerov" in h.chunk.text], dtype=np.int64
    )
    assert len(umerov_chunks) > 0
    other.remove_ids(umerov_chunks)
    assert other.size == len(ids) - len(umerov_chunks)
    assert not set(umerov_chunks) & {i for i, _ in other.search(probe, len(ids))}


def test_open_wraps_a_bare_llama_index_store_behind_the_seam(own_index: Path) -> None:
    bot = Assistant.open(own_index, create=False, vector_store=SimpleVectorStore())
    assert isinstance(bot.store.vector_store, LlamaIndexChunkStore)
