"""Indexing: read → clean → split into sentences → chunk → embed → store, batch by batch."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
from byline.index.chunks import make_chunks
from byline.index.readers import content_hash, read_paths
from byline.index.sentences import split_sentences
from byline.index.store import IndexStore, Writer
from byline.index.types import AddReport, Article, ArticleInfo, Failure, Progress

log = logging.getLogger(__name__)

BATCH_ARTICLES = 64  # articles embedded together: ~1,000 sentences batch well and report progress often


def add_paths(store: IndexStore, paths: list[Path], *, progress: Progress | None = None) -> AddReport:
    """Index the articles found under `paths`; return what was added, skipped and why."""
    started = time.perf_counter()
    report_progress = progress or (lambda done, total, stage: None)
    report_progress(0, 0, "reading")
    failed: list[Failure] = []
    articles: list[Article] = []
    for result in read_paths(paths):
        (failed if isinstance(result, Failure) else articles).append(result)  # type: ignore[arg-type]
    added: list[ArticleInfo] = []
    duplicates: list[ArticleInfo] = []
    with store.writer() as writer:
        known = store.known_hashes()
        fresh: list[tuple[Article, str]] = []
        for article in articles:
            digest = content_hash(article)
            if digest in known:
                duplicates.append(_info(article, known[digest]))
                continue
            known[digest] = article.id
            fresh.append((article, digest))
        replaced = [a.id for a, _ in fresh if store.article_info(a.id) is not None]
        if replaced:
            log.info("replacing %d articles whose text changed: %s", len(replaced), replaced[:5])
            writer.remove(replaced)
        total = sum(1 for _ in fresh)
        for start in range(0, total, BATCH_ARTICLES):
            report_progress(start, total, "embedding")
            batch = fresh[start : start + BATCH_ARTICLES]
            added.extend(_add_batch(store, writer, batch))
            report_progress(min(start + BATCH_ARTICLES, total), total, "embedding")
        report_progress(total, total, "saving")
        writer.commit()
    return AddReport(
        added=tuple(added),
        duplicates=tuple(duplicates),
        failed=tuple(failed),
        seconds=time.perf_counter() - started,
    )


def _add_batch(store: IndexStore, writer: Writer, batch: list[tuple[Article, str]]) -> list[ArticleInfo]:
    options = store.options
    split = [(a, h, split_sentences(a.id, a.text)) for a, h in batch]
    texts = [s.text for _, _, sentences in split for s in sentences]
    vectors = store.embedder.embed(texts)
    done: list[ArticleInfo] = []
    offset = 0
    for article, digest, sentences in split:
        chunk_list = make_chunks(
            sentences, article.text, size=options.chunk_sentences,
            overlap=options.chunk_overlap, first_id=writer.next_chunk_id,
        )
        own = vectors[offset : offset + len(sentences)]
        offset += len(sentences)
        writer.add(article, digest, sentences, chunk_list, np.asarray(own))
        done.append(_info(article, article.id, len(sentences)))
    return done


def _info(article: Article, article_id: str, sentences: int = 0) -> ArticleInfo:
    return ArticleInfo(
        id=article_id, title=article.title, source=article.source, published=article.published,
        url=article.url, sentences=sentences, origin=article.origin,
    )
