"""Shared fixtures: the real model, real indexes on disk, built once per session."""

from __future__ import annotations

import json
import os
import shutil
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


def load_questions(path: Path) -> list[dict[str, object]]:
    """Return the questions of an evaluation set."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
