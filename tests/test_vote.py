"""A language model's vote in the fitted reader (`reader_llm`): asked once over the sentences the
reader reads, weighed by the reader file fitted on such votes, never the answer by itself, and a
failing model costs the vote, not the answer.

Exact cases run against the scripted OpenAI-compatible endpoint (tests/scripted_model.py); the
real model is llama-cpp-python's server on SmolLM2-135M (conftest.smollm2_url).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ROOT
from scripted_model import Reply, ScriptedModel

from byline import Answer, Assistant, Settings
from byline.index.errors import SettingsError
from byline.pipeline.fitted import FittedReader, ReaderParams, shipped_params
from byline.pipeline.generate import LanguageModel, ModelSpec
from byline.pipeline.question import analyse
from byline.pipeline.vote import MAX_TOKENS, Vote, Voter
from byline.types import Candidate, Filters
from byline.ui.render import render_answer

FLAGSHIP = "Who leads Ukraine's delegation?"
PARAMS = ROOT / "assistant" / "pipeline" / "params"


def voting_bot(index: Path, url: str, **settings: object) -> Assistant:
    """Return an Assistant over `index` whose fitted reader weighs the vote of the model at `url`."""
    options: dict[str, object] = {"reader": "fitted", "reader_llm": f"openai-like:{url}", "llm_timeout": 5.0, **settings}
    return Assistant.open(index, settings=Settings(**options), create=False)


def said_by_a_citation(answer: Answer) -> bool:
    """Return True when the short answer is a span of the sentence cited first."""
    first = answer.citations[0]
    return 0 <= first.answer_start < first.answer_end <= len(first.text)


def ranked_sentences(bot: Assistant) -> list[Candidate]:
    """Return the sentences the pipeline of `bot` ranks for the flagship question (what the reader reads)."""
    pipe = bot.pipeline
    return pipe.ranker.run(analyse(FLAGSHIP), pipe.retriever.run(FLAGSHIP, Filters(), None))


def test_the_model_is_asked_once_for_a_short_answer_over_the_numbered_sentences_as_of_the_day(sample_index: Path) -> None:
    with ScriptedModel("Rustem Umerov") as model:
        answer = voting_bot(sample_index, model.url).ask(FLAGSHIP, as_of="2025-05-16")
    (request,) = model.requests
    system, user = request["messages"]
    assert request["max_tokens"] == MAX_TOKENS and "unknown" in system["content"]
    assert user["content"].startswith("Sentences:\n[1] ") and "[8] " in user["content"]
    assert f"(asked on 2025-05-16): {FLAGSHIP}" in user["content"]
    assert not answer.abstained and not answer.note and said_by_a_citation(answer)
    assert answer.vote == "Rustem Umerov" and answer.to_dict()["vote"] == "Rustem Umerov"


def test_the_vote_moves_the_reader_to_the_span_it_names(sample_index: Path) -> None:
    asked = {}
    for said in ("Rustem Umerov", "Vladimir Medinsky"):
        with ScriptedModel(said) as model:
            asked[said] = voting_bot(sample_index, model.url).ask(FLAGSHIP, as_of="2025-05-16")
    assert "Umerov" in asked["Rustem Umerov"].text and "Medinsky" in asked["Vladimir Medinsky"].text
    assert all(said_by_a_citation(a) for a in asked.values())


def test_a_vote_no_sentence_says_is_never_the_answer(sample_index: Path) -> None:
    with ScriptedModel("Volodymyr Zelensky's chief of staff Andriy Yermak") as model:
        answer = voting_bot(sample_index, model.url).ask(FLAGSHIP, as_of="2025-05-16")
    assert "Yermak" not in answer.text
    assert answer.abstained or said_by_a_citation(answer)


def test_the_gate_trusts_the_sentences_less_when_the_model_says_unknown_and_a_failed_vote_counts_as_none(bot: Assistant) -> None:
    reader = FittedReader(bot.store, voted=shipped_params(voted=True))
    question, sentences = analyse(FLAGSHIP), ranked_sentences(bot)
    p = {said: reader.answerable(reader.run(question, sentences, Vote(said)), Vote(said)) for said in ("Rustem Umerov", "unknown")}
    assert p["unknown"] < p["Rustem Umerov"]
    failed = Vote("", failed="the language model at … answered HTTP 500")  # read as if no vote was asked
    assert reader.answerable(reader.run(question, sentences, failed), failed) == reader.answerable(reader.run(question, sentences))


def test_a_failing_model_costs_the_vote_not_the_answer_and_the_note_says_so(sample_index: Path) -> None:
    without = Assistant.open(sample_index, settings=Settings(reader="fitted"), create=False).ask(FLAGSHIP, as_of="2025-05-16")
    with ScriptedModel(Reply(status=500)) as model:
        answer = voting_bot(sample_index, model.url).ask(FLAGSHIP, as_of="2025-05-16")
    assert answer.note.startswith("Read without the language model's vote: ") and "HTTP 500" in answer.note
    assert answer.vote == "" and "Read without the language model" in render_answer(answer)
    assert (answer.text, answer.abstained, answer.citations) == (without.text, without.abstained, without.citations)


def test_a_model_that_is_not_running_costs_the_vote_within_the_timeout(sample_index: Path) -> None:
    answer = voting_bot(sample_index, "http://127.0.0.1:9/v1").ask(FLAGSHIP, as_of="2025-05-16")
    assert "is it running?" in answer.note and answer.citations


def test_reader_llm_needs_the_fitted_reader_and_a_reader_file_fitted_on_votes(sample_index: Path, tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="set reader=fitted"):
        Assistant.open(sample_index, settings=Settings(reader_llm="openai-like:http://127.0.0.1:9/v1"), create=False).ask(FLAGSHIP)
    with pytest.raises(SettingsError, match="fitted without a language model's answers"):
        voting_bot(sample_index, "http://127.0.0.1:9/v1", reader_params=PARAMS / "reader-v5.json").ask(FLAGSHIP)
    with pytest.raises(SettingsError, match="set reader_llm"):
        settings = Settings(reader="fitted", reader_params=PARAMS / "reader-v6-llm.json")
        Assistant.open(sample_index, settings=settings, create=False).ask(FLAGSHIP)
    assert ReaderParams.load(voted=True).voted and not ReaderParams.load().voted
    assert json.loads((PARAMS / "reader-v6-llm.json").read_text(encoding="utf-8"))["llm_answers"]["model"]


def test_the_voted_reader_reads_no_span_model_score_and_a_failed_vote_is_read_with_span_v2(sample_index: Path) -> None:
    with ScriptedModel("Rustem Umerov", Reply(status=500)) as model:
        bot = voting_bot(sample_index, model.url)
        voted = bot.ask(FLAGSHIP, as_of="2025-05-16")
        failed = bot.ask(FLAGSHIP, as_of="2025-05-16")

    reader = bot._pipeline.reader if bot._pipeline is not None else None
    assert isinstance(reader, FittedReader) and reader.voted is not None
    assert (reader.voted.version, reader.voted.span_model) == ("reader-v6-llm", "")
    assert not any(k.startswith("nn_") for k in reader.voted.weights)  # no span model score is read with a vote
    assert reader.span_model is not None and reader.params.span_model == reader.span_model.params.version  # reader-v5
    assert voted.vote == "Rustem Umerov" and not voted.note
    assert not voted.abstained and said_by_a_citation(voted)
    assert failed.note.startswith("Read without the language model's vote")  # read by reader-v5, with span-v2


def test_a_voted_reader_file_fitted_with_another_span_model_is_refused(sample_index: Path, tmp_path: Path) -> None:
    data = json.loads((PARAMS / "reader-v6-llm.json").read_text(encoding="utf-8"))
    data["span_model"] = {"version": "span-elsewhere"}
    other = tmp_path / "reader-other-span-llm.json"
    other.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(SettingsError, match="fitted with span model span-elsewhere"):
        voting_bot(sample_index, "http://127.0.0.1:9/v1", reader_params=other).ask(FLAGSHIP)


def test_a_real_model_over_http_votes_and_the_answer_stays_a_span_of_a_cited_sentence(
    sample_index: Path, smollm2_url: str,
) -> None:
    spec = ModelSpec.parse(f"openai-like:{smollm2_url}", model="smollm2", timeout=120.0, deadline=120.0, max_tokens=MAX_TOKENS)
    bot = voting_bot(sample_index, smollm2_url, llm_model="smollm2", llm_timeout=120.0)
    vote = Voter(LanguageModel(spec)).run(FLAGSHIP, ranked_sentences(bot))
    assert vote.usable and vote.answer and "\n" not in vote.answer and vote.seconds > 0
    answer = bot.ask(FLAGSHIP)
    assert not answer.note and answer.vote, answer.note  # the model voted
    assert answer.abstained or said_by_a_citation(answer)


def test_eval_scores_the_vote_alone_beside_the_answer(sample_index: Path) -> None:
    from byline.evaluation import EvalRun, Question, evaluate

    questions = [Question(FLAGSHIP, ("Rustem Umerov",), ()), Question("Where were the talks held?", ("Istanbul",), ()),
                 Question("What did the Chinese foreign minister say?", (), ())]
    with ScriptedModel("Rustem Umerov") as model:
        run = evaluate(questions, bot=voting_bot(sample_index, model.url))
    flagship, where, _ = run.results
    assert flagship.vote == where.vote == "Rustem Umerov" and flagship.vote_f1 == 1.0 and where.vote_f1 == 0.0
    assert run.summary.vote_f1 == 0.5  # the answerable questions only: the third has none
    assert EvalRun.from_dict(json.loads(json.dumps(run.to_dict()))).results[0].vote == "Rustem Umerov"
    plain = evaluate(questions[:1], bot=Assistant.open(sample_index, settings=Settings(reader="fitted"), create=False))
    assert plain.results[0].vote == "" and plain.results[0].vote_f1 is None and plain.summary.vote_f1 is None


def test_a_voted_reader_file_fitted_on_more_sentences_shows_the_model_that_many_and_reads_them(
    sample_index: Path, tmp_path: Path
) -> None:
    data = json.loads((PARAMS / "reader-v6-llm.json").read_text(encoding="utf-8")) | {"sentences": 12}
    deeper = tmp_path / "reader-deeper-llm.json"
    deeper.write_text(json.dumps(data), encoding="utf-8")
    with ScriptedModel("Rustem Umerov") as model:
        bot = voting_bot(sample_index, model.url, reader_params=deeper)
        answer = bot.ask(FLAGSHIP, as_of="2025-05-16")
    (request,) = model.requests
    user = request["messages"][1]["content"]
    assert "[12] " in user and "[13] " not in user
    assert answer.vote == "Rustem Umerov" and not answer.abstained and said_by_a_citation(answer)

    reader = bot._pipeline.reader if bot._pipeline is not None else None
    assert isinstance(reader, FittedReader) and reader.voted is not None and reader.voted.sentences == 12
    assert reader.params.sentences == 8  # reader-v5, which reads a failed vote's question
    sentences = ranked_sentences(bot)
    assert len(sentences) == 12
    question = analyse(FLAGSHIP)
    assert len(reader.run(question, list(sentences), Vote("Rustem Umerov"))) == 12
    assert len(reader.run(question, list(sentences), Vote("", failed="HTTP 500"))) == 8
