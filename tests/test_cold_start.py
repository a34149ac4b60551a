"""Answering without the heavy imports: the ONNX query encoder, and what a cold `byline ask` loads."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

from assistant import Assistant
from index.embed import Embedder, resolve_model
from index.query_encoder import export_folder

TEXTS = [
    "Who leads Ukraine's delegation?",
    "delegation",
    "Defence minister Rustem Umerov heads Ukraine's delegation to the talks in Istanbul, "
    "where Russia's team is led by presidential aide Vladimir Medinsky. " * 12,  # over 256 tokens
]

# Run the real `byline` entry point, then report which heavy packages the process imported.
_PROBE = """
import sys
from assistant.cli import main
sys.argv = ["byline", *sys.argv[1:]]
try:
    main()
except SystemExit as stop:
    assert not stop.code, stop.code
heavy = ("torch", "transformers", "sentence_transformers", "llama_index.core", "sklearn")
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


def test_cli_ask_answers_without_importing_torch_transformers_or_llama_index(
    sample_index: Path,
) -> None:
    Embedder("all-MiniLM-L6-v2").embed(["make sure the export exists"])
    run = [sys.executable, "-c", _PROBE, "ask", "--no-warm", "--index", str(sample_index),
           "Who leads Ukraine's delegation?"]
    out = subprocess.run(run, capture_output=True, text=True, timeout=300, check=True).stdout
    assert "Umerov" in out.splitlines()[0]
    imported = out.rstrip().splitlines()[-1]
    assert imported == "IMPORTED:", f"a cold `byline ask` imported {imported}"


def test_answering_without_an_export_falls_back_to_sentence_transformers_and_writes_one(
    own_index: Path,
) -> None:
    folder = export_folder(resolve_model("all-MiniLM-L6-v2"))
    shutil.rmtree(folder, ignore_errors=True)
    bot = Assistant.open(own_index, create=False)
    answer = bot.ask("Who leads Ukraine's delegation?")
    assert "Umerov" in answer.text
    assert (folder / "model.onnx").is_file() and (folder / "encoder.json").is_file()
