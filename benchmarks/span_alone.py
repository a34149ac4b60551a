"""Print the span models' own answers' F1 on rtqa-2022: each one's best span among the sentences the
product retrieved for each question (no regression, no gate), by gold-article and in-corpus questions.

usage: python benchmarks/span_alone.py CACHE SPAN.json [SPAN.json ...] [--rtqa /work/rtqa]

CACHE is the retrieved sentences `fit_reader.py --index … --in-corpus --cache CACHE` kept; the
questions asked without their answer are left out (every span there is wrong).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cache", type=Path)
    ap.add_argument("models", type=Path, nargs="+")
    ap.add_argument("--rtqa", type=Path, default=Path("/work/rtqa"))
    args = ap.parse_args()
    from byline.evaluation.metrics import token_f1
    from byline.pipeline.span_model import SpanModel, SpanParams

    ranked = pickle.loads(args.cache.read_bytes())
    questions = {q["id"]: q for q in map(json.loads, (args.rtqa / "rtqa-2022" / "questions.jsonl").open(encoding="utf-8"))}
    print("| span model | gold-article F1 (n) | in-corpus F1 (n) |\n|---|---:|---:|")
    for path in args.models:
        model = SpanModel(SpanParams.load(path))
        scores: dict[str, list[float]] = {"gold": [], "in-corpus": []}
        for qid, (sentences, *_) in ranked.items():
            if qid.endswith("/answer-removed"):
                continue
            q = questions[qid]
            texts = [s.text for s in sentences]
            f1 = 0.0
            if texts:
                _, a, b, text = max(((*r.best(), t) for r, t in zip(model.read(q["question"], texts), texts, strict=True)),
                                    key=lambda x: x[0])
                f1 = token_f1(text[a:b], q["answers"])
            scores["gold" if q.get("doc_ids") else "in-corpus"].append(f1)
        cells = [f"{sum(v) / len(v):.3f} ({len(v)})" if v else "—" for v in scores.values()]
        print(f"| {model.params.version} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
