"""The warm process: `byline ask` answers from a process that already has the models loaded."""

from __future__ import annotations

import threading
from pathlib import Path

from byline import Assistant
from byline.service.warm import WarmServer, answer_handler, ask_warm, socket_path
from byline.service.worker import Worker


def test_a_warm_process_answers_over_the_index_socket(sample_index: Path, tmp_path: Path) -> None:
    worker = Worker()
    bot = worker.run(Assistant.open, sample_index, create=False)
    index_dir = tmp_path / "i"  # a short folder: Unix socket paths are limited to ~100 bytes
    index_dir.mkdir()
    server = WarmServer(index_dir, answer_handler(bot, worker)).start()
    try:
        reply = ask_warm(index_dir, "Who leads Ukraine's delegation?", {"source": None, "since": None, "until": None})
        assert reply is not None
        assert "Umerov" in reply["answer"]["text"]
        assert reply["answer"]["citations"][0]["article_id"] == "istanbul-talks"
        narrowed = ask_warm(index_dir, "Who leads Ukraine's delegation?", {"source": "Nobody's Gazette"})
        assert narrowed is not None and narrowed["answer"]["abstained"] is True
        before = ask_warm(index_dir, "Who leads Ukraine's delegation?", {}, as_of="2025-05-01")
        assert before is not None and before["answer"]["abstained"] is True  # published 2025-05-16
        assert before["answer"]["as_of"] == "2025-05-01"
    finally:
        server.close()
        worker.shutdown()
    assert not socket_path(index_dir).exists()


def test_without_a_warm_process_the_client_answers_none(tmp_path: Path) -> None:
    assert ask_warm(tmp_path, "Who?", {}) is None


def test_a_failing_handler_is_reported_to_the_client_not_hung(tmp_path: Path) -> None:
    def broken(question: str, filters: dict[str, str | None], as_of: str | None) -> dict[str, object]:
        raise RuntimeError("the index went away")

    server = WarmServer(tmp_path, broken).start()
    try:
        assert ask_warm(tmp_path, "Who?", {}) is None  # the client then answers by itself
    finally:
        server.close()


def test_the_worker_runs_everything_on_one_thread_in_order() -> None:
    worker = Worker()
    seen: list[tuple[int, str]] = []
    futures = [worker.submit(lambda n=n: seen.append((n, threading.current_thread().name))) for n in range(20)]
    for f in futures:
        f.result(timeout=10)
    worker.shutdown()
    assert [n for n, _ in seen] == list(range(20))
    assert len({name for _, name in seen}) == 1 and seen[0][1].startswith("byline-worker")


def test_a_hung_warm_process_is_given_up_on_and_ask_answers_by_itself(own_index: Path) -> None:
    import subprocess
    import sys
    import time

    # Takes connections on the index's socket and never answers, as a stopped or hung process does.
    script = (
        "import socket, sys, time\n"
        "s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(8)\n"
        "print('listening', flush=True)\n"
        "conns = [s.accept() for _ in range(2)]\n"
        "time.sleep(120)\n"
    )
    hung = subprocess.Popen([sys.executable, "-c", script, str(socket_path(own_index))], stdout=subprocess.PIPE, text=True)
    try:
        assert hung.stdout is not None and hung.stdout.readline().strip() == "listening"
        started = time.monotonic()
        assert ask_warm(own_index, "Who?", {}) is None
        assert time.monotonic() - started < 10  # gave up at the acknowledgement, not after 60 s
        run = [sys.executable, "-m", "byline.cli", "ask", "Who leads Ukraine's delegation?", "--index", str(own_index)]
        proc = subprocess.run(run, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0 and "Umerov" in proc.stdout.splitlines()[0]
    finally:
        hung.kill()
        hung.wait(timeout=30)
