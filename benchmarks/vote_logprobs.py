"""Would the voting model's own token probabilities help the answerability gate? (lab; not shipped)

usage: python benchmarks/llm_answers.py CACHE MODEL.gguf VOTES.jsonl --every 4 --logprobs   # 20 min
       python benchmarks/vote_logprobs.py PREDICTIONS.jsonl VOTES.jsonl

CACHE is `fit_reader.py --cache`, PREDICTIONS its `--predictions` from the voted fit (each
question's out-of-fold gate probability `gate_p` and fold). VOTES holds the model's votes on
every fourth question, asked with and without its answer, with each answer token's
log-probability and the 20 likeliest first tokens. Three features come from them: the probability that the reply starts with "unknown",
the first token's log-probability and the answer's mean one. A logistic regression over the
gate's log-odds and those features is judged out of fold (the gate's own folds) against the same
regression over the log-odds alone: AUC, and abstention with the answer removed at false
abstention 0.15. docs/evaluation.md reports the run on every fourth rtqa-2022 question.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

END = "<|im_end|>"


def features(tokens: list[dict[str, Any]]) -> list[float]:
    """Return P(reply starts with "unknown"), the first token's and the mean answer log-probability."""
    if not tokens:
        return [0.0, 0.0, 0.0]
    unknown = sum(math.exp(lp) for t, lp in tokens[0]["top"].items()
                  if len(t.strip()) >= 2 and "unknown".startswith(t.strip().lower()))
    said = [t["lp"] for t in tokens if t["t"].strip() and t["t"] != END]
    return [unknown, tokens[0]["lp"], sum(said) / len(said) if said else 0.0]


def compare(out: Path, predictions: Path) -> None:
    """Print the gate alone against the gate with the log-probability features, out of fold."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    pred = {r["id"]: r for r in map(json.loads, predictions.open(encoding="utf-8"))}
    rows = [r for r in map(json.loads, out.open(encoding="utf-8")) if "gate_p" in pred.get(r["id"], {})]
    if not rows:
        sys.exit(f"no question in {out} has a gate probability in {predictions}: fit_reader.py --predictions with --llm-answers")
    p = np.clip([pred[r["id"]]["gate_p"] for r in rows], 1e-4, 1 - 1e-4)
    x = np.array([[math.log(g / (1 - g)), *features(r["tokens"])] for g, r in zip(p, rows, strict=True)])
    y = np.array([0 if pred[r["id"]]["answer_removed"] else 1 for r in rows])
    fold = np.array([pred[r["id"]]["fold"] for r in rows])

    def out_of_fold(cols: list[int]) -> Any:
        s = np.zeros(len(y))
        for f in sorted(set(fold)):
            model = LogisticRegression(max_iter=5000).fit(x[fold != f][:, cols], y[fold != f])
            s[fold == f] = model.predict_proba(x[fold == f][:, cols])[:, 1]
        return s

    def abstains_removed(s: Any) -> float:
        kept = np.sort(s[y == 1])
        return float((s[y == 0] < kept[int(0.15 * len(kept))]).mean())

    print(f"{len(y)} questions ({int(y.sum())} with their answer); AUC of each alone: gate {roc_auc_score(y, p):.3f}, "
          + ", ".join(f"{n} {roc_auc_score(y, -x[:, j] if j == 1 else x[:, j]):.3f}"
                      for j, n in enumerate(["P(unknown)", "first log-prob", "mean log-prob"], 1)))
    for name, cols in (("gate alone", [0]), ("gate + log-probabilities", [0, 1, 2, 3]), ("log-probabilities alone", [1, 2, 3])):
        s = out_of_fold(cols)
        print(f"{name:26s} out of fold: AUC {roc_auc_score(y, s):.3f}, abstains with the answer removed "
              f"{abstains_removed(s):.2f} at false abstention 0.15")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("predictions", type=Path)
    ap.add_argument("votes", type=Path, help="llm_answers.py --logprobs output")
    args = ap.parse_args()
    compare(args.votes, args.predictions)


if __name__ == "__main__":
    main()
