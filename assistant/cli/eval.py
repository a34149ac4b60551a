"""`byline eval`: score answers against a question set, print the scores, write JSON and reports.

Exit status: 0 when the run finished and every threshold held, 1 when a --fail-under/--fail-over
threshold was broken, otherwise the error's own code (2 when the input could not be used: a bad
question file, option or setting, no index; see `byline.index.errors`).
Heavy modules (models, matplotlib) are imported inside the command, so `byline --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from byline.cli.common import ModelOption, SetOption, settings_with

if TYPE_CHECKING:
    from byline.evaluation import Comparison, EvalRun, Summary, Threshold

_REPORT_SUFFIXES = {".html", ".htm", ".md", ".markdown"}


def register(app: typer.Typer) -> None:
    """Add the `eval` command to the CLI."""
    app.command("eval")(eval_command)


def eval_command(
    questions: Path = typer.Argument(..., help="Question set: JSONL, one question a line."),
    corpus: list[Path] = typer.Option(
        [],
        "--corpus",
        help="Articles (file or folder) to index into a fresh temporary index. Repeatable.",
    ),
    index: Path | None = typer.Option(
        None,
        "--index",
        "-i",
        help="Existing index to ask (default: BYLINE_INDEX or the per-user index).",
    ),
    model: ModelOption = None,
    json_out: Path | None = typer.Option(
        None, "--json", help="Write everything about the run here."
    ),
    report: list[Path] = typer.Option(
        [], "--report", help="Write a report with tables and plots: .html or .md. Repeatable."
    ),
    fail_under: list[str] = typer.Option(
        [],
        "--fail-under",
        metavar="METRIC=VALUE",
        help="Exit 1 if METRIC is below VALUE. Repeatable.",
    ),
    fail_over: list[str] = typer.Option(
        [],
        "--fail-over",
        metavar="METRIC=VALUE",
        help="Exit 1 if METRIC is above VALUE (e.g. latency_p95=2). Repeatable.",
    ),
    baseline: Path | None = typer.Option(
        None,
        "--baseline",
        help="A run saved with --json: show what changed and which questions flipped.",
    ),
    only: str = typer.Option(
        "all", "--only", help="Which questions: all, with-gold (name their gold articles), in-corpus (answer string in the corpus).",
    ),
    gold_removed: bool = typer.Option(
        False, "--gold-removed", help="Also ask each question that names its gold articles without them: the right reply is to abstain.",
    ),
    answer_removed: bool = typer.Option(
        False, "--answer-removed",
        help="Also ask each answerable question without every article that holds one of its answers: the right reply is to abstain.",
    ),
    skip_invalid: bool = typer.Option(
        False,
        "--skip-invalid",
        help="Skip bad lines of the question file with a warning instead of stopping.",
    ),
    setting: SetOption = [],  # noqa: B006 (typer reads the default; it is never mutated)
    show: int = typer.Option(
        20, "--show", help="Questions listed in the terminal, failures first (0: all)."
    ),
) -> None:
    """Score answers against a question set: EM, F1, citations, retrieval, abstention, latency."""
    from byline.evaluation import compare, evaluate, load_run
    from byline.index.errors import BylineError, UsageError

    out, err = Console(), Console(stderr=True)
    try:
        thresholds = _thresholds(fail_under, fail_over)
        settings = settings_with([*setting, *([f"model={model}"] if model else [])])
        for path in report:
            if path.suffix.lower() not in _REPORT_SUFFIXES:
                raise UsageError(f"--report {path}: name the report .html or .md")
        if corpus and index is not None:
            raise UsageError("use --corpus (a fresh temporary index) or --index, not both")
        before = load_run(baseline) if baseline else None
        with _progress(err) as progress:
            run = evaluate(
                questions,
                corpus=corpus,
                index=index if not corpus else None,
                settings=settings,
                skip_invalid=skip_invalid,
                only=only,
                gold_removed=gold_removed,
                answer_removed=answer_removed,
                progress=progress,
            )
    except BylineError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(exc.exit_code) from None

    for warning in run.warnings:
        err.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)
    comparison = compare(run, before, baseline_name=str(baseline)) if before else None
    _print_summary(out, run, comparison)
    _print_questions(out, run, show)
    if comparison:
        _print_flips(out, comparison)
    _write_outputs(out, run, comparison, json_out, report)
    broken = [v for t in thresholds if (v := t.violation(run.summary))]
    for violation in broken:
        err.print(f"[red]threshold broken:[/red] {violation}", highlight=False)
    if broken:
        raise typer.Exit(1)


def _thresholds(fail_under: list[str], fail_over: list[str]) -> list[Threshold]:
    from byline.evaluation import parse_threshold
    from byline.index.errors import UsageError

    try:
        return [parse_threshold(t, "under") for t in fail_under] + [
            parse_threshold(t, "over") for t in fail_over
        ]
    except ValueError as exc:
        raise UsageError(f"bad threshold: {exc}") from None


class _progress:
    """A rich progress bar fed by evaluate()'s progress(done, total, stage) callback."""

    def __init__(self, console: Console) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self._bar = Progress(
            TextColumn("{task.description:<16}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._task = self._bar.add_task("starting", total=None)

    def __enter__(self) -> _progress:
        self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.stop()

    def __call__(self, done: int, total: int, stage: str) -> None:
        self._bar.update(self._task, completed=done, total=total or None, description=stage)


def _print_summary(out: Console, run: EvalRun, comparison: Comparison | None) -> None:
    from byline.evaluation.report import METRIC_LABELS, format_delta, format_metric
    from byline.evaluation.run import MODEL_METRICS

    s = run.summary
    table = Table(
        title=f"{run.name}: {s.questions} questions "
        f"({s.answerable} answerable, {s.unanswerable} not), "
        f"{run.articles} articles",
        title_justify="left",
    )
    table.add_column("metric")
    table.add_column("name", style="dim")
    if comparison:
        table.add_column("baseline", justify="right")
    table.add_column("value", justify="right")
    if comparison:
        table.add_column("change", justify="right")
        changes = {c.name: c for c in comparison.changes}
    for name, value in s.metrics().items():
        if value is None and name in MODEL_METRICS and not comparison:
            continue  # no language model wrote or voted
        row = [METRIC_LABELS[name], name]
        if comparison:
            change = changes[name]
            colour = {"better": "green", "worse": "red"}.get(change.verdict, "dim")
            row += [
                format_metric(name, change.before),
                format_metric(name, value),
                f"[{colour}]{format_delta(name, change.delta)}[/{colour}]",
            ]
        else:
            row.append(format_metric(name, value))
        table.add_row(*row)
    out.print(table)
    if len(run.by_type) > 1 or run.by_wh:
        _print_groups(out, "By question type", run.by_type)
    if run.by_wh:
        _print_groups(out, "Answerable questions by the kind of answer asked for", run.by_wh)
    out.print(
        f"index built in {run.index_seconds:.1f} s, models loaded in {run.warmup_seconds:.1f} s, "
        f"{s.questions} questions answered in {s.total_seconds:.1f} s "
        f"({run.cpus} CPUs, load average {run.load_average:.1f})",
        style="dim",
        highlight=False,
    )


def _print_groups(out: Console, title: str, groups: dict[str, Summary]) -> None:
    from byline.evaluation.report import format_metric

    names = ("em", "f1", "doc_at_1", "doc_at_5", "abstention_recall", "false_abstention_rate")
    table = Table(title=title, title_justify="left")
    for header in ("group", "questions", *names):
        table.add_column(header, justify="left" if header == "group" else "right")
    for group, s in groups.items():
        table.add_row(group, str(s.questions), *(format_metric(n, s.metrics()[n]) for n in names))
    out.print(table)


def _print_questions(out: Console, run: EvalRun, show: int) -> None:
    results = run.failures_first()
    listed = results if show <= 0 else results[:show]
    table = Table(title="Questions, failures first", title_justify="left", show_lines=True)
    table.add_column("stage", no_wrap=True)
    table.add_column("id", no_wrap=True)
    for column, ratio in (("question", 3), ("expected", 2), ("got", 2), ("cited sentence", 4)):
        table.add_column(column, ratio=ratio, overflow="fold")
    for r in listed:
        q = r.question
        colour = "green" if r.passed else "red"
        got = r.error or ("(abstained)" if r.abstained else r.got)
        table.add_row(
            f"[{colour}]{r.stage}[/{colour}]",
            q.id or str(q.line),
            q.question,
            _shorten(" | ".join(q.answers) or "(abstain)", 60),
            _shorten(got, 80),
            _shorten(r.cited[0] if r.cited else "", 100),
        )
    out.print(table)
    rest = results[len(listed) :]
    if rest:
        failing = sum(not r.passed for r in rest)
        out.print(
            f"{len(rest)} more ({failing} failed): --show 0 lists them all, --json keeps them all",
            style="dim",
            highlight=False,
        )


def _print_flips(out: Console, comparison: Comparison) -> None:
    for note in comparison.notes:
        out.print(f"note: {note}", style="yellow", highlight=False)
    if not comparison.flips:
        out.print("No question changed outcome since the baseline.")
        return
    table = Table(title=f"Changed since {comparison.baseline}", title_justify="left")
    for column in ("", "id", "question", "before", "now"):
        table.add_column(column, overflow="fold")
    colours = {"fixed": "green", "broken": "red", "changed": "yellow"}
    for f in sorted(comparison.flips, key=lambda f: list(colours).index(f.kind), reverse=True):
        colour = colours[f.kind]
        table.add_row(
            f"[{colour}]{f.kind}[/{colour}]",
            f.key,
            f.question,
            f"{f.before_stage}: {f.before_got}",
            f"{f.after_stage}: {f.after_got}",
        )
    out.print(table)


def _write_outputs(
    out: Console,
    run: EvalRun,
    comparison: Comparison | None,
    json_out: Path | None,
    reports: list[Path],
) -> None:
    import json

    from byline.evaluation.report import write_report

    if json_out:
        data = run.to_dict()
        if comparison:
            from dataclasses import asdict

            data["comparison"] = asdict(comparison)
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        out.print(f"wrote {json_out}", style="dim", highlight=False)
    for path in reports:
        write_report(run, path, comparison)
        out.print(f"wrote {path}", style="dim", highlight=False)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
