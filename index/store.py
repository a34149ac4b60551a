"""IndexStore: the on-disk index — SQLite metadata, sentence vectors, FAISS chunk vectors, BM25.

Layout of an index folder:

    CURRENT            name of the live generation, replaced atomically
    gen-000007/        one complete, immutable generation
        manifest.json  format version, model, dimension, vector index kind, chunking
        meta.sqlite    articles, sentences (with offsets), chunks
        sentences.npy  one float16 vector per sentence row
        chunks.faiss   chunk vectors (mean of their sentences' vectors), ids = chunk ids
        bm25/          BM25 index over chunk texts (+ bm25_ids.npy)

A write builds the next generation in a temporary folder and only then points CURRENT at it,
so a crash mid-write leaves the previous generation untouched.
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from byline.index.embed import Embedder, model_label
from byline.index.errors import DiskFull, IndexCorrupt, IndexMismatch, IndexStillBusy
from byline.index.types import Article, ArticleInfo, Chunk, IndexStats, Sentence
from byline.index.vector_store import ChunkVectors, FaissChunkStore

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
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
"""


@dataclass(frozen=True, slots=True)
class StoreOptions:
    """How an index is built: the model and the chunking."""

    model: str = "all-MiniLM-L6-v2"
    chunk_sentences: int = 5
    chunk_overlap: int = 2
    batch_size: int = 64
    exact_search_below: int = 200_000


class IndexStore:
    """Reads one generation of an index and writes the next."""

    def __init__(self, path: Path, options: StoreOptions) -> None:
        self.path = path
        self.options = options
        self.embedder = Embedder(options.model, batch_size=options.batch_size)
        self._lock = threading.RLock()
        self._generation: str | None = None
        self._db: sqlite3.Connection | None = None
        self._vectors: np.ndarray | None = None
        self._chunks: FaissChunkStore | None = None
        self._attached: ChunkVectors | None = None
        self._bm25: Any = None
        self._bm25_ids: np.ndarray | None = None
        self.manifest: dict[str, Any] = {}
        self.lock_wait_seconds = 120.0  # how long a write waits for another process's write

    # -- opening ---------------------------------------------------------------------------

    @staticmethod
    def exists(path: Path) -> bool:
        """Return True when `path` holds an index."""
        return (path / "CURRENT").is_file()

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

    def _load(self) -> None:
        name = (self.path / "CURRENT").read_text().strip()
        gen = self.path / name
        try:
            manifest = json.loads((gen / "manifest.json").read_text())
        except (OSError, ValueError) as exc:
            raise IndexCorrupt(self.path, f"unreadable manifest in {name}: {exc}") from exc
        if manifest.get("format") != FORMAT_VERSION:
            raise IndexCorrupt(self.path, f"format {manifest.get('format')}, expected {FORMAT_VERSION}")
        if manifest.get("model") != model_label(self.options.model):
            raise IndexMismatch(self.path, manifest.get("model", "?"), model_label(self.options.model))
        try:
            db = sqlite3.connect(f"file:{gen / 'meta.sqlite'}?mode=ro", uri=True, check_same_thread=False)
            db.execute("SELECT count(*) FROM articles").fetchone()
            vectors = np.load(gen / "sentences.npy", mmap_mode="r")
            chunks = FaissChunkStore.load(
                gen / "chunks.faiss", manifest["vector_index"], self.options.exact_search_below
            )
        except (OSError, ValueError, RuntimeError, sqlite3.Error) as exc:
            raise IndexCorrupt(self.path, f"{name}: {exc}") from exc
        with self._lock:
            if self._db is not None:
                self._db.close()
            self._db, self._vectors, self._chunks = db, vectors, chunks
            self._bm25 = None
            self._bm25_ids = None
            self.manifest = manifest
            self._generation = name
            self.__dict__.pop("_chunk_article", None)
        log.info("opened index %s (%s)", self.path, name)

    def refresh(self) -> bool:
        """Reload when another process wrote a newer generation; return True when it did."""
        current = self.path / "CURRENT"
        if current.is_file() and current.read_text().strip() != self._generation:
            self._load()
            return True
        return False

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
        if self._vectors is None or not rows:
            return np.zeros((0, self.manifest.get("dimension", 0)), dtype=np.float32)
        return np.asarray(self._vectors[np.asarray(rows)], dtype=np.float32)

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
        """Where retrieval searches chunk vectors: this generation's FAISS file unless attached."""
        return self._attached if self._attached is not None else self._chunks

    def attach_vector_store(self, vectors: ChunkVectors | None) -> None:
        """Search `vectors` (e.g. a server store through LlamaIndexChunkStore) instead of FAISS.

        The store must hold this index's chunk ids and vectors; None goes back to FAISS.
        Writes still build FAISS generations: push their vectors to the server store yourself.
        """
        self._attached = vectors

    def bm25(self) -> tuple[Any, np.ndarray] | None:
        """Return the BM25 retriever over chunk texts and the chunk id of each of its documents."""
        with self._lock:
            if self._bm25 is None and self._generation is not None:
                import bm25s

                gen = self.path / self._generation
                self._bm25 = bm25s.BM25.load(str(gen / "bm25"), mmap=True)
                self._bm25_ids = np.load(gen / "bm25_ids.npy")
            if self._bm25 is None or self._bm25_ids is None:
                return None
            return self._bm25, self._bm25_ids

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
            extra={"generation": self._generation or "-"},
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
        """Remove articles (a new generation, written atomically); return how many were there."""
        with self.writer() as writer:
            removed = writer.remove(article_ids)
            writer.commit()
        return removed

    @contextlib.contextmanager
    def writer(self) -> Iterator[Writer]:
        """Yield a Writer for the next generation; it goes live only if `commit()` is called."""
        self.path.mkdir(parents=True, exist_ok=True)
        with _exclusive_lock(self.path, self.lock_wait_seconds):
            self.refresh()
            _remove_stale(self.path, keep=self._generation)
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


class Writer:
    """Builds the next generation of an index in a temporary folder."""

    def __init__(self, store: IndexStore) -> None:
        self.store = store
        number = int(store._generation.split("-")[1]) + 1 if store._generation else 1
        self.name = f"gen-{number:06d}"
        self.tmp = store.path / f"{self.name}.tmp-{os.getpid()}"
        self.tmp.mkdir()
        try:
            self.db = self._copy_database()
        except BaseException:
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise
        self.changed = False
        self._new_vectors: list[np.ndarray] = []
        self._drop_rows: list[int] = []
        self._removed_chunks: list[int] = []
        self._new_chunks: list[tuple[int, list[int]]] = []  # chunk id, sentence rows
        self._next_row = len(store._vectors) if store._vectors is not None else 0
        self.next_chunk_id = int(self.db.execute("SELECT coalesce(max(id), -1) + 1 FROM chunks").fetchone()[0])

    def add(
        self, article: Article, content_hash: str, sentences: list[Sentence], chunks: list[Chunk],
        vectors: np.ndarray,
    ) -> None:
        """Stage one article with its sentences, chunks and sentence vectors."""
        rows = list(range(self._next_row, self._next_row + len(sentences)))
        self._next_row += len(sentences)
        self.db.execute(
            "INSERT INTO articles (id, title, source, published, url, author, origin, hash, text, "
            "dropped, n_sentences, added, key) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                article.id, article.title, article.source, article.published, article.url,
                article.author, article.origin, content_hash, article.text,
                json.dumps(list(article.dropped)), len(sentences), time.time(),
                article.key or article.origin,
            ),
        )
        self.db.executemany(
            "INSERT INTO sentences VALUES (?,?,?,?,?,?,?)",
            [(r, s.article_id, s.position, s.paragraph, s.start, s.end, s.text) for r, s in zip(rows, sentences, strict=True)],
        )
        self.db.executemany(
            "INSERT INTO chunks VALUES (?,?,?,?,?)",
            [(c.id, c.article_id, c.first, c.last, c.text) for c in chunks],
        )
        self._new_vectors.append(vectors.astype(np.float16))
        for c in chunks:
            self._new_chunks.append((c.id, rows[c.first : c.last + 1]))
        self.next_chunk_id = max(self.next_chunk_id, chunks[-1].id + 1 if chunks else 0)
        self.changed = True

    def remove(self, article_ids: Sequence[str]) -> int:
        """Stage the removal of articles; return how many were there."""
        removed = 0
        for article_id in article_ids:
            rows = [r[0] for r in self.db.execute("SELECT row FROM sentences WHERE article_id=?", (article_id,))]
            chunk_ids = [r[0] for r in self.db.execute("SELECT id FROM chunks WHERE article_id=?", (article_id,))]
            cur = self.db.execute("DELETE FROM articles WHERE id=?", (article_id,))
            if cur.rowcount:
                removed += 1
                self.db.execute("DELETE FROM sentences WHERE article_id=?", (article_id,))
                self.db.execute("DELETE FROM chunks WHERE article_id=?", (article_id,))
                self._drop_rows.extend(rows)
                self._removed_chunks.extend(chunk_ids)
                self.changed = True
        return removed

    def commit(self) -> None:
        """Write vectors, FAISS, BM25 and manifest, then make this generation live."""
        if not self.changed:
            return
        store = self.store
        vectors = self._sentence_vectors()
        chunk_store = self._chunk_store(vectors)
        self._write_bm25()
        dimension = int(vectors.shape[1]) if len(vectors) else self._dimension()
        manifest = {
            "format": FORMAT_VERSION,
            "model": model_label(store.options.model),
            "dimension": dimension,
            "vector_index": chunk_store.kind,
            "chunk_sentences": store.options.chunk_sentences,
            "chunk_overlap": store.options.chunk_overlap,
            "sentences": int(len(vectors)),
            "chunks": chunk_store.size,
            "written": time.strftime("%Y-%m-%dT%H:%M:%S"),
        }
        self.db.commit()
        self.db.close()
        chunk_store.persist(str(self.tmp / "chunks.faiss"))
        (self.tmp / "manifest.json").write_text(json.dumps(manifest, indent=2))
        _fsync_tree(self.tmp)
        final = store.path / self.name
        os.replace(self.tmp, final)
        self.tmp = final  # until CURRENT names it, it is still ours to remove on failure
        _atomic_write(store.path / "CURRENT", self.name)
        old = store._generation
        store._load()
        if old:
            shutil.rmtree(store.path / old, ignore_errors=True)

    def _copy_database(self) -> sqlite3.Connection:
        store = self.store
        if store._generation:
            with store._lock:
                assert store._db is not None
                target = sqlite3.connect(self.tmp / "meta.sqlite")
                try:
                    store._db.backup(target)
                finally:
                    target.close()
        db = sqlite3.connect(self.tmp / "meta.sqlite")
        db.executescript(_SCHEMA)
        if "key" not in {r[1] for r in db.execute("PRAGMA table_info(articles)")}:
            db.execute("ALTER TABLE articles ADD COLUMN key TEXT")  # an index from before keys
        return db

    def discard(self) -> None:
        """Remove the temporary folder if this generation did not go live."""
        with contextlib.suppress(sqlite3.Error):
            self.db.close()
        current = self.store.path / "CURRENT"
        if current.is_file() and current.read_text().strip() == self.tmp.name:
            return  # it went live
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _dimension(self) -> int:
        return int(self.store.manifest.get("dimension") or self.store.embedder.dimension)

    def _sentence_vectors(self) -> np.ndarray:
        """Write sentences.npy: the old rows that stay, then the new ones, renumbered 0..n-1."""
        old = self.store._vectors
        parts = ([np.asarray(old)] if old is not None and len(old) else []) + self._new_vectors
        dim = self._dimension()
        vectors = np.vstack(parts) if parts else np.zeros((0, dim), dtype=np.float16)
        if self._drop_rows:
            surviving = [r[0] for r in self.db.execute("SELECT row FROM sentences ORDER BY row")]
            vectors = vectors[np.asarray(surviving, dtype=np.int64)] if surviving else vectors[:0]
            # ascending order: each row moves down to a slot no unprocessed row holds
            self.db.executemany(
                "UPDATE sentences SET row=? WHERE row=?", list(enumerate(surviving))
            )
        np.save(self.tmp / "sentences.npy", vectors.astype(np.float16))
        return vectors

    def _chunk_store(self, vectors: np.ndarray) -> FaissChunkStore:
        store = self.store
        ids = [r[0] for r in self.db.execute("SELECT id FROM chunks ORDER BY id")]
        existing = store._chunks
        if existing is not None and not self._removed_chunks:
            chunk_store = existing  # append: only the new chunks need vectors
            todo = self._new_chunks
        else:
            chunk_store = FaissChunkStore.empty(self._dimension(), store.options.exact_search_below, len(ids))
            todo = self._all_chunks_rows()
        if todo:
            chunk_ids = np.asarray([cid for cid, _ in todo], dtype=np.int64)
            means = np.vstack([vectors[rows].astype(np.float32).mean(axis=0) for _, rows in todo])
            means /= np.linalg.norm(means, axis=1, keepdims=True) + 1e-12
            chunk_store.add_vectors(chunk_ids, means)
        chunk_store.grow_if_needed()
        return chunk_store

    def _all_chunks_rows(self) -> list[tuple[int, list[int]]]:
        rows = self.db.execute(
            "SELECT c.id, s.row FROM chunks c JOIN sentences s ON s.article_id = c.article_id "
            "AND s.position BETWEEN c.first AND c.last ORDER BY c.id, s.position"
        ).fetchall()
        grouped: dict[int, list[int]] = {}
        for cid, row in rows:
            grouped.setdefault(cid, []).append(row)
        return list(grouped.items())

    def _write_bm25(self) -> None:
        import bm25s

        from byline.index.lexical import tokenize

        rows = self.db.execute("SELECT id, title || '. ' || text FROM chunks c JOIN "
                               "(SELECT id AS aid, title FROM articles) a ON a.aid = c.article_id "
                               "ORDER BY id").fetchall()
        retriever = bm25s.BM25()
        if rows:
            retriever.index(tokenize([t for _, t in rows]), show_progress=False)
        retriever.save(str(self.tmp / "bm25"))
        np.save(self.tmp / "bm25_ids.npy", np.asarray([i for i, _ in rows], dtype=np.int64))


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
    return all(p.name.startswith("gen-") or p.name.startswith(".") for p in path.iterdir())


def _remove_stale(path: Path, keep: str | None) -> None:
    """Delete leftovers of interrupted writes (temporary generations, superseded ones)."""
    for child in path.iterdir():
        if child.is_dir() and child.name.startswith("gen-") and child.name != keep:
            log.info("removing leftover %s", child)
            shutil.rmtree(child, ignore_errors=True)


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _fsync_tree(folder: Path) -> None:
    for file in folder.rglob("*"):
        if file.is_file():
            with open(file, "rb") as handle:
                os.fsync(handle.fileno())
