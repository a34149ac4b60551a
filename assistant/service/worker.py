"""Worker: runs Assistant calls one at a time on one thread, so uploads and questions never race."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class Worker:
    """A single background thread for index work; callers wait on futures and can show progress.

    The index (SQLite, FAISS, BM25) is used from this one thread only, and an upload waits
    for the question before it (and vice versa) rather than changing the index under it.
    """

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="byline-worker")

    def submit(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        """Return a future for fn(*args, **kwargs), run after the work queued before it."""
        return self._pool.submit(fn, *args, **kwargs)

    def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Return fn(*args, **kwargs), run on the worker thread."""
        return self.submit(fn, *args, **kwargs).result()

    def shutdown(self) -> None:
        """Stop accepting work; let queued work finish."""
        self._pool.shutdown(wait=False, cancel_futures=True)


def ticks(future: Future[Any], every: float = 0.5) -> Iterator[float]:
    """Yield the seconds elapsed, every `every` seconds, until `future` is done."""
    started = time.perf_counter()
    while True:
        try:
            future.exception(timeout=every)
        except TimeoutError:
            yield time.perf_counter() - started
        else:
            return
