"""Ask a RealTime QA set's questions through the product and record what its answerability gate sees.

usage: python benchmarks/gate_asks.py QUESTIONS.jsonl --index DIR OUT.jsonl
                                      (--llm openai-like:URL [--llm-model NAME] | --votes JSONL)

Each question whose answer is in the corpus (or that has a gold article) is asked as of its quiz
date, then again without its gold articles and every article holding an answer string (as
`byline eval --answer-removed` asks it: `Question.answer_removed`), with the fitted reader weighing a language model's vote
and its gate never abstaining. One JSON line per ask: the answer, its token F1 and confidence, the
vote, the shipped gate's probability and the features it read (`FittedReader.gate_features`),
for `fit_gate.py`. The vote comes from the model `--llm` names (as the product asks it), or from
`--votes`: a file of {"id", "answer"} lines (`llm_answers.py`, or an earlier OUT: its "vote"
field), so a rerun needs no model. Asks already in OUT are kept: a stopped run goes on.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python benchmarks/gate_asks.py` from anywhere

REMOVED = "/answer-removed"  # the suffix of an ask without its answer's articles (as fit_reader.py names it)


def recorded_votes(path: Path) -> dict[str, str]:
    """Return ask id → the model's answer, from llm_answers.py's file or an earlier OUT."""
    out = {}
    for line in path.open(encoding="utf-8"):
        r = json.loads(line)
        out[r["id"]] = r["answer"] if "answer" in r else r["vote"]
    return out


class RecordedVoter:
    """Pipeline step in place of `Voter`: the recorded vote of the ask under way."""

    def __init__(self, votes: dict[str, str]) -> None:
        self.votes = votes
        self.ask = ""

    def run(self, question: str, candidates: list[Any], as_of: Any = None) -> Any:
        from byline.pipeline.vote import Vote

        if not candidates:
            return Vote("", failed="no sentences to read")
        if self.ask not in self.votes:
            sys.exit(f"no recorded vote for {self.ask}: give --llm, or --votes from a run over the same questions")
        return Vote(self.votes[self.ask])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("questions", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--index", type=Path, required=True, help="an index of the set's corpus (byline index)")
    source = ap.add_mutually_exclusive_group(required=True)
    source.add_argument("--llm", help="the vote's model, as the reader_llm setting names it (openai-like:URL)")
    source.add_argument("--votes", type=Path, help="recorded votes: {id, answer} or {id, vote} lines")
    ap.add_argument("--llm-model", default="qwen", help="with --llm: the model name the server knows")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)

    from byline import Assistant, Settings
    from byline.evaluation import load_questions
    from byline.evaluation.metrics import token_f1
    from byline.types import Filters

    # with --votes the pipeline is built with a vote (so it reads with the voted file) from a model it never calls
    settings = Settings(reader="fitted", reader_llm=args.llm or "openai-like:http://127.0.0.1:9/v1",
                        llm_model=args.llm_model, llm_timeout=120, gate_threshold=0.0)
    bot = Assistant.open(args.index, settings=settings, create=False)
    pipeline = bot.pipeline
    recorded = RecordedVoter(recorded_votes(args.votes)) if args.votes else None
    if recorded is not None:
        pipeline.voter = recorded  # type: ignore[assignment]
    seen: dict[str, Any] = {}
    reader = pipeline.reader
    features_of = reader.gate_features

    def observed(ranked: list[Any], vote: Any = None) -> dict[str, float]:
        seen["features"] = features = features_of(ranked, vote)
        gate = reader.params_for(vote).gate
        seen["gate_p"] = gate.of(features) if gate is not None else None
        return features

    reader.gate_features = observed  # type: ignore[method-assign]
    done = {json.loads(line)["id"] for line in args.out.open(encoding="utf-8")} if args.out.exists() else set()
    questions, _ = load_questions(args.questions)
    asked = [q for q in questions if q.doc_ids or q.answer_in_corpus]
    with args.out.open("a", encoding="utf-8") as out:
        for n, q in enumerate(asked):
            for ask, question in ((q.key, q), (q.key + REMOVED, q.answer_removed(bot.store.articles_containing(q.answers)))):
                if ask in done:
                    continue
                seen.clear()
                if recorded is not None:
                    recorded.ask = ask
                a = bot.ask(question.question, filters=Filters(exclude=frozenset(question.without)), as_of=q.date or None, write=False)
                got = "" if a.abstained else a.text
                out.write(json.dumps({
                    "id": ask, "week": q.key.split("_")[0], "date": q.date, "answer_removed": question is not q,
                    "gold": bool(q.doc_ids), "got": got, "f1": token_f1(got, list(q.answers)), "confidence": a.confidence,
                    "vote": a.vote, "gate_p": seen.get("gate_p"), "features": seen.get("features", {}),
                }) + "\n")
                out.flush()
            if n % 20 == 0:
                print(f"{n + 1} of {len(asked)} questions", flush=True)

if __name__ == "__main__":
    main()
