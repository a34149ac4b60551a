"""Does fitting the reader and gate on more than rtqa-2022 help on quiz weeks nobody fitted on?

usage: python benchmarks/more_years.py --span-model SPAN.json [--rtqa /work/rtqa] [--heldout /work/rtqa-heldout]
         --index-2022 DIR --heldout-indexes DIR [--fusion-folds DIR] [--cache FILE]

The held-out weeks (`heldout_weeks.py`, questions whose answer is in the corpus, each also asked
without every article holding its answer) are split 2-fold by week; the span model must be one
trained without them (`fit_span.py --hold-out K/N`). The recipe of `fit_reader.py` (reader,
answerability gate, threshold for false abstention ≤ 0.15 on the training questions) is fitted
on rtqa-2022 alone, on 2022 plus the other half of the held-out weeks, and on that half alone,
and each is judged on weeks it never saw. Prints one line per training set.
"""

from __future__ import annotations

import argparse
import json
import logging
import pickle
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # fit_reader beside this file
import fit_reader as fr  # noqa: E402

YEARS = (2023, 2024, 2025)


def featurised(args: argparse.Namespace) -> tuple[list[Any], list[Any]]:
    """Return the 2022 and the held-out examples, read by the product's retrieval and featurised."""
    from byline import Assistant
    from byline.pipeline.span_model import SpanModel, SpanParams

    span = SpanModel(SpanParams.load(args.span_model))
    ex22 = fr.questions(args.rtqa, [2022], True)
    texts = fr.articles(args.rtqa, [2022], {a for ex in ex22 for a in ex.gold})
    ex22 += [replace(ex, id=ex.id + "/answer-removed", answer_removed=True) for ex in ex22]
    fr.retrieve_sentences(ex22, args.index_2022, args.fusion_folds)
    rule = fr.make_rule_reader(texts, Assistant.open(args.index_2022, create=False).store)
    fr.featurise(ex22, args.wordnet, span, rule, rule.store)
    held: list[Any] = []
    for year in YEARS:
        path = args.heldout / f"rtqa-{year}" / "questions.jsonl"
        in_corpus = {r["id"] for r in map(json.loads, path.open(encoding="utf-8")) if r["answer_in_corpus"]}
        exs = [ex for ex in fr.questions(args.heldout, [year], True) if ex.id in in_corpus]
        exs += [replace(ex, id=ex.id + "/answer-removed", answer_removed=True) for ex in exs]
        index = args.heldout_indexes / f"rtqa-{year}"
        fr.retrieve_sentences(exs, index, None)  # the shipped fusion: fitted on 2022
        rule = fr.make_rule_reader({}, Assistant.open(index, create=False).store)
        fr.featurise(exs, args.wordnet, span, rule, rule.store)
        held += exs
    return ex22, held


def fit_all(train: list[Any], max_false: float) -> tuple[Any, ...]:
    """Fit the reader's weights and intercept and the gate with its threshold on `train`, as fit_reader.py does."""
    from byline.pipeline.fitted import Gate

    _, feats = fr.out_of_fold(train)
    gate = Gate(*fr.gate_with_threshold(train, feats, fr.gate_out_of_fold(train, feats), list(range(len(train))), max_false))
    return *fr.as_weights(*fr.fit([ex for ex in train if ex.spans])), gate


def judge(test: list[Any], fitted: tuple[Any, ...]) -> list[tuple[Any, float, bool]]:
    """Return per question its top answer's F1 and whether the gate lets it answer."""
    from byline.evaluation.metrics import token_f1

    w, b, gate = fitted
    out = []
    for ex in test:
        text, _ = fr.top_answer(ex, w, b)
        says = bool(ex.spans) and gate.probability(fr.sentence_readings(ex, w, b)) >= gate.threshold
        out.append((ex, token_f1(text, list(ex.answers)), says))
    return out


def line(label: str, judged: list[tuple[Any, float, bool]]) -> str:
    asked = [(f, says) for ex, f, says in judged if not ex.answer_removed]
    removed = [says for ex, _, says in judged if ex.answer_removed]
    return (f"| {label} | {len(asked)} | {np.mean([f for f, _ in asked]):.3f} | {np.mean([f if s else 0.0 for f, s in asked]):.3f} | "
            f"{np.mean([not s for _, s in asked]):.2f} | {np.mean([not s for s in removed]):.2f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--span-model", type=Path, required=True, help="a span model trained without the held-out weeks")
    ap.add_argument("--rtqa", type=Path, default=Path("/work/rtqa"))
    ap.add_argument("--heldout", type=Path, default=Path("/work/rtqa-heldout"), help="heldout_weeks.py's output")
    ap.add_argument("--index-2022", type=Path, required=True)
    ap.add_argument("--heldout-indexes", type=Path, required=True, help="holds rtqa-2023, rtqa-2024, rtqa-2025 indexes")
    ap.add_argument("--fusion-folds", type=Path, default=None, help="fit_retrieval.py --fold-dir, for 2022's retrieval")
    ap.add_argument("--wordnet", type=Path, default=Path("/usr/share/wordnet"))
    ap.add_argument("--max-false-abstention", type=float, default=fr.MAX_FALSE_ABSTENTION)
    ap.add_argument("--cache", type=Path, default=None, help="keep the featurised questions here (holds article text)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    if args.cache and args.cache.exists():
        ex22, held = pickle.loads(args.cache.read_bytes())
    else:
        ex22, held = featurised(args)
        if args.cache:
            args.cache.write_bytes(pickle.dumps((ex22, held)))
    from byline.evaluation import week_folds

    half = week_folds((ex.week for ex in held), 2)
    a = [ex for ex in held if half[ex.week] == 0]
    b = [ex for ex in held if half[ex.week] == 1]
    m = args.max_false_abstention
    print("| fitted on | held-out questions | F1, never abstaining | F1, gated | false abstention | abstains, answer removed |")
    print("|---|---:|---:|---:|---:|---:|")
    print(line("rtqa-2022 only", judge(held, fit_all(ex22, m))), flush=True)
    print(line("rtqa-2022 + the other half of the held-out weeks", judge(b, fit_all(ex22 + a, m)) + judge(a, fit_all(ex22 + b, m))), flush=True)
    print(line("the other half of the held-out weeks only", judge(b, fit_all(a, m)) + judge(a, fit_all(b, m))), flush=True)


if __name__ == "__main__":
    main()
