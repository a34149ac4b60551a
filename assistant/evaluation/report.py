"""Evaluation reports: a run written as Markdown or self-contained HTML, plots embedded as PNG.

Both formats are rendered from the same list of blocks (headings, paragraphs, tables, images),
so they always say the same thing. Plots are drawn with matplotlib's Agg backend (no display
needed) and embedded as base64 `data:` URIs, so a report is one file that can be mailed around.
"""

from __future__ import annotations

import base64
import html
import io
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from byline.evaluation import metrics
from byline.evaluation.run import STAGES, Comparison, EvalRun, Summary, confidence_pairs
from byline.index.errors import require

if TYPE_CHECKING:
    from matplotlib.figure import Figure

METRIC_LABELS = {
    "pass_rate": "questions fully right",
    "em": "answer exact match",
    "f1": "answer token F1",
    "citation_precision": "citation precision",
    "citation_recall": "citation recall",
    "evidence_at_1": "evidence@1",
    "recall_at_1": "retrieval recall@1",
    "recall_at_5": "retrieval recall@5",
    "recall_at_10": "retrieval recall@10",
    "recall_at_all": "retrieval recall (all passages)",
    "mrr": "retrieval MRR",
    "article_recall": "right article retrieved",
    "doc_at_1": "right article first (doc@1)",
    "doc_at_5": "right article in the first 5 (doc@5)",
    "abstention_precision": "abstention precision",
    "abstention_recall": "abstention recall",
    "false_abstention_rate": "false abstention rate",
    "latency_p50": "latency p50",
    "latency_p95": "latency p95",
    "total_seconds": "time answering",
    "fully_verified": "written answers fully verified",
    "statements_removed": "written statements removed",
    "written_f1": "answer token F1 where written",
    "extractive_f1": "extractive token F1, same questions",
    "brier": "confidence Brier score (lower is better)",
    "vote_f1": "token F1 of the language model's vote alone",
}
_SECONDS = {"latency_p50", "latency_p95", "total_seconds"}


def format_metric(name: str, value: float | None) -> str:
    """Return a metric's value as people read it: "0.917", "0.25 s", or "—" when undefined."""
    if value is None:
        return "—"
    return f"{value:.2f} s" if name in _SECONDS else f"{value:.3f}"


def format_delta(name: str, delta: float | None) -> str:
    """Return a metric change with its sign, e.g. "+0.083" or "-0.12 s"."""
    if delta is None:
        return "—"
    return f"{delta:+.2f} s" if name in _SECONDS else f"{delta:+.3f}"


def write_report(run: EvalRun, path: str | Path, comparison: Comparison | None = None) -> Path:
    """Write the run as HTML (.html/.htm) or Markdown (.md) at `path`; return the path."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in {".html", ".htm", ".md", ".markdown"}:
        raise ValueError(f"cannot tell the report format from {path.name!r} — name it .html or .md")
    if suffix in {".html", ".htm"}:
        require("matplotlib", "report", "the HTML report's plots")
    blocks = report_blocks(run, comparison)
    text = (
        to_html(blocks, title=_title(run)) if suffix in {".html", ".htm"} else to_markdown(blocks)
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# -- content ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Block:
    """One piece of a report: a heading, a paragraph, a table, or a PNG image."""

    kind: str  # "heading" | "text" | "table" | "image"
    text: str = ""
    headers: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    png: bytes = b""


def report_blocks(run: EvalRun, comparison: Comparison | None = None) -> list[Block]:
    """Return the report's content: summary, comparison, scores by type, plots, every question."""
    s = run.summary
    blocks = [
        Block("heading", _title(run)),
        Block(
            "text",
            f"{s.questions} questions ({s.answerable} answerable, {s.unanswerable} unanswerable) "
            f"from {run.questions_file}, asked of {run.source} ({run.articles} articles) "
            f"on {run.started}. Model {run.settings.get('model', '?')}; index built in "
            f"{run.index_seconds:.1f} s, models loaded in {run.warmup_seconds:.1f} s, "
            f"questions answered in {s.total_seconds:.1f} s "
            f"({run.cpus} CPUs, load average {run.load_average:.1f}).",
        ),
        Block("heading", "Summary"),
        _summary_table(run, comparison),
    ]
    if comparison is not None:
        blocks += _comparison_blocks(comparison)
    blocks += [Block("heading", "By question type"), _type_table(run, run.by_type)]
    if run.by_wh:
        blocks += [Block("heading", "Answerable questions by the kind of answer asked for"), _type_table(run, run.by_wh)]
    blocks += [
        Block("heading", "Plots"),
        Block("image", "Scores by question type", png=figure_png(plot_scores_by_type(run))),
        Block("image", "Where questions failed", png=figure_png(plot_stages(run))),
        Block("image", "Latency per question", png=figure_png(plot_latency(run))),
    ]
    pairs = confidence_pairs(run.results)
    if pairs:
        blocks += [
            Block("heading", "Does the confidence mean what it says?"),
            Block("text", f"{len(pairs)} answers given to answerable questions, binned by confidence; "
                          f"right means token F1 ≥ {metrics.RIGHT_F1}. A calibrated confidence has accuracy "
                          "close to its mean confidence in every bin."),
            _reliability_table(pairs),
            Block("image", "Reliability of the confidence", png=figure_png(plot_reliability(pairs))),
        ]
    blocks += [Block("heading", "Questions, failures first"), _question_table(run)]
    if run.warnings:
        blocks += [Block("heading", "Warnings"), *(Block("text", w) for w in run.warnings)]
    return blocks


def _title(run: EvalRun) -> str:
    return f"Byline evaluation: {run.name}"


def _summary_table(run: EvalRun, comparison: Comparison | None) -> Block:
    values = run.summary.metrics()
    if comparison is None:
        plain = tuple((METRIC_LABELS[n], n, format_metric(n, v)) for n, v in values.items())
        return Block("table", headers=("metric", "name", "value"), rows=plain)
    rows = [
        (
            METRIC_LABELS[c.name],
            c.name,
            format_metric(c.name, c.before),
            format_metric(c.name, c.after),
            format_delta(c.name, c.delta),
            c.verdict,
        )
        for c in comparison.changes
    ]
    return Block(
        "table", headers=("metric", "name", "baseline", "now", "change", ""), rows=tuple(rows)
    )


def _comparison_blocks(comparison: Comparison) -> list[Block]:
    blocks = [Block("heading", f"Changed since {comparison.baseline}")]
    blocks += [Block("text", note) for note in comparison.notes]
    if not comparison.flips:
        blocks.append(Block("text", "No question changed outcome."))
    else:
        order = ("broken", "changed", "fixed")
        rows = tuple(
            (
                f.kind,
                f.key,
                f.question,
                f"{f.before_stage}: {f.before_got}",
                f"{f.after_stage}: {f.after_got}",
            )
            for f in sorted(comparison.flips, key=lambda f: order.index(f.kind))
        )
        blocks.append(Block("table", headers=("", "id", "question", "before", "now"), rows=rows))
    for label, keys in (
        ("Only in the baseline", comparison.only_in_baseline),
        ("New in this run", comparison.only_in_run),
    ):
        if keys:
            blocks.append(Block("text", f"{label}: {', '.join(keys)}"))
    return blocks


def _type_table(run: EvalRun, groups: dict[str, Summary]) -> Block:
    names = (
        "pass_rate",
        "em",
        "f1",
        "citation_recall",
        "recall_at_5",
        "abstention_recall",
        "latency_p50",
    )
    rows = tuple(
        (kind, str(s.questions), *(format_metric(n, s.metrics()[n]) for n in names))
        for kind, s in groups.items()
    )
    headers = ("type", "questions", *(METRIC_LABELS[n] for n in names))
    return Block("table", headers=headers, rows=rows)


def _reliability_table(pairs: list[tuple[float, bool]]) -> Block:
    rows = tuple(
        (f"{b.low:.1f}–{b.high:.1f}", str(b.answers), format_metric("", b.mean_confidence), format_metric("", b.accuracy))
        for b in metrics.reliability(pairs)
    )
    return Block("table", headers=("confidence", "answers", "mean confidence", "share right"), rows=rows)


def _question_table(run: EvalRun) -> Block:
    rows = []
    for r in run.failures_first():
        q = r.question
        expected = " | ".join(q.answers) if q.answers else "(abstain)"
        got = r.error or ("(abstained)" if r.abstained else r.got)
        rank = "—" if r.evidence_rank is None else str(r.evidence_rank)
        rows.append(
            (
                q.id or str(q.line),
                r.stage,
                q.question,
                expected,
                got,
                r.cited[0] if r.cited else "",
                rank,
                f"{r.f1:.2f}",
                f"{r.seconds:.2f}",
            )
        )
    headers = (
        "id",
        "stage",
        "question",
        "expected",
        "got",
        "cited sentence",
        "evidence rank",
        "F1",
        "s",
    )
    return Block("table", headers=headers, rows=tuple(rows))


# -- plots -----------------------------------------------------------------------------------


def _figure(width: float = 7.0, height: float = 3.2) -> Figure:
    from matplotlib.figure import Figure

    # A bare Figure renders with the Agg canvas: no pyplot state, no display, safe in threads.
    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def figure_png(figure: Figure) -> bytes:
    """Return the figure rendered as PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def plot_scores_by_type(run: EvalRun) -> Figure:
    """Return a bar chart of pass rate, EM, F1 and citation recall for each question type."""
    names = ("pass_rate", "em", "f1", "citation_recall")
    kinds = list(run.by_type)
    figure = _figure(height=3.6)
    axes = figure.add_subplot()
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        values = [run.by_type[k].metrics()[name] for k in kinds]
        positions = [k + (i - (len(names) - 1) / 2) * width for k in range(len(kinds))]
        heights = [v if v is not None else 0.0 for v in values]
        bars = axes.bar(positions, heights, width, label=METRIC_LABELS[name])
        for bar, value in zip(bars, values, strict=True):
            if value is None:
                bar.set_alpha(0)
    axes.set_xticks(range(len(kinds)), [f"{k} ({run.by_type[k].questions})" for k in kinds])
    axes.set_ylim(0, 1.05)
    axes.set_ylabel("score")
    axes.set_title("Scores by question type")
    figure.legend(loc="outside lower center", ncols=len(names), fontsize="small")
    return figure


def plot_stages(run: EvalRun) -> Figure:
    """Return a bar chart of how many questions ended at each stage (ok, or the one that failed)."""
    counts = Counter(r.stage for r in run.results)
    stages = [s for s in STAGES if s in counts or s != "error"]
    figure = _figure(height=2.6)
    axes = figure.add_subplot()
    colours = ["#4c9a2a" if s == "ok" else "#c0392b" for s in stages]
    axes.barh(stages, [counts.get(s, 0) for s in stages], color=colours)
    axes.invert_yaxis()
    axes.set_xlabel("questions")
    axes.set_title("Where questions failed (first stage that went wrong)")
    return figure


def plot_latency(run: EvalRun) -> Figure:
    """Return a histogram of seconds per question, with p50 and p95 marked."""
    seconds = [r.seconds for r in run.results]
    figure = _figure(height=2.8)
    axes = figure.add_subplot()
    axes.hist(seconds, bins=min(30, max(5, len(seconds) // 2)), color="#2c7fb8")
    for name, style in (("latency_p50", "--"), ("latency_p95", ":")):
        value = run.summary.metrics()[name]
        if value is not None:
            axes.axvline(value, color="black", linestyle=style, label=f"{name[-3:]} {value:.2f} s")
    axes.set_xlabel("seconds per question")
    axes.set_ylabel("questions")
    axes.set_title("Latency per question")
    axes.legend(fontsize="small")
    return figure


def plot_reliability(pairs: list[tuple[float, bool]]) -> Figure:
    """Return the reliability diagram: share right against mean confidence per bin, and the diagonal."""
    kept = [b for b in metrics.reliability(pairs) if b.answers]
    figure = _figure(width=4.2, height=3.6)
    axes = figure.add_subplot()
    axes.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="calibrated")
    axes.plot([b.mean_confidence or 0.0 for b in kept], [b.accuracy or 0.0 for b in kept], marker="o", color="#2c7fb8",
              label="answers")
    for b in kept:
        axes.annotate(str(b.answers), (b.mean_confidence or 0.0, b.accuracy or 0.0), fontsize="x-small",
                      xytext=(3, 3), textcoords="offset points")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.set_xlabel("mean confidence")
    axes.set_ylabel("share right")
    axes.set_title("Reliability (numbers: answers per bin)")
    axes.legend(fontsize="small")
    return figure


# -- rendering -------------------------------------------------------------------------------


def to_markdown(blocks: list[Block]) -> str:
    """Return the blocks as Markdown (images as inline base64 PNG)."""
    out: list[str] = []
    for i, block in enumerate(blocks):
        if block.kind == "heading":
            out.append(("# " if i == 0 else "## ") + block.text)
        elif block.kind == "text":
            out.append(block.text)
        elif block.kind == "table":
            out.append(_markdown_table(block))
        elif block.kind == "image":
            out.append(
                f"![{block.text}](data:image/png;base64,{base64.b64encode(block.png).decode()})"
            )
    return "\n\n".join(out) + "\n"


def _markdown_table(block: Block) -> str:
    def cell(text: str) -> str:
        return " ".join(text.split()).replace("|", "\\|") or " "

    lines = [
        "| " + " | ".join(cell(h) for h in block.headers) + " |",
        "|" + "---|" * len(block.headers),
    ]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in block.rows]
    return "\n".join(lines)


_CSS = """
body { font: 15px/1.45 system-ui, sans-serif; max-width: 72rem; margin: 2rem auto; padding: 0 1rem;}
table { border-collapse: collapse; margin: 1rem 0; font-size: 14px; }
th, td { border: 1px solid #ccc; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.ok { color: #2e7d32; } td.fail { color: #c62828; font-weight: 600; }
img { max-width: 100%; display: block; margin: 1rem 0; }
"""


def to_html(blocks: list[Block], *, title: str) -> str:
    """Return the blocks as one self-contained HTML page."""
    body: list[str] = []
    for i, block in enumerate(blocks):
        if block.kind == "heading":
            tag = "h1" if i == 0 else "h2"
            body.append(f"<{tag}>{html.escape(block.text)}</{tag}>")
        elif block.kind == "text":
            body.append(f"<p>{html.escape(block.text)}</p>")
        elif block.kind == "table":
            body.append(_html_table(block))
        elif block.kind == "image":
            data = base64.b64encode(block.png).decode()
            body.append(f'<img alt="{html.escape(block.text)}" src="data:image/png;base64,{data}">')
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head>\n<body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def _html_table(block: Block) -> str:
    def cell(text: str) -> str:
        css = {"ok": "ok", "better": "ok", "fixed": "ok", "worse": "fail", "broken": "fail"}.get(
            text
        )
        if text in STAGES[:-1]:
            css = "fail"
        return f'<td class="{css}">' if css else "<td>"

    head = "".join(f"<th>{html.escape(h)}</th>" for h in block.headers)
    rows = "\n".join(
        "<tr>" + "".join(f"{cell(c)}{html.escape(c)}</td>" for c in row) + "</tr>"
        for row in block.rows
    )
    return f"<table>\n<tr>{head}</tr>\n{rows}\n</table>"
