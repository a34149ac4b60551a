"""Answerer: question → passages → scored sentences → short answer with citations, or abstain."""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from byline import extract
from byline.compose import ExtractiveComposer
from byline.conversation import standalone
from byline.nlp import parse, preload
from byline.question import Question, analyse
from byline.retrieve import search
from byline.types import Answer, Citation
from byline.index.types import Hit, Sentence

if TYPE_CHECKING:
    from byline.assistant import Filters
    from byline.settings import Settings
    from byline.index.store import IndexStore

log = logging.getLogger(__name__)

NOT_FOUND = "I couldn't find that in the indexed articles."
RERANK = 8  # sentences parsed and examined closely per question
SOFT_MATCH = 0.33  # word similarity (MiniLM) from which two words may mean the same thing
SUPPORT_MARGIN = 0.2  # a second sentence is cited only if it gives the same answer, nearly as well
WORD_CACHE_SIZE = 50_000  # word vectors kept (384 floats each: about 77 MB at most)
SOFT_SENTENCES = 5  # sentences whose words are compared with the question's (each word costs a model call)
SOFT_FLOOR, SOFT_SAME = 0.25, 0.5  # similarity read as "unrelated" and as "the same idea"
_PRONOUNS = {"he", "she", "they", "his", "her", "their", "him", "them"}
_WORD = re.compile(r"[\w’'-]+")


@dataclass(slots=True)
class Candidate:
    """A sentence considered as evidence, with the scores that rank it."""

    sentence: Sentence
    row: int
    hit: Hit
    hit_rank: int
    dense: float = 0.0
    lexical: float = 0.0
    score: float = 0.0
    span: extract.Span | None = None
    missing: int = 0  # question entities absent from the sentence's article
    score_prior: float = 0.0  # from the passage's retrieval rank (and the previous turn)


class Answerer:
    """Turns questions into Answers over one IndexStore."""

    def __init__(self, store: IndexStore, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.composer = ExtractiveComposer()
        self._word_vectors: dict[str, np.ndarray] = {}
        if store.embedder.has_query_encoder:
            preload()

    def refresh(self) -> None:
        """Forget caches that depend on the index contents."""
        self.store.refresh()

    def answer(self, question: str, *, filters: Filters, history: list[tuple[str, Answer]]) -> Answer:
        """Return the answer to one question."""
        text = " ".join(question.split())
        refusal = self._refusal(text)
        if refusal:
            return Answer(question=question, text=refusal, abstained=True, note="refused")
        self.store.refresh()
        if self.store.is_empty:
            return Answer(
                question=question, abstained=True, note="empty index",
                text='No articles are indexed yet — add some first ("byline index add PATH").',
            )
        asked = standalone(text, history)
        vector = self.store.embedder.embed_query(asked)
        hits = search(self.store, asked, vector, filters=filters, top=self.settings.top_chunks)
        parsed = analyse(asked)
        previous = {c.article_id for _, a in history[-1:] for c in a.citations}
        ranked = self._rank(parsed, vector, hits, previous)
        base = Answer(question=question, text=NOT_FOUND, abstained=True, standalone_question=asked,
                      retrieved=tuple(hits))
        if not ranked:
            return base
        best = ranked[0]
        log.debug("best %.3f %s", best.score, best.sentence.text)
        if best.score < self.settings.abstain_below or best.missing:
            confidence = _confidence(best.score, self.settings.abstain_below) * (0.2 if best.missing else 1.0)
            return replace(base, confidence=round(confidence, 3))
        supporting = [best] + [
            c for c in ranked[1 : self.settings.top_citations * 3]
            if c.span is not None and best.span is not None
            and c.span.text.lower() == best.span.text.lower()
            and c.span.role > 0 and c.score >= best.score - SUPPORT_MARGIN
            and c.sentence.article_id + str(c.sentence.position) != best.sentence.article_id + str(best.sentence.position)
        ][: self.settings.top_citations - 1]
        citations = tuple(self._cite(c) for c in supporting)
        short = best.span.text if best.span is not None else best.sentence.text
        return replace(
            base,
            text=self.composer.compose(asked, short, citations),
            abstained=False,
            citations=citations,
            confidence=_confidence(best.score, self.settings.abstain_below),
        )

    def _refusal(self, text: str) -> str:
        if not text:
            return "Please type a question about the articles, e.g. “Who leads Ukraine's delegation?”"
        if len(text) > self.settings.max_question_chars:
            return (
                f"That question is {len(text):,} characters long; please ask it in under "
                f"{self.settings.max_question_chars} characters."
            )
        if not re.search(r"[^\W\d_]{2,}", text):
            return "I need a question in words to search the articles, e.g. “Who leads Ukraine's delegation?”"
        return ""

    # -- ranking ----------------------------------------------------------------------------

    def _rank(self, q: Question, vector: np.ndarray, hits: list[Hit], previous: set[str]) -> list[Candidate]:
        pool = self._pool(hits)
        if not pool:
            return []
        vectors = self.store.sentence_vectors([c.row for c in pool])
        dense = vectors @ vector.astype(np.float32)
        stems = [_stems(c.sentence.text) for c in pool]
        q_stems = _stems(" ".join(q.content) + " " + " ".join(t for t, _ in q.entities))
        idf = {s: math.log(1 + len(pool) / (1 + sum(s in st for st in stems))) for s in q_stems}
        total = sum(idf.values()) or 1.0
        for cand, sim, st in zip(pool, dense, stems, strict=True):
            cand.dense = float(sim)
            cand.lexical = sum(w for s, w in idf.items() if s in st) / total
            prior = 1.0 / (1.0 + 0.05 * (cand.hit_rank - 1))
            bonus = 0.05 if cand.sentence.article_id in previous else 0.0
            cand.score_prior = prior + bonus
            cand.score = 0.5 * cand.dense + 0.4 * cand.lexical + 0.1 * cand.score_prior
        pool.sort(key=lambda c: c.score, reverse=True)
        head = pool[:RERANK]
        self._examine(q, head)
        head.sort(key=lambda c: c.score, reverse=True)
        return head

    def _pool(self, hits: list[Hit]) -> list[Candidate]:
        seen: dict[tuple[str, int], Candidate] = {}
        for rank, hit in enumerate(hits, start=1):
            chunk = hit.chunk
            sentences = self.store.sentences(chunk.article_id, chunk.first, chunk.last)
            rows = self.store.sentence_rows(chunk.article_id, chunk.first, chunk.last)
            for sentence, row in zip(sentences, rows, strict=True):
                k = (sentence.article_id, sentence.position)
                if k not in seen and len(sentence.text) > 15:
                    seen[k] = Candidate(sentence, row, hit, rank)
        return list(seen.values())

    def _examine(self, q: Question, head: list[Candidate]) -> None:
        """Parse the top sentences; reward typed answers and shared ideas, punish contradictions."""
        docs = parse([c.sentence.text for c in head])
        self._embed_words(
            {t.lemma_.lower() for d in docs for t in d if t.pos_ in {"VERB", "NOUN", "ADJ", "PROPN"} and not t.is_stop}
            | {t.lemma_.lower() for t in q.doc}
        )
        soft = self._soft_matches(q, docs[:SOFT_SENTENCES])
        wanted = _entity_keys(q)
        article_text: dict[str, set[str]] = {}
        for cand, doc in zip(head, docs, strict=True):
            matches = extract.matched_tokens(q, doc, soft)
            roles = extract.anchors(q, doc, self._similar)
            spans = extract.candidates(q, doc, matches, roles)
            cand.span = spans[0] if spans else None
            if cand.sentence.article_id not in article_text:
                article = self.store.article(cand.sentence.article_id)
                article_text[cand.sentence.article_id] = _keys_of(
                    (article.title + " " + article.text) if article else ""
                )
            here = article_text[cand.sentence.article_id]
            cand.missing = sum(1 for k in wanted if k not in here)
            covered = self._coverage(wanted, cand.sentence, doc)
            soft_share = sum(soft.get(t.lemma_.lower(), 0.0) for t in doc) / max(1, len(q.content))
            role = _role_link(cand.span, q)
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

    def _coverage(self, wanted: list[str], sentence: Sentence, doc: Any) -> float:
        """Return the share of the question's names the sentence mentions.

        A name counts two-thirds when the sentence says "he/she/they" and one of the two
        sentences before it names them ("“...,” he said in a brief statement.").
        """
        if not wanted:
            return 1.0
        here = _keys_of(sentence.text)
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
                before = _keys_of(" ".join(s.text for s in earlier))
            total += 0.67 if k in before else 0.0
        return total / len(wanted)

    def _embed_words(self, words: set[str]) -> dict[str, np.ndarray]:
        """Return the vectors of `words`, embedding the unseen ones in one model call."""
        cache = self._word_vectors
        missing = sorted(w for w in words if w not in cache)
        if missing:
            if len(cache) + len(missing) > WORD_CACHE_SIZE:
                # a long-running server must not grow without bound; other threads keep the old one
                cache = self._word_vectors = {w: cache[w] for w in words if w in cache}
            for w, v in zip(missing, self.store.embedder.embed_small(missing), strict=True):
                cache[w] = v
        return {w: cache[w] for w in words}

    def _similar(self, word: str, other: str) -> float:
        """Return how surely two words mean the same idea (1 when equal, 0 when unrelated)."""
        if word == other:
            return 1.0
        vectors = self._embed_words({word, other})
        return _strength(float(vectors[word] @ vectors[other]))

    def _soft_matches(self, q: Question, docs: list[Any]) -> dict[str, float]:
        """Return sentence lemmas close in meaning to a question word that they do not repeat."""
        q_words = [w for w in q.content if w.isalpha()]
        words = sorted({
            t.lemma_.lower() for d in docs for t in d
            if t.is_alpha and not t.is_stop and t.pos_ in {"VERB", "NOUN"} and t.lemma_.lower() not in q_words
        })
        if not q_words or not words:
            return {}
        vectors = self._embed_words(set(q_words) | set(words))
        qv = np.vstack([vectors[w] for w in q_words])
        wv = np.vstack([vectors[w] for w in words])
        sims = (wv @ qv.T).max(axis=1)
        strengths = {w: _strength(float(s)) for w, s in zip(words, sims, strict=True)}
        return {w: s for w, s in strengths.items() if s > 0}

    # -- citing -----------------------------------------------------------------------------

    def _cite(self, cand: Candidate) -> Citation:
        s = cand.sentence
        article = self.store.article(s.article_id)
        info_title = article.title if article else s.article_id
        paragraph, p_start = _paragraph(article.text if article else s.text, s.start, s.end)
        a_start = a_end = -1
        if cand.span is not None:
            a_start, a_end = cand.span.start, cand.span.end
        return Citation(
            text=s.text, start=s.start, end=s.end, article_id=s.article_id, title=info_title,
            source=article.source if article else "", published=article.published if article else "",
            url=article.url if article else "", score=round(cand.score, 4), position=s.position,
            paragraph=paragraph, paragraph_start=p_start, answer_start=a_start, answer_end=a_end,
        )


def _strength(similarity: float) -> float:
    """Return word similarity as match strength (0 unrelated … 1 the same idea).

    MiniLM rates single words low (lead ≈ head 0.42, speak ≈ tell 0.35), so the scale is
    stretched between SOFT_FLOOR and SOFT_SAME.
    """
    if similarity < SOFT_MATCH:
        return 0.0
    return min(1.0, (similarity - SOFT_FLOOR) / (SOFT_SAME - SOFT_FLOOR))


def _role_link(span: extract.Span | None, q: Question) -> float:
    """Return how well the sentence's answer fills the question's slot; an answer of the
    wrong kind (a phrase where a sum of money was asked for) fills nothing."""
    if span is None or (q.typed and not span.typed):
        return 0.0
    return span.role


def _paragraph(text: str, start: int, end: int) -> tuple[str, int]:
    p_start = text.rfind("\n\n", 0, start)
    p_start = 0 if p_start < 0 else p_start + 2
    p_end = text.find("\n\n", end)
    return text[p_start : p_end if p_end >= 0 else len(text)], p_start


def _stems(text: str) -> set[str]:
    from byline.index.lexical import _stemmer

    words = [w.lower() for w in _WORD.findall(text)]
    return set(_stemmer().stemWords(words)) | {extract.key(w) for w in words}


def _entity_keys(q: Question) -> list[str]:
    """Return keys of the names in the question: named entities and other proper nouns."""
    keys: list[str] = []
    for text, label in q.entities:
        if label in {"PERSON", "ORG", "GPE", "NORP", "LOC", "FAC", "EVENT", "PRODUCT", "WORK_OF_ART", "LAW"}:
            keys.extend(extract.key(w) for w in text.split() if w[:1].isupper())
    keys.extend(extract.key(t.text) for t in q.doc if t.pos_ == "PROPN" and t.text[:1].isupper() and t.i > 0)
    return list(dict.fromkeys(k for k in keys if len(k) > 1))


def _keys_of(text: str) -> set[str]:
    return {extract.key(w) for w in _WORD.findall(text)}


def _confidence(score: float, threshold: float) -> float:
    return round(1.0 / (1.0 + math.exp(-12 * (score - threshold))), 3)
