"""A warm process for `byline ask`: the models stay loaded, answers come over a Unix socket.

Loading PyTorch, sentence-transformers and spaCy takes seconds; answering takes milliseconds.
`byline serve` and `byline warm` listen on `<index>/.byline-ask.sock`; `byline ask` tries that
socket first (using only the standard library, so it starts fast) and falls back to answering
in its own process when no warm process is running.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import socketserver
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from byline.types import Filters

if TYPE_CHECKING:
    from byline.assistant import Assistant
    from byline.service.worker import Worker

log = logging.getLogger(__name__)
SOCKET_NAME = ".byline-ask.sock"
Handler = Callable[[str, dict[str, str | None], str | None], dict[str, Any]]
"""handler(question, filters, as_of) → the answer as JSON data."""


def answer_handler(bot: Assistant, worker: Worker) -> Handler:
    """Return the one handler warm processes answer with: each question runs on `worker`'s
    thread, the only thread that uses the index, after the work queued before it."""

    def handle(question: str, filters: dict[str, str | None], as_of: str | None) -> dict[str, Any]:
        # extractive: `byline ask` writes answers with a model in its own process, streaming them
        return worker.run(bot.ask, question, filters=Filters.of(filters), as_of=as_of, write=False).to_dict()

    return handle


def socket_path(index_dir: Path) -> Path:
    """Return where the warm process for an index listens."""
    return index_dir / SOCKET_NAME


def ask_warm(
    index_dir: Path, question: str, filters: dict[str, str | None], *, as_of: str | None = None,
    timeout: float = 60.0, ack_timeout: float = 2.0,
) -> dict[str, Any] | None:
    """Return the answer (as JSON data) from a warm process, or None when none is running.

    A live process acknowledges the question at once, from its own connection thread, even
    while its worker is busy; one that does not within `ack_timeout` seconds (stopped, hung)
    is given up on, so `byline ask` answers by itself instead of waiting.
    """
    path = socket_path(index_dir)
    if not path.exists():
        return None
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(ack_timeout)
            conn.connect(str(path))
            conn.sendall(json.dumps({"question": question, "filters": filters, "as_of": as_of}).encode() + b"\n")
            replies = conn.makefile("rb")
            if json.loads(replies.readline() or b"{}").get("accepted") is not True:
                return None
            conn.settimeout(timeout)
            reply = replies.readline()
    except (OSError, ValueError) as exc:
        log.info("no warm process answered at %s (%s); answering here", path, exc)
        return None
    data = json.loads(reply) if reply else None
    return data if isinstance(data, dict) and "answer" in data else None


class WarmServer:
    """Answers questions sent to the index's socket; connections are read on their own threads
    and the handler (`answer_handler`) queues the questions on the index's one worker thread."""

    def __init__(self, index_dir: Path, handler: Handler) -> None:
        self.path = socket_path(index_dir)
        class _Request(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                try:
                    request = json.loads(self.rfile.readline())
                    self.wfile.write(b'{"accepted": true}\n')
                    self.wfile.flush()
                    answer = handler(
                        str(request.get("question", "")), dict(request.get("filters") or {}),
                        request.get("as_of") or None,
                    )
                    reply: dict[str, Any] = {"answer": answer}
                except Exception as exc:  # reported to the client, which then answers itself
                    log.exception("warm request failed")
                    reply = {"error": str(exc)}
                self.wfile.write(json.dumps(reply, ensure_ascii=False).encode() + b"\n")

        if self.path.exists():
            self.path.unlink()
        self._server = socketserver.ThreadingUnixStreamServer(str(self.path), _Request)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None
        self._owner = os.getpid()

    def start(self) -> WarmServer:
        """Serve in a background thread; return self."""
        self._thread = threading.Thread(target=self._server.serve_forever, name="byline-warm", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted."""
        self._server.serve_forever()

    def close(self) -> None:
        """Stop serving and remove the socket."""
        self._server.shutdown()
        self._server.server_close()
        if os.getpid() == self._owner and self.path.exists():
            self.path.unlink()
