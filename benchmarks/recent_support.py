"""Split `byline eval` results by whether the week's news in the corpus holds the answer.

usage: python benchmarks/recent_support.py QUESTIONS.jsonl --index DIR EVAL.json [EVAL.json ...] [--days 7]

RealTime QA's "answer in the corpus" asks only that an answer string occurs somewhere in the
set's articles. The articles came from a web search run when the quiz was new, and for many
later questions none of them reports the week's story: "Which artist was inducted into the Rock &
Roll Hall of Fame this week?" (Cher) finds "Cher" only in a 2016 article about 1969. Here a
question counts as **recent** when an article published from `--days` days before its quiz date
to the day after holds an answer string. Each EVAL.json (`byline eval --json`, run on
QUESTIONS over DIR, with or without `--answer-removed`) is then reported for the recent questions
and the rest: F1, false abstention, the model's vote F1 when there was one, and abstention on
the questions asked without their answer. A criterion for reading results, fitted on nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python benchmarks/recent_support.py` from anywhere

DAYS = 7  # a quiz asks about "this week"
REMOVED = " (answer removed)"  # how `byline eval --answer-removed` names a question asked without its answer


def recent(asked: str, published: Iterable[str], days: int = DAYS) -> bool:
    """Return True when any of the `published` dates (ISO, "" when unknown) falls from `days`
    days before the `asked` date to the day after it."""
    day = date.fromisoformat(asked[:10])
    return any(p and day - timedelta(days=days) <= date.fromisoformat(p[:10]) <= day + timedelta(days=1)
               for p in published)


def recent_questions(questions: list[dict[str, Any]], store: Any, days: int = DAYS) -> set[str]:
    """Return the ids of the questions whose answer an article of their quiz's week holds."""
    published: dict[str, str] = {}
    out = set()
    for q in questions:
        if not q.get("date"):
            continue
        bearing = store.articles_containing(q["answers"])
        for aid in bearing - published.keys():
            info = store.article_info(aid)
            published[aid] = info.published if info is not None else ""
        if recent(q["date"], (published[a] for a in bearing), days):
            out.add(q["id"])
    return out


def summary(rows: list[dict[str, Any]]) -> str:
    """Return one group's figures: F1 and false abstention when answerable, abstention when removed."""
    asked = [r for r in rows if not r["question"].get("without")]
    removed = [r for r in rows if r["question"].get("without")]
    parts = [f"{len(asked):3d} answerable"]
    if asked:
        parts.append(f"F1 {sum(r['f1'] for r in asked) / len(asked):.3f}")
        parts.append(f"false abstention {sum(r['abstained'] for r in asked) / len(asked):.2f}")
        votes = [r["vote_f1"] for r in asked if r.get("vote_f1") is not None]
        if votes:
            parts.append(f"vote F1 {sum(votes) / len(votes):.3f}")
    if removed:
        parts.append(f"abstains with the answer removed {sum(r['abstained'] for r in removed) / len(removed):.2f} ({len(removed)})")
    return ", ".join(parts)


def main() -> None:
    from byline import Assistant

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("questions", type=Path)
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("evals", type=Path, nargs="+", metavar="EVAL.json")
    ap.add_argument("--days", type=int, default=DAYS)
    args = ap.parse_args()
    questions = [json.loads(line) for line in args.questions.open(encoding="utf-8") if line.strip()]
    store = Assistant.open(args.index, create=False).store
    answerable = [q for q in questions if q.get("answer_in_corpus") or q.get("doc_ids")]
    chosen = recent_questions(answerable, store, args.days)
    print(f"{args.questions}: {len(chosen)} of the {len(answerable)} questions with a gold article or an answer in"
          f" the corpus have an article of the {args.days} days before their quiz holding the answer")
    for path in args.evals:
        results = json.loads(path.read_text(encoding="utf-8"))["results"]
        print(f"\n{path}")
        for name, keep in (("recent", True), ("the rest", False)):
            rows = [r for r in results if (r["question"]["id"].removesuffix(REMOVED) in chosen) == keep]
            print(f"  {name:9s} {summary(rows)}")


if __name__ == "__main__":
    main()
