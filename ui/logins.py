"""Logins for `byline serve --auth`: checked in constant time, and slowed down after failures."""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Callable, Iterable


class LoginGuard:
    """Checks USER:PASSWORD logins for gradio's `auth=`, throttling guessers.

    After `free_tries` failures in a row for a name, each further try for it waits first:
    `delay` seconds, doubling with every failure, up to `max_delay`; tries for one name are
    checked one at a time, so guessing is slow however many requests arrive at once. Names
    that do not exist share one counter. A right password resets its name's count.
    """

    def __init__(
        self, logins: Iterable[tuple[str, str]], *, free_tries: int = 3, delay: float = 0.5,
        max_delay: float = 8.0, sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._passwords = dict(logins)
        self.free_tries = free_tries
        self.delay = delay
        self.max_delay = max_delay
        self._sleep = sleep
        self._failures: dict[str, int] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def __call__(self, user: str, password: str) -> bool:
        """Return True when `password` is `user`'s, after the wait earlier failures earned."""
        name = user if user in self._passwords else ""
        with self._guard:
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:
            failures = self._failures.get(name, 0)
            if failures >= self.free_tries:
                self._sleep(self.wait_after(failures))
            expected = self._passwords.get(user, "")
            right = bool(name) and hmac.compare_digest(password.encode(), expected.encode())
            self._failures[name] = 0 if right else failures + 1
            return right

    def wait_after(self, failures: int) -> float:
        """Return the seconds a try waits after `failures` failures in a row."""
        if failures < self.free_tries:
            return 0.0
        return min(self.max_delay, self.delay * 2 ** (failures - self.free_tries))
