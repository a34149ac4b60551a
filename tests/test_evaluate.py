"""`byline eval` and assistant.evaluate: question files, scoring, reports, thresholds, baselines.

The fast tests score hand-written Answers (the scorer is what they test, not the assistant).
The CLI tests run the real command on the real seed-dev set and sample article.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from byline.evaluation import (
    EvalRun,
    Question,
    QuestionFileError,
    RunFileError,
    compare,
    load_questions,
    load_run,
    metrics,
    parse_threshold,
    score,
    summarize,
)
from byline.evaluation.report import write_report
from byline.index.types import Chunk, Hit
from byline.types import Answer, Citation

ROOT = Path(__file__).resolve().parents[1]
SHARED_EVAL = Path(os.environ.get("BYLINE_SHARED", ROOT.parent / "shared")) / "eval"
SEED_DEV = SHARED_EVAL / "seed-dev.jsonl"
SAMPLE = ROOT / "samples" / "istanbul-talks.txt"
# What the spine reaches on seed-dev (docs/evaluation.md), less a margin for rounding, not for a
# lost question: 9 of the 10 answerable questions right and cited, both unanswerable ones
# abstained on (pass_rate 11/12), as the project's target says. At commit 6a18757 it reaches
# pass_rate 0.917, em 0.9, f1 0.996, citation precision 0.769 (10 of 13 cited sentences),
# citation recall 1, evidence@1 1, recall@5 1, abstention recall 1, no false abstention.
SEED_THRESHOLDS = [
    ("--fail-under", "pass_rate=0.9"),
    ("--fail-under", "em=0.85"),
    ("--fail-under", "f1=0.85"),
    ("--fail-under", "citation_precision=0.65"),
    ("--fail-under", "citation_recall=0.85"),
    ("--fail-under", "evidence_at_1=0.85"),
    ("--fail-under", "recall_at_5=0.85"),
    ("--fail-under", "abstention_recall=1"),
    ("--fail-over", "false_abstention_rate=0.05"),
]

UMEROV = "Ukraine's delegation, headed by defence minister Rustem Umerov, arrived in Istanbul."
MEDINSKY = "Russia's delegation is led by Vladimir Medinsky, a Kremlin aide."
LEADS = Question(
    question="Who leads Ukraine's delegation?",
    answers=("Rustem Umerov", "defence minister Rustem Umerov"),
    evidence=("headed by defence minister Rustem Umerov",),
    id="d01",
    line=1,
)
CHINA = Question(
    question="What did the Chinese foreign minister say?",
    answers=(),
    evidence=(),
    type="unanswerable",
    id="d11",
    line=2,
)


def answer(
    text: str, cited: Sequence[str] = (), passages: Sequence[str] = (), abstained: bool = False
) -> Answer:
    """Return an Answer as the assistant would give it: cited sentences and retrieved passages."""
    citations = tuple(
        Citation(
            text=s,
            start=0,
            end=len(s),
            article_id="a1",
            title="t",
            source="s",
            published="",
            url="",
            score=1.0,
        )
        for s in cited
    )
    hits = tuple(Hit(Chunk(i, "a1", i, i, p), 1.0 / (i + 1)) for i, p in enumerate(passages))
    return Answer(question="q", text=text, abstained=abstained, citations=citations, retrieved=hits)


def write_lines(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


GOOD_LINE = json.dumps({"question": "Who?", "answers": ["Umerov"], "evidence": ["Umerov"]})


# -- question files --------------------------------------------------------------------------


def test_shared_sets_load_with_their_id_and_doc_ids_fields() -> None:
    for path in sorted(SHARED_EVAL.glob("*.jsonl")):
        questions, warnings = load_questions(path)
        assert questions and not warnings
        assert all(q.id for q in questions)
    seed, _ = load_questions(SEED_DEV)
    assert [q.kind for q in seed].count("unanswerable") == 2


def test_malformed_line_is_named_in_the_error(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "q.jsonl", GOOD_LINE, '{"question": "Who?", "answers": [')
    with pytest.raises(QuestionFileError, match=r"q\.jsonl line 2: not valid JSON"):
        load_questions(path)


def test_missing_field_is_named_with_its_line(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "q.jsonl", GOOD_LINE, "", '{"question": "Who?", "answers": []}')
    with pytest.raises(QuestionFileError, match=r"line 3: missing field 'evidence'"):
        load_questions(path)


def test_unknown_field_is_named_with_the_known_ones(tmp_path: Path) -> None:
    line = '{"question": "Who?", "anwsers": ["x"], "answers": ["x"], "evidence": []}'
    path = write_lines(tmp_path / "q.jsonl", line)
    with pytest.raises(
        QuestionFileError, match=r"line 1: unknown field 'anwsers' \(known fields: question"
    ):
        load_questions(path)


def test_wrongly_typed_field_is_explained(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "q.jsonl", '{"question": "Who?", "answers": "Umerov", "evidence": []}'
    )
    with pytest.raises(
        QuestionFileError, match=r"field 'answers' must be a list of strings, not a string"
    ):
        load_questions(path)


def test_repeated_id_is_an_error(tmp_path: Path) -> None:
    line = '{"id": "x", "question": "Who?", "answers": [], "evidence": []}'
    with pytest.raises(QuestionFileError, match=r"line 2: repeats the question 'x' of line 1"):
        load_questions(write_lines(tmp_path / "q.jsonl", line, line))


def test_skip_invalid_keeps_the_good_lines_and_warns_about_the_bad(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "q.jsonl", GOOD_LINE, "not json", '{"question": "x"}')
    questions, warnings = load_questions(path, skip_invalid=True)
    assert [q.line for q in questions] == [1]
    assert len(warnings) == 2 and "line 2" in warnings[0] and "line 3" in warnings[1]


def test_a_file_with_no_usable_question_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(QuestionFileError, match="no usable questions"):
        load_questions(write_lines(tmp_path / "q.jsonl", "nope"), skip_invalid=True)
    with pytest.raises(QuestionFileError, match="no question file"):
        load_questions(tmp_path / "missing.jsonl")


# -- scoring ---------------------------------------------------------------------------------


def test_right_answer_with_the_right_citation_passes() -> None:
    result = score(
        LEADS, answer("defence minister Rustem Umerov", [UMEROV], [MEDINSKY, UMEROV]), 0.1
    )
    assert (result.stage, result.exact_match, result.f1) == ("ok", 1.0, 1.0)
    assert (result.citation_precision, result.citation_hit, result.evidence_at_1) == (
        1.0,
        True,
        True,
    )
    assert result.evidence_rank == 2


def test_evidence_never_retrieved_is_a_retrieval_failure() -> None:
    result = score(LEADS, answer("Vladimir Medinsky", [MEDINSKY], [MEDINSKY]), 0.1)
    assert result.stage == "retrieval"
    assert result.evidence_rank is None and result.citation_precision == 0.0


def test_evidence_retrieved_but_wrong_sentence_cited_is_a_citation_failure() -> None:
    result = score(LEADS, answer("Vladimir Medinsky", [MEDINSKY], [MEDINSKY, UMEROV]), 0.1)
    assert result.stage == "citation"


def test_right_sentence_but_wrong_span_is_an_extraction_failure() -> None:
    result = score(LEADS, answer("Istanbul", [UMEROV], [UMEROV]), 0.1)
    assert result.stage == "extraction"
    assert result.citation_hit is True and result.exact_match == 0.0


def test_abstaining_on_retrieved_evidence_is_an_abstention_failure() -> None:
    result = score(LEADS, answer("The articles don't say.", [], [UMEROV], abstained=True), 0.1)
    assert result.stage == "abstention"
    assert result.got == "" and result.citation_precision is None and result.citation_hit is False


def test_unanswerable_question_passes_only_when_abstained() -> None:
    assert score(CHINA, answer("", [], [MEDINSKY], abstained=True), 0.1).stage == "ok"
    answered = score(CHINA, answer("Medinsky", [MEDINSKY], [MEDINSKY]), 0.1)
    assert answered.stage == "abstention" and answered.citation_precision == 0.0


def test_summary_counts_answer_metrics_on_answerable_questions_only() -> None:
    results = [
        score(LEADS, answer("Rustem Umerov", [UMEROV, MEDINSKY], [UMEROV]), 0.1),
        score(CHINA, answer("Medinsky", [MEDINSKY], [MEDINSKY]), 0.3),
    ]
    s = summarize(results)
    assert (s.questions, s.answerable, s.unanswerable) == (2, 1, 1)
    assert s.em == 1.0 and s.pass_rate == 0.5
    assert s.citation_precision == pytest.approx(1 / 3)  # 1 of the 3 cited sentences holds evidence
    assert s.citation_recall == 1.0 and s.recall_at_1 == 1.0 and s.mrr == 1.0
    assert s.abstention_recall == 0.0 and s.abstention_precision is None
    assert s.false_abstention_rate == 0.0
    assert s.latency_p50 == pytest.approx(0.2) and s.total_seconds == pytest.approx(0.4)


def _run(results: list) -> EvalRun:
    kinds = sorted({r.question.kind for r in results})
    return EvalRun(
        questions_file="seed-dev.jsonl",
        source="index test",
        started="2025-01-01T00:00:00+00:00",
        settings={"model": "all-MiniLM-L6-v2"},
        results=tuple(results),
        summary=summarize(results),
        by_type={k: summarize([r for r in results if r.question.kind == k]) for k in kinds},
    )


def test_failures_come_first_in_a_run() -> None:
    run = _run(
        [
            score(LEADS, answer("Rustem Umerov", [UMEROV], [UMEROV]), 0.1),
            score(CHINA, answer("Medinsky", [MEDINSKY], [MEDINSKY]), 0.1),
        ]
    )
    assert [r.question.id for r in run.failures_first()] == ["d11", "d01"]


def test_run_round_trips_through_json(tmp_path: Path) -> None:
    run = _run([score(LEADS, answer("Rustem Umerov", [UMEROV], [UMEROV]), 0.1)])
    path = tmp_path / "run.json"
    path.write_text(json.dumps(run.to_dict()), encoding="utf-8")
    assert load_run(path) == run


def test_a_file_that_is_not_a_saved_run_is_refused(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "x.json", '{"hello": 1}')
    with pytest.raises(RunFileError, match="not a run saved by byline eval --json"):
        load_run(path)


def test_comparison_shows_metric_changes_and_flipped_questions() -> None:
    before = _run(
        [
            score(LEADS, answer("Istanbul", [UMEROV], [UMEROV]), 0.1),
            score(CHINA, answer("", [], [], abstained=True), 0.1),
        ]
    )
    after = _run(
        [
            score(LEADS, answer("Rustem Umerov", [UMEROV], [UMEROV]), 0.1),
            score(CHINA, answer("Medinsky", [MEDINSKY], [MEDINSKY]), 0.1),
        ]
    )
    comparison = compare(after, before)
    em = next(c for c in comparison.changes if c.name == "em")
    assert (em.before, em.after, em.delta, em.verdict) == (0.0, 1.0, 1.0, "better")
    assert {(f.key, f.kind) for f in comparison.flips} == {("d01", "fixed"), ("d11", "broken")}


def test_thresholds_name_the_metric_and_accept_at_sign_spelling() -> None:
    s = summarize([score(LEADS, answer("Istanbul", [UMEROV], [UMEROV]), 0.1)])
    assert parse_threshold("recall@5=0.5").metric == "recall_at_5"
    assert parse_threshold("em=0.9").violation(s) == "em = 0.000, needed ≥ 0.9"
    assert parse_threshold("f1=0.0").violation(s) is None
    assert "undefined" in parse_threshold("abstention_recall=1").violation(s)
    assert (
        parse_threshold("latency_p95=0.05", "over").violation(s)
        == "latency_p95 = 0.100, needed ≤ 0.05"
    )
    with pytest.raises(ValueError, match="known metric"):
        parse_threshold("accuracy=0.9")


@pytest.mark.parametrize("suffix", [".html", ".md"])
def test_report_has_tables_and_an_embedded_png(tmp_path: Path, suffix: str) -> None:
    run = _run(
        [
            score(LEADS, answer("Rustem Umerov", [UMEROV], [UMEROV]), 0.1),
            score(CHINA, answer("Medinsky", [MEDINSKY], [MEDINSKY]), 0.2),
        ]
    )
    text = write_report(run, tmp_path / f"report{suffix}").read_text(encoding="utf-8")
    assert text.count("data:image/png;base64,iVBORw0KGgo") == 4  # the PNG signature, base64
    assert "Does the confidence mean what it says?" in text and "share right" in text
    assert "Who leads Ukraine" in text and "answer exact match" in text
    assert text.index("d11") < text.index("d01")  # the failure is listed first


def test_reliability_bins_compare_confidence_with_the_share_right() -> None:
    pairs = [(0.9, True), (0.95, True), (0.85, False), (0.1, False), (0.15, False), (1.0, True)]
    bins = metrics.reliability(pairs, bins=5)
    assert [b.answers for b in bins] == [2, 0, 0, 0, 4]
    assert bins[0].accuracy == 0.0 and bins[4].accuracy == 0.75
    assert bins[4].mean_confidence == pytest.approx((0.9 + 0.95 + 0.85 + 1.0) / 4)
    assert metrics.brier([(1.0, True), (0.0, False)]) == 0.0
    assert metrics.brier([(0.5, True), (0.5, False)]) == 0.25
    assert metrics.brier([]) is None


def test_brier_is_over_answers_given_to_answerable_questions() -> None:
    right = replace(answer("Rustem Umerov", [UMEROV], [UMEROV]), confidence=0.8)
    wrong = replace(answer("Istanbul", [UMEROV], [UMEROV]), confidence=0.6)
    s = summarize([score(LEADS, right, 0.1), score(LEADS, wrong, 0.1), score(LEADS, answer("", abstained=True), 0.1)])
    assert s.brier == pytest.approx(((0.8 - 1) ** 2 + 0.6**2) / 2)


# -- the command -----------------------------------------------------------------------------


def invoke(*args: str | Path) -> tuple[int, str]:
    from byline.cli import app

    # A wide terminal, so rich does not fold the cells the tests look for.
    result = CliRunner(env={"COLUMNS": "240"}).invoke(app, ["eval", *map(str, args)])
    # CliRunner catches what the command raises; an error for people ends in SystemExit only
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"question": "Who?", ', "line 2: not valid JSON"),
        ('{"question": "Who?", "answers": []}', "line 2: missing field 'evidence'"),
        (
            '{"question": "Who?", "answers": [], "evidence": [], "kind": "x"}',
            "line 2: unknown field 'kind'",
        ),
    ],
)
def test_command_names_the_bad_line_without_a_traceback(
    tmp_path: Path, line: str, message: str
) -> None:
    path = write_lines(tmp_path / "questions.jsonl", GOOD_LINE, line)
    code, output = invoke(path, "--index", tmp_path / "no-index")
    assert code == 2
    assert message in " ".join(output.split())


def test_command_refuses_an_unknown_threshold_metric(tmp_path: Path) -> None:
    code, output = invoke(SEED_DEV, "--index", tmp_path, "--fail-under", "accurcy=0.9")
    assert code == 2 and "known metric" in output


@pytest.fixture(scope="session")
def seed_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, Path]:
    """Run `byline eval seed-dev --corpus SAMPLE` once, as CI does, writing JSON and reports."""
    out = tmp_path_factory.mktemp("eval")
    thresholds = [part for pair in SEED_THRESHOLDS for part in pair]
    code, output = invoke(
        SEED_DEV,
        "--corpus",
        SAMPLE,
        "--json",
        out / "run.json",
        "--report",
        out / "report.html",
        "--report",
        out / "report.md",
        *thresholds,
    )
    return code, output, out


def test_seed_dev_meets_the_ci_thresholds(seed_run: tuple[int, str, Path]) -> None:
    code, output, _ = seed_run
    assert code == 0, output
    assert "answer exact match" in output and "Questions, failures first" in output


def test_seed_dev_run_writes_json_with_every_question_and_metric(
    seed_run: tuple[int, str, Path],
) -> None:
    _, _, out = seed_run
    data = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert len(data["results"]) == 12
    assert {"em", "f1", "citation_precision", "citation_recall", "mrr", "latency_p50"} <= set(
        data["metrics"]
    )
    unanswerable = [r for r in data["results"] if not r["question"]["answers"]]
    assert all(r["abstained"] and not r["cited"] for r in unanswerable)


def test_seed_dev_run_writes_reports_with_plots(seed_run: tuple[int, str, Path]) -> None:
    _, _, out = seed_run
    for name in ("report.html", "report.md"):
        text = (out / name).read_text(encoding="utf-8")
        assert "data:image/png;base64," in text and "Who leads Ukraine" in text


def test_threshold_above_what_is_reached_fails_the_command(
    sample_index: Path, tmp_path: Path
) -> None:
    code, output = invoke(SEED_DEV, "--index", sample_index, "--fail-under", "em=1.01")
    assert code == 1
    assert "threshold broken: em =" in output


def test_baseline_comparison_lists_the_questions_that_flipped(
    seed_run: tuple[int, str, Path], sample_index: Path, tmp_path: Path
) -> None:
    _, _, out = seed_run
    data = json.loads((out / "run.json").read_text(encoding="utf-8"))
    flipped = next(r for r in data["results"] if r["stage"] == "ok" and r["question"]["answers"])
    flipped["stage"], flipped["got"] = "extraction", "Istanbul"  # pretend it failed last time
    data["summary"]["em"] = 0.0
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps(data), encoding="utf-8")
    code, output = invoke(SEED_DEV, "--index", sample_index, "--baseline", baseline, "--show", "0")
    assert code == 0, output
    text = " ".join(output.split())
    assert "Changed since" in text and flipped["question"]["id"] in text
    assert "extraction: Istanbul" in text and "fixed" in text


def test_skip_invalid_runs_the_good_questions_and_warns(sample_index: Path, tmp_path: Path) -> None:
    lines = SEED_DEV.read_text(encoding="utf-8").splitlines()[:2]
    path = write_lines(tmp_path / "q.jsonl", lines[0], '{"question": 1}', lines[1])
    code, output = invoke(
        path, "--index", sample_index, "--skip-invalid", "--json", tmp_path / "r.json"
    )
    assert code == 0, output
    assert "warning: skipped" in output and "line 2" in output
    assert len(json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["results"]) == 2
