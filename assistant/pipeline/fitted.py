"""The fitted reader: candidate spans scored by logistic regression weights fitted on news quizzes.

Every number in the scoring path comes from the parameter file `params/reader-v5.json`, written
by `benchmarks/fit_reader.py` (`make fit`): the feature weights and intercept, the head-noun
table (WordNet classes, looked up at fit time), the answerability gate below, and the thresholds,
each chosen on the training folds by a rule written in the file. Among the features are the
span model's scores (`span_model.py`, fine-tuned on other years' quizzes) and the rule reader's
judgement of each sentence, when the file says it was fitted with them. A candidate's `score` is
its fitted log-odds of being the answer; `confidence` is that probability.

With a language model's vote (`vote.py`, the `reader_llm` setting) the parameters come from
`params/reader-v6-llm.json`, fitted the same way with that model's answers among the features
and without the span model's scores (with the vote they added nothing out of fold, so the span
model is not run then); when the model fails, the question is read with `reader-v5.json` and the
span model, as if no vote had been asked.

Whether to answer at all is a second, question-level decision when the file has an `answerable`
gate: a logistic regression over what the reader made of all the ranked sentences (how strong and
how repeated its best answer is, how strong the others are, whether the question's names occur,
whether its article lies in the days the question names),
fitted on questions asked with and without the articles that hold their answer. A right answer
read with low confidence is still an answer; a question the articles do not answer is not.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from byline.index.errors import SettingsError
from byline.pipeline.answer_type import AnswerType, HeadTable, answer_type
from byline.pipeline.extract import key
from byline.pipeline.nlp import parse
from byline.pipeline.paramfile import read_params
from byline.pipeline.question import Question
from byline.pipeline.read import Reader, RuleReader, answer_key, missing_names
from byline.pipeline.spans import SpanCandidate, candidates
from byline.pipeline.vote import Vote, candidate_features, gate_features
from byline.types import Candidate, Span

if TYPE_CHECKING:
    from byline.index.store import IndexStore
    from byline.pipeline.span_model import SentenceSpans, SpanModel

log = logging.getLogger(__name__)
PARAMS = "reader-v5.json"
VOTED_PARAMS = "reader-v6-llm.json"
SENTENCES = 8  # ranked sentences a reader file reads when it does not say (the SentenceRanker's default)
SPAN_SCALE = 10.0  # span model scores are logit sums in about -20..20; features stay near -2..2
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
    span_model: str = ""  # version of the span model whose scores the weights read ("": none)
    rule_reader: bool = False  # the weights read the rule reader's judgement of each sentence
    gate: Gate | None = None  # the answerability gate; without it, abstain under `threshold`
    voted: bool = False  # fitted with a language model's answers among the features (read with a Vote)
    sentences: int = SENTENCES  # ranked sentences the weights were fitted to read (and the vote to see)

    @classmethod
    def load(cls, path: Path | None = None, *, voted: bool = False) -> ReaderParams:
        """Return the parameters in `path`, by default the file shipped with the package (with
        `voted`, the one fitted with a language model's answers)."""
        name = VOTED_PARAMS if voted else PARAMS
        data = read_params(name, path)
        if bool(data.get("llm_answers")) != voted:
            raise SettingsError(
                f"reader parameter file {path or name} was fitted with a language model's answers among its features"
                " (fit_reader.py --llm-answers): set reader_llm to that model, or give a file fitted without them"
                if not voted else
                f"reader parameter file {path or name} was fitted without a language model's answers, so it cannot"
                " weigh reader_llm's vote: give one written by fit_reader.py --llm-answers, or unset reader_llm"
            )
        try:
            return cls(
                version=data["version"], weights=data["weights"], intercept=float(data["intercept"]),
                heads=HeadTable.from_json(data["heads"]), threshold=float(data["threshold"]["probability"]),
                raw=data, span_model=str((data.get("span_model") or {}).get("version", "")),
                rule_reader=bool(data.get("rule_reader", False)),
                gate=Gate.from_json(data["answerable"]) if data.get("answerable") else None, voted=voted,
                sentences=int(data.get("sentences", SENTENCES)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise SettingsError(f"reader parameter file {path or PARAMS} is incomplete ({exc}) — rerun `make fit`") from None


@dataclass(frozen=True, slots=True)
class Gate:
    """The fitted answerability gate: the question is answered when its probability ≥ `threshold`."""

    weights: Mapping[str, float]
    intercept: float
    threshold: float

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Gate:
        return cls(weights=data["weights"], intercept=float(data["intercept"]), threshold=float(data["threshold"]["probability"]))

    def probability(self, readings: list[Reading], extra: Mapping[str, float] | None = None) -> float:
        """Return the fitted probability that the articles read answer the question (`extra`: the
        vote's observations, `vote.gate_features`)."""
        return self.of(answerable_features(readings) | dict(extra or {}))

    def of(self, features: Mapping[str, float]) -> float:
        """Return the fitted probability for the observations `features` (`FittedReader.gate_features`)."""
        return _sigmoid(log_odds(self.weights, self.intercept, features))


@dataclass(frozen=True, slots=True)
class Reading:
    """What the reader made of one ranked sentence: all the gate looks at."""

    score: float  # log-odds of its best span
    answer: str  # that span, lower-cased and spaced evenly ("" for none)
    dense: float
    lexical: float
    article_p: float  # the fitted fusion's probability for its article
    missing: int  # names of the question its article lacks
    days_outside: int | None = None  # days its article lies outside the question's date window (None: no window)


def readings(ranked: list[Candidate]) -> list[Reading]:
    """Return the gate's view of the read candidates, best first."""
    return [
        Reading(c.score, answer_key(c.span.text) if c.span is not None else "", c.dense, c.lexical,
                min(max(c.hit.score, 0.0), 1.0), c.missing, c.hit.days_outside)
        for c in sorted(ranked, key=lambda c: c.score, reverse=True)
    ]


def answerable_features(readings: list[Reading]) -> dict[str, float]:
    """Return the question-level observations the gate's weights are fitted on."""
    def clip(v: float) -> float:
        return max(-20.0, min(20.0, v)) / SPAN_SCALE

    if not readings:
        return {"g_none": 1.0}
    best = readings[0]
    same = [r for r in readings if best.answer and r.answer == best.answer]
    others = [r.score for r in readings if not best.answer or r.answer != best.answer]
    probs = [_sigmoid(r.score) for r in readings]
    return dated(readings) | {
        "g_top": clip(best.score),
        "g_other": clip(max(others)) if others else -2.0,
        "g_support": math.log1p(len(same)),
        "g_same_mass": 1.0 - math.prod(1.0 - _sigmoid(r.score) for r in same),
        "g_all_mass": sum(probs),
        "g_article_p": best.article_p,
        "g_dense_max": max(r.dense for r in readings),
        "g_lexical_max": max(r.lexical for r in readings),
        "g_lexical_best": best.lexical,
        "g_missing": float(best.missing > 0),
        "g_missing_share": sum(1 for r in readings if r.missing) / len(readings),
    }


def dated(readings: list[Reading]) -> dict[str, float]:
    """Return, when the question names days ("this week"), whether the best answer's article lies
    outside them and by how much, and how many of the five best sentences' articles lie inside
    (an undated article counts as inside)."""
    if all(r.days_outside is None for r in readings):
        return {}
    out = readings[0].days_outside or 0
    return {
        "g_window": 1.0, "g_outside": float(out > 0), "g_log_days_out": math.log1p(out),
        "g_top5_inside": sum(1 for r in readings[:5] if not r.days_outside) / 5,
    }


@lru_cache(maxsize=2)
def shipped_params(voted: bool = False) -> ReaderParams:
    """Return the shipped parameters (with `voted`, those that weigh a language model's vote),
    read once per process."""
    log.info("loading reader parameters %s", VOTED_PARAMS if voted else PARAMS)
    return ReaderParams.load(voted=voted)


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


def featurise(
    at: AnswerType, evidence: list[Evidence], docs: list[Any], heads: HeadTable,
    reads: list[SentenceSpans] | None = None, voted: str = "",
) -> list[list[Scored]]:
    """Return, per sentence, its candidate spans with their features (scores not yet filled); with
    the span model's `reads`, its best span in each sentence is a candidate too (kind MODEL), and
    where another reader's answer `voted` occurs in a sentence, so is it (kind VOTED)."""
    normed = [f" {answer_key(doc.text)} " for doc in docs]
    out: list[list[Scored]] = []
    for i, (ev, doc) in enumerate(zip(evidence, docs, strict=True)):
        shared = sentence_features(ev)
        here: list[Scored] = []
        found = candidates(doc)
        if reads is not None:
            found += model_candidates(doc, reads[i], {(c.start, c.end) for c in found})
        if voted:
            found += voted_candidates(doc, voted, {(c.start, c.end) for c in found})
        for sp in found:
            padded = f" {answer_key(sp.text)} "
            support = [k for k, t in enumerate(normed) if padded in t]
            f = span_features(at, doc, sp, heads)
            f.update(shared)
            f["n_sentences"] = math.log1p(len(support))
            f["n_articles"] = math.log1p(len({evidence[k].article_id for k in support}))
            here.append(Scored(sp, f))
        out.append(here)
    if reads is not None:
        add_span_scores(out, docs, reads)
    return out


def model_candidates(doc: Any, read: SentenceSpans, seen: set[tuple[int, int]]) -> list[SpanCandidate]:
    """Return the span model's best span in the sentence as a candidate, unless spaCy offered it."""
    score, a, b = read.best()
    span = doc.char_span(a, b, alignment_mode="expand") if math.isfinite(score) else None
    if span is None or (span.start, span.end) in seen or not span.text.strip():
        return []
    return [SpanCandidate(span.start, span.end, span.text, "MODEL")]


def voted_candidates(doc: Any, voted: str, seen: set[tuple[int, int]]) -> list[SpanCandidate]:
    """Return the first place the sentence says `voted` (case ignored) as a candidate, unless spaCy
    offered that span."""
    wanted = voted.strip().strip("\"'.,;:!?“”‘’").strip()
    at = doc.text.lower().find(wanted.lower()) if wanted else -1
    span = doc.char_span(at, at + len(wanted), alignment_mode="expand") if at >= 0 else None
    if span is None or (span.start, span.end) in seen or not span.text.strip():
        return []
    return [SpanCandidate(span.start, span.end, span.text, "VOTED")]


def add_span_scores(spans: list[list[Scored]], docs: list[Any], reads: list[SentenceSpans]) -> None:
    """Add the span model's view of each candidate: its score, and how far it is from the best span
    of its sentence and of all the sentences read."""
    tops = [r.best()[0] for r in reads]
    best_all = max(tops, default=-math.inf)
    for here, doc, read, top in zip(spans, docs, reads, tops, strict=True):
        for s in here:
            a, b = s.span.char_offsets(doc)
            v = read.covering(a, b)
            v = -20.0 if v is None else max(-20.0, min(20.0, v))
            s.features["nn_rel"] = v / SPAN_SCALE
            s.features["nn_gap_sent"] = (v - top) / SPAN_SCALE if math.isfinite(top) else -4.0
            s.features["nn_gap_all"] = (v - best_all) / SPAN_SCALE if math.isfinite(best_all) else -4.0
            s.features["nn_best_sent"] = float(v >= top - 1e-6)
            s.features["nn_best_all"] = float(v >= best_all - 1e-6)


def add_rule_scores(spans: list[list[Scored]], question: Question, candidates: list[Candidate], rule: Reader) -> None:
    """Add the rule reader's judgement of each sentence: its score, and whether a candidate is the
    span it picked (in the sentence it ranks first)."""
    judged = [replace(c) for c in candidates]  # the rule reader writes into what it reads
    best = rule.run(question, list(judged))[:1]
    for here, c in zip(spans, judged, strict=True):
        picked = answer_key(c.span.text) if c.span is not None else None
        words = set(picked.split()) if picked else set()
        for s in here:
            mine = answer_key(s.span.text)
            same = picked is not None and mine == picked
            s.features["rule_score"] = c.score
            s.features["rule_span"] = float(same)
            s.features["rule_overlap"] = 2 * len(words & set(mine.split())) / (len(words) + len(mine.split())) if words else 0.0
            s.features["rule_best"] = float(same and bool(best) and best[0] is c)
            s.features["rule_role"] = c.span.role if same and c.span is not None else 0.0


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

    Beside spaCy's candidates it reads, when its parameters were fitted with them, the span
    model's scores (`span_model`) and the rule reader's judgement of each sentence (`rule`);
    given a language model's `Vote` and `voted` parameters, it weighs the vote too.

    Whether it answers is the parameter file's answerability gate (`abstains`); without one, it
    abstains under the log-odds of the file's confidence threshold, or when the best sentence's
    article lacks a name the question asks about (`missing`, marked as the rule reader marks it).
    """

    def __init__(
        self, store: IndexStore, params: ReaderParams | None = None, span_model: SpanModel | None = None,
        rule: Reader | None = None, voted: ReaderParams | None = None, *, gate_threshold: float | None = None,
    ) -> None:
        self.store = store
        self.params = params or shipped_params()
        self.voted = voted
        self.gate_threshold = gate_threshold  # instead of the parameter files' own (the gate_threshold setting)
        if gate_threshold is not None and all(p.gate is None for p in (self.params, voted) if p is not None):
            raise SettingsError("gate_threshold needs a reader parameter file with an answerability gate"
                                " (fit_reader.py --index writes one; the shipped files have one)")
        self.abstain_below = math.log(self.params.threshold / (1 - self.params.threshold))
        if self.params.voted or (voted is not None and not voted.voted):
            raise SettingsError("the fitted reader's parameters with and without a language model's vote are swapped"
                                " — pass the file fitted with --llm-answers as `voted`")
        versions = {p.span_model for p in (self.params, voted) if p is not None}
        self.span_model = span_model
        if any(versions) and span_model is None:
            from byline.pipeline.span_model import shipped_span_model

            self.span_model = shipped_span_model()
        for version in versions:
            if not version and span_model is None:
                continue  # these weights read no span model; one given must be the one they read
            if self.span_model is not None and version != self.span_model.params.version:
                raise SettingsError(
                    f"reader parameters were fitted with span model {version or 'none'},"
                    f" not {self.span_model.params.version} — refit them with benchmarks/fit_reader.py"
                )
        self.rule = rule
        # the ranker keeps enough for the deeper file; each file reads its own top `sentences`
        self.sentences = max(p.sentences for p in (self.params, voted) if p is not None)
        if any(p.rule_reader for p in (self.params, voted) if p is not None) and rule is None:
            from byline.pipeline.words import WordVectors

            self.rule = RuleReader(store, WordVectors(store.embedder))

    def params_for(self, vote: Vote | None) -> ReaderParams:
        """Return the parameters that read with `vote`: the voted ones when the model answered."""
        return self.voted if self.voted is not None and vote is not None and vote.usable else self.params

    def run(self, question: Question, candidates: list[Candidate], vote: Vote | None = None) -> list[Candidate]:
        """Return the candidates with their best span and its log-odds as score, best first."""
        if not candidates:
            return []
        params = self.params_for(vote)
        candidates = candidates[: params.sentences]
        voting = vote if params.voted else None
        docs = parse([c.sentence.text for c in candidates])
        at = answer_type(question.doc, params.heads)
        evidence = evidence_of(candidates)
        missing = missing_names(self.store, question, [c.sentence for c in candidates])
        span_model = self.span_model if params.span_model else None
        reads = span_model.read(question.text, [c.sentence.text for c in candidates]) if span_model is not None else None
        said = voting.answer if voting is not None and not voting.unknown else ""
        featured = featurise(at, evidence, docs, params.heads, reads, said)
        if params.rule_reader and self.rule is not None:
            add_rule_scores(featured, question, candidates, self.rule)
        for cand, doc, spans, lacks in zip(candidates, docs, featured, missing, strict=True):
            for s in spans:
                if voting is not None:
                    s.features.update(candidate_features(s.span.text, voting.answer))
                s.score = log_odds(params.weights, params.intercept, s.features)
            best = max(spans, key=lambda s: s.score, default=None)
            if best is None:
                cand.span, cand.score = None, -math.inf
            else:
                start, end = best.span.char_offsets(doc)
                prob = _sigmoid(best.score)
                cand.span = Span(start, end, best.span.text, best.score, best.span.kind in ENTITY_KINDS, prob)
                cand.score = best.score
            cand.missing = lacks
        return sorted(candidates, key=lambda c: c.score, reverse=True)

    def abstains(self, ranked: list[Candidate], vote: Vote | None = None) -> bool:
        """Return True when the gate finds the question unanswered by these sentences (without a
        gate: when the best answer's probability is under the threshold or its article lacks a
        name the question asks about)."""
        if not ranked:
            return True
        params = self.params_for(vote)
        if params.gate is not None:
            threshold = params.gate.threshold if self.gate_threshold is None else self.gate_threshold
            return self.answerable(ranked, vote) < threshold
        p = params.threshold
        return ranked[0].score < math.log(p / (1 - p)) or ranked[0].missing > 0

    def answerable(self, ranked: list[Candidate], vote: Vote | None = None) -> float:
        """Return the gate's probability that the read sentences (best first) answer the question,
        with the vote's observations when the parameters weigh one (1.0 without a gate)."""
        params = self.params_for(vote)
        if params.gate is None or not ranked:
            return 1.0 if params.gate is None else 0.0
        return params.gate.of(self.gate_features(ranked, vote))

    def gate_features(self, ranked: list[Candidate], vote: Vote | None = None) -> dict[str, float]:
        """Return what the gate observes of the read sentences (best first), with the vote's
        observations when the parameters weigh one."""
        features = answerable_features(readings(ranked))
        if self.params_for(vote).voted and vote is not None and ranked:
            best = ranked[0].span.text if ranked[0].span is not None else ""
            features |= gate_features(best, vote.answer, [c.sentence.text for c in ranked])
        return features

    def confidence(self, best: Candidate) -> float:
        """Return the fitted probability that the best candidate's span is the answer."""
        return round(_sigmoid(best.score), 3)


def _sigmoid(x: float) -> float:
    if x == -math.inf:
        return 0.0
    return 1.0 / (1.0 + math.exp(-x)) if x > -700 else 0.0
