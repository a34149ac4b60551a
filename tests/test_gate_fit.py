"""benchmarks/gate_asks.py and fit_gate.py: the answerability gate refitted on more years' asks."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import pytest

from benchmarks import fit_gate, gate_asks
from byline.pipeline.fitted import ReaderParams

QUESTION = {"id": "20250520_1", "date": "2025-05-20", "question": "Who leads Ukraine's delegation?",
            "answers": ["Rustem Umerov"], "evidence": [], "answer_in_corpus": True, "doc_ids": []}


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.open(encoding="utf-8")]


def test_gate_asks_records_each_question_with_and_without_its_answer(
    sample_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    questions, votes, out = tmp_path / "questions.jsonl", tmp_path / "votes.jsonl", tmp_path / "asks.jsonl"
    questions.write_text(json.dumps(QUESTION) + "\n", encoding="utf-8")
    votes.write_text(json.dumps({"id": QUESTION["id"], "answer": "Rustem Umerov"}) + "\n"
                     + json.dumps({"id": QUESTION["id"] + "/answer-removed", "answer": "unknown"}) + "\n", encoding="utf-8")
    monkeypatch.setattr(sys, "argv", ["gate_asks.py", str(questions), str(out), "--index", str(sample_index), "--votes", str(votes)])
    gate_asks.main()
    asked, removed = lines(out)
    assert asked["id"] == QUESTION["id"] and not asked["answer_removed"] and asked["vote"] == "Rustem Umerov"
    assert "Umerov" in asked["got"] and asked["f1"] > 0.5
    assert asked["features"]["g_llm_unknown"] == 0.0 and 0.0 < asked["gate_p"] < 1.0
    # the sample's one article holds the answer: without it nothing is left to read
    assert removed["answer_removed"] and removed["got"] == "" and removed["features"] == {}

    gate_asks.main()  # a rerun keeps what is written and asks nothing again
    assert len(lines(out)) == 2


def test_gate_asks_without_a_recorded_vote_stops_and_names_the_ask(
    sample_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    questions, votes = tmp_path / "questions.jsonl", tmp_path / "votes.jsonl"
    questions.write_text(json.dumps(QUESTION) + "\n", encoding="utf-8")
    votes.write_text("", encoding="utf-8")
    monkeypatch.setattr(sys, "argv", ["gate_asks.py", str(questions), str(tmp_path / "asks.jsonl"),
                                      "--index", str(sample_index), "--votes", str(votes)])
    with pytest.raises(SystemExit, match=QUESTION["id"]):
        gate_asks.main()


def observations(rng: random.Random, answerable: bool) -> dict[str, float]:
    """An ask's gate features: answerable asks read a likelier article, with overlap."""
    return {"g_article_p": rng.gauss(0.6 if answerable else 0.3, 0.2), "g_top": rng.gauss(0.5 if answerable else 0.0, 0.5)}


def test_fit_gate_writes_the_reader_with_a_gate_learned_from_every_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(3)
    base, asks, out = tmp_path / "pred.jsonl", tmp_path / "asks.jsonl", tmp_path / "reader-test-gate.json"
    with base.open("w", encoding="utf-8") as fh:
        for i in range(100):
            for removed in (False, True):
                fh.write(json.dumps({"id": f"q{i}", "fold": i % 5, "answer_removed": removed, "f1": rng.random(),
                                     "gate_features": observations(rng, not removed)}) + "\n")
    with asks.open("w", encoding="utf-8") as fh:
        for i in range(50):
            for removed in (False, True):
                fh.write(json.dumps({"id": f"a{i}", "week": f"2024{i % 10:02d}01", "answer_removed": removed, "f1": 0.5,
                                     "gate_p": 0.5, "features": observations(rng, not removed)}) + "\n")
    monkeypatch.setattr(sys, "argv", ["fit_gate.py", "--base", str(base), "--asks", f"rtqa-2024={asks}", "--out", str(out)])
    fit_gate.main()
    params = ReaderParams.load(out, voted=True)
    assert params.version == "reader-test-gate" and params.gate is not None
    assert params.weights == ReaderParams.load(voted=True).weights  # the reader itself is kept
    likely = params.gate.of({"g_article_p": 0.9, "g_top": 1.0})
    unlikely = params.gate.of({"g_article_p": 0.0, "g_top": -0.5})
    assert likely >= params.gate.threshold > unlikely
    fitted = json.loads(out.read_text(encoding="utf-8"))["answerable"]
    assert fitted["fitted_on"]["sets"] == {"rtqa-2022": 200, "rtqa-2024": 100}
    judged = fitted["out_of_fold"]["rtqa-2022 and the other sets"]["rtqa-2024"]
    assert judged["questions"] == 50 and 0.0 <= judged["false_abstention"] <= 0.5
