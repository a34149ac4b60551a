"""A scripted OpenAI-compatible endpoint on 127.0.0.1, standing in for a misbehaving remote model.

Tests start one with the replies it must give, in order (the last one repeats):

    with ScriptedModel(Reply("Umerov leads it [7]."), Reply(status=500)) as model:
        llm = OpenAILike(model="scripted", api_base=model.url, api_key="none", ...)

It serves /v1/chat/completions and /v1/completions, streamed (server-sent events) or not, and
/v1/models; it records each request body in `requests`. Target: tests/scripted_model.py.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True, slots=True)
class Reply:
    """What the endpoint answers to one request."""

    text: str = ""
    status: int = 200  # 500: an error body instead of a completion
    stall: float = 0.0  # seconds of silence before the first byte
    stall_after: int = -1  # streamed: go silent for `stall` seconds after this many characters
    malformed: bool = False  # streamed: one chunk is not JSON
    chunk: int = 6  # streamed: characters per chunk


class ScriptedModel:
    """An OpenAI-compatible HTTP server on 127.0.0.1 (a free port) that plays `replies`."""

    def __init__(self, *replies: Reply | str, model: str = "scripted") -> None:
        self.replies = [r if isinstance(r, Reply) else Reply(r) for r in replies] or [Reply("")]
        self.model = model
        self.requests: list[dict[str, Any]] = []
        self._served = 0
        self._lock = threading.Lock()
        self._closing = threading.Event()  # ends stalls at once when the test is over
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="scripted-model", daemon=True)

    @property
    def url(self) -> str:
        """Return the API base, e.g. http://127.0.0.1:41234/v1."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> ScriptedModel:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()

    def next_reply(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            self.requests.append(body)
            reply = self.replies[min(self._served, len(self.replies) - 1)]
            self._served += 1
            return reply

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`; return False when the server is closing."""
        return not self._closing.wait(seconds)


def _handler(script: ScriptedModel) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 — quiet in tests
            pass

        def do_GET(self) -> None:
            if self.path.rstrip("/").endswith("/models"):
                self._json(200, {"object": "list", "data": [{"id": script.model, "object": "model"}]})
            else:
                self._json(404, {"error": {"message": f"no route {self.path}"}})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            chat = self.path.rstrip("/").endswith("/chat/completions")
            if not chat and not self.path.rstrip("/").endswith("/completions"):
                self._json(404, {"error": {"message": f"no route {self.path}"}})
                return
            reply = script.next_reply(body)
            if reply.stall and reply.stall_after < 0 and not script.wait(reply.stall):
                return
            if reply.status != 200:
                self._json(reply.status, {"error": {"message": "scripted failure", "type": "server_error"}})
            elif body.get("stream"):
                self._stream(reply, chat)
            else:
                self._json(200, _completion(reply.text, chat, script.model))

        def _json(self, status: int, data: dict[str, Any]) -> None:
            raw = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def _stream(self, reply: Reply, chat: bool) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            text, sent = reply.text, 0
            try:
                for i in range(0, max(len(text), 1), reply.chunk):
                    if reply.stall_after >= 0 and sent >= reply.stall_after and reply.stall:
                        if not script.wait(reply.stall):
                            return
                        reply = Reply(text, chunk=reply.chunk)  # stall once
                    piece = text[i:i + reply.chunk]
                    self._event(json.dumps(_chunk(piece, chat, script.model, first=i == 0)))
                    if reply.malformed and i == 0:
                        self._event('{"choices": [{"delta": {"content": "')  # cut-off JSON
                    sent += len(piece)
                self._event(json.dumps(_chunk("", chat, script.model, finish="stop")))
                self._event("[DONE]")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (its timeout): nothing to tell it
            self.close_connection = True

        def _event(self, data: str) -> None:
            self.wfile.write(f"data: {data}\n\n".encode())
            self.wfile.flush()

    return Handler


def _completion(text: str, chat: bool, model: str) -> dict[str, Any]:
    choice: dict[str, Any] = (
        {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        if chat else {"index": 0, "text": text, "logprobs": None, "finish_reason": "stop"}
    )
    return {
        "id": "scripted-1", "object": "chat.completion" if chat else "text_completion",
        "created": int(time.time()), "model": model, "choices": [choice],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _chunk(piece: str, chat: bool, model: str, *, first: bool = False, finish: str | None = None) -> dict[str, Any]:
    if chat:
        delta: dict[str, Any] = {"content": piece} if piece or not finish else {}
        if first:
            delta["role"] = "assistant"
        choice: dict[str, Any] = {"index": 0, "delta": delta, "finish_reason": finish}
    else:
        choice = {"index": 0, "text": piece, "logprobs": None, "finish_reason": finish}
    return {
        "id": "scripted-1", "object": "chat.completion.chunk" if chat else "text_completion",
        "created": int(time.time()), "model": model, "choices": [choice],
    }
