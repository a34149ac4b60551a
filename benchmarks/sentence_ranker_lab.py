"""Would a fitted sentence ranker put an answer-bearing sentence among the 8 read more often? (lab; not shipped)

usage: python benchmarks/sentence_ranker_lab.py --index RTQA2022_INDEX [--rtqa /work/rtqa]
         [--fusion-folds build/fit/fusion-folds] [--pools build/fit/sentence-pools.pkl]

Each rtqa-2022 question `fit_reader.py --in-corpus` reads is retrieved as the product retrieves
it (each fold's fusion, as of its quiz date), and every sentence of its 12 passages is kept with
what the ranker knows of it; a sentence is labelled when it holds an answer string. A logistic
regression over 12 features (dense and shared-word scores and their ranks, passage and article
rank, the fusion's probability, position, length, the hand-set ranker's rank) is fitted out of
fold (5 folds of whole quiz weeks) and compared with `SentenceRanker`'s hand-set weights: how
often an answer-bearing sentence is among the first 8, 12 and 16. The pools are kept in
`--pools` (a pickle holding no article text). docs/evaluation.md reports the run.
"""

from __future__ import annotations

import argparse
import math
import pickle
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # fit_reader beside this file
import fit_reader as fr  # noqa: E402

Pool = tuple[str, int, list[dict[str, float]]]  # question id, fold, one row per sentence


def pools(rtqa: Path, index: Path, fusion_folds: Path) -> list[Pool]:
    """Return every question's whole sentence pool, ranked by the hand-set ranker, with labels."""
    examples = fr.questions(rtqa, [2022], True)
    fr.retrieve_sentences(examples, index, fusion_folds, keep=10_000)  # every sentence of the 12 passages
    fold_of = fr.folds(examples)
    out: list[Pool] = []
    for ex in examples:
        pool = ex.candidates
        articles = list(dict.fromkeys(c.sentence.article_id for c in sorted(pool, key=lambda c: c.hit_rank)))
        out.append((ex.id, fold_of[ex.week], [{
            "rule_rank": i, "dense": c.dense, "lexical": c.lexical, "hit_rank": c.hit_rank, "hit_score": c.hit.score,
            "article_rank": articles.index(c.sentence.article_id) + 1, "position": c.sentence.position,
            "chars": len(c.sentence.text),
            "label": float(fr.holds_answer(c.sentence.text, ex.answers)),
        } for i, c in enumerate(pool)]))
    return out


def matrix(rows: list[dict[str, float]]) -> Any:
    """Return the 12 features of each sentence of one pool."""
    dense_rank = np.argsort(np.argsort([-r["dense"] for r in rows]))
    lexical_rank = np.argsort(np.argsort([-r["lexical"] for r in rows]))
    return np.array([[
        r["dense"], r["lexical"], 1 / r["hit_rank"], math.log(r["hit_rank"]), r["hit_score"], 1 / r["article_rank"],
        math.log1p(r["position"]), float(r["position"] == 0), math.log(r["chars"]), 1 / (1 + dense_rank[i]),
        1 / (1 + lexical_rank[i]), 1 / (1 + r["rule_rank"]),
    ] for i, r in enumerate(rows)])


def main() -> None:
    from sklearn.linear_model import LogisticRegression

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rtqa", type=Path, default=Path("/work/rtqa"))
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--fusion-folds", type=Path, default=Path("build/fit/fusion-folds"))
    ap.add_argument("--pools", type=Path, default=Path("build/fit/sentence-pools.pkl"))
    args = ap.parse_args()
    if args.pools.exists():
        every: list[Pool] = pickle.loads(args.pools.read_bytes())
    else:
        every = pools(args.rtqa, args.index, args.fusion_folds)
        args.pools.parent.mkdir(parents=True, exist_ok=True)
        args.pools.write_bytes(pickle.dumps(every))
    scores: dict[str, Any] = {}
    for f in sorted({f for _, f, _ in every}):
        train = [(matrix(rows), [r["label"] for r in rows]) for _, g, rows in every if g != f and rows]
        model = LogisticRegression(max_iter=5000).fit(np.vstack([x for x, _ in train]), np.concatenate([y for _, y in train]))
        scores |= {qid: model.decision_function(matrix(rows)) for qid, g, rows in every if g == f and rows}
    n = len(every)
    print(f"{n} questions; an answer-bearing sentence anywhere in the 12 passages: {sum(any(r['label'] for r in rows) for _, _, rows in every) / n:.3f}")
    for k in (8, 12, 16):
        rule = sum(any(r["label"] for r in rows[:k]) for _, _, rows in every) / n
        fitted = sum(any(rows[j]["label"] for j in np.argsort(-scores[qid])[:k]) for qid, _, rows in every if rows) / n
        print(f"among the first {k:2d}: hand-set ranker {rule:.3f}, fitted out of fold {fitted:.3f}")


if __name__ == "__main__":
    main()
