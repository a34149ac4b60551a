"""Answering without the heavy imports: the ONNX query encoder, and what a cold `byline ask` loads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from byline.index.embed import Embedder, resolve_model
from byline.index.query_encoder import _pool, export_folder

TEXTS = [
    "Who leads Ukraine's delegation?",
    "delegation",
    "Defence minister Rustem Umerov heads Ukraine's delegation to the talks in Istanbul, "
    "where Russia's team is led by presidential aide Vladimir Medinsky. " * 12,  # over 256 tokens
]

# Run the real `byline` entry point, then report which heavy packages the process imported.
_PROBE = """
import sys
from byline.cli import main
sys.argv = ["byline", *sys.argv[1:]]
try:
    main()
except SystemExit as stop:
    assert not stop.code, stop.code
heavy = ("torch", "transformers", "sentence_transformers", "llama_index", "sklearn", "openai", "ollama")
print("IMPORTED:" + ",".join(m for m in heavy if m in sys.modules))
"""


def test_question_vectors_from_the_onnx_export_equal_sentence_transformers_vectors(
    sample_index: Path,
) -> None:
    embedder = Embedder("all-MiniLM-L6-v2")
    from_sentence_transformers = embedder.embed(TEXTS)  # loads the model, exports if needed
    assert embedder.has_query_encoder
    from_onnx = embedder.embed_small(TEXTS)
    assert from_onnx.shape == from_sentence_transformers.shape == (3, 384)
    assert np.abs(from_onnx - from_sentence_transformers).max() < 1e-4
    assert np.allclose(np.linalg.norm(from_onnx, axis=1), 1.0, atol=1e-5)


def test_cli_ask_answers_without_importing_torch_transformers_llama_index_or_openai(
    sample_index: Path,
) -> None:
    Embedder("all-MiniLM-L6-v2").embed(["make sure the export exists"])
    run = [sys.executable, "-c", _PROBE, "ask", "--no-warm", "--index", str(sample_index),
           "Who leads Ukraine's delegation?"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("BYLINE_LLM")}
    out = subprocess.run(run, capture_output=True, text=True, timeout=300, check=True, env=env).stdout
    assert "Umerov" in out.splitlines()[0]
    imported = out.rstrip().splitlines()[-1]
    assert imported == "IMPORTED:", f"a cold `byline ask` imported {imported}"


def test_cli_ask_with_no_export_answers_through_sentence_transformers_and_writes_one(
    sample_index: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "empty-cache"
    env = {**os.environ, "BYLINE_CACHE_DIR": str(cache)}
    run = [sys.executable, "-c", _PROBE, "ask", "--no-warm", "--index", str(sample_index),
           "Who leads Ukraine's delegation?"]
    out = subprocess.run(run, capture_output=True, text=True, timeout=300, check=True, env=env).stdout
    assert "Umerov" in out.splitlines()[0]
    assert "torch" in out.rstrip().splitlines()[-1]  # this once, the question needed torch
    exports = [f.parent for f in (cache / "encoders").glob("*/encoder.json")]
    assert [f.name for f in exports] == [export_folder(resolve_model("all-MiniLM-L6-v2")).name]
    assert (exports[0] / "model.onnx").is_file()
    out = subprocess.run(run, capture_output=True, text=True, timeout=300, check=True, env=env).stdout
    assert "Umerov" in out.splitlines()[0] and out.rstrip().splitlines()[-1] == "IMPORTED:"


def test_onnx_outputs_are_pooled_as_sentence_transformers_pools() -> None:
    hidden = np.array([[[1.0, 0.0], [3.0, 4.0], [100.0, 100.0]]])  # one text, 3rd token padding
    mask = np.array([[1, 1, 0]])
    expected = {"mean": [2.0, 2.0], "cls": [1.0, 0.0], "max": [3.0, 4.0]}
    for pooling, vector in expected.items():
        unit = np.asarray(vector) / np.linalg.norm(vector)
        assert np.allclose(_pool(hidden, mask, pooling)[0], unit), pooling
