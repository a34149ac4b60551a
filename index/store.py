"""IndexStore: the on-disk index — SQLite metadata, and immutable segments of vectors and BM25.

Layout of an index folder:

    CURRENT            name of the live generation (a hint: `live` in meta.sqlite decides)
    meta.sqlite        articles, sentences (with offsets), chunks, and `live`: the generation
                       they belong to
    gen-000007/        one generation: which segments are live and what in them is deleted
        manifest.json  format, model, dimension, vector index kind, chunking, segments, next ids
        tombstones.npy chunk ids deleted since their segment was written
    seg-000005/        one immutable segment, written by one add (or by merging segments)
        rows.npy       the sentence row of each vector, ascending (rows are never renumbered)
        sentences.npy  one float16 vector per sentence row
        chunks.faiss   chunk vectors (mean of their sentences' vectors), ids = chunk ids
        bm25/          BM25 index over its chunk texts (+ bm25_ids.npy)

A write costs what it changes, as in Lucene: an add writes one new segment and its rows; a
removal deletes rows and writes tombstones (kilobytes, so it works on a nearly full disk).
Segments are merged when there are many, when the collection outgrows exact search, or when
most of one is deleted. Crash safety: the new segment and generation are written and fsynced
first, then one SQLite transaction changes the rows and names the new generation live (the
commit point), then CURRENT follows. Files no live generation names are leftovers of an
interrupted write, removed by the next one. An index of format 1 (a full copy per generation)
is read as one segment and converted on its next write.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from byline.index.embed import Embedder, model_label
from byline.index.errors import DiskFull, IndexCorrupt, IndexMismatch, IndexStillBusy
from byline.index.types import Article, ArticleInfo, Chunk, IndexStats, Sentence
from byline.index.vector_store import ChunkVectors, FaissChunkStore

log = logging.getLogger(__name__)

FORMAT_VERSION = 2
MAX_SEGMENTS = 8  # past this, the smallest segments are merged: a question searches each one
PURGE_DEAD_FRACTION = 0.3  # a segment with this share of deleted chunks is rewritten without them
_SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY, title TEXT, source TEXT, published TEXT, url TEXT, author TEXT,
    origin TEXT, hash TEXT UNIQUE, text TEXT, dropped TEXT, n_sentences INTEGER, added REAL,
    key TEXT);
CREATE TABLE IF NOT EXISTS sentences (
    row INTEGER PRIMARY KEY, article_id TEXT, position INTEGER, paragraph INTEGER,
    start INTEGER, "end" INTEGER, text TEXT);
CREATE INDEX IF NOT EXISTS sentences_by_article ON sentences(article_id, position);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY, article_id TEXT, first INTEGER, last INTEGER, text TEXT);
CREATE INDEX IF NOT EXISTS chunks_by_article ON chunks(article_id);
CREATE TABLE IF NOT EXISTS live (generation TEXT);
"""


@dataclass(frozen=True, slots=True)
class StoreOptions:
    """How an index is built: the model and the chunking."""

    model: str = "all-MiniLM-L6-v2"
    chunk_sentences: int = 5
    chunk_overlap: int = 2
    batch_size: int = 64
    exact_search_below: int = 200_000


@dataclass(slots=True)
class Segment:
    """One immutable segment: sentence vectors, chunk vectors and BM25 for the articles of a write."""

    name: str
    folder: Path
    rows: np.ndarray  # global sentence row of each vector, ascending
    vectors: np.ndarray  # float16, memory-mapped
    chunks: FaissChunkStore
    chunk_ids: np.ndarray  # the chunk id of each BM25 document
    _bm25: Any = field(default=None)

    @classmethod
    def load(cls, folder: Path, kind: str, exact_below: int) -> Segment:
        """Return the segment saved in `folder`."""
        vectors = np.load(folder / "sentences.npy", mmap_mode="r")
        rows_file = folder / "rows.npy"
        rows = np.load(rows_file) if rows_file.is_file() else np.arange(len(vectors), dtype=np.int64)
        chunks = FaissChunkStore.load(folder / "chunks.faiss", kind, exact_below)
        return cls(folder.name, folder, rows, vectors, chunks, np.load(folder / "bm25_ids.npy"))

    def bm25(self) -> Any:
        if self._bm25 is None:
            import bm25s

            self._bm25 = bm25s.BM25.load(str(self.folder / "bm25"), mmap=True)
        return self._bm25


class SegmentedVectors:
    """The chunk vectors of every live segment, searched together, deleted chunks left out."""

    def __init__(self, segments: list[Segment], dead: frozenset[int]) -> None:
        self.segments = segments
        self.dead = dead

    @property
    def size(self) -> int:
        return sum(s.chunks.size for s in self.segments) - len(self.dead)

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        found = [
            hit
            for s in self.segments
            for hit in s.chunks.search(vector, k + len(self.dead))
            if hit[0] not in self.dead
        ]
        return sorted(found, key=lambda hit: -hit[1])[:k]

    def add_vectors(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        raise TypeError("segments are immutable: write through IndexStore.writer()")

    def remove_ids(self, ids: np.ndarray) -> None:
        raise TypeError("segments are immutable: write through IndexStore.writer()")

    def items(self) -> tuple[np.ndarray, np.ndarray]:
        """Return every live chunk id and its vector."""
        parts = [s.chunks.items() for s in self.segments]
        ids = np.concatenate([p[0] for p in parts])
        keep = ~np.isin(ids, np.fromiter(self.dead, dtype=np.int64))
        return ids[keep], np.vstack([p[1] for p in parts])[keep]


class SegmentedBM25:
    """BM25 over every live segment, answering like one bm25s retriever over all their chunks."""

    def __init__(self, segments: list[Segment], dead: frozenset[int]) -> None:
        self.segments = [s for s in segments if len(s.chunk_ids)]
        self.dead = dead
        self.offsets = np.cumsum([0] + [len(s.chunk_ids) for s in self.segments])

    def retrieve(self, tokens: Any, k: int, **options: Any) -> tuple[np.ndarray, np.ndarray]:
        """Return (documents, scores), each of shape (1, n), best first; documents index `ids`.

        Each segment's BM25 weighs a term by that segment's document frequency; a term common
        in a small segment would sink its articles, so scores are re-weighted to the IDF of all
        segments together (as Lucene scores with collection-wide statistics).
        """
        inverse = {i: t for t, i in tokens.vocab.items()}
        terms = [inverse[i] for i in tokens.ids[0] if i in inverse]
        parts = []
        for segment in self.segments:
            retriever = segment.bm25()
            indptr = retriever.scores["indptr"]
            ids = {t: retriever.vocab_dict[t] for t in set(terms) if t in retriever.vocab_dict}
            df = {t: int(indptr[i + 1] - indptr[i]) for t, i in ids.items()}
            parts.append((retriever, ids, df, int(retriever.scores["num_docs"])))
        total = sum(n for *_, n in parts)
        found: list[tuple[float, int]] = []
        for segment, offset, (retriever, ids, df, n) in zip(self.segments, self.offsets, parts, strict=False):
            scores = np.zeros(n, dtype=np.float32)
            for term in terms:
                if term in ids and df[term]:
                    global_df = sum(p[2].get(term, 0) for p in parts)
                    weight = _idf(global_df, total) / _idf(df[term], n)
                    scores += weight * retriever.get_scores_from_ids([ids[term]])
            best = np.argsort(-scores, kind="stable")[: k + len(self.dead)]
            found.extend(
                (float(scores[d]), int(offset + d))
                for d in best
                if scores[d] > 0 and int(segment.chunk_ids[d]) not in self.dead
            )
        found.sort(key=lambda f: -f[0])
        found = found[:k]
        return (np.asarray([[d for _, d in found]], dtype=np.int64),
                np.asarray([[s for s, _ in found]], dtype=np.float32))

    @property
    def ids(self) -> np.ndarray:
        if not self.segments:
            return np.zeros(0, dtype=np.int64)
        return np.concatenate([s.chunk_ids for s in self.segments])


def _idf(df: int, n: int) -> float:
    """Return bm25s's default (Lucene) inverse document frequency."""
    return float(np.log(1 + (n - df + 0.5) / (df + 0.5)))


class IndexStore:
    """Reads the live generation of an index and writes the next."""

    def __init__(self, path: Path, options: StoreOptions) -> None:
        self.path = path
        self.options = options
        self.embedder = Embedder(options.model, batch_size=options.batch_size)
        self._lock = threading.RLock()
        self._generation: str | None = None
        self._db: sqlite3.Connection | None = None
        self._segments: list[Segment] = []
        self._dead: frozenset[int] = frozenset()
        self._attached: ChunkVectors | None = None
        self.manifest: dict[str, Any] = {}
        self.lock_wait_seconds = 120.0  # how long a write waits for another process's write

    # -- opening ---------------------------------------------------------------------------

    @staticmethod
    def exists(path: Path) -> bool:
        """Return True when `path` holds an index."""
        return (path / "CURRENT").is_file() or _live_generation(path) is not None

    @classmethod
    def open(cls, path: Path, *, settings: StoreOptions, create: bool = True) -> IndexStore:
        """Return the store at `path`; an empty one when there is none yet and `create`."""
        store = cls(path, settings)
        if cls.exists(path):
            store._load()
        elif path.exists() and any(path.iterdir()) and not _only_generations(path):
            raise IndexCorrupt(path, "the folder exists but holds no CURRENT file")
        elif not create:
            from byline.index.errors import IndexNotFound

            raise IndexNotFound(path)
        return store

    def _live_name(self) -> str | None:
        # SQLite's `live` decides: CURRENT lags it when a write died between the two
        live = _live_generation(self.path)
        if live is not None and (self.path / live / "manifest.json").is_file():
            return live
        current = self.path / "CURRENT"
        return current.read_text().strip() if current.is_file() else None

    def _load(self) -> None:
        name = self._live_name()
        if name is None:
            return
        gen = self.path / name
        try:
            manifest = json.loads((gen / "manifest.json").read_text())
        except (OSError, ValueError) as exc:
            raise IndexCorrupt(self.path, f"unreadable manifest in {name}: {exc}") from exc
        if manifest.get("format") not in (1, FORMAT_VERSION):
            raise IndexCorrupt(self.path, f"format {manifest.get('format')}, expected {FORMAT_VERSION}")
        if manifest.get("model") != model_label(self.options.model):
            raise IndexMismatch(self.path, manifest.get("model", "?"), model_label(self.options.model))
        if manifest["format"] == 1:  # one full generation: its own database, itself one segment
            db_path, dead = gen / "meta.sqlite", np.zeros(0, dtype=np.int64)
            manifest["segments"] = [{"name": name, "vector_index": manifest["vector_index"]}]
        else:
            db_path, dead = self.path / "meta.sqlite", np.load(gen / "tombstones.npy")
        try:
            db = _connect_reader(db_path)
            db.execute("SELECT count(*) FROM articles").fetchone()
            segments = [
                Segment.load(self.path / s["name"], s["vector_index"], self.options.exact_search_below)
                for s in manifest["segments"]
            ]
        except (OSError, ValueError, RuntimeError, KeyError, sqlite3.Error) as exc:
            raise IndexCorrupt(self.path, f"{name}: {exc}") from exc
        with self._lock:
            if self._db is not None:
                self._db.close()
            self._db, self._segments = db, segments
            self._dead = frozenset(int(i) for i in dead)
            self.manifest = manifest
            self._generation = name
        log.info("opened index %s (%s, %d segments)", self.path, name, len(segments))

    def refresh(self) -> bool:
        """Reload when another process wrote a newer generation; return True when it did."""
        current = self.path / "CURRENT"
        if current.is_file() and current.read_text().strip() != self._generation:
            self._load()
            return True
        return False

    @property
    def generation(self) -> str | None:
        """The name of the live generation: it changes with every write."""
        return self._generation

    @property
    def is_empty(self) -> bool:
        return self._db is None

    # -- reading ---------------------------------------------------------------------------

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            if self._db is None:
                return []
            return self._db.execute(sql, params).fetchall()

    def articles(self) -> list[ArticleInfo]:
        """Return every article, newest first."""
        rows = self._query(
            "SELECT id, title, source, published, url, n_sentences, origin FROM articles "
            "ORDER BY published DESC, added DESC"
        )
        return [ArticleInfo(*row) for row in rows]

    def article_info(self, article_id: str) -> ArticleInfo | None:
        """Return what is known of one article, or None."""
        rows = self._query(
            "SELECT id, title, source, published, url, n_sentences, origin FROM articles WHERE id=?",
            (article_id,),
        )
        return ArticleInfo(*rows[0]) if rows else None

    def article(self, article_id: str) -> Article | None:
        """Return the full article, or None."""
        rows = self._query(
            "SELECT id, title, text, source, published, url, author, origin, dropped FROM articles "
            "WHERE id=?",
            (article_id,),
        )
        if not rows:
            return None
        id_, title, text, source, published, url, author, origin, dropped = rows[0]
        return Article(
            id=id_, title=title, text=text, source=source, published=published, url=url,
            author=author, origin=origin, dropped=tuple(json.loads(dropped or "[]")),
        )

    def sentences(self, article_id: str, first: int = 0, last: int = 1 << 30) -> list[Sentence]:
        """Return the sentences of an article between two positions (inclusive)."""
        rows = self._query(
            'SELECT article_id, position, paragraph, start, "end", text FROM sentences '
            "WHERE article_id=? AND position BETWEEN ? AND ? ORDER BY position",
            (article_id, first, last),
        )
        return [Sentence(*row) for row in rows]

    def ledes(self, sentences: int) -> dict[str, str]:
        """Return each article's first `sentences` sentences, joined: what its lede says."""
        parts: dict[str, list[str]] = {}
        for article_id, text in self._query(
            "SELECT article_id, text FROM sentences WHERE position < ? ORDER BY article_id, position", (sentences,)
        ):
            parts.setdefault(article_id, []).append(text)
        return {article_id: " ".join(texts) for article_id, texts in parts.items()}

    def articles_containing(self, phrases: Sequence[str]) -> set[str]:
        """Return the articles whose title or text holds any of the phrases (ignoring ASCII case
        and the quotes or full stop around a phrase)."""
        found: set[str] = set()
        for phrase in phrases:
            wanted = phrase.strip(" \t\"'“”‘’.").lower()
            if wanted:
                found.update(r[0] for r in self._query(
                    "SELECT id FROM articles WHERE instr(lower(title || ' ' || text), ?) > 0", (wanted,)))
        return found

    def chunk_articles(self, ids: Sequence[int]) -> dict[int, str]:
        """Return the article of each of the given chunks (chunks no longer in the index are left out)."""
        if not ids:
            return {}
        wanted = sorted(set(ids))
        marks = ",".join("?" * len(wanted))
        return dict(self._query(f"SELECT id, article_id FROM chunks WHERE id IN ({marks})", wanted))

    def first_chunks(self, article_ids: Sequence[str]) -> dict[str, Chunk]:
        """Return the opening chunk of each of the given articles."""
        if not article_ids:
            return {}
        marks = ",".join("?" * len(article_ids))
        rows = self._query(
            f"SELECT id, article_id, first, last, text FROM chunks WHERE id IN "
            f"(SELECT min(id) FROM chunks WHERE article_id IN ({marks}) GROUP BY article_id)", list(article_ids),
        )
        return {row[1]: Chunk(*row) for row in rows}

    def sentence_rows(self, article_id: str, first: int, last: int) -> list[int]:
        """Return the vector rows of an article's sentences between two positions."""
        rows = self._query(
            "SELECT row FROM sentences WHERE article_id=? AND position BETWEEN ? AND ? "
            "ORDER BY position",
            (article_id, first, last),
        )
        return [r[0] for r in rows]

    def sentence_vectors(self, rows: Sequence[int]) -> np.ndarray:
        """Return the float32 vectors of the given sentence rows."""
        dimension = int(self.manifest.get("dimension", 0))
        if not self._segments or not len(rows):
            return np.zeros((0, dimension), dtype=np.float32)
        wanted = np.asarray(rows, dtype=np.int64)
        out = np.zeros((len(wanted), dimension), dtype=np.float32)
        for segment in self._segments:
            if not len(segment.rows):
                continue
            at = np.minimum(np.searchsorted(segment.rows, wanted), len(segment.rows) - 1)
            hit = segment.rows[at] == wanted
            if hit.any():
                out[hit] = segment.vectors[at[hit]]
        return out

    def chunks(self, ids: Sequence[int]) -> dict[int, Chunk]:
        """Return the chunks with the given ids."""
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._query(
            f"SELECT id, article_id, first, last, text FROM chunks WHERE id IN ({marks})", list(ids)
        )
        return {row[0]: Chunk(*row) for row in rows}

    @property
    def vector_store(self) -> ChunkVectors | None:
        """Where retrieval searches chunk vectors: the segments' FAISS files unless attached."""
        if self._attached is not None:
            return self._attached
        if not self._segments:
            return None
        if len(self._segments) == 1 and not self._dead:
            return self._segments[0].chunks
        return SegmentedVectors(self._segments, self._dead)

    def attach_vector_store(self, vectors: ChunkVectors | None) -> None:
        """Search `vectors` (e.g. a server store through LlamaIndexChunkStore) instead of FAISS.

        The store must hold this index's chunk ids and vectors; None goes back to FAISS.
        Writes still build FAISS segments: push their vectors to the server store yourself.
        """
        self._attached = vectors

    def bm25(self) -> tuple[Any, np.ndarray] | None:
        """Return the BM25 retriever over chunk texts and the chunk id of each of its documents."""
        with self._lock:
            if not self._segments:
                return None
            if len(self._segments) == 1 and not self._dead:
                return self._segments[0].bm25(), self._segments[0].chunk_ids
            retriever = SegmentedBM25(self._segments, self._dead)
            return retriever, retriever.ids

    def stats(self) -> IndexStats:
        """Return counts, sources, dates and size of the index."""
        counts = self._query(
            "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM sentences), "
            "(SELECT count(*) FROM chunks), (SELECT min(published) FROM articles WHERE published!=''), "
            "(SELECT max(published) FROM articles WHERE published!='')"
        )
        articles, sentences, chunks, first, last = counts[0] if counts else (0, 0, 0, "", "")
        sources = [r[0] for r in self._query("SELECT DISTINCT source FROM articles ORDER BY source")]
        size = sum(f.stat().st_size for f in self.path.rglob("*") if f.is_file()) if self.path.exists() else 0
        return IndexStats(
            path=self.path,
            articles=articles,
            sentences=sentences,
            chunks=chunks,
            sources=tuple(s for s in sources if s),
            first_published=first or "",
            last_published=last or "",
            model=self.manifest.get("model", model_label(self.options.model)),
            dimension=int(self.manifest.get("dimension", 0)),
            vector_index=self.manifest.get("vector_index", "-"),
            bytes_on_disk=size,
            extra={"generation": self._generation or "-", "segments": str(len(self._segments))},
        )

    def known_hashes(self) -> dict[str, str]:
        """Return content hash → article id for every indexed article."""
        return {h: i for i, h in self._query("SELECT id, hash FROM articles")}

    def article_keys(self) -> dict[str, str]:
        """Return article id → the identity of its source (indexes from before keys: its origin)."""
        columns = {r[1] for r in self._query("PRAGMA table_info(articles)")}
        key = "coalesce(key, origin)" if "key" in columns else "origin"
        return dict(self._query(f"SELECT id, {key} FROM articles"))  # type: ignore[arg-type]

    # -- writing ---------------------------------------------------------------------------

    def remove(self, article_ids: Sequence[str]) -> int:
        """Remove articles (deleted rows and tombstones, written atomically); return how many were there."""
        with self.writer() as writer:
            removed = writer.remove(article_ids)
            writer.commit()
        return removed

    @contextlib.contextmanager
    def writer(self) -> Iterator[Writer]:
        """Yield a Writer for the next generation; it goes live only if `commit()` is called.

        After a commit, segments are merged when that is worthwhile (see `merge_plan`).
        """
        self.path.mkdir(parents=True, exist_ok=True)
        with _exclusive_lock(self.path, self.lock_wait_seconds):
            self.refresh()
            current = self.path / "CURRENT"
            if self._generation and (not current.is_file() or current.read_text().strip() != self._generation):
                _atomic_write(current, self._generation)  # it lagged `live` after an interrupted write
            _remove_stale(self.path, keep=self._referenced())
            writer: Writer | None = None
            try:
                writer = Writer(self)
                yield writer
            except (OSError, sqlite3.Error, RuntimeError) as exc:
                if _is_disk_full(exc):
                    log.error("write to %s failed, the disk is full: %s", self.path, exc)
                    raise DiskFull(self.path) from exc
                raise
            finally:
                if writer is not None:
                    writer.discard()
                (self.path / "CURRENT.tmp").unlink(missing_ok=True)
            if writer is not None and writer.committed:
                self._merge_if_worthwhile()

    def _referenced(self) -> set[str]:
        names = {s.name for s in self._segments}
        return names | {self._generation} if self._generation else names

    def merge_plan(self) -> list[str]:
        """Return the names of the segments worth merging now (none, usually)."""
        live = {s.name: int(len(s.chunk_ids) - np.isin(s.chunk_ids, list(self._dead)).sum())
                for s in self._segments}
        dead = [n for n, size in live.items() if size == 0]
        total = sum(live.values())
        flat = not str(self.manifest.get("vector_index", "Flat")).startswith("HNSW")
        if len(self._segments) > 1 and flat and total >= self.options.exact_search_below:
            return list(live)  # one HNSW graph instead of many exact scans
        if len(self._segments) > MAX_SEGMENTS:
            smallest = sorted(live, key=live.__getitem__)
            return sorted(set(dead) | set(smallest[: len(smallest) - MAX_SEGMENTS // 2]))
        mostly_dead = [s.name for s in self._segments
                       if live[s.name] < (1 - PURGE_DEAD_FRACTION) * len(s.chunk_ids)]
        return mostly_dead

    def _merge_if_worthwhile(self) -> None:
        names = self.merge_plan()
        if not names:
            return
        needed = sum(f.stat().st_size for n in names for f in (self.path / n).rglob("*") if f.is_file())
        if shutil.disk_usage(self.path).free < 2 * needed + 2**20:
            log.info("not merging segments of %s: too little free space for a copy of them", self.path)
            return
        writer: Writer | None = None
        try:
            writer = Writer(self)
            writer.merge(names)
            writer.commit()
            log.info("merged segments %s", names)
        except (OSError, sqlite3.Error, RuntimeError) as exc:
            # the write itself is committed; merging can wait for a later write with more room
            log.warning("did not merge segments of %s (%s); will try again on a later write", self.path, exc)
        finally:
            if writer is not None:
                writer.discard()


class Writer:
    """Builds the next generation of an index: at most one new segment, rows, tombstones."""

    def __init__(self, store: IndexStore) -> None:
        self.store = store
        number = int(store._generation.split("-")[1]) + 1 if store._generation else 1
        self.name = f"gen-{number:06d}"
        self.segment_name = f"seg-{number:06d}"
        self.tmp = store.path / f"{self.name}.tmp-{os.getpid()}"
        self.tmp.mkdir()
        self.published: list[Path] = []  # moved out of tmp, not yet live
        self.committed = False
        self.changed = False
        try:
            self.db = self._open_database()
        except BaseException:
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise
        manifest = store.manifest
        self.segments: list[dict[str, Any]] = [dict(s) for s in manifest.get("segments", [])]
        self.dead: set[int] = set(store._dead)
        self._removed: list[str] = []
        self._articles: list[tuple[Any, ...]] = []
        self._sentences: list[tuple[Any, ...]] = []
        self._chunks: list[tuple[Any, ...]] = []
        self._titles: dict[str, str] = {}
        self._new_vectors: list[np.ndarray] = []
        self._new_chunks: list[tuple[int, list[int]]] = []  # chunk id, sentence rows
        self._merged: list[str] = []
        if manifest.get("format") == FORMAT_VERSION:
            self.next_row = int(manifest["next_row"])
            self.next_chunk_id = int(manifest["next_chunk"])
        else:
            self.next_row = sum(len(s.rows) for s in store._segments)
            self.next_chunk_id = int(self.db.execute("SELECT coalesce(max(id), -1) + 1 FROM chunks").fetchone()[0])
        self._first_new_row = self.next_row

    def _open_database(self) -> sqlite3.Connection:
        store = self.store
        target = store.path / "meta.sqlite"
        if store.manifest.get("format") == 1:
            # converting a format-1 index: its generation's database becomes the shared one (once)
            copy = store.path / "meta.sqlite.tmp"
            with store._lock:
                assert store._db is not None
                out = sqlite3.connect(copy)
                try:
                    store._db.backup(out)
                finally:
                    out.close()
            os.replace(copy, target)
        db = sqlite3.connect(target, timeout=60)
        db.executescript(_SCHEMA)
        if "key" not in {r[1] for r in db.execute("PRAGMA table_info(articles)")}:
            db.execute("ALTER TABLE articles ADD COLUMN key TEXT")  # an index from before keys
            db.commit()
        return db

    def add(
        self, article: Article, content_hash: str, sentences: list[Sentence], chunks: list[Chunk],
        vectors: np.ndarray,
    ) -> None:
        """Stage one article with its sentences, chunks and sentence vectors."""
        rows = list(range(self.next_row, self.next_row + len(sentences)))
        self.next_row += len(sentences)
        self._articles.append((
            article.id, article.title, article.source, article.published, article.url,
            article.author, article.origin, content_hash, article.text,
            json.dumps(list(article.dropped)), len(sentences), time.time(), article.key or article.origin,
        ))
        self._sentences.extend(
            (r, s.article_id, s.position, s.paragraph, s.start, s.end, s.text)
            for r, s in zip(rows, sentences, strict=True)
        )
        self._chunks.extend((c.id, c.article_id, c.first, c.last, c.text) for c in chunks)
        self._titles[article.id] = article.title
        self._new_vectors.append(vectors.astype(np.float16))
        for c in chunks:
            self._new_chunks.append((c.id, rows[c.first : c.last + 1]))
        self.next_chunk_id = max(self.next_chunk_id, chunks[-1].id + 1 if chunks else 0)
        self.changed = True

    def remove(self, article_ids: Sequence[str]) -> int:
        """Stage the removal of articles; return how many were there."""
        removed = 0
        for article_id in dict.fromkeys(article_ids):
            if not self.db.execute("SELECT 1 FROM articles WHERE id=?", (article_id,)).fetchone():
                continue
            removed += 1
            self._removed.append(article_id)
            self.dead.update(r[0] for r in self.db.execute("SELECT id FROM chunks WHERE article_id=?", (article_id,)))
            self.changed = True
        return removed

    def merge(self, names: Sequence[str]) -> None:
        """Stage rewriting the segments `names` as one, without their deleted chunks and rows."""
        chosen = [s for s in self.store._segments if s.name in set(names)]
        live_rows = np.asarray([r[0] for r in self.db.execute("SELECT row FROM sentences")], dtype=np.int64)
        rows, vectors, chunk_ids, chunk_vectors = [], [], [], []
        for segment in chosen:
            keep = np.isin(segment.rows, live_rows)
            rows.append(segment.rows[keep])
            vectors.append(np.asarray(segment.vectors[keep]))
            ids, vecs = segment.chunks.items()
            alive = ~np.isin(ids, list(self.dead))
            chunk_ids.append(ids[alive])
            chunk_vectors.append(vecs[alive])
        self.segments = [s for s in self.segments if s["name"] not in set(names)]
        self.dead -= {int(i) for s in chosen for i in s.chunk_ids}
        self._merged = list(names)
        self.changed = True
        all_ids = np.concatenate(chunk_ids) if chunk_ids else np.zeros(0, dtype=np.int64)
        if not len(all_ids):
            return  # everything in them was deleted: drop them, write nothing
        order = np.argsort(np.concatenate(rows), kind="stable")
        self._write_segment(
            np.concatenate(rows)[order], np.vstack(vectors)[order], all_ids, np.vstack(chunk_vectors)
        )

    def commit(self) -> None:
        """Write the new segment and generation, then make them live in one SQLite transaction."""
        if not self.changed:
            return
        store = self.store
        if self._new_vectors:
            self._write_new_segment()
        kinds = [s["vector_index"] for s in self.segments]
        manifest = {
            "format": FORMAT_VERSION,
            "model": model_label(store.options.model),
            "dimension": self._dimension(),
            "vector_index": next((k for k in kinds if k.startswith("HNSW")), "Flat"),
            "chunk_sentences": store.options.chunk_sentences,
            "chunk_overlap": store.options.chunk_overlap,
            "segments": self.segments,
            "tombstones": len(self.dead),
            "next_row": self.next_row,
            "next_chunk": self.next_chunk_id,
            "written": time.strftime("%Y-%m-%dT%H:%M:%S"),
        }
        np.save(self.tmp / "tombstones.npy", np.asarray(sorted(self.dead), dtype=np.int64))
        (self.tmp / "manifest.json").write_text(json.dumps(manifest, indent=2))
        _fsync_tree(self.tmp)
        segment_tmp = self.tmp / self.segment_name
        if segment_tmp.is_dir():
            os.replace(segment_tmp, store.path / self.segment_name)
            self.published.append(store.path / self.segment_name)
        os.replace(self.tmp, store.path / self.name)
        self.published.append(store.path / self.name)
        _fsync_dir(store.path)
        with self.db:  # the commit point
            for article_id in self._removed:
                for table, column in (("articles", "id"), ("sentences", "article_id"), ("chunks", "article_id")):
                    self.db.execute(f"DELETE FROM {table} WHERE {column}=?", (article_id,))
            self.db.executemany(
                "INSERT INTO articles (id, title, source, published, url, author, origin, hash, text, "
                "dropped, n_sentences, added, key) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", self._articles,
            )
            self.db.executemany("INSERT INTO sentences VALUES (?,?,?,?,?,?,?)", self._sentences)
            self.db.executemany("INSERT INTO chunks VALUES (?,?,?,?,?)", self._chunks)
            self.db.execute("DELETE FROM live")
            self.db.execute("INSERT INTO live VALUES (?)", (self.name,))
        self.committed = True
        try:
            _atomic_write(store.path / "CURRENT", self.name)
        except OSError as exc:  # `live` already names it; the next write brings CURRENT up to date
            log.warning("could not update %s: %s", store.path / "CURRENT", exc)
        old = store._generation
        old_segments = {s.name for s in store._segments}
        store._load()
        for name in (old_segments - store._referenced()) | ({old} - store._referenced() if old else set()):
            shutil.rmtree(store.path / name, ignore_errors=True)

    def discard(self) -> None:
        """Remove what this write left behind unless it went live."""
        with contextlib.suppress(sqlite3.Error):
            self.db.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
        if not self.committed:
            for path in self.published:
                shutil.rmtree(path, ignore_errors=True)

    def _dimension(self) -> int:
        return int(self.store.manifest.get("dimension") or self.store.embedder.dimension)

    def _write_new_segment(self) -> None:
        vectors = np.vstack(self._new_vectors)
        rows = np.arange(self._first_new_row, self._first_new_row + len(vectors), dtype=np.int64)
        chunk_ids = np.asarray([cid for cid, _ in self._new_chunks], dtype=np.int64)
        means = np.vstack([
            vectors[np.asarray(r) - self._first_new_row].astype(np.float32).mean(axis=0)
            for _, r in self._new_chunks
        ])
        means /= np.linalg.norm(means, axis=1, keepdims=True) + 1e-12
        texts = {c[0]: f"{self._titles[c[1]]}. {c[4]}" for c in self._chunks}
        self._write_segment(rows, vectors, chunk_ids, means, texts)

    def _write_segment(
        self, rows: np.ndarray, vectors: np.ndarray, chunk_ids: np.ndarray, chunk_vectors: np.ndarray,
        texts: dict[int, str] | None = None,
    ) -> None:
        """Write one segment into the temporary folder and list it in the next manifest."""
        import bm25s

        from byline.index.lexical import tokenize

        folder = self.tmp / self.segment_name
        folder.mkdir()
        np.save(folder / "rows.npy", rows.astype(np.int64))
        np.save(folder / "sentences.npy", vectors.astype(np.float16))
        chunks = FaissChunkStore.empty(self._dimension(), self.store.options.exact_search_below, len(chunk_ids))
        chunks.add_vectors(chunk_ids, chunk_vectors)
        chunks.persist(str(folder / "chunks.faiss"))
        if texts is None:
            texts = self._chunk_texts(chunk_ids)
        retriever = bm25s.BM25()
        retriever.index(tokenize([texts[int(i)] for i in chunk_ids]), show_progress=False)
        retriever.save(str(folder / "bm25"))
        np.save(folder / "bm25_ids.npy", chunk_ids.astype(np.int64))
        self.segments.append({
            "name": self.segment_name, "vector_index": chunks.kind,
            "sentences": int(len(rows)), "chunks": int(len(chunk_ids)),
        })

    def _chunk_texts(self, chunk_ids: np.ndarray) -> dict[int, str]:
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS wanted (id INTEGER PRIMARY KEY)")
        self.db.execute("DELETE FROM wanted")
        self.db.executemany("INSERT INTO wanted VALUES (?)", [(int(i),) for i in chunk_ids])
        rows = self.db.execute(
            "SELECT c.id, a.title || '. ' || c.text FROM wanted w JOIN chunks c ON c.id = w.id "
            "JOIN articles a ON a.id = c.article_id"
        ).fetchall()
        self.db.rollback()
        return dict(rows)


@contextlib.contextmanager
def _exclusive_lock(path: Path, wait_seconds: float = 120.0) -> Iterator[None]:
    with open(path / ".lock", "w") as handle:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise IndexStillBusy(path, wait_seconds) from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _connect_reader(path: Path) -> sqlite3.Connection:
    # read-write where allowed, so a reader can roll back a journal left by a killed writer
    mode = "rw" if os.access(path, os.W_OK) else "ro"
    return sqlite3.connect(f"file:{path}?mode={mode}", uri=True, check_same_thread=False, timeout=60)


def _live_generation(path: Path) -> str | None:
    """Return the generation meta.sqlite names live, or None."""
    meta = path / "meta.sqlite"
    if not meta.is_file():
        return None
    try:
        db = _connect_reader(meta)
        try:
            row = db.execute("SELECT generation FROM live").fetchone()
        finally:
            db.close()
    except sqlite3.Error:
        return None
    return str(row[0]) if row else None


def _is_disk_full(exc: BaseException) -> bool:
    """Return True when a write failed for want of space (OS, SQLite and FAISS say it differently)."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(exc).lower()
    if "disk is full" in text or "no space left on device" in text:
        return True
    # numpy reports a short write without an errno: "13440 requested and 1984 written"
    return isinstance(exc, OSError) and exc.errno is None and "requested and" in text


def _only_generations(path: Path) -> bool:
    return all(
        p.name.startswith(("gen-", "seg-", ".", "meta.sqlite")) for p in path.iterdir()
    )


def _remove_stale(path: Path, keep: set[str]) -> None:
    """Delete leftovers of interrupted writes (temporary generations, unreferenced segments)."""
    for child in path.iterdir():
        if child.is_dir() and child.name.startswith(("gen-", "seg-")) and child.name not in keep:
            log.info("removing leftover %s", child)
            shutil.rmtree(child, ignore_errors=True)
    (path / "meta.sqlite.tmp").unlink(missing_ok=True)


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _fsync_tree(folder: Path) -> None:
    for file in folder.rglob("*"):
        if file.is_file():
            with open(file, "rb") as handle:
                os.fsync(handle.fileno())
