"""The on-disk index: bad input reported and skipped, no duplicates, removal, crash safety."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DATA, SAMPLES, SHARED

from byline import Assistant, IndexCorrupt, IndexMismatch, IndexNotFound, Settings


def _bad_file(tmp_path: Path, case: str) -> Path:
    path = tmp_path / {"binary": "photo.txt", "jsonl": "broken.jsonl", "html": "page.html"}.get(case, f"{case}.txt")
    if case == "zero-bytes":
        path.write_bytes(b"")
    elif case == "whitespace":
        path.write_text("   \n\n  \t\n")
    elif case == "binary":
        path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(256))
    elif case == "invalid-utf8":
        path.write_bytes("Caf\u00e9 owners protest".encode("latin-1") + b" \xff\xfe more text here")
    elif case == "fifty-megabytes":
        with open(path, "wb") as handle:
            handle.truncate(50 * 1024 * 1024)
            handle.seek(0)
            handle.write(b"A long article. " * 100)
    elif case == "jsonl":
        path.write_text('{"id": "x", "text": \n')
    elif case == "html":
        shutil.copy(DATA / "empty-page.html", path)
    return path


BAD_CASES = {
    "zero-bytes": "empty file",
    "whitespace": "only whitespace",
    "binary": "binary file",
    "invalid-utf8": "not valid UTF-8",
    "fifty-megabytes": "over the 32 MiB limit",
    "jsonl": "malformed JSON line",
    "html": "no article text found",
}


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_bad_file_is_reported_and_the_rest_of_the_batch_is_indexed(tmp_path: Path, case: str) -> None:
    bad = _bad_file(tmp_path, case)
    bot = Assistant.open(tmp_path / "index")
    report = bot.add([bad, DATA / "wire.jsonl"])
    reasons = {f.path.split(":")[0]: f.reason for f in report.failed}
    assert str(bad) in reasons, report.failed
    assert BAD_CASES[case] in reasons[str(bad)]
    assert {a.id for a in report.added} == {"glacier-1", "rail-2"}
    assert "Huss" in bot.ask("Who is the lead researcher on the glacier loss?").text


def test_re_adding_the_sample_article_adds_nothing(own_index: Path) -> None:
    bot = Assistant.open(own_index)
    generation = (own_index / "CURRENT").read_text()
    report = bot.add([SAMPLES])
    assert report.added == () and [d.id for d in report.duplicates] == ["istanbul-talks"]
    assert len(bot.articles()) == 1
    assert (own_index / "CURRENT").read_text() == generation  # no rewrite, no model work


def test_removed_article_is_gone_from_answers(own_index: Path) -> None:
    bot = Assistant.open(own_index)
    bot.add([DATA / "wire.jsonl"])
    assert bot.remove("istanbul-talks")
    assert [a.id for a in bot.articles()] == ["rail-2", "glacier-1"]
    answer = bot.ask("Who leads Ukraine's delegation?")
    assert all(c.article_id != "istanbul-talks" for c in answer.citations)
    assert "Umerov" not in answer.text
    tunnel = bot.ask("How much did the new rail tunnel cost?")
    assert tunnel.text == "1.2 billion euros" and tunnel.citations[0].article_id == "rail-2"
    assert not bot.remove("istanbul-talks")


def test_collection_past_the_exact_search_threshold_switches_to_hnsw_and_keeps_answering(
    tmp_path: Path,
) -> None:
    import json

    settings = Settings(exact_search_below=9)  # the sample article makes 8 chunks, the wire 2 more
    bot = Assistant.open(tmp_path / "index", settings=settings)
    bot.add([SAMPLES])
    manifest = tmp_path / "index" / (tmp_path / "index" / "CURRENT").read_text().strip() / "manifest.json"
    assert json.loads(manifest.read_text())["vector_index"] == "Flat"
    bot.add([DATA / "wire.jsonl"])
    manifest = tmp_path / "index" / (tmp_path / "index" / "CURRENT").read_text().strip() / "manifest.json"
    assert json.loads(manifest.read_text())["vector_index"] == "HNSW32"
    reopened = Assistant.open(tmp_path / "index", settings=settings, create=False)
    assert "Umerov" in reopened.ask("Who leads Ukraine's delegation?").text
    assert reopened.remove("glacier-1")
    assert reopened.ask("How much did the new rail tunnel cost?").text == "1.2 billion euros"


def test_killing_index_add_midway_leaves_the_previous_index_intact(own_index: Path, tmp_path: Path) -> None:
    corpus = tmp_path / "many.jsonl"
    lines = (SHARED / "corpora" / "bbc-news.jsonl").read_text().splitlines()[:600]
    corpus.write_text("\n".join(lines) + "\n")
    before = (own_index / "CURRENT").read_text()
    proc = subprocess.Popen(
        [sys.executable, "-m", "byline.cli", "index", "add", str(corpus), "--index", str(own_index)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "BYLINE_LOG": "INFO"},
    )
    try:
        assert proc.stderr is not None
        # the marker: the first batch is embedded and handed to the writer, nothing committed yet
        for line in proc.stderr:
            if line.startswith("INFO byline.index.indexer: embedded 64 of "):
                break
        else:
            raise AssertionError("index add ended before its first batch was embedded")
        assert proc.poll() is None
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    assert (own_index / "CURRENT").read_text() == before
    bot = Assistant.open(own_index)
    assert [a.id for a in bot.articles()] == ["istanbul-talks"]
    assert "Umerov" in bot.ask("Who leads Ukraine's delegation?").text
    bot.add([DATA / "wire.jsonl"])  # the next write clears the leftovers and works
    assert not any(".tmp" in p.name for p in own_index.iterdir())
    assert len(bot.articles()) == 3


def test_missing_index_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFound, match="byline index add"):
        Assistant.open(tmp_path / "nothing-here", create=False)


def test_corrupt_index_says_to_rebuild(own_index: Path) -> None:
    generation = (own_index / "CURRENT").read_text().strip()
    (own_index / generation / "manifest.json").write_text("{not json")
    with pytest.raises(IndexCorrupt, match="rebuild"):
        Assistant.open(own_index)


def test_index_built_with_another_model_is_refused(own_index: Path) -> None:
    with pytest.raises(IndexMismatch, match="all-MiniLM-L6-v2"):
        Assistant.open(own_index, settings=Settings(model="sentence-transformers/paraphrase-MiniLM-L3-v2"))


def test_cli_ask_prints_the_answer_and_numbered_citations(sample_index: Path) -> None:
    import json

    run = [sys.executable, "-m", "byline.cli", "ask", "Who leads Ukraine's delegation?", "--index", str(sample_index)]
    out = subprocess.run(run, capture_output=True, text=True, timeout=300, check=True).stdout
    assert "Umerov" in out.splitlines()[0]
    assert "[1]" in out and "AP (as published by an Irish newspaper)" in out
    data = json.loads(subprocess.run([*run, "--json"], capture_output=True, text=True, timeout=300, check=True).stdout)
    assert data["abstained"] is False and "Umerov" in data["citations"][0]["text"]


def test_cli_reports_a_missing_index_without_a_traceback(tmp_path: Path) -> None:
    run = [sys.executable, "-m", "byline.cli", "ask", "Who?", "--index", str(tmp_path / "none")]
    proc = subprocess.run(run, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "byline index add" in proc.stderr and "Traceback" not in proc.stderr
