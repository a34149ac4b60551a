"""The fitted reader: answer types from the shipped head-noun table, candidate spans of every
kind a news quiz asks for, the parameter file, and the flagship question answered with it."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from byline import Assistant, Filters
from byline.index.errors import SettingsError
from byline.pipeline.answer_type import IMPLIED, answer_type
from byline.pipeline.fitted import PARAMS, FittedReader, ReaderParams, shipped_params
from byline.pipeline.nlp import parse
from byline.pipeline.question import analyse
from byline.pipeline.spans import candidates
from byline.settings import Settings

PARAMS_FILE = Path(__file__).resolve().parents[1] / "assistant" / "pipeline" / "params" / PARAMS
FLAGSHIP = "Who leads Ukraine's delegation?"


@pytest.mark.parametrize(
    ("question", "wh", "head", "wanted"),
    [
        ("Which carmaker recalled two million cars this week?", "which", "carmaker", "organization.n.01"),
        ("Which country's president visited Kyiv on Monday?", "which", "country", "location.n.01"),
        ("How many years did the senator serve in prison?", "how many", "year", "time_period.n.01"),
        ("Which colour did the team choose for its new kit?", "which", "colour", "color.n.01"),
        ("Which actor won the award for best drama?", "which", "actor", "person.n.01"),
        ("Which company bought the social network?", "which", "company", "organization.n.01"),
        ("Which state passed the abortion ban?", "which", "state", "location.n.01"),
        ("What currency did the country adopt?", "what", "currency", "currency.n.01"),
    ],
)
def test_question_is_typed_by_its_head_noun(question: str, wh: str, head: str, wanted: str) -> None:
    at = answer_type(parse([question])[0], shipped_params().heads)
    assert (at.wh, at.head) == (wh, head)
    assert at.known and wanted in at.classes


def test_who_question_asks_for_its_subject_and_unknown_nouns_get_no_class() -> None:
    heads = shipped_params().heads
    at = answer_type(parse(["Who leads Ukraine's delegation?"])[0], heads)
    assert at.wh == "who" and at.asks_subject
    odd = answer_type(parse(["Which zorblaxian won?"])[0], heads)
    assert odd.classes == () and not odd.known


def test_a_table_fitted_with_implied_heads_reads_who_as_which_person_and_where_as_which_place() -> None:
    from dataclasses import replace

    from byline.pipeline.answer_type import HeadTable

    plain = replace(shipped_params().heads, implied={})
    implied = HeadTable.from_json(replace(plain, implied=IMPLIED).to_json())  # as a parameter file stores it
    who, where, which = parse(["Who leads Ukraine's delegation?", "Where will the talks be held?", "Which zorblaxian won?"])
    assert answer_type(who, implied).classes == plain.of("person") and "person.n.01" in plain.of("person")
    assert "location.n.01" in answer_type(where, implied).classes
    assert answer_type(which, implied).classes == ()  # a noun the table lacks is still unknown
    # a reader fitted without them (reader-v4) reads these questions as it was fitted to
    assert answer_type(who, plain).classes == answer_type(where, plain).classes == ()
    assert HeadTable.from_json({k: v for k, v in plain.to_json().items() if k != "implied"}).implied == {}


@pytest.mark.parametrize(
    ("sentence", "text", "kinds"),
    [
        ("The Ukrainian side would be headed by defence minister Rustem Umerov.", "Rustem Umerov", {"PERSON"}),
        ("The Ukrainian side would be headed by defence minister Rustem Umerov.", "defence minister", {"TITLE"}),
        ("Toyota recalled 2.5 million cars in Japan on Monday.", "Toyota", {"ORG", "PROPN"}),
        ("Toyota recalled 2.5 million cars in Japan on Monday.", "Japan", {"GPE"}),
        ("Toyota recalled 2.5 million cars in Japan on Monday.", "2.5 million cars", {"NUMUNIT"}),
        ("Toyota recalled 2.5 million cars in Japan on Monday.", "Monday", {"DATE"}),
        ("The former mayor served six years in prison for fraud.", "six years", {"DURATION"}),
        ("The heatwave began on 18 July 2022 in London.", "18 July 2022", {"DATE"}),
        ("Florida Gov. Ron DeSantis signed the bill on Friday.", "Florida Gov. Ron DeSantis", {"PROPN", "NP"}),
        ("Netflix renewed “Squid Game” for a second season.", "Squid Game", {"QUOTE"}),
        ("The team chose a bright orange kit for the final.", "bright orange kit", {"NP"}),
        ("The team chose a bright orange kit for the final.", "orange kit", {"NP"}),
        ("Prices rose by 9.1 percent in June, the fastest pace in decades.", "9.1 percent", {"PERCENT", "NUM"}),
    ],
)
def test_sentence_yields_candidates_of_each_kind(sentence: str, text: str, kinds: set[str]) -> None:
    found = {c.text: c.kind for c in candidates(parse([sentence])[0])}
    assert text in found and found[text] in kinds, found


def test_parameter_file_loads_and_matches_its_recorded_version() -> None:
    raw = json.loads(PARAMS_FILE.read_text(encoding="utf-8"))
    params = ReaderParams.load()
    assert params.version == raw["version"] == "reader-v5"
    assert params.span_model == raw["span_model"]["version"] == "span-v2" and params.rule_reader
    assert any(k.startswith("nn_") for k in params.weights) and any(k.startswith("rule_") for k in params.weights)
    assert params.weights == raw["weights"] and params.weights
    assert 0.0 < params.threshold < 1.0 and "precision" in raw["threshold"]["rule"]
    assert params.gate is not None and params.gate.weights == raw["answerable"]["weights"]
    assert 0.0 < params.gate.threshold < 1.0 and "answerable" in raw["answerable"]["threshold"]["rule"]
    assert {"g_outside", "g_top5_inside"} <= set(params.gate.weights)  # fitted with the questions' date windows
    assert params.heads.implied == IMPLIED == raw["heads"]["implied"]
    assert "rtqa-2022" in raw["fitted_on"]["sets"]
    assert PARAMS_FILE.stat().st_size < 30_000_000


def test_fitted_reader_finds_umerov_and_reports_a_probability(sample_index: Path) -> None:
    bot = Assistant.open(sample_index, create=False, settings=Settings(reader="fitted"))
    answer = bot.ask("Who leads Ukraine's delegation?")
    assert 0.0 < answer.confidence < 1.0
    pipeline = bot._pipeline
    assert pipeline is not None and isinstance(pipeline.reader, FittedReader)
    reader = pipeline.reader
    assert math.isclose(1 / (1 + math.exp(-reader.abstain_below)), reader.params.threshold)
    question = analyse("Who leads Ukraine's delegation?")
    ranked = reader.run(question, pipeline.ranker.run(question, pipeline.retriever.run(question.text, Filters(), None)))
    assert any(c.span is not None and c.span.text == "Rustem Umerov" for c in ranked)
    assert all(c.score <= ranked[0].score for c in ranked)


@pytest.mark.xfail(strict=True, reason=(
    "reader-v5 puts 'Istanbul' first (confidence 0.16), not 'Rustem Umerov': reading 'who' as 'which person' "
    "did not change it, as rtqa-2022's person-class questions weigh a GPE candidate up (docs/evaluation.md)"
))
def test_fitted_reader_answers_the_flagship_question_with_umerov(sample_index: Path) -> None:
    bot = Assistant.open(sample_index, create=False, settings=Settings(reader="fitted"))
    answer = bot.ask("Who leads Ukraine's delegation?")
    assert "Umerov" in answer.text and not answer.abstained


def test_span_models_best_span_becomes_a_candidate_when_spacy_does_not_offer_it() -> None:
    from dataclasses import replace

    import numpy as np

    from byline.pipeline.fitted import Evidence, featurise
    from byline.pipeline.span_model import shipped_span_model

    sentence = "Crews fought a wildfire near Coeur d'Alene in northern Idaho on Monday."
    question = "What did crews do near Coeur d'Alene?"
    wanted = "fought a wildfire"
    doc = parse([sentence])[0]
    assert wanted not in {c.text for c in candidates(doc)}
    (read,) = shipped_span_model().read(question, [sentence])
    a, b = sentence.index(wanted), sentence.index(wanted) + len(wanted)
    first = int(np.nonzero(read.offsets[:, 0] == a)[0][0])
    last = int(np.nonzero(read.offsets[:, 1] == b)[0][-1])
    ids = np.arange(len(read.start))
    peaked = replace(read, start=np.where(ids == first, 8.0, read.start).astype(np.float32),
                     end=np.where(ids == last, 8.0, read.end).astype(np.float32))
    params = shipped_params()
    at = answer_type(analyse(question).doc, params.heads)
    (spans,) = featurise(at, [Evidence(sentence, "a1", 0, 0.5, 0.5, 1, 0.9, 1)], [doc], params.heads, [peaked])
    assert [s.span.text for s in spans if s.span.kind == "MODEL"] == [wanted]
    best = max(spans, key=lambda s: s.features["nn_rel"])
    assert best.span.text == wanted and best.features["nn_best_all"] == 1.0


def test_fitted_reader_refuses_a_span_model_it_was_not_fitted_with(sample_index: Path, tmp_path: Path) -> None:
    import shutil

    from byline.pipeline.span_model import SpanModel, SpanParams

    params_dir = PARAMS_FILE.parent
    shutil.copy(params_dir / "span-v2.safetensors", tmp_path / "span-v2.safetensors")
    meta = json.loads((params_dir / "span-v2.json").read_text(encoding="utf-8")) | {"version": "span-v0"}
    (tmp_path / "span-v0.json").write_text(json.dumps(meta), encoding="utf-8")
    other = SpanModel(SpanParams.load(tmp_path / "span-v0.json"))
    store = Assistant.open(sample_index, create=False).store
    with pytest.raises(SettingsError, match="span-v2"):
        FittedReader(store, shipped_params(), other)


def test_gate_answers_a_strong_repeated_answer_and_not_scattered_weak_ones() -> None:
    from byline.pipeline.fitted import Reading

    gate = shipped_params().gate
    assert gate is not None
    strong = [Reading(3.0, "rustem umerov", 0.6, 0.8, 0.9, 0), Reading(1.5, "rustem umerov", 0.5, 0.7, 0.9, 0),
              Reading(-3.0, "ankara", 0.3, 0.2, 0.9, 0)]
    weak = [Reading(-4.0, "monday", 0.2, 0.1, 0.1, 2), Reading(-5.0, "tuesday", 0.2, 0.1, 0.1, 2),
            Reading(-6.0, "", 0.1, 0.0, 0.1, 2)]
    assert gate.probability(strong) >= gate.threshold > gate.probability(weak)
    assert gate.probability([]) < gate.threshold


def test_gate_sees_whether_the_best_answers_article_lies_outside_the_days_the_question_names() -> None:
    from byline.pipeline.fitted import Reading, answerable_features

    def read(days: list[int | None]) -> list[Reading]:
        return [Reading(2.0 - k, f"answer {k}", 0.5, 0.5, 0.5, 0, d) for k, d in enumerate(days)]

    late = answerable_features(read([30, 0, None, 4, 0, 0]))
    assert (late["g_window"], late["g_outside"], late["g_log_days_out"]) == (1.0, 1.0, math.log1p(30))
    assert late["g_top5_inside"] == 3 / 5  # undated counts as inside; only the five best are counted
    timely = answerable_features(read([0, 9]))
    assert (timely["g_outside"], timely["g_log_days_out"], timely["g_top5_inside"]) == (0.0, 0.0, 1 / 5)
    assert not {"g_window", "g_outside"} & set(answerable_features(read([None, None])))  # no days named


def test_fitted_reader_abstains_by_its_gate_and_without_one_by_its_threshold(sample_index: Path) -> None:
    from dataclasses import replace

    bot = Assistant.open(sample_index, create=False, settings=Settings(reader="fitted"))
    bot.ask("Who leads Ukraine's delegation?")
    pipeline = bot._pipeline
    assert pipeline is not None
    params = shipped_params()
    assert params.gate is not None
    question = analyse("Who leads Ukraine's delegation?")
    ranked = FittedReader(pipeline.store, params).run(
        question, pipeline.ranker.run(question, pipeline.retriever.run(question.text, Filters(), None)))
    opened = FittedReader(pipeline.store, replace(params, gate=replace(params.gate, threshold=0.0)))
    shut = FittedReader(pipeline.store, replace(params, gate=replace(params.gate, threshold=1.01)))
    assert not opened.abstains(ranked) and shut.abstains(ranked)
    ungated = FittedReader(pipeline.store, replace(params, gate=None))
    assert ungated.abstains(ranked) == (ranked[0].score < ungated.abstain_below or ranked[0].missing > 0)
    assert opened.abstains([]) and ungated.abstains([])


def test_the_gate_threshold_setting_replaces_the_files_threshold_both_ways(sample_index: Path) -> None:
    unanswered = "Which company did Elon Musk buy in 2022?"
    default = Assistant.open(sample_index, create=False, settings=Settings(reader="fitted"))
    assert default.ask(unanswered).abstained and not default.ask(FLAGSHIP).abstained

    opened = Assistant.open(sample_index, create=False, settings=Settings(reader="fitted", gate_threshold=0.0))
    answer = opened.ask(unanswered)
    assert not answer.abstained and answer.citations and answer.confidence is not None and answer.confidence < 0.5
    shut = Assistant.open(sample_index, create=False, settings=Settings(reader="fitted", gate_threshold=1.0))
    assert shut.ask(FLAGSHIP).abstained


def test_the_gate_threshold_setting_needs_the_fitted_reader(sample_index: Path) -> None:
    with pytest.raises(SettingsError, match="set reader=fitted"):
        Assistant.open(sample_index, create=False, settings=Settings(gate_threshold=0.2)).ask(FLAGSHIP)
    with pytest.raises(SettingsError, match="BYLINE_GATE_THRESHOLD='1.5'"):
        Settings.from_env(reader="fitted", gate_threshold="1.5")
