"""Fit the reader's span scorer on RealTime QA questions and write its parameter file.

usage: python benchmarks/fit_reader.py [--rtqa /work/rtqa] [--years 2022] [--weeks all|even|odd]
                                       [--index RTQA_INDEX --in-corpus --fusion-folds DIR]
                                       [--out assistant/pipeline/params/reader-v5.json] [--span-model JSON | --no-span-model]
                                       [--report docs/fit-reader.md] [--wordnet /usr/share/wordnet]

With `--index` (what `make fit` runs, and what reader-v5 was fitted with) each question is asked
as the product asks it: the retriever (each fold's fusion, from `fit_retrieval.py --fold-dir`)
and `SentenceRanker` find its top 8 sentences in the whole index, as of the question's date;
`--in-corpus` adds the questions without a gold article whose answer occurs in the corpus, and
every question is asked again without any article that holds its answer (all its candidates are
then wrong: what the reader learns to abstain from). Without `--index`, the gold articles alone
are split and ranked. Every candidate span is labelled right when its token F1 with an answer is
at least 0.5. Among the features are the rule reader's judgement of each sentence and the span
model's scores (`fit_span.py`; it is fitted on other
years, never on the questions read here). A logistic regression over the features of
`byline.pipeline.fitted` is judged out
of fold (5 folds of whole quiz weeks, so a week's story never sits on both sides), beside the
rule reader on the same sentences; the confidence threshold is the lowest top-answer probability
at which the out-of-fold answers reach the target precision. With `--index`, the answerability
gate (`fitted.Gate`) is fitted on the out-of-fold reader's readings of each question, labelled by
whether it was asked with its articles or without every article holding its answer; its
threshold is the highest that leaves at most `--max-false-abstention` of the answerable
questions unanswered, and it is judged out of fold the same way. The shipped models are then
fitted on all chosen questions.

WordNet is needed here only (its classes are shipped in the file): `apt-get install wordnet-base
wordnet-sense-index` puts it in /usr/share/wordnet (nltk reads `index.sense` when it opens WordNet), read directly by nltk's WordNetCorpusReader (`--wordnet`); an
nltk_data folder with corpora/wordnet works too (`--wordnet DIR/corpora/wordnet`).
`--weeks even|odd` fits on half the weeks (by sorted week index), to judge the product on the
other half with `byline eval`. Rerunning with the same data and arguments writes the same file.
`--llm-answers FILE` (with `--cache`) adds a language model's short answers to the same questions
(`llm_answers.py`) as features and candidates, as the product weighs a vote (`pipeline/vote.py`):
the file written is read with `reader_llm` set to the same model (params/reader-v6-llm.json, fitted
with `--no-span-model`: `make fit-vote`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import os
import pickle
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
SEED = 13
FOLDS = 5
KEEP = 8  # sentences the product's SentenceRanker keeps
C = 0.3  # L2 strength, phase 1's choice on 2022 (0.1 / 1.0 were within 0.01 F1)
TARGET_PRECISION = 0.7
WEIGHT_POWER = 4  # a right span's weight is its F1 to this power; on these folds 0 gave F1 0.321, 2 0.335, 4 0.351
MIN_ANSWERED = 10  # a threshold must leave at least this many answered questions to count
GATE_C = 1.0  # L2 strength of the answerability gate (15 features, ~600 questions)
MAX_FALSE_ABSTENTION = 0.15  # the gate's threshold leaves at most this share of answerable questions unanswered
log = logging.getLogger("fit_reader")


@dataclass
class Example:
    """One question with its ranked sentences, candidates and labels."""

    id: str
    year: int
    week: str
    text: str
    answers: tuple[str, ...]
    evidence: list[Any] = field(default_factory=list)  # byline.pipeline.fitted.Evidence
    sentences: list[Any] = field(default_factory=list)  # byline.types.Sentence, same order
    dense: list[float] = field(default_factory=list)
    lexical: list[float] = field(default_factory=list)
    spans: list[list[Any]] = field(default_factory=list)  # per sentence: Scored
    labels: list[np.ndarray] = field(default_factory=list)
    f1s: list[np.ndarray] = field(default_factory=list)  # each span's token F1 with the answers
    gold: list[str] = field(default_factory=list)
    date: str = ""
    answer_removed: bool = False  # asked without its gold articles and every article holding an answer (--index mode)
    candidates: list[Any] = field(default_factory=list)  # byline.types.Candidate (--index mode)
    missing: list[int] = field(default_factory=list)  # per sentence: names of the question its article lacks
    days_outside: list[int | None] = field(default_factory=list)  # per sentence: its article's days outside the question's window


def questions(rtqa: Path, years: list[int], in_corpus: bool = False) -> list[Example]:
    """Return the dev questions that have a gold article, and with `in_corpus` those whose answer
    occurs somewhere in the corpus (never the reserved ones: they are not built)."""
    out = []
    for year in years:
        for line in (rtqa / f"rtqa-{year}" / "questions.jsonl").open(encoding="utf-8"):
            r = json.loads(line)
            if r.get("doc_ids") or (in_corpus and r.get("answer_in_corpus")):
                out.append(Example(r["id"], year, r["id"].split("_")[0], r["question"], tuple(r["answers"]),
                                   gold=list(r.get("doc_ids") or ()), date=r.get("date", "")))
    return out


def articles(rtqa: Path, years: list[int], wanted: set[str]) -> dict[str, tuple[str, str]]:
    """Return article id → (title, text) for the gold articles."""
    found = {}
    for year in years:
        for line in (rtqa / f"rtqa-{year}" / "corpus.jsonl").open(encoding="utf-8"):
            r = json.loads(line)
            if r["id"] in wanted:
                found[r["id"]] = (r.get("title", ""), r["text"])
    return found


def rank_sentences(examples: list[Example], texts: dict[str, tuple[str, str]]) -> None:
    """Keep each question's top sentences as the product's SentenceRanker would rank them."""
    from byline.index.embed import Embedder, resolve_model
    from byline.index.sentences import split_sentences
    from byline.pipeline.fitted import Evidence
    from byline.pipeline.question import analyse
    from byline.pipeline.rank import SentenceRanker, stems
    from byline.settings import DEFAULT_MODEL

    ranker = SentenceRanker.__init__.__kwdefaults__  # the product's weights, not copies of them
    embedder = Embedder(resolve_model(DEFAULT_MODEL))
    for n, ex in enumerate(examples):
        pool = [s for a in ex.gold if a in texts for s in split_sentences(a, texts[a][1]) if len(s.text) > ranker["min_chars"]]
        if not pool:
            continue
        q = analyse(ex.text)
        vectors = embedder.embed([s.text for s in pool])
        dense = vectors @ embedder.embed_query(ex.text)
        st = [stems(s.text) for s in pool]
        qs = stems(" ".join(q.content) + " " + " ".join(t for t, _ in q.entities))
        idf = {w: math.log(1 + len(pool) / (1 + sum(w in x for x in st))) for w in qs}
        total = sum(idf.values()) or 1.0
        lexical = [sum(v for w, v in idf.items() if w in x) / total for x in st]
        score = [ranker["dense_weight"] * d + ranker["lexical_weight"] * lx + ranker["prior_weight"] for d, lx in zip(dense, lexical, strict=True)]
        top = sorted(range(len(pool)), key=lambda i: -score[i])[:KEEP]
        ex.sentences = [pool[i] for i in top]
        ex.dense = [float(dense[i]) for i in top]
        ex.lexical = [lexical[i] for i in top]
        ex.evidence = [Evidence(pool[i].text, pool[i].article_id, pool[i].position, float(dense[i]), lexical[i], r)
                       for r, i in enumerate(top, 1)]
        if n % 25 == 0:
            log.info("ranked %d of %d questions", n, len(examples))


def retrieve_sentences(examples: list[Example], index: Path, fusion_folds: Path | None, keep: int = KEEP) -> None:
    """Keep each question's top `keep` sentences as the product finds them in the whole index: its
    retriever (each fold's fusion from `fusion_folds`, so no question is ranked by a fusion
    fitted on its own week) and its SentenceRanker, asked as of the question's date."""
    from datetime import date

    from byline import Assistant, Settings
    from byline.pipeline.fitted import evidence_of
    from byline.pipeline.question import analyse
    from byline.types import Filters

    fold_of = folds(examples)
    pipelines: dict[int, Any] = {}
    for n, ex in enumerate(examples):
        f = fold_of[ex.week]
        if f not in pipelines:
            own = fusion_folds / f"retrieval-fold-{f}.json" if fusion_folds else None
            pipelines[f] = Assistant.open(index, settings=Settings(fusion_params=own), create=False).pipeline
            pipelines[f].ranker.keep = keep
        pipeline = pipelines[f]
        store = pipeline.store
        filters = Filters(exclude=frozenset({*ex.gold, *store.articles_containing(ex.answers)})) if ex.answer_removed else Filters()
        retrieval = pipeline.retriever.run(ex.text, filters, date.fromisoformat(ex.date[:10]) if ex.date else None)
        ex.candidates = pipeline.ranker.run(analyse(ex.text), retrieval)
        ex.sentences = [c.sentence for c in ex.candidates]
        ex.dense = [c.dense for c in ex.candidates]
        ex.lexical = [c.lexical for c in ex.candidates]
        ex.evidence = evidence_of(ex.candidates)
        if n % 50 == 0:
            log.info("retrieved %d of %d questions", n, len(examples))


def wordnet_table(path: Path, lemmas: set[str]) -> dict[str, list[str]]:
    """Return lemma → WordNet classes for `lemmas` and for every one-word WordNet noun."""
    import nltk

    from byline.pipeline.answer_type import ANCHORS

    nltk.data.path.insert(0, str(nltk_data(path)))
    from nltk.corpus import wordnet as wn

    common = {  # every one-word noun, so that "carmaker" is known though no question here asks it
        lemma.name().lower() for s in wn.all_synsets("n") for lemma in s.lemmas()
        if lemma.name().isalpha()
    }
    table = {}
    for lemma in sorted(lemmas | common):
        found: set[str] = set()
        # the three most used senses, counting every lemma of a sense, so that a spelling rarely
        # tagged in SemCor ("colour") ranks its senses as its common twin ("color") does
        senses = sorted(wn.synsets(lemma.replace(" ", "_"), "n"), key=lambda s: -sum(x.count() for x in s.lemmas()))
        for s in senses[:3]:
            found.add("lex:" + s.lexname())
            names = {h.name() for h in s.closure(lambda x: x.hypernyms() + x.instance_hypernyms())} | {s.name()}
            found.update(a for a in ANCHORS if a in names)
        if found:
            table[lemma] = sorted(found)
    return table


# WordNet 3.0's lexicographer files, in their numbered order: Debian's wordnet-base lacks the
# `lexnames` file that nltk reads them from.
LEXNAMES = ["adj.all", "adj.pert", "adv.all", "noun.Tops", "noun.act", "noun.animal", "noun.artifact", "noun.attribute", "noun.body", "noun.cognition", "noun.communication", "noun.event", "noun.feeling", "noun.food", "noun.group", "noun.location", "noun.motive", "noun.object", "noun.person", "noun.phenomenon", "noun.plant", "noun.possession", "noun.process", "noun.quantity", "noun.relation", "noun.shape", "noun.state", "noun.substance", "noun.time", "verb.body", "verb.change", "verb.cognition", "verb.communication", "verb.competition", "verb.consumption", "verb.contact", "verb.creation", "verb.emotion", "verb.motion", "verb.perception", "verb.possession", "verb.social", "verb.stative", "verb.weather", "adj.ppl"]


def nltk_data(path: Path) -> Path:
    """Return an nltk_data folder holding `path` as corpora/wordnet, with the `lexnames` file
    nltk needs (a private copy, not links: nltk refuses files whose real path leaves its folders)."""
    if path.name == "wordnet" and path.parent.name == "corpora" and (path / "lexnames").exists():
        return path.parent.parent
    import shutil
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="byline-nltk-data-"))
    staged = root / "corpora" / "wordnet"
    staged.mkdir(parents=True)
    for f in path.iterdir():
        if f.is_file():
            shutil.copyfile(f, staged / f.name)
    kinds = {"adj": 3, "adv": 4, "noun": 1, "verb": 2}
    (staged / "lexnames").write_text(
        "".join(f"{i:02d}\t{n}\t{kinds[n.split('.')[0]]}\n" for i, n in enumerate(LEXNAMES)), encoding="utf-8"
    )
    return root


def featurise(
    examples: list[Example], wordnet: Path, span_model: Any = None, rule: Any = None, store: Any = None,
    implied: dict[str, str] | None = None, answers: dict[str, str] | None = None,
) -> Any:
    """Parse the kept sentences, build the head table, and fill every example's spans and labels
    (with the span model's scores and the rule reader's judgement among the features when given,
    and with `store` which of the question's names each sentence's article lacks)."""
    from byline.evaluation.metrics import token_f1
    from byline.pipeline.answer_type import HeadTable, answer_type, head_noun
    from byline.pipeline.fitted import add_rule_scores
    from byline.pipeline.fitted import featurise as spans_of
    from byline.pipeline.nlp import parse
    from byline.pipeline.question import analyse
    from byline.pipeline.read import missing_names
    from byline.pipeline.spans import candidates
    from byline.pipeline.vote import says_unknown

    qdocs = parse([ex.text for ex in examples])
    sdocs = [parse([e.text for e in ex.evidence]) if ex.evidence else [] for ex in examples]
    lemmas = {head_noun(d)[1] for d in qdocs} - {""}
    for docs in sdocs:
        for doc in docs:
            lemmas.update(doc[c.start : c.end].root.lemma_.lower() for c in candidates(doc))
    heads = HeadTable.build(wordnet_table(wordnet, {w for w in lemmas if w.isalpha()}), implied)
    for ex, qdoc, docs in zip(examples, qdocs, sdocs, strict=True):
        at = answer_type(qdoc, heads)
        reads = span_model.read(ex.text, [e.text for e in ex.evidence]) if span_model is not None and docs else None
        voted = (answers or {}).get(ex.id, "")
        ex.spans = spans_of(at, ex.evidence, docs, heads, reads, "" if says_unknown(voted) else voted) if docs else []
        if rule is not None and docs:
            add_rule_scores(ex.spans, analyse(ex.text), candidates_of(ex), rule)
        if store is not None:
            ex.missing = missing_names(store, analyse(ex.text), ex.sentences)
        ex.f1s = [np.array([token_f1(s.span.text, list(ex.answers)) for s in ss]) for ss in ex.spans]
        ex.labels = [(f >= 0.5).astype(int) for f in ex.f1s]
    return heads


def date_windows(examples: list[Example], store: Any) -> None:
    """Fill each example's `days_outside` as the retriever marks its hits: for a question naming
    days ("this week"), read against its quiz date, how far outside them each sentence's article is."""
    from datetime import date

    from byline.pipeline.dates import resolve

    published: dict[str, str] = {}
    for ex in examples:
        window = resolve(ex.text, date.fromisoformat(ex.date)) if ex.date else None
        if window is None:
            ex.days_outside = []
            continue
        for e in ex.evidence:
            if e.article_id not in published:
                info = store.article_info(e.article_id)
                published[e.article_id] = info.published if info is not None else ""
        ex.days_outside = [window.distance(published[e.article_id]) for e in ex.evidence]


def fit(examples: list[Example]) -> tuple[Any, Any]:
    """Return a DictVectorizer and logistic regression fitted on the examples' spans."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    feats = [s.features for ex in examples for ss in ex.spans for s in ss]
    y = np.concatenate([lab for ex in examples for lab in ex.labels])
    # a right span counts by how exactly it matches, so "Ford" outweighs "Ford Motor Co."
    weight = np.where(y == 1, np.concatenate([f for ex in examples for f in ex.f1s]) ** WEIGHT_POWER, 1.0)
    dv = DictVectorizer(sparse=True, sort=True)
    model = LogisticRegression(C=C, max_iter=5000, random_state=SEED).fit(dv.fit_transform(feats), y, sample_weight=weight)
    return dv, model


def top_answer(ex: Example, weights: dict[str, float], intercept: float) -> tuple[str, float]:
    """Return the best span and its probability under the given weights."""
    from byline.pipeline.fitted import log_odds

    best, score = "", -math.inf
    for ss in ex.spans:
        for s in ss:
            v = log_odds(weights, intercept, s.features)
            if v > score:
                best, score = s.span.text, v
    return best, (1 / (1 + math.exp(-score)) if score > -math.inf else 0.0)


def as_weights(dv: Any, model: Any) -> tuple[dict[str, float], float]:
    coef = model.coef_[0]
    return {n: round(float(w), 6) for n, w in zip(dv.feature_names_, coef, strict=True) if abs(w) >= 1e-6}, round(float(model.intercept_[0]), 6)


def folds(examples: list[Example]) -> dict[str, int]:
    from byline.evaluation import week_folds

    return week_folds((ex.week for ex in examples), FOLDS)


def out_of_fold(examples: list[Example]) -> tuple[list[dict[str, Any]], list[dict[str, float]]]:
    """Return per question the out-of-fold top answer, its probability and F1, and the gate's
    features of what the out-of-fold reader made of its sentences."""
    from byline.evaluation.metrics import token_f1
    from byline.pipeline.fitted import answerable_features

    fold_of = folds(examples)
    rows: list[dict[str, Any]] = [{} for _ in examples]
    gate: list[dict[str, float]] = [{} for _ in examples]
    for f in range(FOLDS):
        train = [ex for ex in examples if fold_of[ex.week] != f and ex.spans]
        weights, intercept = as_weights(*fit(train))
        for i, ex in enumerate(examples):
            if fold_of[ex.week] == f:
                text, p = top_answer(ex, weights, intercept)
                oracle = max((token_f1(s.span.text, list(ex.answers)) for ss in ex.spans for s in ss), default=0.0)
                rows[i] = {"id": ex.id, "week": ex.week, "fold": f, "type": qtype(ex.text), "answer": text, "p": p,
                           "f1": token_f1(text, list(ex.answers)), "oracle": oracle}
                gate[i] = answerable_features(sentence_readings(ex, weights, intercept))
    return rows, gate


def sentence_readings(ex: Example, weights: dict[str, float], intercept: float) -> list[Any]:
    """Return what a reader with these weights makes of each kept sentence, as the gate sees it."""
    from byline.pipeline.fitted import Reading, log_odds
    from byline.pipeline.read import answer_key

    out = []
    for i, ss in enumerate(ex.spans):
        scored = [(log_odds(weights, intercept, s.features), s.span.text) for s in ss]
        score, text = max(scored, default=(-math.inf, ""))
        ev = ex.evidence[i]
        out.append(Reading(score, answer_key(text), ev.dense, ev.lexical, ev.article_p,
                           ex.missing[i] if ex.missing else 0, ex.days_outside[i] if ex.days_outside else None))
    return sorted(out, key=lambda r: r.score, reverse=True)


def add_llm_features(examples: list[Example], answers: dict[str, str]) -> None:
    """Add to every candidate how far it agrees with a language model's answer to its question
    (`llm_answers.py`), as the product does with a vote (`vote.candidate_features`)."""
    from byline.pipeline.vote import candidate_features

    for ex in examples:
        a = answers.get(ex.id, "")
        for ss in ex.spans:
            for s in ss:
                s.features.update(candidate_features(s.span.text, a))


def fit_gate(feats: list[dict[str, float]], answerable: list[bool]) -> tuple[dict[str, float], float]:
    """Return the answerability gate's weights and intercept (logistic regression)."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    dv = DictVectorizer(sparse=False, sort=True)
    model = LogisticRegression(C=GATE_C, max_iter=5000, random_state=SEED).fit(dv.fit_transform(feats), np.asarray(answerable, dtype=int))
    return as_weights(dv, model)


def gate_out_of_fold(examples: list[Example], feats: list[dict[str, float]]) -> list[float]:
    """Return each question's out-of-fold probability under a gate fitted on the other folds."""
    from byline.pipeline.fitted import log_odds

    fold_of = folds(examples)
    out = [0.0] * len(examples)
    for f in range(FOLDS):
        train = [i for i, ex in enumerate(examples) if fold_of[ex.week] != f and ex.spans]
        weights, intercept = fit_gate([feats[i] for i in train], [not examples[i].answer_removed for i in train])
        for i, ex in enumerate(examples):
            if fold_of[ex.week] == f:
                out[i] = 1 / (1 + math.exp(-log_odds(weights, intercept, feats[i])))
    return out


def gate_with_threshold(examples: list[Example], feats: list[dict[str, float]], gate_p: list[float], keep: list[int],
                        max_false: float) -> tuple[dict[str, float], float, float]:
    """Return the gate fitted on the `keep` questions' out-of-fold readings, and its threshold
    chosen on their out-of-fold gate probabilities."""
    keep = [i for i in keep if examples[i].spans]
    answerable = [not examples[i].answer_removed for i in keep]
    weights, intercept = fit_gate([feats[i] for i in keep], answerable)
    return weights, intercept, choose_gate_threshold([gate_p[i] for i in keep], answerable, max_false)


def choose_gate_threshold(ps: list[float], answerable: list[bool], max_false: float) -> float:
    """Return the highest gate probability t at which at most `max_false` of the answerable
    questions fall under t (and would be abstained on)."""
    kept = sorted(p for p, a in zip(ps, answerable, strict=True) if a)
    if not kept:
        return 0.5
    k = int(math.floor(max_false * len(kept)))
    return math.floor(kept[min(k, len(kept) - 1)] * 1000) / 1000


def make_rule_reader(texts: dict[str, tuple[str, str]], store: Any = None) -> Any:
    """Return the product's RuleReader over `store`, or over the gold articles when there is no index."""
    from byline.index.embed import Embedder, resolve_model
    from byline.index.sentences import split_sentences
    from byline.index.types import Article
    from byline.pipeline.read import RuleReader
    from byline.pipeline.words import WordVectors
    from byline.settings import DEFAULT_MODEL

    class GoldStore:  # what RuleReader asks of an index, from the gold articles
        def article(self, aid: str) -> Article | None:
            title, text = texts.get(aid, ("", ""))
            return Article(id=aid, title=title, text=text, source="", published="", url="")

        def sentences(self, aid: str, first: int, last: int) -> list[Any]:
            return [s for s in split_sentences(aid, texts[aid][1]) if first <= s.position <= last]

    return RuleReader(store or GoldStore(), WordVectors(Embedder(resolve_model(DEFAULT_MODEL))))


def candidates_of(ex: Example) -> list[Any]:
    """Return the example's ranked sentences as the product's Candidates."""
    from byline.types import Candidate

    return ex.candidates or [Candidate(s, 0, None, 1, dense=d, lexical=lx, score_prior=1.0)  # type: ignore[arg-type]
                             for s, d, lx in zip(ex.sentences, ex.dense, ex.lexical, strict=True)]


def rule_reader(examples: list[Example], reader: Any) -> list[dict[str, Any]]:
    """Return the rule reader's answer on the same kept sentences, for the side-by-side table."""
    from dataclasses import replace

    from byline.evaluation.metrics import token_f1
    from byline.pipeline.question import analyse

    rows = []
    for ex in examples:
        cands = [replace(c) for c in candidates_of(ex)]
        ranked = reader.run(analyse(ex.text), cands) if cands else []
        best = ranked[0] if ranked else None
        text = (best.span.text if best.span else best.sentence.text) if best else ""
        answered = bool(ranked) and not reader.abstains(ranked)
        rows.append({"id": ex.id, "answer": text, "f1": token_f1(text, list(ex.answers)), "answered": answered})
    return rows


def holds_answer(text: str, answers: Iterable[str]) -> bool:
    """Return True when `text` holds one of the answers as whole words (after SQuAD normalisation)."""
    from byline.evaluation.metrics import normalize_answer

    words = f" {normalize_answer(text)} "
    return any(f" {a} " in words for a in map(normalize_answer, answers) if a)


def qtype(text: str) -> str:
    import re

    t = text.lower().replace("’", "'")
    m = re.search(r"\b(who|whom|whose|which|what|where|when|how many|how much|how long|how old|how|why)\b", t)
    if not m:
        return "other"
    w = m.group(1)
    return "who" if w in {"whom", "whose"} else "how many/much/long" if w.startswith("how ") else w


def choose_threshold(ps: list[float], right: list[bool], target: float = TARGET_PRECISION) -> float:
    """Return the lowest probability t at which answers with p ≥ t reach the target precision."""
    for t in sorted(set(round(p, 3) for p in ps)):
        kept = [k for p, k in zip(ps, right, strict=True) if p >= t]
        if len(kept) >= MIN_ANSWERED and np.mean(kept) >= target:
            return t
    return 0.999


def report(every: list[dict[str, Any]], rule: list[dict[str, Any]], threshold: float, target: float,
           max_false: float = MAX_FALSE_ABSTENTION) -> tuple[str, dict[str, Any]]:
    """Return the Markdown report and the summary figures recorded in the parameter file."""
    by_id = {r["id"]: r for r in rule}
    rows = [r for r in every if not r.get("answer_removed") and r.get("gold", True)]
    removed = [r for r in every if r.get("answer_removed")]
    extra = [r for r in every if not r.get("gold", True) and not r.get("answer_removed")]
    lines = [f"questions: {len(rows)} (with a gold article), {len({r['week'] for r in rows})} quiz weeks, {FOLDS} folds by week", "",
             "| question type | n | fitted F1 (out of fold) | rule F1 | best candidate (oracle) |", "|---|---:|---:|---:|---:|"]
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[r["type"]].append(r)
    for t, rs in [("all", rows), *sorted(groups.items(), key=lambda x: -len(x[1]))]:
        lines.append(f"| {t} | {len(rs)} | {np.mean([r['f1'] for r in rs]):.3f} | "
                     f"{np.mean([by_id[r['id']]['f1'] for r in rs]):.3f} | {np.mean([r['oracle'] for r in rs]):.3f} |")
    if extra:
        lines.append(f"| answer in the corpus, no gold article | {len(extra)} | {np.mean([r['f1'] for r in extra]):.3f} | "
                     f"{np.mean([by_id[r['id']]['f1'] for r in extra]):.3f} | {np.mean([r['oracle'] for r in extra]):.3f} |")
    p = np.array([r["p"] for r in every])
    ok = np.array([r["f1"] >= 0.5 for r in every])
    lines += ["", f"reliability (top answer's out-of-fold probability vs token F1 ≥ 0.5; {len(every)} questions"
              f"{', half asked without any article holding their answer' if removed else ''}), Brier {np.mean((p - ok) ** 2):.3f}:", "",
              "| probability | n | mean p | right |", "|---|---:|---:|---:|"]
    edges = [0, .1, .2, .3, .4, .5, .6, .7, .8, 1.01]
    for lo, hi in zip(edges, edges[1:], strict=False):
        m = (p >= lo) & (p < hi)
        if m.any():
            lines.append(f"| {lo:.1f}–{min(hi, 1):.1f} | {m.sum()} | {p[m].mean():.2f} | {ok[m].mean():.2f} |")
    # the rule judged honestly: each fold's threshold chosen on the other folds' out-of-fold answers
    held, cover = [], []
    held_f1, removed_abstained = [], []
    for f in range(FOLDS):
        tr = [(r["p"], r["f1"] >= 0.5) for r in every if r["fold"] != f]
        t = choose_threshold([a for a, _ in tr], [b for _, b in tr], target)
        te = [(r["p"], r["f1"] >= 0.5, r["f1"]) for r in every if r["fold"] == f]
        held += [(k, f1) for x, k, f1 in te if x >= t]
        cover += [x >= t for r in rows if r["fold"] == f for x in [r["p"]]]
        held_f1 += [r["f1"] if r["p"] >= t else 0.0 for r in rows if r["fold"] == f]
        removed_abstained += [r["p"] < t for r in removed if r["fold"] == f]
    answered = [r for r in rows if r["p"] >= threshold]
    rule_answered = [r for r in rule if r["answered"]]
    summary = {
        "questions": len(rows), "weeks": len({r["week"] for r in rows}),
        "oof_f1": round(float(np.mean([r["f1"] for r in rows])), 4),
        "rule_f1_same_sentences": round(float(np.mean([by_id[r["id"]]["f1"] for r in rows])), 4),
        "oracle_f1": round(float(np.mean([r["oracle"] for r in rows])), 4),
        "in_corpus_without_gold": {"questions": len(extra), "oof_f1": round(float(np.mean([r["f1"] for r in extra])), 4),
                                   "oracle_f1": round(float(np.mean([r["oracle"] for r in extra])), 4)} if extra else None,
        "brier": round(float(np.mean((p - ok) ** 2)), 4),
        "at_threshold": {"answers": round(len(answered) / len(rows), 3),
                         "precision": round(float(np.mean([r["f1"] >= 0.5 for r in answered])), 3) if answered else None},
        "threshold_chosen_on_other_folds": {"answers": round(float(np.mean(cover)), 3),
                                            "precision": round(float(np.mean([k for k, _ in held])), 3) if held else None},
        "threshold_chosen_on_other_folds_f1": round(float(np.mean(held_f1)), 4),
        "threshold_chosen_on_other_folds_abstains_answer_removed": round(float(np.mean(removed_abstained)), 3) if removed else None,
        "target_precision": target,
        "rule_reader_answers": round(len(rule_answered) / len(rule), 3),
        "rule_reader_precision": round(float(np.mean([r["f1"] >= 0.5 for r in rule_answered])), 3) if rule_answered else None,
    }
    lines += ["", f"threshold {threshold:.3f} (lowest out-of-fold probability with precision ≥ {target}): "
              f"answers {summary['at_threshold']['answers']:.0%}, precision {summary['at_threshold']['precision']}",
              f"the same rule with each fold's threshold chosen on the other folds: answers "
              f"{summary['threshold_chosen_on_other_folds']['answers']:.0%}, held-out precision "
              f"{summary['threshold_chosen_on_other_folds']['precision']}, F1 counting abstentions as 0 "
              f"{summary['threshold_chosen_on_other_folds_f1']:.3f}"
              + (f", abstains on {summary['threshold_chosen_on_other_folds_abstains_answer_removed']:.0%} of the questions "
                 "asked without any article holding their answer" if removed else ""),
              f"rule reader at its threshold 0.7: answers {summary['rule_reader_answers']:.0%}, precision {summary['rule_reader_precision']}"]
    if removed and "gate_p" in every[0]:
        text, summary["answerable_gate"] = gate_report(every, max_false)
        lines += ["", text]
    return "\n".join(lines) + "\n", summary


def gate_report(every: list[dict[str, Any]], max_false: float) -> tuple[str, dict[str, Any]]:
    """Return the answerability gate's held-out figures: each fold's threshold chosen on the other
    folds' out-of-fold gate probabilities (at most `max_false` of their answerable questions under it)."""
    out: dict[str, Any] = {}
    lines = [f"answerability gate (answers when its probability ≥ a threshold chosen on the other folds for false "
             f"abstention ≤ {max_false}):", "",
             "| questions | n | F1 (abstaining counts 0) | answers | precision of answers | abstains, answer removed |",
             "|---|---:|---:|---:|---:|---:|"]
    for name, gold in (("with a gold article", True), ("answer in the corpus, no gold article", False)):
        f1s, answered, right, removed = [], [], [], []
        for f in range(FOLDS):
            seen = [r for r in every if r["fold"] != f]
            t = choose_gate_threshold([r["gate_p"] for r in seen], [not r["answer_removed"] for r in seen], max_false)
            for r in every:
                if r["fold"] != f or r["gold"] != gold:
                    continue
                says = r["gate_p"] >= t
                if r["answer_removed"]:
                    removed.append(not says)
                else:
                    answered.append(says)
                    f1s.append(r["f1"] if says else 0.0)
                    if says:
                        right.append(r["f1"] >= 0.5)
        if not f1s:
            continue
        row = {"questions": len(f1s), "f1": round(float(np.mean(f1s)), 4), "answers": round(float(np.mean(answered)), 3),
               "precision": round(float(np.mean(right)), 3) if right else None,
               "abstains_answer_removed": round(float(np.mean(removed)), 3) if removed else None}
        out["gold" if gold else "in_corpus"] = row
        lines.append(f"| {name} | {row['questions']} | {row['f1']:.3f} | {row['answers']:.0%} | {row['precision']} | "
                     f"{row['abstains_answer_removed']:.0%} |")
    return "\n".join(lines), out


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def params_of(args: Any, train: list[Example], threshold: float, summary: dict[str, Any], heads: Any,
              span: Any = None, gate: tuple[dict[str, float], float, float] | None = None) -> dict[str, Any]:
    """Return the parameter file's content for weights fitted on `train` (`span`: the SpanParams
    read; `gate`: the answerability gate's weights, intercept and threshold)."""
    weights, intercept = as_weights(*fit(train))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    return {
        "version": args.out.stem,
        "model": f"logistic regression (scikit-learn, L2, C={C}, seed {SEED}, right spans weighted by F1^{WEIGHT_POWER}) "
                 "over byline.pipeline.fitted features",
        "fitted_on": {
            "sets": [f"rtqa-{y}" for y in args.years], "weeks": args.weeks,
            "questions": (
                "questions with a gold article" + (" and those whose answer is in the corpus" if args.in_corpus else "") +
                ", each asked again without any article holding its answer" +
                f"; the top {args.keep} sentences the product's retriever (each fold's fusion) and SentenceRanker find in the whole index"
                if args.index else
                "questions with a gold article; their gold articles' top 8 sentences as SentenceRanker ranks them"),
            **({"every": args.every} if args.every > 1 else {}),
            "question_ids_sha256": hashlib.sha256(" ".join(sorted(ex.id for ex in train)).encode()).hexdigest()[:16],
            "data_sha256": {f"rtqa-{y}/questions.jsonl": sha256(args.rtqa / f"rtqa-{y}" / "questions.jsonl") for y in args.years},
            "commit": commit, "label": "span token F1 with an answer ≥ 0.5",
        },
        "threshold": {
            "probability": threshold,
            "rule": f"lowest top-answer probability at which the out-of-fold answers (5 folds by quiz week) reach "
                    f"precision ≥ {args.target_precision} (token F1 ≥ 0.5), with at least {MIN_ANSWERED} answered",
            "target_precision": args.target_precision,
        },
        "out_of_fold": summary,
        "answerable": {
            "model": f"logistic regression (scikit-learn, L2, C={GATE_C}, seed {SEED}) over byline.pipeline.fitted."
                     "answerable_features of the out-of-fold reader's readings; label: asked with its articles "
                     "(not with every article holding its answer removed)",
            "weights": dict(sorted(gate[0].items())), "intercept": gate[1],
            "threshold": {"probability": gate[2], "max_false_abstention": args.max_false_abstention,
                          "rule": f"highest gate probability under which at most {args.max_false_abstention} of the "
                                  "answerable questions' out-of-fold gate probabilities fall"},
        } if gate else None,
        "rule_reader": not args.no_rule,
        # the ranked sentences these weights read and the vote sees (the product reads 8 when absent)
        **({"sentences": args.keep} if args.keep != KEEP else {}),
        # a reader that weighs a language model's answers: read only with reader_llm set (ReaderParams.load(voted=True))
        "llm_answers": {"file": args.llm_answers.name, "sha256": sha256(args.llm_answers), "model": args.llm_model,
                        "prompt": "prompts/vote_system.txt, prompts/vote_user.txt"} if args.llm_answers else None,
        "span_model": {"version": span.version, "sha256": span.sha256, "fitted_on": span.raw.get("fit", {}).get("years")} if span else None,
        "intercept": intercept,
        "weights": dict(sorted(weights.items())),
        "heads": heads.to_json(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rtqa", type=Path, default=Path("/work/rtqa"))
    ap.add_argument("--years", type=int, nargs="+", default=[2022])
    ap.add_argument("--weeks", choices=["all", "even", "odd"], default="all")
    ap.add_argument("--out", type=Path, default=ROOT / "assistant" / "pipeline" / "params" / "reader-v5.json",
                    help="the parameter file to write; its name without .json is its version")
    ap.add_argument("--report", type=Path, default=None, help="write the Markdown tables here too")
    ap.add_argument("--predictions", type=Path, default=None, help="write per-question out-of-fold answers (JSONL; with the gate, the gate's features of each too, for fit_gate.py)")
    ap.add_argument("--fold-dir", type=Path, default=None,
                    help="also write reader-fold-K.json here: fitted without fold K's weeks (for end-to-end out-of-fold runs)")
    ap.add_argument("--index", type=Path, default=None,
                    help="read the sentences the product finds in this index of the set's corpus (asked as of each "
                         "question's date, and again without its gold articles) instead of the gold articles' alone")
    ap.add_argument("--fusion-folds", type=Path, default=None, metavar="DIR",
                    help="with --index: each fold's retrieval fusion, from fit_retrieval.py --fold-dir DIR")
    ap.add_argument("--in-corpus", action="store_true",
                    help="with --index: also learn from questions without a gold article whose answer is in the corpus")
    ap.add_argument("--target-precision", type=float, default=TARGET_PRECISION,
                    help="the precision the confidence threshold is chosen for (abstention's rule when there is no gate)")
    ap.add_argument("--max-false-abstention", type=float, default=MAX_FALSE_ABSTENTION,
                    help="the answerability gate's threshold leaves at most this share of answerable questions unanswered")
    ap.add_argument("--no-gate", action="store_true", help="fit no answerability gate (abstain under the confidence threshold, as reader-v3 did)")
    ap.add_argument("--wordnet", type=Path, default=Path("/usr/share/wordnet"))
    ap.add_argument("--span-model", type=Path, default=None, metavar="JSON",
                    help="the span model whose scores are features (default: the shipped one, params/span-v2.json)")
    ap.add_argument("--no-span-model", action="store_true", help="fit without the span model's scores (as reader-v2 was)")
    ap.add_argument("--no-implied-heads", action="store_true",
                    help="do not read 'who' as 'which person' and 'where' as 'which place' (answer_type.IMPLIED; reader-v4 did not)")
    ap.add_argument("--no-rule", action="store_true", help="fit without the rule reader's judgement (as reader-v2 was)")
    ap.add_argument("--llm-answers", type=Path, default=None, metavar="JSONL",
                    help="add a language model's answers to the features (benchmarks/llm_answers.py on the same --cache); "
                         "the file written is read with reader_llm set to that model")
    ap.add_argument("--llm-model", default="Qwen2.5-Coder-1.5B-Instruct Q4_K_M (GGUF sha256 cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046)",
                    help="with --llm-answers: the model that wrote them, as the file records it")
    ap.add_argument("--keep", type=int, default=KEEP,
                    help="with --index: the sentences read per question (a --cache kept deeper is cut to them; "
                         "the product's SentenceRanker keeps 8)")
    ap.add_argument("--every", type=int, default=1,
                    help="fit and judge every N-th question only (with and without its answer): the ones "
                         "llm_answers.py --every N asks")
    ap.add_argument("--cache", type=Path, default=None,
                    help="keep the ranked sentences here (a pickle holding article text: keep it out of the repository)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if not all((args.wordnet / f).exists() for f in ("data.noun", "index.sense")):
        sys.exit(f"no WordNet with its sense index at {args.wordnet}: apt-get install wordnet-base wordnet-sense-index (or --wordnet DIR)")

    if args.keep != KEEP and not args.index:
        sys.exit(f"--keep needs --index: without it the reader reads its gold articles' top {KEEP} sentences")
    if args.in_corpus and not args.index:
        sys.exit("--in-corpus needs --index: questions without a gold article are read from the whole index")
    examples = questions(args.rtqa, args.years, args.in_corpus)
    if args.weeks != "all":
        weeks = sorted({ex.week for ex in examples})
        keep = {w for i, w in enumerate(weeks) if i % 2 == (0 if args.weeks == "even" else 1)}
        examples = [ex for ex in examples if ex.week in keep]
    if args.every > 1:
        chosen = set(sorted(ex.id for ex in examples)[:: args.every])
        examples = [ex for ex in examples if ex.id in chosen]
    texts = articles(args.rtqa, args.years, {a for ex in examples for a in ex.gold})
    log.info("%d questions, %d gold articles", len(examples), len(texts))
    store = None
    if args.index:
        from dataclasses import replace

        examples += [replace(ex, id=ex.id + "/answer-removed", answer_removed=True) for ex in examples]
        from byline import Assistant

        store = Assistant.open(args.index, create=False).store
    cached = args.cache and args.cache.exists()
    if cached:
        ranked = pickle.loads(args.cache.read_bytes())
        depth = max((len(kept[0]) for kept in ranked.values()), default=0)
        if depth < args.keep:
            sys.exit(f"{args.cache} keeps {depth} sentences a question, fewer than --keep {args.keep}: give a new --cache path")
        for ex in examples:
            kept = ranked.get(ex.id, ([], [], [], [], []))
            ex.sentences, ex.dense, ex.lexical, ex.evidence, ex.candidates = (list(x[: args.keep]) for x in kept)
    else:
        if args.index:
            retrieve_sentences(examples, args.index, args.fusion_folds, keep=args.keep)
        else:
            rank_sentences(examples, texts)
        if args.cache:
            args.cache.write_bytes(pickle.dumps(
                {ex.id: (ex.sentences, ex.dense, ex.lexical, ex.evidence, ex.candidates) for ex in examples}))
    span = None
    model = None
    if not args.no_span_model:
        from byline.pipeline.span_model import SpanModel, SpanParams

        span = SpanParams.load(args.span_model)
        if args.years and set(args.years) & set(span.raw.get("fit", {}).get("years", [])):
            sys.exit(f"span model {span.version} was fitted on {span.raw['fit']['years']}: fit the reader on other years")
        model = SpanModel(span)
    rule = make_rule_reader(texts, store)
    from byline.pipeline.answer_type import IMPLIED

    answers: dict[str, str] = {}
    if args.llm_answers:
        answers = {r["id"]: r["answer"] for r in map(json.loads, args.llm_answers.open(encoding="utf-8"))}
        lacking = [ex.id for ex in examples if ex.evidence and ex.id not in answers]
        if lacking:
            sys.exit(f"{args.llm_answers} lacks answers to {len(lacking)} questions (e.g. {lacking[0]}): "
                     "run benchmarks/llm_answers.py on the same --cache")
    heads = featurise(examples, args.wordnet, model, None if args.no_rule else rule, rule.store,
                      None if args.no_implied_heads else IMPLIED, answers)
    if store is not None:
        date_windows(examples, store)
    if answers:
        add_llm_features(examples, answers)
    rows, gate_feats = out_of_fold(examples)
    if answers:
        from byline.pipeline.vote import gate_features

        for ex, r, g in zip(examples, rows, gate_feats, strict=True):
            if ex.spans:
                g.update(gate_features(r["answer"], answers[ex.id], [e.text for e in ex.evidence]))
    gating = bool(args.index) and not args.no_gate  # the gate learns from the questions asked without their answer
    gate_p = gate_out_of_fold(examples, gate_feats) if gating else None
    for i, (r, ex) in enumerate(zip(rows, examples, strict=True)):
        r["answer_removed"] = ex.answer_removed
        r["gold"] = bool(ex.gold)
        if gate_p is not None:
            r["gate_p"] = gate_p[i]
            r["gate_features"] = gate_feats[i]
    rule_rows = rule_reader(examples, rule)
    threshold = choose_threshold([r["p"] for r in rows], [r["f1"] >= 0.5 for r in rows], args.target_precision)
    text, summary = report(rows, rule_rows, threshold, args.target_precision, args.max_false_abstention)
    print(text)
    if args.report:
        args.report.write_text(text, encoding="utf-8")
    if args.predictions:
        args.predictions.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")

    def gate_of(keep: list[int]) -> tuple[dict[str, float], float, float] | None:
        return None if gate_p is None else gate_with_threshold(examples, gate_feats, gate_p, keep, args.max_false_abstention)

    params = params_of(args, [ex for ex in examples if ex.spans], threshold, summary, heads, span, gate_of(list(range(len(examples)))))
    if args.fold_dir:
        args.fold_dir.mkdir(parents=True, exist_ok=True)
        fold_of = folds(examples)
        for f in range(FOLDS):
            train = [ex for ex in examples if fold_of[ex.week] != f and ex.spans]
            seen = [r for r in rows if r["fold"] != f]
            t = choose_threshold([r["p"] for r in seen], [r["f1"] >= 0.5 for r in seen], args.target_precision)
            fold_params = params_of(args, train, t, {"fold": f, "weeks_left_out": sorted(
                w for w, k in fold_of.items() if k == f)}, heads, span,
                gate_of([i for i, ex in enumerate(examples) if fold_of[ex.week] != f]))
            (args.fold_dir / f"reader-fold-{f}.json").write_text(json.dumps(fold_params, ensure_ascii=False), encoding="utf-8")
        log.info("wrote %d fold parameter files to %s", FOLDS, args.fold_dir)
    weights = params["weights"]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(params, indent=1, sort_keys=False, ensure_ascii=False) + "\n", encoding="utf-8")
    log.info("wrote %s (%d weights, %d head nouns, %.0f KB)", args.out, len(weights), len(heads.heads), args.out.stat().st_size / 1024)


if __name__ == "__main__":
    main()
