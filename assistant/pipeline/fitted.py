"""The fitted reader: candidate spans scored by logistic regression weights fitted on news quizzes.

Every number in the scoring path comes from the parameter file `params/reader-v2.json`, written
by `benchmarks/fit_reader.py` (`make fit`): the feature weights and intercept, the head-noun
table (WordNet classes, looked up at fit time) and the abstention threshold, chosen on the
training folds for a stated precision (the rule is in the file). A candidate's `score` is its
fitted log-odds of being the answer; `confidence` is that probability.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from byline.index.errors import SettingsError
from byline.pipeline.answer_type import AnswerType, HeadTable, answer_type
from byline.pipeline.extract import key
from byline.pipeline.nlp import parse
from byline.pipeline.paramfile import read_params
from byline.pipeline.question import Question
from byline.pipeline.read import entity_keys, keys_of
from byline.pipeline.spans import SpanCandidate, candidates
from byline.types import Candidate, Span

if TYPE_CHECKING:
    from byline.index.store import IndexStore

log = logging.getLogger(__name__)
PARAMS = "reader-v2.json"
ENTITY_KINDS = {
    "PERSON", "ORG", "GPE", "NORP", "LOC", "FAC", "EVENT", "PRODUCT", "WORK_OF_ART", "LAW", "LANGUAGE",
    "DATE", "TIME", "MONEY", "PERCENT", "QUANTITY", "CARDINAL", "ORDINAL",
}


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the reader knows of one ranked sentence besides its words."""

    text: str
    article_id: str
    position: int  # in its article
    dense: float  # embedding similarity to the question
    lexical: float  # idf share of the question's words it repeats
    rank: int  # 1-based rank among the sentences the ranker kept
    article_p: float = 0.0  # the fitted fusion's probability that its article answers (Hit.score)
    article_rank: int = 1  # its article's 1-based rank among the retrieved articles


@dataclass(frozen=True, slots=True)
class ReaderParams:
    """The fitted parameters, as `benchmarks/fit_reader.py` wrote them."""

    version: str
    weights: Mapping[str, float]
    intercept: float
    heads: HeadTable
    threshold: float  # probability under which the reader abstains
    raw: Mapping[str, Any]  # the whole file, for what it records about the fit

    @classmethod
    def load(cls, path: Path | None = None) -> ReaderParams:
        """Return the parameters in `path`, by default the file shipped with the package."""
        data = read_params(PARAMS, path)
        try:
            return cls(
                version=data["version"], weights=data["weights"], intercept=float(data["intercept"]),
                heads=HeadTable.from_json(data["heads"]), threshold=float(data["threshold"]["probability"]),
                raw=data,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise SettingsError(f"reader parameter file {path or PARAMS} is incomplete ({exc}) — rerun `make fit`") from None


@lru_cache(maxsize=1)
def shipped_params() -> ReaderParams:
    """Return the shipped parameters, read once per process."""
    log.info("loading reader parameters %s", PARAMS)
    return ReaderParams.load()


def log_odds(weights: Mapping[str, float], intercept: float, features: Mapping[str, float]) -> float:
    """Return the fitted log-odds that a candidate with these features is the answer."""
    return intercept + sum(weights.get(name, 0.0) * value for name, value in features.items())


def sentence_features(ev: Evidence) -> dict[str, float]:
    """Return the features of a ranked sentence that every span in it shares."""
    return {
        "s_dense": ev.dense, "s_lexical": ev.lexical, "s_rrank": 1.0 / ev.rank,
        "s_log_pos": math.log1p(ev.position), "s_lede": float(ev.position < 3), "s_log_len": math.log(max(1, len(ev.text))),
        "a_p": ev.article_p, "a_rrank": 1.0 / ev.article_rank,
    }


def span_features(at: AnswerType, doc: Any, span: SpanCandidate, heads: HeadTable) -> dict[str, float]:
    """Return the observations on one candidate span for one question (the weights are fitted)."""
    toks = list(doc[span.start : span.end])
    content = [t for t in toks if not (t.is_stop or t.is_punct)]
    repeat = sum(1 for t in content if _echoes(t, at)) / max(1, len(content))
    root = doc[span.start : span.end].root
    matched = [
        t.i for t in doc if not (t.is_stop or t.is_punct) and _echoes(t, at) and not span.start <= t.i < span.end
    ]
    dist = min((min(abs(i - span.start), abs(i - span.end + 1)) for i in matched), default=30)
    after = doc[span.end : span.end + 2]
    f: dict[str, float] = {
        f"kind={span.kind}": 1.0,
        f"wh={at.wh}|kind={span.kind}": 1.0,
        f"dep={root.dep_}": 1.0,
        f"subj={at.asks_subject}|dep={root.dep_}": 1.0,
        "repeat": repeat,
        "all_repeat": float(repeat >= 0.999),
        "log_len": math.log(len(toks)),
        "has_digit": float(any(c.isdigit() for c in span.text)),
        "capitalised": float(span.text[:1].isupper()),
        "log_dist": math.log1p(dist),
        "head_is_root": float(bool(at.head) and root.lemma_.lower() == at.head),
        "head_follows": float(bool(at.head) and any(t.lemma_.lower() == at.head for t in after)),
        "head_in_span": float(bool(at.head) and any(t.lemma_.lower() == at.head for t in toks[:-1])),
        "quoted": float(span.start > 0 and doc[span.start - 1].text in {"“", '"', "‘"}),
    }
    for c in at.classes:
        f[f"{c}|kind={span.kind}"] = 1.0
    if not at.classes:
        f[f"noclass|wh={at.wh}|kind={span.kind}"] = 1.0
    if at.classes and span.kind in {"NP", "PROPN"} and root.pos_ == "NOUN":
        # the span's head word is of the asked-for class ("heat wave" for "which weather event")
        own = set(heads.of(root.lemma_.lower()))
        f["shares_class"] = len(own & set(at.classes)) / len(at.classes)
        f["root_unknown"] = float(root.lemma_.lower() not in heads)
    return f


def _echoes(token: Any, at: AnswerType) -> bool:
    """Return True when a sentence token repeats a word of the question."""
    return token.lower_ in at.keys or token.lemma_.lower() in at.keys or key(token.text) in at.keys


@dataclass(slots=True)
class Scored:
    """A candidate span with its features and fitted log-odds."""

    span: SpanCandidate
    features: dict[str, float]
    score: float = 0.0


def featurise(at: AnswerType, evidence: list[Evidence], docs: list[Any], heads: HeadTable) -> list[list[Scored]]:
    """Return, per sentence, its candidate spans with their features (scores not yet filled)."""
    normed = [" " + " ".join(doc.text.lower().split()) + " " for doc in docs]
    out: list[list[Scored]] = []
    for ev, doc in zip(evidence, docs, strict=True):
        shared = sentence_features(ev)
        here: list[Scored] = []
        for sp in candidates(doc):
            key = " " + " ".join(sp.text.lower().split()) + " "
            support = [k for k, t in enumerate(normed) if key in t]
            f = span_features(at, doc, sp, heads)
            f.update(shared)
            f["n_sentences"] = math.log1p(len(support))
            f["n_articles"] = math.log1p(len({evidence[k].article_id for k in support}))
            here.append(Scored(sp, f))
        out.append(here)
    return out


def evidence_of(candidates: list[Candidate]) -> list[Evidence]:
    """Return what the reader knows of each ranked sentence, in rank order."""
    articles: dict[str, int] = {}
    for c in sorted(candidates, key=lambda c: c.hit_rank):
        articles.setdefault(c.sentence.article_id, len(articles) + 1)
    return [
        Evidence(
            c.sentence.text, c.sentence.article_id, c.sentence.position, c.dense, c.lexical, rank,
            min(max(c.hit.score, 0.0), 1.0), articles[c.sentence.article_id],
        )
        for rank, c in enumerate(candidates, start=1)
    ]


class FittedReader:
    """Pipeline step (a `Reader`): each ranked sentence's best span by fitted log-odds.

    `abstain_below` is the log-odds of the parameter file's threshold probability; like the rule
    reader, a sentence whose article lacks a name the question asks about is marked `missing`.
    """

    def __init__(self, store: IndexStore, params: ReaderParams | None = None) -> None:
        self.store = store
        self.params = params or shipped_params()
        p = self.params.threshold
        self.abstain_below = math.log(p / (1 - p))

    def run(self, question: Question, candidates: list[Candidate]) -> list[Candidate]:
        """Return the candidates with their best span and its log-odds as score, best first."""
        if not candidates:
            return []
        docs = parse([c.sentence.text for c in candidates])
        at = answer_type(question.doc, self.params.heads)
        evidence = evidence_of(candidates)
        wanted = entity_keys(question)
        article_keys: dict[str, set[str]] = {}
        for cand, doc, spans in zip(candidates, docs, featurise(at, evidence, docs, self.params.heads), strict=True):
            for s in spans:
                s.score = log_odds(self.params.weights, self.params.intercept, s.features)
            best = max(spans, key=lambda s: s.score, default=None)
            if best is None:
                cand.span, cand.score = None, -math.inf
            else:
                start, end = best.span.char_offsets(doc)
                prob = _sigmoid(best.score)
                cand.span = Span(start, end, best.span.text, best.score, best.span.kind in ENTITY_KINDS, prob)
                cand.score = best.score
            aid = cand.sentence.article_id
            if aid not in article_keys:
                article = self.store.article(aid)
                article_keys[aid] = keys_of((article.title + " " + article.text) if article else cand.sentence.text)
            cand.missing = sum(1 for k in wanted if k not in article_keys[aid])
        return sorted(candidates, key=lambda c: c.score, reverse=True)

    def confidence(self, best: Candidate) -> float:
        """Return the fitted probability that the best candidate's span is the answer."""
        return round(_sigmoid(best.score), 3)


def _sigmoid(x: float) -> float:
    if x == -math.inf:
        return 0.0
    return 1.0 / (1.0 + math.exp(-x)) if x > -700 else 0.0
