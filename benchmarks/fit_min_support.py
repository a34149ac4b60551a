"""Fit `min_support` (Settings): the support a written statement needs to be kept.

    python benchmarks/fit_min_support.py [tests/data/statements.jsonl]

Each line of the labelled set is a statement a model might write, the sentence it cites, the
question, and whether a careful reader would say the sentence supports it. Every statement is
checked as Byline checks it (the Verifier with the default model's word vectors); the names,
numbers and roles checks do not depend on the threshold, the support score does. The rule: the
threshold that classifies the most statements correctly; among equally good ones the highest
(keeping an unsupported claim costs more trust than dropping a supported one costs fluency),
placed halfway between the support scores on either side of it so that it has a margin.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from byline.index.embed import Embedder
from byline.pipeline.nlp import pipeline
from byline.pipeline.verify import Verifier
from byline.pipeline.words import WordVectors
from byline.settings import DEFAULT_MODEL

LABELLED = Path(__file__).resolve().parent.parent / "tests" / "data" / "statements.jsonl"


def scored(path: Path) -> list[tuple[float, bool, bool]]:
    """Return (support, passes the other checks, labelled supported) for each labelled statement."""
    verifier = Verifier(pipeline, min_support=0.0, similar=WordVectors(Embedder(DEFAULT_MODEL)).similar)
    rows = []
    for line in path.read_text().splitlines():
        item = json.loads(line)
        (statement,) = verifier.run(item["statement"], [item["sentence"]], item["question"]).statements
        rows.append((statement.support, statement.verified, bool(item["supported"])))
    return rows


def fit(rows: list[tuple[float, bool, bool]]) -> tuple[float, int]:
    """Return the threshold chosen by the rule above, and how many statements it gets right."""
    supports = sorted({s for s, _, _ in rows} | {0.0, 1.0})
    cuts = [(a + b) / 2 for a, b in zip(supports, supports[1:], strict=False)] + [1.0]
    best = max(cuts, key=lambda t: (sum((ok and s >= t) == label for s, ok, label in rows), t))
    return round(best, 2), sum((ok and s >= best) == label for s, ok, label in rows)


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else LABELLED
    rows = scored(path)
    for support, ok, label in sorted(rows):
        print(f"{support:.3f}  {'supported  ' if label else 'unsupported'}  {'' if ok else '(fails another check)'}")
    threshold, right = fit(rows)
    print(f"min_support = {threshold}: {right} of {len(rows)} statements classified as labelled")


if __name__ == "__main__":
    main()
