"""Would the model read better if the fitted reader chose its 8 sentences? (lab; not shipped)

usage: python benchmarks/selection_lab.py --cache DEEP_CACHE --index RTQA2022_INDEX [--rtqa /work/rtqa]
         [--dev YEAR:RTQA_DIR:CACHE:INDEX ...] [--write DIR] [--wordnet /usr/share/wordnet]

DEEP_CACHE is `fit_reader.py --index … --in-corpus --keep 16 --cache DEEP_CACHE` (each rtqa-2022
question's 16 ranked sentences, with and without its answer). A reader without vote or span
model (`fit_reader.py --no-span-model`'s recipe) is fitted out of fold (5 folds by week) and reads
all 16; each sentence scores its best span. Printed: how often an answer-bearing sentence is among
the ranker's first 8, among the 8 the reader scores highest, and among all 16. Each `--dev` set
(a development eighth from `heldout_weeks.py --fold 0/8`, its own index, and a 16-deep cache of
its in-corpus questions) is read with the reader fitted on all of rtqa-2022. With `--write DIR`,
each set's cache cut to the reader's 8 (in the ranker's order) is written there, for
`llm_answers.py` (which then asks the model over those 8).
"""

from __future__ import annotations

import argparse
import math
import pickle
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # fit_reader beside this file
import fit_reader as fr  # noqa: E402

DEPTH = 16
READ = 8


def load(rtqa: Path, year: int, cache: Path, index: Path, removed: bool, wordnet: Path) -> list[fr.Example]:
    """Return the year's in-corpus questions with their cached sentences, featurised as fit_reader does."""
    from byline import Assistant
    from byline.pipeline.answer_type import IMPLIED

    examples = fr.questions(rtqa, [year], True)
    if removed:
        examples += [replace(ex, id=ex.id + "/answer-removed", answer_removed=True) for ex in examples]
    ranked = pickle.loads(cache.read_bytes())
    examples = [ex for ex in examples if ex.id in ranked]
    for ex in examples:
        ex.sentences, ex.dense, ex.lexical, ex.evidence, ex.candidates = (list(x[:DEPTH]) for x in ranked[ex.id])
    store = Assistant.open(index, create=False).store
    fr.featurise(examples, wordnet, None, fr.make_rule_reader({}, store), store, IMPLIED, {})
    return examples


def sentence_scores(ex: fr.Example, weights: dict[str, float], intercept: float) -> list[float]:
    from byline.pipeline.fitted import log_odds

    return [max((log_odds(weights, intercept, s.features) for s in spans), default=-math.inf) for spans in ex.spans]


def chosen(scores: list[float]) -> list[int]:
    """Return the reader's best `READ` sentences, in the ranker's order."""
    return sorted(int(i) for i in np.argsort(-np.array(scores))[:READ])


def report(name: str, examples: list[fr.Example], scores: dict[str, list[float]]) -> None:
    asked = [ex for ex in examples if not ex.answer_removed and ex.spans]

    def bearing(ex: fr.Example, picked: list[int]) -> bool:
        return any(fr.holds_answer(ex.sentences[i].text, ex.answers) for i in picked)

    n = len(asked)
    ranker = sum(bearing(ex, list(range(min(READ, len(ex.spans))))) for ex in asked) / n
    reader = sum(bearing(ex, chosen(scores[ex.id])) for ex in asked) / n
    every = sum(bearing(ex, list(range(len(ex.spans)))) for ex in asked) / n
    print(f"{name}: {n} questions; an answer-bearing sentence among the ranker's first {READ} {ranker:.3f},"
          f" the reader's best {READ} {reader:.3f}, all {DEPTH} {every:.3f}")


def write(examples: list[fr.Example], scores: dict[str, list[float]], cache: Path, out: Path) -> None:
    ranked = pickle.loads(cache.read_bytes())
    cut: dict[str, Any] = {}
    for ex in examples:
        picked = chosen(scores[ex.id]) if ex.spans else list(range(READ))
        cut[ex.id] = tuple([x[i] for i in picked if i < len(x)] for x in ranked[ex.id])
    out.write_bytes(pickle.dumps(cut))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rtqa", type=Path, default=Path("/work/rtqa"))
    ap.add_argument("--cache", type=Path, required=True)
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--dev", action="append", default=[], metavar="YEAR:RTQA_DIR:CACHE:INDEX")
    ap.add_argument("--write", type=Path, default=None, metavar="DIR")
    ap.add_argument("--wordnet", type=Path, default=Path("/usr/share/wordnet"), help="as fit_reader.py --wordnet")
    args = ap.parse_args()
    examples = load(args.rtqa, 2022, args.cache, args.index, removed=True, wordnet=args.wordnet)
    fold_of = fr.folds(examples)
    scores: dict[str, list[float]] = {}
    for f in range(fr.FOLDS):
        weights, intercept = fr.as_weights(*fr.fit([ex for ex in examples if fold_of[ex.week] != f and ex.spans]))
        scores |= {ex.id: sentence_scores(ex, weights, intercept) for ex in examples if fold_of[ex.week] == f}
    report("rtqa-2022, out of fold", examples, scores)
    if args.write:
        args.write.mkdir(parents=True, exist_ok=True)
        write(examples, scores, args.cache, args.write / "selected-2022.pkl")
    weights, intercept = fr.as_weights(*fr.fit([ex for ex in examples if ex.spans]))
    for spec in args.dev:
        year, rtqa, cache, index = spec.split(":")
        dev = load(Path(rtqa), int(year), Path(cache), Path(index), removed=False, wordnet=args.wordnet)
        dev_scores = {ex.id: sentence_scores(ex, weights, intercept) for ex in dev}
        report(f"rtqa-{year} {rtqa}", dev, dev_scores)
        if args.write:
            write(dev, dev_scores, Path(cache), args.write / f"selected-{year}.pkl")


if __name__ == "__main__":
    main()
