"""The vector-store seam: where chunk vectors live and how retrieval searches them.

Retrieval and the writer talk only to `ChunkVectors`: `search` a vector for the nearest chunk
ids, `add_vectors`, `remove_ids`, `size`. Chunk ids are the integers of the `chunks` table and
vectors are unit length, so scores are cosine similarities.

`FaissChunkStore` is the on-disk implementation saved in every index generation: exact (flat)
search for small collections, HNSW above `exact_below` vectors, the choice recorded in the
manifest. Any llama-index `VectorStore` (its Qdrant, Milvus, ... integrations) plugs in through
`LlamaIndexChunkStore` in `index/llama_store.py`. The seam is this protocol rather than
llama-index's base class itself because importing `llama_index.core` costs 2-3 s, which a
cold `byline ask` cannot spend on a FAISS file it can read directly.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Protocol

import faiss
import numpy as np

log = logging.getLogger(__name__)

# Chosen with benchmarks/ (hnsw_recall, 57,852 chunk vectors of 10,000 articles, 500 queries):
# recall@10 against exact search 0.989 at efSearch 256 (efConstruction 80 gave 0.962).
HNSW_NEIGHBOURS = 32
HNSW_EF_CONSTRUCTION = 200
HNSW_EF_SEARCH = 256


class ChunkVectors(Protocol):
    """What retrieval and the index writer need from a vector store."""

    @property
    def size(self) -> int:
        """Number of chunk vectors held."""
        ...

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Return up to `k` (chunk id, cosine similarity) pairs nearest to `vector`, best first."""
        ...

    def add_vectors(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Store unit-length `vectors` under the chunk `ids`."""
        ...

    def remove_ids(self, ids: np.ndarray) -> None:
        """Forget the vectors of the chunk `ids`."""
        ...


def make_faiss_index(dimension: int, expected: int, exact_below: int) -> tuple[faiss.Index, str]:
    """Return an empty id-mapped inner-product FAISS index fit for `expected` vectors, and its kind."""
    if expected < exact_below:
        return faiss.IndexIDMap2(faiss.IndexFlatIP(dimension)), "Flat"
    hnsw = faiss.IndexHNSWFlat(dimension, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    hnsw.hnsw.efSearch = HNSW_EF_SEARCH
    return faiss.IndexIDMap2(hnsw), f"HNSW{HNSW_NEIGHBOURS}"


class FaissChunkStore:
    """Chunk vectors in a FAISS index, saved as one file per index generation."""

    def __init__(self, index: faiss.Index, kind: str, exact_below: int) -> None:
        self._index: Any = index  # an IndexIDMap2 around a flat or HNSW index
        self.kind = kind
        self.exact_below = exact_below

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
    def size(self) -> int:
        return int(self._index.ntotal)

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        if self.size == 0 or k <= 0:
            return []
        query = np.ascontiguousarray(np.asarray(vector, dtype=np.float32).reshape(1, -1))
        scores, ids = self._index.search(query, min(k, self.size))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def add_vectors(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids.astype(np.int64))

    def remove_ids(self, ids: np.ndarray) -> None:
        ids = np.asarray(ids, dtype=np.int64)
        if not len(ids):
            return
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

    def items(self) -> tuple[np.ndarray, np.ndarray]:
        """Return every chunk id and its vector (e.g. to copy them into a server store)."""
        if self.size == 0:
            return np.zeros(0, dtype=np.int64), np.zeros((0, self._index.d), dtype=np.float32)
        ids = faiss.vector_to_array(self._index.id_map).astype(np.int64)
        return ids, np.vstack([self._index.reconstruct(int(i)) for i in ids])

    def persist(self, path: str) -> None:
        """Write the FAISS index to `path`."""
        faiss.write_index(self._index, path)

    def grow_if_needed(self) -> None:
        """Switch from exact to HNSW search once the collection passes the threshold."""
        if self.kind == "Flat" and self.size >= self.exact_below:
            ids = faiss.vector_to_array(self._index.id_map)
            vectors = self._index.index.reconstruct_n(0, self.size)
            index, self.kind = make_faiss_index(self._index.d, self.size, self.exact_below)
            index.add_with_ids(vectors, ids)
            self._index = index
            log.info("switched the vector index to %s at %d vectors", self.kind, self.size)
