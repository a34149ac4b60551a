"""The benchmark's table: Byline beside the llama-index baseline, as rich text or Markdown.

python -m benchmarks.report benchmarks/results.json   # Markdown, for benchmarks/README.md
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

Row = tuple[str, str, str, str]  # metric, Byline, baseline, Byline ÷ baseline


def rows(results: dict[str, Any]) -> list[Row]:
    """Return the table's rows: for every corpus size, each metric for both pipelines."""
    table: list[Row] = []
    for n, size in results["sizes"].items():
        table.append((f"**{int(n):,} articles**", "", "", ""))
        table.extend(_size_rows(size))
    return table


def _size_rows(s: dict[str, Any]) -> list[Row]:
    corpus, enc = s["corpus"], s["encode"]
    bi, ba, bc = s.get("byline_index", {}), s.get("byline_ask", {}), s.get("byline_cold", {})
    li, lq = s.get("baseline_index", {}), s.get("baseline_query", {})
    ceiling = enc["sentences_per_s"]

    def per_s(index: dict[str, Any], unit: str) -> float | None:
        return corpus[unit] / index["index_s"] if index.get("index_s") else None

    def get(d: dict[str, Any], *path: str) -> Any:
        for key in path:
            if not isinstance(d, dict) or key not in d:
                return None
            d = d[key]
        return d

    def first(d: dict[str, Any]) -> float | None:
        if "open_s" not in d:
            return None
        return float(d["import_s"] + d["open_s"] + d["first_question_s"])

    def pct_ceiling(index: dict[str, Any]) -> float | None:
        rate = per_s(index, "sentences")
        return 100 * rate / ceiling if rate else None

    def pct_cpu_ceiling(index: dict[str, Any]) -> float | None:
        if not index.get("index_cpu_s") or not enc.get("sentences_per_cpu_s"):
            return None
        return 100 * corpus["sentences"] / index["index_cpu_s"] / enc["sentences_per_cpu_s"]

    out = [
        _row("Indexing, articles/s", per_s(bi, "articles"), per_s(li, "articles"), "{:.1f}"),
        _row("Indexing, sentences/s", per_s(bi, "sentences"), per_s(li, "sentences"), "{:.0f}"),
        _row(
            f"… as % of raw `encode` ({ceiling:.0f} sentences/s)",
            pct_ceiling(bi),
            pct_ceiling(li),
            "{:.0f} %",
        ),
        _row(
            "… the same by CPU time (unaffected by other load)",
            pct_cpu_ceiling(bi),
            pct_cpu_ceiling(li),
            "{:.0f} %",
        ),
        _row("Index build, s", bi.get("index_s"), li.get("index_s"), "{:.0f}"),
        _row("Vectors (chunks / nodes)", get(bi, "stats", "chunks"), li.get("nodes"), "{:,}"),
        _text_row("Vector index", get(bi, "stats", "vector_index"), "IndexFlatL2" if li else None),
        _row(
            "Index on disk, MB",
            _mb(bi.get("bytes_on_disk")),
            _mb(li.get("bytes_on_disk")),
            "{:.0f}",
        ),
        _row("Peak RSS while indexing, MB", bi.get("peak_rss_mb"), li.get("peak_rss_mb"), "{:.0f}"),
        _row(
            "Question new to the process p50, ms (first round; Byline: cited answer; baseline: top-5 retrieval only)",
            get(ba, "latency_first_round", "p50_ms"),
            get(lq, "latency_first_round", "p50_ms"),
            "{:.0f}",
        ),
        _row(
            "Question new to the process p95, ms (same)",
            get(ba, "latency_first_round", "p95_ms"),
            get(lq, "latency_first_round", "p95_ms"),
            "{:.0f}",
        ),
        _row(
            "Warm question p50, ms (all rounds, repeats hit caches)",
            get(ba, "latency", "p50_ms"),
            get(lq, "latency", "p50_ms"),
            "{:.0f}",
        ),
        _row(
            "Warm question p95, ms (same)",
            get(ba, "latency", "p95_ms"),
            get(lq, "latency", "p95_ms"),
            "{:.0f}",
        ),
        _row(
            "CPU per warm question p50, ms (all threads)",
            get(ba, "cpu_per_question", "p50_ms"),
            get(lq, "cpu_per_question", "p50_ms"),
            "{:.0f}",
        ),
        _row("Load + first question in a fresh process, s", first(ba), first(lq), "{:.1f}"),
        _row("`byline ask` cold start, first run, s", bc.get("first_s"), None, "{:.2f}"),
        _row("`byline ask` cold start, median, s", bc.get("median_s"), None, "{:.2f}"),
        _row(
            "`byline ask` cold, no ONNX export yet (torch path), s",
            get(bc, "without_onnx_export", "seconds"),
            None,
            "{:.2f}",
        ),
        _row(
            "`byline ask` with a `byline warm` process, median, s",
            get(bc, "warm_process", "median_s"),
            None,
            "{:.2f}",
        ),
        _row(
            "Peak RSS while answering, MB", ba.get("peak_rss_mb"), lq.get("peak_rss_mb"), "{:.0f}"
        ),
        _row(
            "doc@1 (Byline: 1st citation's article; baseline: top node's)",
            get(ba, "quality", "doc_at_1"),
            get(lq, "quality", "doc_at_1"),
            "{:.0%}",
        ),
        _row(
            "doc@1 of retrieval alone (top passage / top node)",
            get(ba, "quality", "retrieved_doc_at_1"),
            get(lq, "quality", "doc_at_1"),
            "{:.0%}",
        ),
        _row(
            "evidence@1 (1st citation holds the evidence)",
            get(ba, "quality", "evidence_at_1"),
            None,
            "{:.0%}",
        ),
        _row("Short answer matches", get(ba, "quality", "answer_match"), None, "{:.0%}"),
        _row(
            "Abstains on unanswerable questions",
            get(ba, "quality", "abstained_when_unanswerable"),
            None,
            "{:.0%}",
        ),
        _row(
            "doc@1 on the 28 latency questions",
            get(ba, "quality", "latency_set_doc_at_1"),
            get(lq, "quality", "latency_set_doc_at_1"),
            "{:.0%}",
        ),
    ]
    return [r for r in out if r[1] or r[2]]


def _mb(n: int | None) -> float | None:
    return n / 1e6 if n else None


def _fmt(value: float | None, pattern: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return pattern.format(value)


def _row(label: str, byline: float | None, base: float | None, pattern: str) -> Row:
    ratio = ""
    if byline is not None and base and not (isinstance(base, float) and math.isnan(base)):
        ratio = f"{byline / base:.2f}×"
    return (label, _fmt(byline, pattern), _fmt(base, pattern), ratio)


def _text_row(label: str, byline: str | None, base: str | None) -> Row:
    return (label, byline or "", base or "", "")


def extra_lines(results: dict[str, Any]) -> list[str]:
    """Return the once-per-run figures as sentences: re-indexing, HNSW recall, the ceiling."""
    ex = results.get("extras", {})
    lines = []
    for n, size in results["sizes"].items():
        e = size["encode"]
        if "error" in e:
            continue
        lines.append(
            f"Raw `encode` ceiling ({int(n):,}-article corpus): "
            f"{e['sentences_per_s']:.0f} sentences/s = {e['articles_per_s']:.1f} articles/s "
            f"on its first {e['sentences']:,} sentences "
            f"({e['articles']} articles), batch 64, {e['torch_threads']} torch threads."
        )
    if (r := ex.get("reindex")) and "error" not in r:
        lines.append(
            f"`add` over a folder of {r['size']:,} indexed + {r['new_articles']} new articles: "
            f"{r['seconds']:.1f} s, {r['added']} added, {r['duplicates']} recognised as indexed, "
            f"{r['texts_encoded']:,} texts sent to the model in {r['encode_calls']} encode calls "
            f"(the new articles hold {r['new_sentences']} sentences)."
        )
    if (h := ex.get("hnsw_recall")) and "error" not in h:
        by_ef = ", ".join(
            f"efSearch {ef}: recall@10 {v['recall_at_10']:.3f} in {v['ms_per_query']:.2f} ms"
            for ef, v in h["by_ef_search"].items()
        )
        lines.append(
            f"Exact vs {h['hnsw']} on the {h['size']:,}-article index's {h['vectors']:,} chunk "
            f"vectors, {h['queries']} corpus sentences as queries: "
            f"exact {h['exact_ms_per_query']:.2f} ms/query; {by_ef}; "
            f"HNSW build {h['hnsw_build_s']:.1f} s; Byline searches with efSearch "
            f"{h.get('ef_search_used', '?')}."
        )
    return lines


def print_table(results: dict[str, Any]) -> None:
    """Print the table and the once-per-run figures with rich."""
    from rich.console import Console
    from rich.table import Table

    cores = results["machine"]["cpu_count"]
    table = Table(title=f"Byline vs plain llama-index — {cores} cores", show_lines=False)
    for name, justify in (("Metric", "left"), ("Byline", "right"), ("baseline", "right")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    table.add_column("Byline ÷ baseline", justify="right")
    for row in rows(results):
        table.add_row(
            *(c.replace("**", "") for c in row), style="bold" if row[0].startswith("**") else None
        )
    console = Console(width=None if sys.stdout.isatty() else 120)
    console.print(table)
    for line in extra_lines(results):
        console.print("• " + line, markup=False)


def markdown(results: dict[str, Any]) -> str:
    """Return the table and the once-per-run figures as Markdown."""
    lines = ["| Metric | Byline | baseline | Byline ÷ baseline |", "|---|---:|---:|---:|"]
    lines += [f"| {' | '.join(r)} |" for r in rows(results)]
    lines.append("")
    lines += [f"- {line}" for line in extra_lines(results)]
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    """Print the Markdown table of the results file named in argv[0]."""
    results = json.loads(Path(argv[0] if argv else "benchmarks/results.json").read_text())
    show: Callable[[str], None] = print
    show(markdown(results))


if __name__ == "__main__":
    main(sys.argv[1:])
