"""Read: parse the ranked sentences, pick each one's short-answer span, and score the evidence."""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any, Protocol

from byline.pipeline import extract
from byline.pipeline.nlp import parse
from byline.pipeline.question import Question
from byline.pipeline.words import WordVectors
from byline.types import Candidate, Sentence, Span

if TYPE_CHECKING:
    from byline.index.store import IndexStore
    from byline.pipeline.vote import Vote

_PRONOUNS = {"he", "she", "they", "his", "her", "their", "him", "them"}
_WORD = re.compile(r"[\w’'-]+")
_NAME_LABELS = {"PERSON", "ORG", "GPE", "NORP", "LOC", "FAC", "EVENT", "PRODUCT", "WORK_OF_ART", "LAW"}


class Reader(Protocol):
    """A pipeline step that reads ranked sentences: each gets its answer span and final score.

    `abstains` decides whether the best candidate answers at all; `confidence` turns its score
    into the reported confidence. With `reader_llm` set, both are given a language model's `vote`
    (`vote.py`) to weigh; otherwise they are called without one.
    """

    def run(self, question: Question, candidates: list[Candidate], vote: Vote | None = None) -> list[Candidate]:
        """Return the candidates with `span`, `score` and `missing` filled in, best first."""
        ...

    def abstains(self, ranked: list[Candidate], vote: Vote | None = None) -> bool:
        """Return True when the read candidates (best first) should not answer the question."""
        ...

    def confidence(self, best: Candidate) -> float:
        """Return how sure the reader is of the best candidate's answer (0..1)."""
        ...


class RuleReader:
    """The reader Byline has always had: spaCy parse, slot-filling spans, hand-set weights.

    A sentence's final score adds, with these weights: embedding similarity and shared words
    (0.35 each), the passage prior (0.1), the share of the question's names it mentions (0.25),
    words close in meaning (0.1) and how directly its span fills the question's slot (0.5); it
    loses 0.2 for each contradiction ("the Russian delegation" when Ukraine's was asked about).
    Only the first `soft_sentences` sentences have their words compared by meaning (each new
    word costs a model call).
    """

    def __init__(
        self, store: IndexStore, words: WordVectors, *, abstain_below: float = 0.7,
        soft_sentences: int = 5,
    ) -> None:
        self.store = store
        self.words = words
        self.abstain_below = abstain_below
        self.soft_sentences = soft_sentences

    def run(self, question: Question, candidates: list[Candidate], vote: Vote | None = None) -> list[Candidate]:
        """Return the candidates scored and with their spans, best first (no vote is weighed)."""
        q = question
        docs = parse([c.sentence.text for c in candidates])
        self.words.embed(
            {t.lemma_.lower() for d in docs for t in d if t.pos_ in {"VERB", "NOUN", "ADJ", "PROPN"} and not t.is_stop}
            | {t.lemma_.lower() for t in q.doc}
        )
        soft = self.words.soft_matches(q, docs[: self.soft_sentences])
        wanted = entity_keys(q)
        missing = missing_names(self.store, q, [c.sentence for c in candidates])
        for cand, doc, lacks in zip(candidates, docs, missing, strict=True):
            matches = extract.matched_tokens(q, doc, soft)
            roles = extract.anchors(q, doc, self.words.similar)
            spans = extract.candidates(q, doc, matches, roles)
            cand.span = spans[0] if spans else None
            cand.missing = lacks
            covered = self._coverage(wanted, cand.sentence, doc)
            soft_share = sum(soft.get(t.lemma_.lower(), 0.0) for t in doc) / max(1, len(q.content))
            role = role_link(cand.span, q)
            cand.score = (
                0.35 * cand.dense + 0.35 * cand.lexical + 0.1 * cand.score_prior
                + 0.25 * covered + 0.1 * min(1.0, soft_share) + 0.5 * role
                - 0.2 * extract.conflicts(q, doc)
            )
            if q.typed:  # a name of the wanted kind, in the slot the question asks about
                typed = cand.span is not None and cand.span.typed
                cand.score += (0.1 if role > 0 else -0.1) if typed else -0.2
            if cand.span is not None:
                cand.score += 0.05 * max(-1.0, min(1.0, cand.span.score))
        return sorted(candidates, key=lambda c: c.score, reverse=True)

    def abstains(self, ranked: list[Candidate], vote: Vote | None = None) -> bool:
        """Return True when the best score is under `abstain_below` or its article lacks a name the
        question asks about."""
        return not ranked or ranked[0].score < self.abstain_below or ranked[0].missing > 0

    def confidence(self, best: Candidate) -> float:
        """Return the score as a 0..1 value, 0.5 at the abstention threshold (not calibrated)."""
        value = 1.0 / (1.0 + math.exp(-12 * (best.score - self.abstain_below)))
        return round(value * (0.2 if best.missing else 1.0), 3)

    def _coverage(self, wanted: list[str], sentence: Sentence, doc: Any) -> float:
        """Return the share of the question's names the sentence mentions.

        A name counts two-thirds when the sentence says "he/she/they" and one of the two
        sentences before it names them ("“...,” he said in a brief statement.").
        """
        if not wanted:
            return 1.0
        here = keys_of(sentence.text)
        before: set[str] | None = None
        total = 0.0
        for k in wanted:
            if k in here:
                total += 1.0
                continue
            if before is None:
                pronoun = any(t.lower_ in _PRONOUNS for t in doc)
                earlier = self.store.sentences(
                    sentence.article_id, max(0, sentence.position - 2), sentence.position - 1
                ) if pronoun and sentence.position > 0 else []
                before = keys_of(" ".join(s.text for s in earlier))
            total += 0.67 if k in before else 0.0
        return total / len(wanted)


def role_link(span: Span | None, q: Question) -> float:
    """Return how well the sentence's answer fills the question's slot; an answer of the
    wrong kind (a phrase where a sum of money was asked for) fills nothing."""
    if span is None or (q.typed and not span.typed):
        return 0.0
    return span.role


def entity_keys(q: Question) -> list[str]:
    """Return keys of the names in the question: named entities and other proper nouns."""
    keys: list[str] = []
    for text, label in q.entities:
        if label in _NAME_LABELS:
            keys.extend(extract.key(w) for w in text.split() if w[:1].isupper())
    keys.extend(extract.key(t.text) for t in q.doc if t.pos_ == "PROPN" and t.text[:1].isupper() and t.i > 0)
    return list(dict.fromkeys(k for k in keys if len(k) > 1))


def keys_of(text: str) -> set[str]:
    """Return the matching keys of every word of `text`."""
    return {extract.key(w) for w in _WORD.findall(text)}


def missing_names(store: IndexStore, question: Question, sentences: list[Sentence]) -> list[int]:
    """Return, per sentence, how many of the question's names its article (title and text) lacks."""
    wanted = entity_keys(question)
    article_keys: dict[str, set[str]] = {}
    out = []
    for s in sentences:
        if s.article_id not in article_keys:
            article = store.article(s.article_id)
            article_keys[s.article_id] = keys_of((article.title + " " + article.text) if article else s.text)
        out.append(sum(1 for k in wanted if k not in article_keys[s.article_id]))
    return out


def answer_key(text: str) -> str:
    """Return an answer's text lower-cased with its spaces evened out, to compare answers by."""
    return " ".join(text.lower().split())
