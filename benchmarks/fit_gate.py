"""Would the voted reader's answerability gate gain from quiz weeks of more years than its reader saw?

usage: python benchmarks/fit_gate.py --base PRED.jsonl --asks rtqa-2023=ASKS.jsonl [NAME=ASKS.jsonl ...]
                                     [--reader params/reader-v6-llm.json] [--report REPORT.md]
                                     [--out READER.json] [--max-false-abstention 0.15]

The reader's span weights stay those of `--reader` (fitted on rtqa-2022 by `fit_reader.py`); only
the gate, the logistic regression that decides whether the sentences read answer the question at
all, is refitted. It learns from rtqa-2022's questions as fit_reader.py saw them (`--base`: its
`--predictions`, the gate's features of each question's out-of-fold reading, with and without
its answer) and from other years' questions asked through the product with that reader, which
never saw them (`--asks`: `gate_asks.py`'s files, one per set, e.g. a development eighth of
rtqa-2023 … 2025 by `heldout_weeks.py`, never the held-out weeks). The label: asked with its
articles, or without every article holding its answer.

Judged out of fold: each set's weeks are dealt into 5 folds (rtqa-2022's as fit_reader.py dealt
them); fold K's questions are read by a gate fitted on the other folds (of rtqa-2022 only, of
every set, or of the other sets only), under a threshold chosen on those folds' out-of-fold
probabilities (the highest at which at most `--max-false-abstention` of their answerable
questions fall under it), beside `--reader`'s gate as shipped. Besides F1 and abstention, the
table gives how well each gate's probability separates (ROC AUC) asks with their articles from
asks without, right answers (F1 ≥ 0.5) from every other ask, and wrong answers to answerable
asks from asks without the answer: a threshold moves along a curve, separation moves the curve.
With `--out`, the gate fitted on every set (threshold chosen the same way) is written into a
copy of `--reader`. Rerunning with the same files writes the same table and files.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # fit_reader beside this file
import fit_reader as fr  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PARAMS = ROOT / "assistant" / "pipeline" / "params"
BASE = "rtqa-2022"


def base_rows(path: Path) -> list[dict[str, Any]]:
    """Return fit_reader.py's out-of-fold rows (with the gate's features) as this script's rows."""
    rows = []
    for line in path.open(encoding="utf-8"):
        r = json.loads(line)
        if "gate_features" not in r:
            sys.exit(f"{path} holds no gate features: write it with fit_reader.py --index … --predictions")
        if r["gate_features"]:  # a question with no sentence read is left out, as fit_reader.py leaves it
            rows.append({"set": BASE, "id": r["id"], "fold": r["fold"], "answer_removed": r["answer_removed"],
                         "f1": r["f1"], "features": r["gate_features"]})
    return rows


def ask_rows(name: str, path: Path) -> list[dict[str, Any]]:
    """Return gate_asks.py's asks of one set, their weeks dealt into fit_reader.py's folds."""
    from byline.evaluation import week_folds

    asks = [json.loads(line) for line in path.open(encoding="utf-8")]
    fold_of = week_folds((a["week"] for a in asks), fr.FOLDS)
    return [{"set": name, "id": a["id"], "fold": fold_of[a["week"]], "answer_removed": a["answer_removed"],
             "f1": a["f1"], "features": a["features"], "shipped_p": a["gate_p"]} for a in asks if a["features"]]


def fitted_gate(rows: list[dict[str, Any]]) -> Any:
    """Return the gate (`fitted.Gate`, threshold not yet chosen) fitted on `rows`."""
    from byline.pipeline.fitted import Gate

    weights, intercept = fr.fit_gate([r["features"] for r in rows], [not r["answer_removed"] for r in rows])
    return Gate(weights, intercept, threshold=0.0)


def out_of_fold(rows: list[dict[str, Any]], learns: Callable[[dict[str, Any]], bool]) -> list[float]:
    """Return each row's probability under a gate fitted on the other folds' rows that `learns` keeps."""
    out = [0.0] * len(rows)
    for f in range(fr.FOLDS):
        gate = fitted_gate([r for r in rows if r["fold"] != f and learns(r)])
        for i, r in enumerate(rows):
            if r["fold"] == f:
                out[i] = gate.of(r["features"])
    return out


def judged(rows: list[dict[str, Any]], ps: list[float], learns: Callable[[dict[str, Any]], bool],
           max_false: float) -> list[bool]:
    """Return whether each row is answered: its out-of-fold probability against the threshold
    chosen on the other folds' out-of-fold probabilities (of the rows `learns` keeps)."""
    says = [False] * len(rows)
    for f in range(fr.FOLDS):
        seen = [(p, not r["answer_removed"]) for r, p in zip(rows, ps, strict=True) if r["fold"] != f and learns(r)]
        t = fr.choose_gate_threshold([p for p, _ in seen], [a for _, a in seen], max_false)
        for i, r in enumerate(rows):
            if r["fold"] == f:
                says[i] = ps[i] >= t
    return says


def separation(ps: list[float], positive: list[bool]) -> float | None:
    """Return the ROC AUC of `ps` for telling the `positive` rows from the rest (None: one kind only)."""
    from sklearn.metrics import roc_auc_score

    return round(float(roc_auc_score(positive, ps)), 3) if 0 < sum(positive) < len(positive) else None


def figures(rows: list[dict[str, Any]], says: list[bool], ps: list[float]) -> dict[str, Any]:
    """Return gated F1, never-abstaining F1, false abstention and abstention without the answer, and
    how well the probabilities `ps` tell asks with their articles from asks without (AUC), right
    answers (F1 ≥ 0.5) from every other ask, and wrong answers to answerable asks from asks without."""
    answerable = [(r["f1"], s) for r, s in zip(rows, says, strict=True) if not r["answer_removed"]]
    removed = [s for r, s in zip(rows, says, strict=True) if r["answer_removed"]]
    right = [not r["answer_removed"] and r["f1"] >= 0.5 for r in rows]
    wrong = [(p, not r["answer_removed"]) for r, p, ok in zip(rows, ps, right, strict=True) if not ok]
    return {
        "questions": len(answerable),
        "f1": round(float(np.mean([f if s else 0.0 for f, s in answerable])), 3),
        "f1_never_abstaining": round(float(np.mean([f for f, _ in answerable])), 3),
        "false_abstention": round(float(np.mean([not s for _, s in answerable])), 3),
        "abstains_answer_removed": round(float(np.mean([not s for s in removed])), 3) if removed else None,
        "auc_answerable": separation(ps, [not r["answer_removed"] for r in rows]),
        "auc_right": separation(ps, right),
        "auc_wrong_vs_removed": separation([p for p, _ in wrong], [a for _, a in wrong]),
    }


def report(rows: list[dict[str, Any]], max_false: float, shipped_threshold: float) -> tuple[str, dict[str, Any]]:
    """Return the Markdown table and figures: each set under each recipe, out of fold."""
    recipes: dict[str, Callable[[dict[str, Any]], bool]] = {
        f"{BASE} only (the recipe of --reader's gate)": lambda r: r["set"] == BASE,
        f"{BASE} and the other sets": lambda r: True,
        "the other sets only": lambda r: r["set"] != BASE,
    }
    sets = list(dict.fromkeys(r["set"] for r in rows))
    lines = [f"| gate fitted on | set | questions | F1 (abstaining counts 0) | never abstaining | false abstention "
             f"(rule: ≤ {max_false} on the training folds) | abstains, answer removed | AUC: with / without the answer "
             "| AUC: right answers / the rest | AUC: wrong answers / answer removed |", "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    out: dict[str, Any] = {}

    def line(recipe: str, name: str, got: dict[str, Any]) -> None:
        def shown(v: float | None) -> str:
            return "—" if v is None else f"{v:.2f}"

        lines.append(f"| {recipe} | {name} | {got['questions']} | {got['f1']:.3f} | {got['f1_never_abstaining']:.3f} | "
                     f"{got['false_abstention']:.2f} | {shown(got['abstains_answer_removed'])} | {shown(got['auc_answerable'])} | "
                     f"{shown(got['auc_right'])} | {shown(got['auc_wrong_vs_removed'])} |")

    for recipe, learns in recipes.items():
        ps = out_of_fold(rows, learns)
        says = judged(rows, ps, learns, max_false)
        out[recipe] = {}
        for name in [*sets, "other sets, pooled"]:
            keep = [i for i, r in enumerate(rows) if r["set"] == name or (name.startswith("other") and r["set"] != BASE)]
            if not keep:
                continue
            got = out[recipe][name] = figures([rows[i] for i in keep], [says[i] for i in keep], [ps[i] for i in keep])
            line(recipe, name, got)
    shipped = [r for r in rows if r.get("shipped_p") is not None]
    if shipped:
        out["shipped gate"] = {}
        for name in [*(s for s in sets if s != BASE), "other sets, pooled"]:
            of_set = [r for r in shipped if r["set"] == name or name.startswith("other")]
            got = out["shipped gate"][name] = figures(of_set, [r["shipped_p"] >= shipped_threshold for r in of_set],
                                                      [r["shipped_p"] for r in of_set])
            line(f"--reader's gate as shipped (threshold {shipped_threshold})", name, got)
    return "\n".join(lines), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", type=Path, required=True, help="fit_reader.py --predictions of the reader's own fit (rtqa-2022)")
    ap.add_argument("--asks", nargs="+", required=True, metavar="NAME=JSONL", help="gate_asks.py's file of each other set")
    ap.add_argument("--reader", type=Path, default=PARAMS / "reader-v6-llm.json")
    ap.add_argument("--out", type=Path, default=None,
                    help="write the reader file with the gate fitted on everything here; its name without .json "
                         "is its version (without it: the table only)")
    ap.add_argument("--report", type=Path, default=None, help="write the Markdown table here too")
    ap.add_argument("--max-false-abstention", type=float, default=fr.MAX_FALSE_ABSTENTION)
    args = ap.parse_args()

    rows = base_rows(args.base)
    files = {}
    for spec in args.asks:
        name, _, path = spec.partition("=")
        if not path:
            sys.exit(f"--asks takes NAME=FILE (e.g. rtqa-2024=asks-2024.jsonl), not {spec!r}")
        files[name] = Path(path)
        rows += ask_rows(name, Path(path))
    params = json.loads(args.reader.read_text(encoding="utf-8"))
    table, judged_figures = report(rows, args.max_false_abstention, params["answerable"]["threshold"]["probability"])
    print(table)
    if args.report:
        args.report.write_text(table + "\n", encoding="utf-8")

    if args.out is None:
        return
    everything = out_of_fold(rows, lambda r: True)
    gate_fitted = fitted_gate(rows)
    weights, intercept = dict(gate_fitted.weights), gate_fitted.intercept
    threshold = fr.choose_gate_threshold(everything, [not r["answer_removed"] for r in rows], args.max_false_abstention)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    gate = dict(params["answerable"])
    gate.update({
        "weights": dict(sorted(weights.items())), "intercept": intercept,
        "threshold": {**gate["threshold"], "probability": threshold, "max_false_abstention": args.max_false_abstention},
        "fitted_on": {
            "sets": {name: sum(1 for r in rows if r["set"] == name) for name in dict.fromkeys(r["set"] for r in rows)},
            "files_sha256": {p.name: fr.sha256(p) for p in [args.base, *files.values()]},
            "reader": params["version"], "commit": commit,
            "questions": f"{BASE}: fit_reader.py's out-of-fold readings; the others: asked through the product "
                         f"with {params['version']}'s reader (benchmarks/gate_asks.py), each also without its answer",
        },
        "out_of_fold": judged_figures,
    })
    params.update({"version": args.out.stem, "answerable": gate})
    args.out.write_text(json.dumps(params, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out} (gate threshold {threshold})")

if __name__ == "__main__":
    main()
