"""Fit the retrieval fusion (pipeline/params/retrieval-v1.json) on RealTime QA questions with a gold article.

usage: python benchmarks/fit_retrieval.py --index /work/rtqa-index/rtqa-2022 [--rtqa /work/rtqa] [--report docs/fit-retrieval.md]

For each development question with a gold article, the product's own retriever
(`HybridRetriever.articles`) lists the candidate articles and their feature rows, asked as of
the question's date (later articles left out). A logistic regression learns which candidate is a
gold article. It is judged out of fold: 5 folds of whole quiz weeks, so one week's story never
sits in both; equal reciprocal-rank fusion (the previous default) is scored on the same
questions. The model fitted on every week is written to the parameter file, with the figures.
The reserved weeks (October 2022 onward, 2026) are never built, so they cannot be read here.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
SEED = 13
FOLDS = 5
C = 1.0  # L2 strength; 0.1 and 10 gave doc@1 within 0.02 out of fold in the phase-1 lab


@dataclass(slots=True)
class Example:
    id: str
    week: str
    text: str
    kind: str
    gold: set[str]
    candidates: list[str]
    rows: np.ndarray
    rrf: list[str]  # articles in the order equal RRF ranks their chunks

    @property
    def labels(self) -> np.ndarray:
        return np.asarray([a in self.gold for a in self.candidates], dtype=int)


def canonical(corpus: Path) -> dict[str, str]:
    """Return article id → the id the index keeps for its text (the indexer skips duplicates)."""
    first: dict[str, str] = {}
    out: dict[str, str] = {}
    with corpus.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            digest = hashlib.sha1(" ".join(row["text"].split()).encode()).hexdigest()
            out[row["id"]] = first.setdefault(digest, row["id"])
    return out


def collect(index: Path, questions: Path, corpus: Path) -> list[Example]:
    """Return every gold-article question with its candidates, asked as the product asks it."""
    from byline import Assistant
    from byline.evaluation import answer_kind
    from byline.pipeline.dates import resolve
    from byline.pipeline.retrieve import HybridRetriever
    from byline.types import Filters

    store = Assistant.open(index, create=False).store
    retriever = HybridRetriever(store, top=100, fusion=None)
    canon = canonical(corpus)
    out = []
    for line in questions.open(encoding="utf-8"):
        r = json.loads(line)
        if not r.get("doc_ids"):
            continue
        as_of = date.fromisoformat(r["date"][:10])
        filters = Filters().as_of(as_of.isoformat())
        vector = store.embedder.embed_query(r["question"])
        candidates, rows, _ = retriever.articles(r["question"], vector, filters, as_of, resolve(r["question"], as_of))
        order = list(dict.fromkeys(h.chunk.article_id for h in retriever.run(r["question"], Filters(), as_of).hits))
        out.append(Example(
            r["id"], r["id"].split("_")[0], r["question"], answer_kind(r["question"]),
            {canon.get(a, a) for a in r["doc_ids"]}, candidates, rows, order,
        ))
    return out


def fit(examples: Sequence[Example]) -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=5000, random_state=SEED))
    model.fit(np.vstack([ex.rows for ex in examples]), np.concatenate([ex.labels for ex in examples]))
    return model


def out_of_fold(examples: list[Example]) -> list[list[str]]:
    """Return each question's articles ordered by a model fitted on the other folds' weeks."""
    fold = fold_of(examples)
    orders: list[list[str]] = [[] for _ in examples]
    for f in range(FOLDS):
        model = fit([ex for ex in examples if fold[ex.week] != f and len(ex.candidates)])
        for i, ex in enumerate(examples):
            if fold[ex.week] == f and len(ex.candidates):
                p = model.predict_proba(ex.rows)[:, 1]
                orders[i] = [ex.candidates[j] for j in np.argsort(-p, kind="stable")]
    return orders


def params_of(model: Any, examples: Sequence[Example], year: int, summary: dict[str, Any]) -> dict[str, Any]:
    """Return the parameter file's content for a fitted model."""
    from byline.pipeline.fusion import FEATURES, HEAD_SENTENCES

    scaler, lr = model[0], model[-1]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    return {
        "version": "retrieval-v1",
        "model": f"logistic regression (scikit-learn, L2, C={C}, seed {SEED}) over byline.pipeline.fusion features, standardised",
        "fitted_on": {
            "set": f"rtqa-{year}", "questions": len(examples),
            "question_ids_sha256": hashlib.sha256(" ".join(sorted(ex.id for ex in examples)).encode()).hexdigest()[:16],
            "label": "candidate article is a gold article (duplicates of a gold text count)",
            "commit": commit,
        },
        "out_of_fold": summary,
        "features": list(FEATURES),
        "head_sentences": HEAD_SENTENCES,
        "scaler": {"mean": [round(float(v), 6) for v in scaler.mean_], "scale": [round(float(v), 6) for v in scaler.scale_]},
        "coef": [round(float(v), 6) for v in lr.coef_[0]],
        "intercept": round(float(lr.intercept_[0]), 6),
    }


def fold_of(examples: Sequence[Example]) -> dict[str, int]:
    """Return each quiz week's fold, dealt as fit_reader.py deals them."""
    from byline.evaluation import week_folds

    return week_folds((ex.week for ex in examples), FOLDS)


def write_folds(examples: Sequence[Example], year: int, folder: Path) -> list[Path]:
    """Write retrieval-fold-K.json into `folder`: the fusion fitted without fold K's weeks."""
    fold = fold_of(examples)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for f in range(FOLDS):
        train = [ex for ex in examples if fold[ex.week] != f and len(ex.candidates)]
        path = folder / f"retrieval-fold-{f}.json"
        path.write_text(json.dumps(params_of(fit(train), train, year, {"fold": f})), encoding="utf-8")
        paths.append(path)
    return paths


def end_to_end(
    index: Path, questions: Path, examples: list[Example], year: int, settings: dict[str, Any],
    reader_folds: Path | None = None,
) -> Any:
    """Return one eval run over every fold: each fold's questions asked (and asked again without
    their gold articles, and without every article holding an answer) with the fusion fitted on the other folds' weeks (and, with
    `reader_folds`, the fitted reader's fold file from `fit_reader.py --fold-dir`)."""
    import tempfile
    from dataclasses import replace

    from byline import Assistant, Settings
    from byline.evaluation import by_wh, evaluate, load_questions, summarize

    fold = fold_of(examples)
    asked, _ = load_questions(questions)
    results, runs = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for f, path in enumerate(write_folds(examples, year, Path(tmp))):
            mine = [q for q in asked if q.doc_ids and q.id.split("_")[0] in fold and fold[q.id.split("_")[0]] == f]
            own = {"reader": "fitted", "reader_params": reader_folds / f"reader-fold-{f}.json"} if reader_folds else {}
            bot = Assistant.open(index, settings=Settings(fusion_params=path, **settings, **own), create=False)
            runs.append(evaluate(mine, bot=bot, only="with-gold", gold_removed=True, answer_removed=True))
            results.extend(runs[-1].results)
    kinds = sorted({r.question.kind for r in results})
    return replace(
        runs[0], questions_file=str(questions), results=tuple(results), summary=summarize(results),
        by_type={k: summarize([r for r in results if r.question.kind == k]) for k in kinds}, by_wh=by_wh(results),
        settings={**runs[0].settings, "fusion_params": "the fold's own (fitted on the other folds' weeks)",
                  **({"reader_params": "the fold's own (fit_reader.py --fold-dir)"} if reader_folds else {})},
    )


def llama_index_orders(persist: Path, corpus: Path, examples: list[Example]) -> list[list[str]]:
    """Return each question's articles from the plain llama-index pipeline (benchmarks/baseline.py),
    built into `persist` first when it is not there (about 13 minutes for rtqa-2022 on 2 cores)."""
    import sys

    sys.path.insert(0, str(ROOT))
    from benchmarks import baseline

    if not (persist / "docstore.json").exists():
        persist.mkdir(parents=True, exist_ok=True)
        print(f"building the llama-index baseline in {persist}: {baseline.build(corpus, persist)}")
    retriever = baseline.open_retriever(persist)
    canon = canonical(corpus)
    return [list(dict.fromkeys(canon.get(a, a) for a in baseline.retrieve(retriever, ex.text))) for ex in examples]


def at(order: list[str], gold: set[str], k: int) -> bool:
    return any(a in gold for a in order[:k])


def table(examples: list[Example], orders: dict[str, list[list[str]]]) -> tuple[str, dict[str, Any]]:
    names = list(orders)
    lines = ["| questions | n | " + " | ".join(f"{n} doc@1 | {n} doc@5" for n in names) + " |",
             "|---|---:|" + "---:|---:|" * len(names)]
    summary: dict[str, Any] = {}

    def row(label: str, idx: list[int]) -> None:
        cells = []
        for n in names:
            d1 = sum(at(orders[n][i], examples[i].gold, 1) for i in idx) / len(idx)
            d5 = sum(at(orders[n][i], examples[i].gold, 5) for i in idx) / len(idx)
            cells += [f"{d1:.3f}", f"{d5:.3f}"]
            summary.setdefault(label, {"n": len(idx)})[n] = {"doc_at_1": round(d1, 3), "doc_at_5": round(d5, 3)}
        lines.append(f"| {label} | {len(idx)} | " + " | ".join(cells) + " |")

    row("all", list(range(len(examples))))
    for kind in sorted({ex.kind for ex in examples}):
        row(kind, [i for i, ex in enumerate(examples) if ex.kind == kind])
    return "\n".join(lines), summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, required=True, help="a Byline index of the set's corpus.jsonl")
    ap.add_argument("--rtqa", type=Path, default=Path("/work/rtqa"))
    ap.add_argument("--year", type=int, default=2022)
    ap.add_argument("--out", type=Path, default=ROOT / "assistant" / "pipeline" / "params" / "retrieval-v1.json")
    ap.add_argument("--report", type=Path, default=None, help="write the Markdown table here too")
    ap.add_argument("--end-to-end", type=Path, default=None, metavar="RUN.json",
                    help="also answer every question with its fold's fusion (and without its gold articles); write the run here")
    ap.add_argument("--baseline", type=Path, default=None, metavar="DIR",
                    help="also rank with the plain llama-index pipeline persisted in DIR (built there when absent)")
    ap.add_argument("--fold-dir", type=Path, default=None, metavar="DIR",
                    help="also write retrieval-fold-K.json here (for fit_reader.py --fusion-folds DIR)")
    ap.add_argument("--reader-folds", type=Path, default=None, metavar="DIR",
                    help="end to end with the fitted reader, each fold's from DIR (fit_reader.py --fold-dir DIR)")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="a setting for the end-to-end run, e.g. reader=fitted")
    args = ap.parse_args()
    from byline.pipeline.fusion import FEATURES

    folder = args.rtqa / f"rtqa-{args.year}"
    started = time.perf_counter()
    examples = collect(args.index, folder / "questions.jsonl", folder / "corpus.jsonl")
    print(f"{len(examples)} questions with a gold article, features in {time.perf_counter() - started:.0f} s")
    fused = out_of_fold(examples)
    orders = {"fitted fusion (out of fold)": fused, "equal RRF": [ex.rrf for ex in examples]}
    if args.baseline:
        orders["llama-index baseline"] = llama_index_orders(args.baseline, folder / "corpus.jsonl", examples)
    text, summary = table(examples, orders)
    print(text)
    model = fit([ex for ex in examples if len(ex.candidates)])
    params = params_of(model, examples, args.year, summary)
    args.out.write_text(json.dumps(params, indent=1) + "\n", encoding="utf-8")
    print("standardised weights:", ", ".join(f"{n} {v:+.2f}" for n, v in zip(FEATURES, params["coef"], strict=True)))
    print(f"wrote {args.out}")
    if args.fold_dir:
        write_folds(examples, args.year, args.fold_dir)
    if args.end_to_end:
        run = end_to_end(args.index, folder / "questions.jsonl", examples, args.year,
                         dict(item.split("=", 1) for item in args.set), args.reader_folds)
        args.end_to_end.write_text(json.dumps(run.to_dict(), indent=1), encoding="utf-8")
        print(f"end to end, out of fold: {run.summary}")
    if args.report:
        args.report.write_text(
            "# The fitted retrieval fusion, out of fold\n\n"
            f"`python benchmarks/fit_retrieval.py --index <rtqa-{args.year} index> --baseline <llama-index dir> "
            f"--report {args.report}`: "
            f"{len(examples)} rtqa-{args.year} questions with a gold article, 5 folds of whole quiz weeks, "
            "each question asked as of its date (Byline leaves out later articles; the baseline, as documented, "
            "knows no dates). doc@k: a gold article among the first k articles. The llama-index baseline is "
            "benchmarks/baseline.py: VectorStoreIndex over 1,024-token SentenceSplitter nodes, the same MiniLM, "
            "top 5 nodes.\n\n"
            + text + "\n", encoding="utf-8",
        )


if __name__ == "__main__":
    main()
