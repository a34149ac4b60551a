"""The span model's held-out weeks: their sets hold only those weeks, and its training skips them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from benchmarks import fit_span, heldout_weeks

WEEKS = [f"202301{d:02d}" for d in range(1, 9)] + ["20230201"]


def _write(path: Path, rows: list[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repository laid out as realtimeqa_public: nine weeks of one question each; every
    week's search finds its own article and one article all weeks share."""
    repo = tmp_path_factory.mktemp("realtimeqa")
    shared = {"url": "https://example.org/shared", "title": "Weekly roundup",
              "text": "The roundup names no winner at all this time.", "publish_date": "2022/12/30"}
    for w in WEEKS:
        qid = f"{w}_0"
        _write(repo / "past" / "2023" / f"{w}_qa.jsonl", [{
            "question_id": qid, "question_date": f"{w[:4]}/{w[4:6]}/{w[6:]}",
            "question_sentence": f"Which team won the cup in week {w}?",
            "choices": [f"Team {w}", "Nobody", "Rovers", "United"], "answer": ["0"],
            "evidence": f"Team {w} won the cup.", "question_source": "test"}])
        _write(repo / "past" / "2023" / f"{w}_gcs.jsonl", [{"question_id": qid, "search_result": [
            {"url": f"https://example.org/{w}", "title": f"Cup final {w}",
             "text": f"Team {w} won the cup in a tense final. Fans of Team {w} celebrated late.",
             "publish_date": f"{w[:4]}/{w[4:6]}/{w[6:]}"},
            shared]}])
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "add", "."], check=True)
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "weeks"], check=True)
    return repo


@pytest.fixture(scope="module")
def full_sets(mirror: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("rtqa")
    heldout_weeks.builder().build(str(mirror), "2023", str(out / "rtqa-2023"))
    return out


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_held_out_set_holds_only_its_weeks_and_their_articles(mirror: Path, full_sets: Path, tmp_path: Path) -> None:
    weeks = heldout_weeks.held_out_weeks(full_sets / "rtqa-2023" / "questions.jsonl", (1, 4))
    assert weeks == {"20230102", "20230106"}  # sorted weeks dealt round-robin into 4 folds: the 2nd and 6th
    heldout_weeks.build_weeks(str(mirror), "2023", weeks, tmp_path / "rtqa-2023", heldout_weeks.builder())
    questions = _lines(tmp_path / "rtqa-2023" / "questions.jsonl")
    assert {str(q["id"]).split("_")[0] for q in questions} == weeks
    titles = {str(a["title"]) for a in _lines(tmp_path / "rtqa-2023" / "corpus.jsonl")}
    assert titles == {"Cup final 20230102", "Cup final 20230106", "Weekly roundup"}
    assert all(q["answer_in_corpus"] for q in questions)


def test_span_training_pairs_skip_the_held_out_weeks(full_sets: Path) -> None:
    every = {p["question"] for p in fit_span.examples(full_sets, [2023])}
    kept = {p["question"] for p in fit_span.examples(full_sets, [2023], hold_out=(1, 4))}
    held = {f"Which team won the cup in week {w}?" for w in ("20230102", "20230106")}
    assert held <= every
    assert kept == every - held


def test_fold_argument_names_what_it_wants() -> None:
    assert heldout_weeks.parse_fold("3/8") == (3, 8)
    with pytest.raises(Exception, match="K/N with 0 <= K < N"):
        heldout_weeks.parse_fold("8/8")


def test_span_fit_refuses_kept_pairs_made_without_the_held_out_weeks(full_sets: Path, tmp_path: Path) -> None:
    import pickle
    import sys

    kept = tmp_path / "pairs.pkl"
    kept.write_bytes(pickle.dumps({"made_for": {"years": [2023], "hold_out": None, "per_question": (2, 3, 4)},
                                   "pairs": fit_span.examples(full_sets, [2023])}))
    run = subprocess.run([sys.executable, str(Path(fit_span.__file__)), "--rtqa", str(full_sets), "--years", "2023",
                          "--hold-out", "1/4", "--pairs", str(kept), "--out", str(tmp_path / "span")],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode != 0
    assert "made for other years, held-out weeks or pair counts" in run.stderr
    assert not (tmp_path / "span.safetensors").exists()
