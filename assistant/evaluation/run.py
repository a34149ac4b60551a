"""Evaluation: ask every question of a test set, score the answers, compare with an earlier run.

    from byline.evaluation import evaluate
    run = evaluate("questions.jsonl", corpus=["samples/istanbul-talks.txt"])
    print(run.summary.em, run.summary.citation_recall)

The question format is described in `docs/evaluation.md`; the metrics are defined in
`assistant/evaluation/metrics.py`.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from byline.evaluation import metrics
from byline.index.errors import BylineError, QuestionFileError, RunFileError, UsageError
from byline.index.types import Progress

if TYPE_CHECKING:
    from byline.assistant import Assistant
    from byline.settings import Settings
    from byline.types import Answer

log = logging.getLogger(__name__)


RECALL_KS = (1, 5, 10)
STAGES = ("error", "retrieval", "citation", "extraction", "abstention", "ok")
"""Per-question outcomes, worst first: the first stage of the pipeline that went wrong."""

LOWER_IS_BETTER = frozenset(
    {"false_abstention_rate", "latency_p50", "latency_p95", "total_seconds", "statements_removed"}
)
WRITTEN_METRICS = frozenset({"fully_verified", "statements_removed", "written_f1", "extractive_f1"})
"""Measured only when a language model writes the answers (Settings.llm); None otherwise."""
MODEL_METRICS = WRITTEN_METRICS | {"vote_f1"}
"""Measured only with a language model, writing (Settings.llm) or voting (Settings.reader_llm)."""
_REQUIRED = {"question": str, "answers": list, "evidence": list}
_OPTIONAL = {"id": str, "type": str, "doc_ids": list, "date": str, "answer_in_corpus": bool}
# Fields of the RealTime QA sets (../shared/eval/rtqa/) that a run does not read.
_IGNORED = {"explanation", "choices", "quiz_source"}
SELECTIONS = {
    "all": "every question",
    "with-gold": "questions that name their gold articles (doc_ids)",
    "in-corpus": "questions whose answer string occurs in the corpus (answer_in_corpus)",
}
_WH_KINDS = (
    ("who", r"^(who|whom|whose)\b"),
    ("how many / much", r"^how (many|much|long|old|far|big|often)\b"),
    ("when", r"^(when\b|(what|which) (year|month|day|date)\b)"),
    ("where", r"^(where\b|(what|which) (country|city|state|town|region|nation|continent|island|province|county|place)\b)"),
    ("which / what", r"^(which|what)\b"),
)
_FIRST_WH = re.compile(r"\b(who|whom|whose|how|when|where|which|what|why)\b")


# -- questions -------------------------------------------------------------------------------


def answer_kind(question: str) -> str:
    """Return the kind of answer a question's first question word asks for: who, when, where, …

    The question word need not open the question: "This week, which company …" asks "which".
    """
    text = question.lower().replace("\u2019", "'")
    first = _FIRST_WH.search(text)
    text = text[first.start():] if first else text
    return next((kind for kind, pattern in _WH_KINDS if re.search(pattern, text)), "other")


@dataclass(frozen=True, slots=True)
class Question:
    """One test question with its gold answers and the evidence strings that support them."""

    question: str
    answers: tuple[str, ...]
    evidence: tuple[str, ...]
    type: str = ""
    id: str = ""
    doc_ids: tuple[str, ...] = ()
    line: int = 0  # 1-based line in the question file
    date: str = ""  # the day the question was asked (ISO): "this week" is read against it
    answer_in_corpus: bool | None = None  # the answer string occurs in some article (RTQA sets)
    without: tuple[str, ...] = ()  # articles left out when it is asked (gold removed)

    @property
    def answerable(self) -> bool:
        return bool(self.answers)

    @property
    def key(self) -> str:
        """The name that identifies this question across runs: its id, else its text."""
        return self.id or self.question

    @property
    def kind(self) -> str:
        """The question's type, or answerable/unanswerable when the file gives none."""
        return self.type or ("answerable" if self.answerable else "unanswerable")

    @property
    def wh(self) -> str:
        """The kind of answer the question asks for: who, when, where, … (see `answer_kind`)."""
        return answer_kind(self.question)

    def answer_removed(self, articles: Iterable[str]) -> Question:
        """Return this question asked without every article holding one of its answers (and its
        gold articles): the answer is nowhere left, so the right reply is to abstain."""
        return replace(
            self, answers=(), evidence=(), type="answer removed", id=f"{self.key} (answer removed)",
            without=tuple(sorted({*articles, *self.doc_ids})),
        )

    def gold_removed(self) -> Question:
        """Return this question asked without its gold articles: the right reply is to abstain."""
        return replace(
            self, answers=(), evidence=(), type="gold removed", id=f"{self.key} (gold removed)",
            without=self.doc_ids,
        )


def load_questions(
    path: str | Path, *, skip_invalid: bool = False
) -> tuple[list[Question], list[str]]:
    """Return the questions in a JSONL file and the warnings about lines skipped.

    Raises QuestionFileError naming the first bad line, unless `skip_invalid`, in which case bad
    lines are skipped and described in the warnings instead.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise QuestionFileError(f"no question file at {path} — check the path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionFileError(f"cannot read the question file {path}: {exc}") from None
    questions: list[Question] = []
    warnings: list[str] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            question = parse_question(raw, number, seen)
        except ValueError as exc:
            message = f"{path} line {number}: {exc}"
            if not skip_invalid:
                raise QuestionFileError(
                    f"{message} — fix the line, or skip bad lines with --skip-invalid"
                ) from None
            log.warning("skipped %s", message)
            warnings.append(f"skipped {message}")
            continue
        seen[question.key] = number
        questions.append(question)
    if not questions:
        raise QuestionFileError(
            f"{path} holds no usable questions — see docs/evaluation.md for the format"
        )
    return questions, warnings


def parse_question(raw: str, line: int = 0, seen: dict[str, int] | None = None) -> Question:
    """Return the Question on one JSONL line; raise ValueError saying what is wrong with it."""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, got {type(data).__name__}")
    unknown = sorted(set(data) - set(_REQUIRED) - set(_OPTIONAL) - _IGNORED)
    if unknown:
        known = ", ".join([*_REQUIRED, *_OPTIONAL])
        raise ValueError(f"unknown field {', '.join(map(repr, unknown))} (known fields: {known})")
    missing = [name for name in _REQUIRED if name not in data]
    if missing:
        raise ValueError(f"missing field {', '.join(map(repr, missing))}")
    for name, kind in {**_REQUIRED, **_OPTIONAL}.items():
        if name in data and not isinstance(data[name], kind):
            raise ValueError(
                f"field {name!r} must be a {_json_kind(kind)}, not {_json_value(data[name])}"
            )
        if kind is list and name in data and not all(isinstance(v, str) for v in data[name]):
            raise ValueError(f"field {name!r} must be a list of strings")
    if not data["question"].strip():
        raise ValueError("field 'question' is empty")
    if not data["answers"] and data["evidence"]:
        raise ValueError("has evidence but no answers — an unanswerable question cites nothing")
    question = Question(
        question=data["question"].strip(),
        answers=tuple(data["answers"]),
        evidence=tuple(e for e in data["evidence"] if e.strip()),
        type=data.get("type", ""),
        id=data.get("id", ""),
        doc_ids=tuple(data.get("doc_ids", ())),
        line=line,
        date=_iso_day(data.get("date", "")),
        answer_in_corpus=data.get("answer_in_corpus"),
    )
    if seen is not None and question.key in seen:
        raise ValueError(f"repeats the question {question.key!r} of line {seen[question.key]}")
    return question


def _iso_day(text: str) -> str:
    """Return a question's date as YYYY-MM-DD (quiz files write 2022/06/17); raise ValueError if bad."""
    if not text:
        return ""
    day = text.strip().replace("/", "-")[:10]
    try:
        return datetime.strptime(day, "%Y-%m-%d").date().isoformat()
    except ValueError:
        raise ValueError(f"field 'date' must be a date like 2022-06-17, not {text!r}") from None


def _json_kind(kind: type) -> str:
    return "list of strings" if kind is list else "string"


def _json_value(value: object) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "true/false"}.get(
        type(value), "null" if value is None else "a number"
    )


# -- results ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QuestionResult:
    """What one question got, how it scored, and which stage failed (`stage == "ok"` if none)."""

    question: Question
    got: str  # the answer text ("" when abstained)
    abstained: bool
    cited: tuple[str, ...]  # the cited sentences, in order
    cited_articles: tuple[str, ...]
    exact_match: float
    f1: float
    citation_precision: float | None  # None: nothing cited
    citation_hit: bool | None  # None: no gold evidence
    evidence_at_1: bool | None
    evidence_rank: int | None  # rank of the first retrieved passage holding gold evidence
    article_rank: int | None  # rank of the first gold article (doc_ids) among the retrieved passages' articles
    retrieved: int  # passages retrieved before extraction
    seconds: float
    stage: str
    error: str = ""
    # with a language model (Settings.llm): did it write an answer, did all of it pass the checks,
    # how many statements it had and how many were removed, and the F1 the extractive answer
    # to the same question got (None: no model, or nothing written)
    confidence: float | None = None  # the answer's confidence when it answered (None: abstained)
    written: bool = False
    fully_verified: bool | None = None
    statements: int = 0
    removed: int = 0
    extractive_f1: float | None = None
    # with a voting model (Settings.reader_llm): what it said, and that alone scored as an answer
    # (None: no vote; "unknown" scores 0 on an answerable question)
    vote: str = ""
    vote_f1: float | None = None

    @property
    def passed(self) -> bool:
        return self.stage == "ok"


def score(
    question: Question, answer: Answer | None, seconds: float, error: str = "",
    extractive: Answer | None = None,
) -> QuestionResult:
    """Return the scored result of one question, given its Answer (None when asking failed).

    `extractive` is the answer without the language model, when one wrote `answer`.
    """
    cited = tuple(c.text for c in answer.citations) if answer else ()
    passages = [h.chunk.text for h in answer.retrieved] if answer else []
    abstained = answer.abstained if answer else False
    got = "" if answer is None or abstained else answer.text
    article_rank = None
    if question.doc_ids and answer:
        articles = dict.fromkeys(h.chunk.article_id for h in answer.retrieved)
        ranks = [i for i, a in enumerate(articles, 1) if a in question.doc_ids]
        article_rank = ranks[0] if ranks else None
    result = QuestionResult(
        question=question,
        got=got,
        abstained=abstained,
        cited=cited,
        cited_articles=tuple(c.article_id for c in answer.citations) if answer else (),
        exact_match=metrics.exact_match(got, question.answers),
        f1=metrics.token_f1(got, question.answers),
        citation_precision=metrics.citation_precision(cited, question.evidence),
        citation_hit=metrics.citation_hit(cited, question.evidence),
        evidence_at_1=metrics.evidence_at_1(cited, question.evidence),
        evidence_rank=metrics.evidence_rank(passages, question.evidence)
        if question.evidence
        else None,
        article_rank=article_rank,
        retrieved=len(passages),
        seconds=seconds,
        stage="",
        error=error,
        confidence=None if answer is None or abstained else float(answer.confidence),
        vote=answer.vote if answer else "",
        vote_f1=metrics.token_f1(answer.vote, question.answers) if answer and answer.vote else None,
    )
    if answer is not None and answer.written:
        removed = sum(not s.verified for s in answer.statements)
        result = replace(
            result, written=True, fully_verified=answer.fully_verified,
            statements=len(answer.statements), removed=removed if answer.verified else len(answer.statements),
            extractive_f1=metrics.token_f1("" if extractive is None or extractive.abstained else extractive.text, question.answers),
        )
    return replace(result, stage=failed_stage(result))


def failed_stage(result: QuestionResult) -> str:
    """Return the first pipeline stage that went wrong for a result, or "ok".

    retrieval: no retrieved passage held the evidence; citation: it was retrieved but the cited
    sentences miss it; extraction: the right sentence was cited but the short answer is wrong;
    abstention: abstained on an answerable question with its evidence retrieved, or answered an
    unanswerable one.
    """
    q = result.question
    if result.error:
        return "error"
    if not q.answerable:
        return "ok" if result.abstained else "abstention"
    retrieved = result.evidence_rank is not None if q.evidence else True
    if result.abstained:
        return "abstention" if retrieved else "retrieval"
    if result.citation_hit is False:
        return "citation" if retrieved else "retrieval"
    return "ok" if result.exact_match == 1.0 else "extraction"


@dataclass(frozen=True, slots=True)
class Summary:
    """The metrics of a run (or of one question type); None where there is nothing to measure."""

    questions: int
    answerable: int
    unanswerable: int
    pass_rate: float | None  # share of questions with stage "ok"
    em: float | None  # over answerable questions
    f1: float | None
    citation_precision: float | None  # over all cited sentences
    citation_recall: float | None  # over questions with evidence
    evidence_at_1: float | None
    recall_at_1: float | None
    recall_at_5: float | None
    recall_at_10: float | None
    recall_at_all: float | None  # evidence anywhere in the retrieved passages
    mrr: float | None
    article_recall: float | None  # a passage from a gold article (doc_ids) was retrieved
    doc_at_1: float | None  # the first retrieved article (in passage order) is a gold article
    doc_at_5: float | None  # one of the first five articles is
    abstention_precision: float | None
    abstention_recall: float | None
    false_abstention_rate: float | None
    latency_p50: float | None  # seconds
    latency_p95: float | None
    total_seconds: float
    # with a language model (None without): share of written answers whose every statement
    # passed the checks, share of written statements removed, and the F1 the extractive answers
    # got on the answerable questions it wrote for, beside the F1 of what was shown on them
    fully_verified: float | None = None
    statements_removed: float | None = None
    written_f1: float | None = None
    extractive_f1: float | None = None
    brier: float | None = None  # of the confidence of answers given to answerable questions (right: F1 ≥ 0.5)
    vote_f1: float | None = None  # the voting model's answers alone, on the answerable questions it voted on

    def metrics(self) -> dict[str, float | None]:
        """Return every metric by name (the names --fail-under and --baseline use)."""
        counts = {"questions", "answerable", "unanswerable"}
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in counts}


def summarize(results: Sequence[QuestionResult]) -> Summary:
    """Return the summary metrics of a list of question results."""
    answerable = [r for r in results if r.question.answerable]
    with_evidence = [r for r in answerable if r.question.evidence]
    ranks = [r.evidence_rank for r in with_evidence]
    cited = sum(len(r.cited) for r in results)
    supported = sum((r.citation_precision or 0.0) * len(r.cited) for r in results)
    abstention = metrics.abstention_scores((r.abstained, r.question.answerable) for r in results)
    seconds = [r.seconds for r in results]
    recall = {k: metrics.mean(metrics.recall_at_k(rank, k) for rank in ranks) for k in RECALL_KS}
    with_docs = [r for r in answerable if r.question.doc_ids]
    return Summary(
        questions=len(results),
        answerable=len(answerable),
        unanswerable=len(results) - len(answerable),
        pass_rate=metrics.mean(r.passed for r in results),
        em=metrics.mean(r.exact_match for r in answerable),
        f1=metrics.mean(r.f1 for r in answerable),
        citation_precision=supported / cited if cited else None,
        citation_recall=metrics.mean(r.citation_hit for r in with_evidence),
        evidence_at_1=metrics.mean(r.evidence_at_1 for r in with_evidence),
        recall_at_1=recall[1],
        recall_at_5=recall[5],
        recall_at_10=recall[10],
        recall_at_all=metrics.mean(rank is not None for rank in ranks),
        mrr=metrics.mean(metrics.reciprocal_rank(rank) for rank in ranks),
        article_recall=metrics.mean(r.article_rank is not None for r in with_docs),
        doc_at_1=metrics.mean(metrics.recall_at_k(r.article_rank, 1) for r in with_docs),
        doc_at_5=metrics.mean(metrics.recall_at_k(r.article_rank, 5) for r in with_docs),
        abstention_precision=abstention.precision,
        abstention_recall=abstention.recall,
        false_abstention_rate=abstention.false_rate,
        latency_p50=metrics.percentile(seconds, 50),
        latency_p95=metrics.percentile(seconds, 95),
        total_seconds=sum(seconds),
        brier=metrics.brier(confidence_pairs(results)),
        vote_f1=metrics.mean(r.vote_f1 for r in answerable),
        **_written(results),
    )


def confidence_pairs(results: Sequence[QuestionResult]) -> list[tuple[float, bool]]:
    """Return (confidence, right) for every answer given to an answerable question; right is F1 ≥ 0.5."""
    return [
        (r.confidence, r.f1 >= metrics.RIGHT_F1)
        for r in results
        if r.question.answerable and r.confidence is not None
    ]


def _written(results: Sequence[QuestionResult]) -> dict[str, float | None]:
    """Return the written-answer metrics of a run (all None when no model wrote an answer)."""
    written = [r for r in results if r.written]
    statements = sum(r.statements for r in written)
    answerable = [r for r in written if r.question.answerable]
    return {
        "fully_verified": metrics.mean(bool(r.fully_verified) for r in written),
        "statements_removed": sum(r.removed for r in written) / statements if statements else None,
        "written_f1": metrics.mean(r.f1 for r in answerable),
        "extractive_f1": metrics.mean(r.extractive_f1 for r in answerable),
    }


@dataclass(frozen=True, slots=True)
class EvalRun:
    """A finished evaluation: per-question results, their summary, and how the run was set up."""

    questions_file: str
    source: str  # what was searched: "corpus …" or "index …"
    started: str  # ISO timestamp
    settings: dict[str, Any]
    results: tuple[QuestionResult, ...]
    summary: Summary
    by_type: dict[str, Summary]
    articles: int = 0  # articles in the index searched
    by_wh: dict[str, Summary] = field(default_factory=dict)  # by the kind of answer asked for
    index_seconds: float = 0.0  # building the temporary index (--corpus)
    warmup_seconds: float = 0.0  # loading models before the first question
    warnings: tuple[str, ...] = ()
    cpus: int = 0
    load_average: float = 0.0  # 1-minute load when the run ended: busy machines answer slower

    @property
    def name(self) -> str:
        return Path(self.questions_file).stem

    def failures_first(self) -> list[QuestionResult]:
        """Return the results, failures first (worst stage first), then passes, in file order."""
        return sorted(self.results, key=lambda r: (STAGES.index(r.stage), r.question.line))

    def to_dict(self) -> dict[str, Any]:
        """Return everything about the run as JSON-ready data (what --json writes)."""
        data = asdict(self)
        data["metrics"] = self.summary.metrics()
        data["format"] = "byline-eval/1"
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvalRun:
        """Return the run saved by to_dict()."""
        results = tuple(_result_from_dict(r) for r in data["results"])
        return cls(
            questions_file=data["questions_file"],
            source=data["source"],
            started=data["started"],
            settings=data.get("settings", {}),
            results=results,
            summary=_summary_from_dict(data["summary"]),
            by_type={k: _summary_from_dict(v) for k, v in data.get("by_type", {}).items()},
            by_wh={k: _summary_from_dict(v) for k, v in data.get("by_wh", {}).items()},
            articles=data.get("articles", 0),
            index_seconds=data.get("index_seconds", 0.0),
            warmup_seconds=data.get("warmup_seconds", 0.0),
            warnings=tuple(data.get("warnings", ())),
            cpus=data.get("cpus", 0),
            load_average=data.get("load_average", 0.0),
        )


def _summary_from_dict(data: dict[str, Any]) -> Summary:
    # Tolerant, so a baseline saved by an older version (fewer or other metrics) still compares.
    counts = {"questions", "answerable", "unanswerable", "total_seconds"}
    values: dict[str, Any] = {
        f.name: data.get(f.name, 0 if f.name in counts else None) for f in fields(Summary)
    }
    return Summary(**values)


def _result_from_dict(data: dict[str, Any]) -> QuestionResult:
    q = data["question"]
    lists = ("answers", "evidence", "doc_ids", "without")
    kept: dict[str, Any] = {f.name: q[f.name] for f in fields(Question) if f.name in q}
    question = Question(**{**kept, **{k: tuple(q.get(k, ())) for k in lists}})
    values = {f.name: data[f.name] for f in fields(QuestionResult) if f.name in data}
    values.update(question=question, cited=tuple(data["cited"]))
    values["cited_articles"] = tuple(data.get("cited_articles", ()))
    return QuestionResult(**values)


def load_run(path: str | Path) -> EvalRun:
    """Return the run saved with `byline eval --json PATH`; raise RunFileError if it is not one."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return EvalRun.from_dict(data)
    except FileNotFoundError:
        raise RunFileError(
            f"no saved run at {path} — write one with byline eval … --json {path}"
        ) from None
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise RunFileError(
            f"{path} is not a run saved by byline eval --json ({type(exc).__name__}: {exc})"
        ) from None


# -- running ---------------------------------------------------------------------------------


def evaluate(
    questions: str | Path | Sequence[Question],
    *,
    bot: Assistant | None = None,
    index: str | Path | None = None,
    corpus: Sequence[str | Path] = (),
    settings: Settings | None = None,
    skip_invalid: bool = False,
    progress: Progress | None = None,
    only: str = "all",
    gold_removed: bool = False,
    answer_removed: bool = False,
) -> EvalRun:
    """Return the scored run of the questions, asked of `bot`, an index, or a fresh `corpus` index.

    Give exactly one of: `bot` (an open Assistant), `corpus` (files or folders indexed into a
    temporary index that is deleted afterwards), or `index` (an existing index folder; the
    default index when nothing is given). `only` picks questions (see SELECTIONS);
    `gold_removed` also asks every question that names its gold articles without them, where
    the right reply is to abstain; `answer_removed` asks every answerable question again
    without any article that holds one of its answers (a news collection often carries the
    answer in other articles on the same story than the gold ones).
    """
    if sum([bot is not None, bool(corpus), index is not None]) > 1:
        raise UsageError("evaluate one thing at a time: pass bot, corpus or index, not several")
    warnings: list[str] = []
    if isinstance(questions, str | Path):
        questions_file = str(questions)
        questions, warnings = load_questions(questions, skip_invalid=skip_invalid)
    else:
        questions_file = "(questions given in Python)"
    questions = select(questions, only)
    if gold_removed:
        questions = [*questions, *(q.gold_removed() for q in questions if q.doc_ids and q.answerable)]
    with _open(bot, index, corpus, settings, progress) as (assistant, source, seconds, failed):
        warnings += failed
        if answer_removed:
            questions = [
                *questions,
                *(q.answer_removed(assistant.store.articles_containing(q.answers)) for q in questions if q.answerable and not q.without),
            ]
        return _run(assistant, list(questions), questions_file, source, seconds, warnings, progress)


def select(questions: Sequence[Question], only: str) -> list[Question]:
    """Return the questions `only` names (a key of SELECTIONS); raise UsageError for another name."""
    if only not in SELECTIONS:
        raise UsageError(f"unknown selection {only!r}: use one of {', '.join(SELECTIONS)}")
    keep = {
        "all": lambda q: True,
        "with-gold": lambda q: bool(q.doc_ids),
        "in-corpus": lambda q: bool(q.answer_in_corpus),
    }[only]
    chosen = [q for q in questions if keep(q)]
    if not chosen:
        raise UsageError(f"no question is one of {SELECTIONS[only]}")
    return chosen


@contextmanager
def _open(
    bot: Assistant | None,
    index: str | Path | None,
    corpus: Sequence[str | Path],
    settings: Settings | None,
    progress: Progress | None,
) -> Iterator[tuple[Assistant, str, float, list[str]]]:
    """Yield the assistant to ask, what it searches, seconds spent indexing, files not indexed."""
    from byline.assistant import Assistant

    if bot is not None:
        yield bot, f"index {bot.stats().path}", 0.0, []
    elif corpus:
        with tempfile.TemporaryDirectory(prefix="byline-eval-") as tmp:
            assistant = Assistant.open(tmp, settings=settings, create=True)
            report = assistant.add([Path(p) for p in corpus], progress=progress)
            failed = [f"could not index {f.path}: {f.reason}" for f in report.failed]
            if not report.added:
                reasons = "; ".join(f"{f.path}: {f.reason}" for f in report.failed[:3])
                raise BylineError(
                    f"nothing could be indexed from {', '.join(map(str, corpus))}"
                    + (f" ({reasons})" if reasons else "")
                    + " — check the --corpus paths"
                )
            yield assistant, "corpus " + ", ".join(map(str, corpus)), report.seconds, failed
    else:
        assistant = Assistant.open(index, settings=settings, create=False)
        yield assistant, f"index {assistant.stats().path}", 0.0, []


def _run(
    bot: Assistant,
    questions: list[Question],
    questions_file: str,
    source: str,
    index_seconds: float,
    warnings: list[str],
    progress: Progress | None,
) -> EvalRun:
    started = datetime.now(UTC).isoformat(timespec="seconds")
    if progress:
        progress(0, len(questions), "loading models")
    warm = time.perf_counter()
    bot.warm_up()  # model loading is a one-off cost, not part of any question's latency
    warmup_seconds = time.perf_counter() - warm
    results = []
    for done, question in enumerate(questions, start=1):
        results.append(_ask(bot, question))
        if progress:
            progress(done, len(questions), "asking")
    kinds = sorted({r.question.kind for r in results})
    return EvalRun(
        questions_file=questions_file,
        source=source,
        started=started,
        settings=_settings_dict(bot.settings),
        results=tuple(results),
        summary=summarize(results),
        by_type={k: summarize([r for r in results if r.question.kind == k]) for k in kinds},
        by_wh=by_wh(results),
        articles=bot.stats().articles,
        index_seconds=index_seconds,
        warmup_seconds=warmup_seconds,
        warnings=tuple(warnings),
        cpus=os.cpu_count() or 0,
        load_average=round(os.getloadavg()[0], 2),
    )


def by_wh(results: Sequence[QuestionResult]) -> dict[str, Summary]:
    """Return the summaries of the answerable questions, by the kind of answer each asks for."""
    kinds = sorted({r.question.wh for r in results if r.question.answerable})
    return {k: summarize([r for r in results if r.question.answerable and r.question.wh == k]) for k in kinds}


def _ask(bot: Assistant, question: Question) -> QuestionResult:
    from byline.types import Filters

    filters = Filters(exclude=frozenset(question.without))
    started = time.perf_counter()
    try:
        answer = bot.ask(question.question, filters=filters, as_of=question.date or None)
        seconds = time.perf_counter() - started
        extractive = (
            bot.ask(question.question, filters=filters, as_of=question.date or None, write=False)
            if answer.written else None
        )
    except Exception as exc:  # one failing question must not lose the whole run
        log.exception("question on line %d failed: %s", question.line, question.question)
        return score(question, None, time.perf_counter() - started, f"{type(exc).__name__}: {exc}")
    return score(question, answer, seconds, extractive=extractive)


def _settings_dict(settings: Settings) -> dict[str, Any]:
    return settings.model_dump(mode="json")


# -- thresholds and comparison ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Threshold:
    """A bound a metric must respect: at least `value` ("under") or at most `value` ("over")."""

    metric: str
    value: float
    fails_when: str  # "under" or "over"

    def violation(self, summary: Summary) -> str | None:
        """Return why `summary` breaks this bound, or None when it holds."""
        actual = summary.metrics()[self.metric]
        if actual is None:
            return f"{self.metric} is undefined for this question set (needed {self._need()})"
        broken = actual < self.value if self.fails_when == "under" else actual > self.value
        return f"{self.metric} = {actual:.3f}, needed {self._need()}" if broken else None

    def _need(self) -> str:
        return f"{'≥' if self.fails_when == 'under' else '≤'} {self.value:g}"


def parse_threshold(text: str, fails_when: str = "under") -> Threshold:
    """Return the Threshold written as METRIC=VALUE; raise ValueError naming the valid metrics."""
    name, sep, value = text.partition("=")
    metric = name.strip().lower().replace("@", "_at_").replace("-", "_")
    known = [
        f.name for f in fields(Summary) if f.name not in {"questions", "answerable", "unanswerable"}
    ]
    if not sep or metric not in known:
        raise ValueError(f"{text!r} is not METRIC=VALUE with a known metric ({', '.join(known)})")
    try:
        return Threshold(metric, float(value), fails_when)
    except ValueError:
        raise ValueError(f"{text!r}: {value!r} is not a number") from None


@dataclass(frozen=True, slots=True)
class MetricChange:
    """One metric before (baseline) and after (this run)."""

    name: str
    before: float | None
    after: float | None

    @property
    def delta(self) -> float | None:
        return None if self.before is None or self.after is None else self.after - self.before

    @property
    def verdict(self) -> str:
        """Return "better", "worse" or "same" (latency and false abstentions: lower is better)."""
        delta = self.delta
        if delta is None or abs(delta) < 1e-9:
            return "same"
        if self.name in {"latency_p50", "latency_p95", "total_seconds"} and abs(delta) < 0.05 * (
            self.before or 1
        ):
            return "same"  # timing noise
        return "better" if (delta < 0) == (self.name in LOWER_IS_BETTER) else "worse"


@dataclass(frozen=True, slots=True)
class Flip:
    """A question whose outcome changed: fixed, broken, or failing at another stage."""

    key: str
    question: str
    before_stage: str
    after_stage: str
    before_got: str
    after_got: str

    @property
    def fixed(self) -> bool:
        return self.after_stage == "ok"

    @property
    def kind(self) -> str:
        """Return "fixed", "broken" (passed before, fails now) or "changed" (fails differently)."""
        if self.fixed:
            return "fixed"
        return "broken" if self.before_stage == "ok" else "changed"


@dataclass(frozen=True, slots=True)
class Comparison:
    """What changed between a baseline run and this one."""

    baseline: str  # where the baseline came from
    changes: tuple[MetricChange, ...]
    flips: tuple[Flip, ...]  # every question whose stage changed; Flip.kind says how
    only_in_baseline: tuple[str, ...] = ()
    only_in_run: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())


def compare(run: EvalRun, baseline: EvalRun, *, baseline_name: str = "baseline") -> Comparison:
    """Return the per-metric changes and the questions whose outcome changed since `baseline`."""
    before, after = baseline.summary.metrics(), run.summary.metrics()
    changes = tuple(MetricChange(name, before.get(name), after[name]) for name in after)
    old = {r.question.key: r for r in baseline.results}
    new = {r.question.key: r for r in run.results}
    flips = tuple(
        Flip(key, r.question.question, old[key].stage, r.stage, old[key].got, r.got)
        for key, r in new.items()
        if key in old and old[key].stage != r.stage
    )
    notes = []
    if baseline.settings != run.settings:
        diff = sorted(k for k in run.settings if baseline.settings.get(k) != run.settings[k])
        notes.append("settings changed: " + ", ".join(diff))
    if Path(baseline.questions_file).name != Path(run.questions_file).name:
        notes.append(f"question files differ: {baseline.questions_file} vs {run.questions_file}")
    return Comparison(
        baseline=baseline_name,
        changes=changes,
        flips=flips,
        only_in_baseline=tuple(k for k in old if k not in new),
        only_in_run=tuple(k for k in new if k not in old),
        notes=tuple(notes),
    )
