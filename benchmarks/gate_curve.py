"""How well does the fitted reader's answerability gate tell answerable questions from unanswerable ones?

usage: python benchmarks/gate_curve.py QUESTIONS.jsonl --index DIR [--only in-corpus] [--set FIELD=VALUE ...]

Each selected answerable question is asked as `byline eval --answer-removed` asks it (as of its
date, then without every article holding an answer) through the product's own steps with the
given settings (e.g. `--set reader=fitted --set reader_llm=openai-like:URL`), and the gate's
probability is read for both. Printed: the AUC of that probability, and for false abstention
0.05 … 0.40 the threshold that gives it on these questions and the share of answer-removed
questions it would then abstain on; then what the parameter file's own threshold does here.
The thresholds are read off the same questions: this says how far apart the gate puts the two
kinds of question (its separation), not what a threshold chosen elsewhere would do.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python benchmarks/gate_curve.py` from anywhere


def main() -> None:
    from sklearn.metrics import roc_auc_score

    from byline import Assistant
    from byline.assistant import as_date
    from byline.cli.common import settings_with
    from byline.evaluation.run import load_questions, select
    from byline.pipeline.fitted import FittedReader
    from byline.pipeline.question import analyse
    from byline.types import Filters

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("questions", type=Path)
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--only", default="in-corpus")
    ap.add_argument("--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE")
    args = ap.parse_args()
    bot = Assistant.open(args.index, settings=settings_with(args.overrides), create=False)
    pipe = bot.pipeline
    if not isinstance(pipe.reader, FittedReader):
        sys.exit("the gate is the fitted reader's: --set reader=fitted")
    reader = pipe.reader
    questions = [q for q in select(load_questions(args.questions)[0], args.only) if q.answerable and not q.without]
    probabilities: list[float] = []
    answerable: list[bool] = []
    gates = set()
    for q in questions:
        as_of, text = as_date(q.date or None), " ".join(q.question.split())  # as Assistant.ask has them
        for removed in (False, True):
            exclude = frozenset({*bot.store.articles_containing(q.answers), *q.doc_ids}) if removed else frozenset()
            retrieval = pipe.retriever.run(text, Filters(exclude=exclude), as_of)
            sentences = pipe.ranker.run(analyse(text), retrieval)
            vote = pipe.voter.run(text, sentences, as_of) if pipe.voter is not None and sentences else None
            ranked = reader.run(analyse(text), sentences, vote)
            probabilities.append(reader.answerable(ranked, vote))
            answerable.append(not removed)
            gate = reader.params_for(vote).gate
            if gate is not None:
                gates.add(gate.threshold)
    kept = sorted(p for p, a in zip(probabilities, answerable, strict=True) if a)
    gone = [p for p, a in zip(probabilities, answerable, strict=True) if not a]
    print(f"{len(kept)} answerable questions, each also asked with its answer removed; "
          f"AUC of the gate's probability {roc_auc_score(answerable, probabilities):.3f}")
    for false in (0.05, 0.10, 0.15, 0.20, 0.30, 0.40):
        t = kept[int(false * len(kept))]
        print(f"false abstention {false:.2f} (threshold {t:.3f}): abstains on {sum(p < t for p in gone) / len(gone):.2f} with the answer removed")
    for t in sorted(gates):
        print(f"the parameter file's threshold {t:.3f}: false abstention {sum(p < t for p in kept) / len(kept):.2f}, "
              f"abstains on {sum(p < t for p in gone) / len(gone):.2f} with the answer removed")


if __name__ == "__main__":
    main()
