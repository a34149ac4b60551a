"""The vector-store seam: chunk vectors behind llama-index's VectorStore interface.

Retrieval talks only to `BasePydanticVectorStore.query`/`add`/`delete_nodes`, with node ids
equal to chunk ids (as strings) and `ref_doc_id` equal to the article id. A server store such
as llama-index's Qdrant or Milvus store can replace `FaissChunkStore` without touching
retrieval or the API. This one keeps an exact (flat) FAISS index for small collections and
switches to HNSW above `exact_below` vectors; the choice is recorded in the manifest.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from llama_index.core.schema import BaseNode
from llama_index.core.vector_stores.types import (
    BasePydanticVectorStore,
    VectorStoreQuery,
    VectorStoreQueryResult,
)
from pydantic import PrivateAttr

log = logging.getLogger(__name__)

HNSW_NEIGHBOURS = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128


def make_faiss_index(dimension: int, expected: int, exact_below: int) -> tuple[faiss.Index, str]:
    """Return an empty id-mapped inner-product FAISS index fit for `expected` vectors, and its kind."""
    if expected < exact_below:
        return faiss.IndexIDMap2(faiss.IndexFlatIP(dimension)), "Flat"
    hnsw = faiss.IndexHNSWFlat(dimension, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    hnsw.hnsw.efSearch = HNSW_EF_SEARCH
    return faiss.IndexIDMap2(hnsw), f"HNSW{HNSW_NEIGHBOURS}"


class FaissChunkStore(BasePydanticVectorStore):
    """Chunk vectors in an on-disk FAISS index, queried through llama-index's interface."""

    stores_text: bool = False
    kind: str = "Flat"
    exact_below: int = 200_000
    _index: Any = PrivateAttr()

    def __init__(self, index: faiss.Index, kind: str, exact_below: int) -> None:
        super().__init__(kind=kind, exact_below=exact_below)  # type: ignore[call-arg]
        self._index = index

    @classmethod
    def empty(cls, dimension: int, exact_below: int, expected: int = 0) -> FaissChunkStore:
        """Return an empty store sized for `expected` vectors."""
        index, kind = make_faiss_index(dimension, expected, exact_below)
        return cls(index, kind, exact_below)

    @classmethod
    def load(cls, path: Path, kind: str, exact_below: int) -> FaissChunkStore:
        """Return the store saved at `path`."""
        index = faiss.read_index(str(path))
        if kind.startswith("HNSW"):
            inner: Any = faiss.downcast_index(index.index)  # type: ignore[attr-defined]
            inner.hnsw.efSearch = HNSW_EF_SEARCH
        return cls(index, kind, exact_below)

    @property
    def client(self) -> Any:
        return self._index

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    def add(self, nodes: list[BaseNode], **kwargs: Any) -> list[str]:  # type: ignore[override]
        """Add nodes whose ids are chunk ids and whose embeddings are set; return their ids."""
        if not nodes:
            return []
        vectors = np.asarray([n.get_embedding() for n in nodes], dtype=np.float32)
        self.add_vectors(np.asarray([int(n.node_id) for n in nodes], dtype=np.int64), vectors)
        return [n.node_id for n in nodes]

    def add_vectors(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors under the given chunk ids (the fast path used when building an index)."""
        self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids.astype(np.int64))

    def delete(self, ref_doc_id: str, **delete_kwargs: Any) -> None:
        raise NotImplementedError("delete by article: pass its chunk ids to delete_nodes()")

    def delete_nodes(
        self, node_ids: list[str] | None = None, filters: Any = None, **delete_kwargs: Any
    ) -> None:
        """Remove the vectors of the given chunk ids."""
        if not node_ids:
            return
        ids = np.asarray([int(i) for i in node_ids], dtype=np.int64)
        if self.kind == "Flat":
            self._index.remove_ids(ids)
            return
        # HNSW graphs cannot drop nodes: rebuild from the vectors that stay.
        keep = np.setdiff1d(faiss.vector_to_array(self._index.id_map), ids)
        vectors = np.vstack([self._index.reconstruct(int(i)) for i in keep]) if len(keep) else None
        index, self.kind = make_faiss_index(self._index.d, len(keep), self.exact_below)
        if vectors is not None:
            index.add_with_ids(vectors, keep)
        self._index = index

    def query(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        """Return the chunk ids most similar to `query.query_embedding`, best first."""
        if query.query_embedding is None or self.size == 0:
            return VectorStoreQueryResult(ids=[], similarities=[])
        k = min(query.similarity_top_k, self.size)
        vector = np.asarray([query.query_embedding], dtype=np.float32)
        scores, ids = self._index.search(vector, k)
        found = [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
        return VectorStoreQueryResult(
            ids=[str(i) for i, _ in found], similarities=[s for _, s in found]
        )

    def persist(self, persist_path: str, fs: Any = None) -> None:
        """Write the FAISS index to `persist_path`."""
        faiss.write_index(self._index, persist_path)

    def grow_if_needed(self) -> None:
        """Switch from exact to HNSW search once the collection passes the threshold."""
        if self.kind == "Flat" and self.size >= self.exact_below:
            ids = faiss.vector_to_array(self._index.id_map)
            vectors = self._index.index.reconstruct_n(0, self.size)
            index, self.kind = make_faiss_index(self._index.d, self.size, self.exact_below)
            index.add_with_ids(vectors, ids)
            self._index = index
            log.info("switched the vector index to %s at %d vectors", self.kind, self.size)
