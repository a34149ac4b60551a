"""Indexing: read → clean → split into sentences → chunk → embed → store, batch by batch."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import time
from pathlib import Path

import numpy as np

from byline.index.chunks import make_chunks
from byline.index.readers import content_hash, read_paths
from byline.index.sentences import split_sentences
from byline.index.store import IndexStore, Writer
from byline.index.types import AddReport, Article, ArticleInfo, Failure, Notice, Progress

log = logging.getLogger(__name__)

BATCH_ARTICLES = 64  # articles embedded together: ~1,000 sentences batch well and report progress often


def add_paths(store: IndexStore, paths: list[Path], *, progress: Progress | None = None) -> AddReport:
    """Index the articles found under `paths`; return what was added, updated, skipped and why."""
    started = time.perf_counter()
    report_progress = progress or (lambda done, total, stage: None)
    report_progress(0, 0, "reading")
    failed: list[Failure] = []
    warnings: list[Notice] = []
    articles: list[Article] = []
    for result in read_paths(paths):
        if isinstance(result, Failure):
            failed.append(result)
        elif isinstance(result, Notice):
            warnings.append(result)
        else:
            articles.append(result)
    added: list[ArticleInfo] = []
    updated: list[ArticleInfo] = []
    duplicates: list[ArticleInfo] = []
    with store.writer() as writer:
        known = store.known_hashes()
        ids = Identities(store.article_keys())
        fresh: list[tuple[Article, str]] = []
        replaced: set[str] = set()
        for article in articles:
            digest = content_hash(article)
            if digest in known:
                duplicates.append(_info(article, known[digest]))
                continue
            article_id, is_update = ids.assign(article)
            if is_update:
                replaced.add(article_id)
            article = dataclasses.replace(article, id=article_id)
            known[digest] = article.id
            fresh.append((article, digest))
        if replaced:
            log.info("updating %d articles whose text changed: %s", len(replaced), sorted(replaced)[:5])
            writer.remove(sorted(replaced))
        total = len(fresh)
        for start in range(0, total, BATCH_ARTICLES):
            report_progress(start, total, "embedding")
            batch = fresh[start : start + BATCH_ARTICLES]
            for info in _add_batch(store, writer, batch):
                (updated if info.id in replaced else added).append(info)
            done = min(start + BATCH_ARTICLES, total)
            log.info("embedded %d of %d articles (not yet committed)", done, total)
            report_progress(done, total, "embedding")
        report_progress(total, total, "saving")
        writer.commit()
    return AddReport(
        added=tuple(added),
        duplicates=tuple(duplicates),
        failed=tuple(failed),
        seconds=time.perf_counter() - started,
        updated=tuple(updated),
        warnings=tuple(warnings),
    )


class Identities:
    """Gives each article an id no other source holds: its readable id when free, else a suffixed one."""

    def __init__(self, keys: dict[str, str]) -> None:
        self.key_of = dict(keys)  # article id → source key
        self.id_of = {key: article_id for article_id, key in keys.items()}
        self.in_batch: set[str] = set()

    def assign(self, article: Article) -> tuple[str, bool]:
        """Return the id for `article` and whether it updates an article from the same source."""
        key = article.key or article.origin
        if key in self.in_batch:  # e.g. two feed entries sharing an id: tell them apart by place
            key = f"{key}@{article.origin}"
        self.in_batch.add(key)
        if key in self.id_of:
            return self.id_of[key], True
        article_id, n = article.id, 0
        while article_id in self.key_of:  # taken by another source: suffix a hash of this one
            salt = key if n == 0 else f"{key}#{n}"
            article_id = f"{article.id}-{hashlib.sha1(salt.encode()).hexdigest()[:6]}"
            n += 1
        self.key_of[article_id] = key
        self.id_of[key] = article_id
        return article_id, False


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
