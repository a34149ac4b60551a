"""Cloze pairs for the span model: a question asks for one span of its sentence, in its own words."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

from benchmarks.cloze import WH, answers_of, cloze_pairs, question_from
from byline.pipeline.nlp import parse

ROOT = Path(__file__).resolve().parents[1]
SENTENCE = "Ukraine's delegation, headed by defence minister Rustem Umerov, arrived in Istanbul on Friday."


def test_a_cloze_question_asks_with_the_wh_phrase_of_its_kind_and_leaves_the_answer_out() -> None:
    doc = parse([SENTENCE])[0]
    place = next(e for e in doc.ents if e.text == "Istanbul")
    for seed in range(20):
        question = question_from(doc, place.start, place.end, "GPE", random.Random(seed))
        assert question.endswith("?") and "Istanbul" not in question
        assert any(question.lower().startswith(wh) for wh in WH["GPE"])
        if question.lower().startswith("where"):
            assert " in " not in f" {question.lower()} "  # "in Istanbul" went into "where"
        wh = next(w for w in sorted(WH["GPE"], key=len, reverse=True) if question.lower().startswith(w))
        words = question[len(wh) : -1].split()
        assert len(words) >= 5 and set(words) <= {t.text for t in doc}  # the sentence's own words, some dropped


def test_cloze_spans_are_entities_and_noun_chunks_of_the_sentence() -> None:
    doc = parse([SENTENCE])[0]
    found = {(doc[s:e].text, kind) for s, e, kind in answers_of(doc)}
    assert ("Rustem Umerov", "PERSON") in found and ("Istanbul", "GPE") in found
    assert all(kind != "NP" or not any(t.pos_ == "DET" for t in parse([text])[0]) for text, kind in found)


def test_cloze_pairs_point_at_their_answer_and_their_negatives_lack_it(tmp_path: Path) -> None:
    sentences = [
        "The city council of Leeds approved a new tram line on Tuesday after three years of debate.",
        "Mayor Tracy Brabin said the first trams would run before the end of the decade.",
        "Critics in the opposition warned that the cost could rise above two billion pounds.",
        "Construction firms from France and Spain are expected to bid for the contract next spring.",
        "The government in London promised to pay for half of the project over ten years.",
    ]
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps({"id": f"a{i}", "title": "Trams", "text": "\n\n".join(sentences[i:] + sentences[:i])}) + "\n"
                              for i in range(5)), encoding="utf-8")
    pairs = cloze_pairs([corpus], 40, seed=1)
    answered = [p for p in pairs if p["span"] is not None]
    assert answered and len(answered) < len(pairs)  # some negatives
    for p in answered:
        a, b = p["span"]
        answer = p["context"][a:b]
        assert p["context"] in sentences and answer.strip() == answer and answer.lower() not in p["question"].lower()
    for p in pairs:
        if p["span"] is None:
            asked = next(q for q in answered if q["question"] == p["question"])
            a, b = asked["span"]
            assert asked["context"][a:b].lower() not in p["context"].lower()
    led = [p for p in answered if p["question"].split("?")[0].count(". ")]
    assert led and all(p["question"].split(". ")[0] + "." in sentences for p in led)  # a lead from the article
    assert cloze_pairs([corpus], 40, seed=1) == pairs  # the same seed writes the same pairs


def test_fit_span_refuses_to_start_from_a_model_that_saw_other_weeks(tmp_path: Path) -> None:
    shipped = ROOT / "assistant" / "pipeline" / "params" / "span-v2.json"  # fitted on every week of 2023-2025
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "fit_span.py"), "--rtqa", str(tmp_path), "--years", "2023",
         "--init", str(shipped), "--pairs", str(_empty_pairs(tmp_path)), "--out", str(tmp_path / "span")],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode != 0 and "cannot start a model" in done.stderr
    assert not (tmp_path / "span.safetensors").exists()


def _empty_pairs(tmp_path: Path) -> Path:
    import pickle

    path = tmp_path / "pairs.pkl"
    path.write_bytes(pickle.dumps({"made_for": {"years": [2023], "hold_out": None, "per_question": (2, 3, 4)}, "pairs": []}))
    return path


def test_fit_span_refuses_cloze_pairs_beside_held_out_weeks(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "fit_span.py"), "--rtqa", str(tmp_path), "--cloze", "100",
         "--hold-out", "1/4", "--out", str(tmp_path / "span")],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode != 0 and "not with --hold-out" in done.stderr
    assert not (tmp_path / "span.safetensors").exists()
