"""Evaluation: ask a question set, score the answers, compare runs, write reports.

    from byline.evaluation import evaluate
    run = evaluate("questions.jsonl", corpus=["samples/istanbul-talks.txt"])
    print(run.summary.f1)

`run.py` asks and scores, `metrics.py` defines each metric once, `report.py` writes the HTML or
Markdown report, `folds.py` deals quiz weeks into folds for the fitting scripts.
"""

from __future__ import annotations

from byline.evaluation.folds import week_folds
from byline.evaluation.run import (
    SELECTIONS,
    STAGES,
    Comparison,
    EvalRun,
    Flip,
    MetricChange,
    Question,
    QuestionResult,
    Summary,
    Threshold,
    answer_kind,
    by_wh,
    compare,
    evaluate,
    failed_stage,
    load_questions,
    load_run,
    parse_question,
    parse_threshold,
    score,
    summarize,
)
from byline.index.errors import QuestionFileError, RunFileError

__all__ = [
    "SELECTIONS",
    "STAGES",
    "Comparison",
    "EvalRun",
    "Flip",
    "MetricChange",
    "Question",
    "QuestionFileError",
    "QuestionResult",
    "RunFileError",
    "Summary",
    "Threshold",
    "compare",
    "evaluate",
    "failed_stage",
    "load_questions",
    "load_run",
    "answer_kind",
    "by_wh",
    "parse_question",
    "parse_threshold",
    "week_folds",
    "score",
    "summarize",
]
