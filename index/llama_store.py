"""LlamaIndexChunkStore: any llama-index VectorStore (Qdrant, Milvus, FAISS, ...) as `ChunkVectors`.

An archive that outgrows one machine moves its chunk vectors to a server store. llama-index
already speaks to those stores; this adapter lets retrieval use one through the same
`ChunkVectors` seam as the on-disk FAISS file: node id = chunk id (as text), `ref_doc_id` =
chunk id too, so one chunk can be deleted on its own.

    store = IndexStore.open(path, settings=options)
    store.attach_vector_store(LlamaIndexChunkStore(QdrantVectorStore(...), size=n))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from byline.index.errors import require

if TYPE_CHECKING:
    from llama_index.core.vector_stores.types import BasePydanticVectorStore


class LlamaIndexChunkStore:
    """Chunk vectors held by a llama-index `BasePydanticVectorStore`."""

    def __init__(self, store: BasePydanticVectorStore, *, size: int = 0) -> None:
        """`size`: how many chunk vectors `store` already holds (counted from there on)."""
        require("llama_index.core", "llama-index", "a llama-index vector store")
        self.store = store
        self._size = size

    @property
    def size(self) -> int:
        return self._size

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        from llama_index.core.vector_stores.types import VectorStoreQuery

        if k <= 0:
            return []
        query = VectorStoreQuery(
            query_embedding=np.asarray(vector, dtype=np.float32).tolist(), similarity_top_k=k
        )
        result = self.store.query(query)
        ids = result.ids or [n.node_id for n in result.nodes or []]
        scores = list(result.similarities or [0.0] * len(ids))
        return [(int(i), float(s)) for i, s in zip(ids, scores, strict=True)]

    def add_vectors(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

        nodes: list[Any] = [
            TextNode(
                id_=str(int(i)),
                text="",
                embedding=np.asarray(v, dtype=np.float32).tolist(),
                relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=str(int(i)))},
            )
            for i, v in zip(ids, vectors, strict=True)
        ]
        self.store.add(nodes)
        self._size += len(nodes)

    def remove_ids(self, ids: np.ndarray) -> None:
        for i in ids:
            self.store.delete(str(int(i)))
        self._size = max(0, self._size - len(ids))
