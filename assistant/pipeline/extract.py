"""Short-answer extraction: the span of a cited sentence that answers the question.

Typed questions ("who", "where", "how much", "which city") take a named entity of the wanted
kind; other "what/which" questions take the phrase the question's words point at in the parse
(the object of the matched verb, the noun a matched relative clause describes, the complement of
"is"). Candidates that repeat the question are pushed down; candidates tied to the question's
words in the dependency tree are pulled up.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from byline.pipeline.question import MONEY, WH_WORDS, Question
from byline.types import Span

_OBJECT_DEPS = {"dobj", "attr", "xcomp", "ccomp", "oprd", "acomp", "pobj", "npadvmod", "nsubjpass", "agent"}


def key(word: str) -> str:
    """Return a matching key: lower-cased and roughly stemmed.

    Capitalised words keep their first five letters, so a country and its people match
    (Ukraine ≈ Ukrainian, Russia ≈ Russian) without a table of demonyms.
    """
    w = re.sub(r"(['’]s)$", "", word.strip(".,'’\"“”"))
    if w[:1].isupper() and len(w) >= 5:
        return w[:5].lower()
    w = w.lower()
    for ending in ("ians", "ian", "ans", "an", "ese", "ish", "e", "a", "s"):
        if w.endswith(ending) and len(w) - len(ending) >= 4:
            return w[: -len(ending)]
    return w


def question_keys(question: Question) -> set[str]:
    """Return the matching keys of the question's content words and entity words."""
    keys = {key(w) for w in question.content}
    keys.update(key(t.text) for t in question.doc if t.lemma_.lower() in question.content)
    for text, _ in question.entities:
        keys.update(key(w) for w in text.split())
    keys.update(key(t.text) for t in question.doc if t.pos_ == "PROPN")
    return keys


def matched_tokens(question: Question, doc: Any, soft: dict[str, float]) -> dict[int, float]:
    """Return sentence token index → match strength for tokens echoing the question."""
    keys = question_keys(question)
    found: dict[int, float] = {}
    for t in doc:
        if t.is_punct or t.is_stop:
            continue
        if key(t.text) in keys or key(t.lemma_) in keys:
            found[t.i] = 1.0
        elif t.lemma_.lower() in soft:
            found[t.i] = soft[t.lemma_.lower()]
    return found


def conflicts(question: Question, doc: Any) -> int:
    """Count question words whose modifier in the sentence names a different place or group.

    "Who leads Ukraine's delegation?" against "the Russian delegation": the sentence talks about
    another delegation, however many words it shares.
    """
    wanted: dict[str, set[str]] = {}
    for t in question.doc:
        for child in t.children:
            if child.ent_type_ in {"GPE", "NORP", "ORG"} and child.dep_ in {"poss", "amod", "compound"}:
                wanted.setdefault(t.lemma_.lower(), set()).add(key(child.text))
    count = 0
    for t in doc:
        mods = wanted.get(t.lemma_.lower())
        if not mods:
            continue
        for child in t.children:
            if (
                child.ent_type_ in {"GPE", "NORP", "ORG"}
                and child.dep_ in {"poss", "amod", "compound"}
                and key(child.text) not in mods
            ):
                count += 1
    return count


def anchors(question: Question, doc: Any, similar: Callable[[str, str], float]) -> dict[int, float]:
    """Return sentence tokens playing the role the wh-word hangs on, with a strength (0..1).

    For "Who leads Ukraine's delegation?" the wh-word is the subject of "lead": tokens meaning
    "lead" (headed, head) are anchors, stronger when their own arguments echo the question's
    ("the Ukrainian side would be headed by ..."). For "What is the task of X?" the anchors are
    the forms of "be" whose subject echoes "task".
    """
    wh = next((t for t in question.doc if t.lower_ in WH_WORDS), None)
    if wh is None:
        return {}
    phrase = wh  # the wh-phrase: "which US official", "how many soldiers"
    while (
        phrase.dep_ in {"det", "advmod", "amod", "poss", "nummod"}
        and phrase.head.i != phrase.i
        and phrase.head.pos_ in {"NOUN", "PROPN", "ADJ", "ADV", "NUM"}
    ):
        phrase = phrase.head
    head = phrase.head if phrase.head.i != phrase.i else phrase
    while (head.pos_ == "ADP" or head.dep_ in {"aux", "auxpass"}) and head.head.i != head.i:
        head = head.head  # "on which day did it begin" → begin; "what are they preparing" → preparing
    if head.lemma_ in {"do", "have"}:  # misparsed "How much did the tunnel cost?": the last content word
        content = [t for t in question.doc if t.pos_ in {"VERB", "NOUN"} and t.i > phrase.i and not t.is_stop]
        head = content[-1] if content else head
    copula = next(
        (t for t in question.doc if t.lemma_ == "be" and t.dep_ not in {"aux", "auxpass"}
         and any(c.dep_ in {"attr", "nsubj"} and c.i != wh.i for c in t.children)),
        None,
    )
    if copula is not None:
        subject = next(c for c in copula.children if c.dep_ in {"attr", "nsubj"} and c.i != wh.i)
        return _copula_anchors(_keys(subject.subtree, skip={wh.i}), doc)
    arg_keys = _keys(head.subtree, skip={head.i, wh.i})
    target = head.lemma_.lower()
    found: dict[int, float] = {}
    for t in doc:
        if t.is_stop or t.is_punct or t.pos_ not in {"VERB", "NOUN", "ADJ", "PROPN"}:
            continue
        strength = similar(t.lemma_.lower(), target)
        if strength <= 0:
            continue
        own = _keys(t.subtree, skip={t.i})
        if t.dep_ in {"relcl", "acl"}:
            own |= _keys(t.head.subtree, skip={t.i})
        found[t.i] = strength * (_overlap(arg_keys, own) if arg_keys else 1.0)
    if question.wh in {"how-many", "how-much"} and phrase.pos_ == "NOUN":
        for t in doc:  # the counted thing: "$17m profit", "tens of thousands of soldiers"
            if t.lemma_.lower() == phrase.lemma_.lower():
                found[t.i] = max(found.get(t.i, 0.0), 1.0)
    return {i: v for i, v in found.items() if v > 0}




def _keys(tokens: Any, skip: set[int]) -> set[str]:
    return {
        key(t.text) for t in tokens
        if t.i not in skip and not (t.is_stop or t.is_punct) and t.lower_ not in WH_WORDS
    }


def _copula_anchors(subject_keys: set[str], doc: Any) -> dict[int, float]:
    """Return forms of "be" whose subject echoes the question's ("The task of X is ...")."""
    found: dict[int, float] = {}
    for t in doc:
        if t.lemma_ != "be":
            continue
        subject = [c for c in t.children if c.dep_ in {"nsubj", "nsubjpass", "attr"}]
        echo = _overlap(subject_keys, {key(w.text) for c in subject for w in c.subtree})
        if echo:
            found[t.i] = echo
    return found


def _overlap(wanted: set[str], have: set[str]) -> float:
    return len(wanted & have) / len(wanted) if wanted else 0.0


def candidates(
    question: Question, doc: Any, matches: dict[int, float], roles: dict[int, float] | None = None
) -> list[Span]:
    """Return scored answer spans from one parsed sentence, best first."""
    keys = question_keys(question)
    roles = roles or {}
    spans: list[Span] = []
    if question.typed:
        for ent in doc.ents:
            if ent.label_ not in question.expected:
                continue
            if all(key(w.text) in keys for w in ent if not w.is_punct):
                continue  # the question's own entity is not its answer
            span = _whole_words(ent)
            if ent.label_ == "CARDINAL" and question.expected == MONEY:
                span = _with_currency(span)
                if span.end == ent.end:
                    continue  # a bare number is not a sum of money
            spans.append(_score(question, span, matches, keys, roles, typed=True))
    if not spans:
        for span in _phrases(doc, {**matches, **roles}):
            if all(key(w.text) in keys or w.is_stop or w.is_punct for w in span):
                continue
            spans.append(_score(question, span, matches, keys, roles, typed=False))
    spans.sort(key=lambda s: s.score, reverse=True)
    return spans


def _whole_words(span: Any) -> Any:
    """Extend a span over characters glued to it without a space: "£" "2" "m" → "£2m"."""
    doc = span.doc
    start, end = span.start, span.end
    while start > 0 and not doc[start - 1].whitespace_ and not doc[start - 1].is_punct | doc[start - 1].is_currency:
        start -= 1
    while start > 0 and doc[start - 1].is_currency and not doc[start - 1].whitespace_:
        start -= 1
    while end < len(doc) and not doc[end - 1].whitespace_ and not doc[end].is_punct:
        end += 1
    return doc[start:end]


_CURRENCIES = {"euro", "dollar", "pound", "yen", "franc", "rupee", "yuan", "rouble", "ruble", "peso", "krona", "krone", "cent", "penny", "pence", "sterling"}


def _with_currency(span: Any) -> Any:
    """Extend a bare number over the currency named after it: "1.2 billion" → "1.2 billion euros"."""
    doc = span.doc
    if span.end < len(doc) and doc[span.end].lemma_.lower() in _CURRENCIES:
        return doc[span.start : span.end + 1]
    return span


def _phrases(doc: Any, matches: dict[int, float]) -> list[Any]:
    """Return phrase candidates: noun chunks and the subtrees the matched words govern."""
    found: dict[tuple[int, int], Any] = {}
    for chunk in doc.noun_chunks:
        found[(chunk.start, chunk.end)] = chunk
    for i in matches:
        token = doc[i]
        for child in token.children:
            if child.dep_ in _OBJECT_DEPS:
                sub = _trim(doc, child)
                found[(sub.start, sub.end)] = sub
            if child.dep_ == "prep":
                for grand in child.children:
                    if grand.dep_ == "pobj":
                        sub = _trim(doc, grand)
                        found[(sub.start, sub.end)] = sub
        if token.dep_ == "relcl":  # "sanctions that have been threatened": the noun described
            head = token.head
            left = min(t.i for t in head.subtree if t.i <= head.i)
            end = token.left_edge.i
            while end > left and doc[end - 1].dep_ in {"punct", "relcl"} | {"nsubj", "nsubjpass"}:
                end -= 1
            found[(left, end)] = doc[left:end]
    return [s for s in found.values() if 0 < len(s) <= 25]


def _trim(doc: Any, token: Any) -> Any:
    """Return the subtree of `token` without edge punctuation."""
    start, end = token.left_edge.i, token.right_edge.i + 1
    while start < end and (doc[start].is_punct or doc[start].dep_ == "cc"):
        start += 1
    while end > start and doc[end - 1].is_punct:
        end -= 1
    return doc[start:end]


def _score(
    question: Question, span: Any, matches: dict[int, float], keys: set[str],
    roles: dict[int, float], *, typed: bool,
) -> Span:
    words = [t for t in span if not (t.is_punct or t.is_stop)]
    repeats = sum(1 for t in words if key(t.text) in keys or key(t.lemma_) in keys)
    repeat_share = repeats / max(1, len(words))
    score = 0.5 if typed else 0.0
    inside = set(range(span.start, span.end))
    role = _linked(span, roles, inside)
    if (
        question.asks_subject and not roles and span.root.dep_ in {"nsubj", "nsubjpass"}
        and span.root.head.dep_ == "ROOT"
    ):
        role = max(role, 0.3)  # nothing echoes the question's verb: its subject is the best guess
    if not typed and question.head_noun and any(
        t.pos_ == "PROPN" and key(t.text) not in keys for t in span
    ):
        score += 0.2  # "which player" wants a name, "what meeting" a named meeting
    score += 0.6 * role
    if typed and question.head_noun and _counts(span, question.head_noun):
        score += 0.3
    if not typed and question.head_noun and span.root.lemma_.lower() == question.head_noun:
        score += 0.3
        repeat_share = max(0.0, repeat_share - 1 / max(1, len(words)))
    score -= 0.6 * repeat_share
    linked = _linked(span, matches, inside)
    score += 0.35 * linked
    if matches:
        distance = min(min(abs(i - span.start), abs(i - (span.end - 1))) for i in matches)
        score -= 0.015 * min(distance, 20)
    if not typed:
        score -= 0.01 * max(0, len(span) - 8)
    text = span.text
    doc_start = span.doc[span.start].idx
    return Span(doc_start, doc_start + len(text), text, score, typed, role)


def _counts(span: Any, noun: str) -> bool:
    """Return True when the span quantifies `noun`: "tens of thousands of soldiers", "12 soldiers"."""
    root = span.root
    near = [root.head, *root.children, *(g for c in root.children for g in c.children)]
    return any(t.lemma_.lower() == noun for t in near)


def _linked(span: Any, matches: dict[int, float], inside: set[int]) -> float:
    """Return how directly the span hangs on a matched question word in the parse (0..1)."""
    best = 0.0
    for token in span:
        up = token.head.head if token.head.pos_ == "ADP" else token.head  # "headed by X", "began on X"
        for near, weight in ((up, 1.0), (up.head, 0.5)):
            if near.i not in inside and near.i in matches:
                best = max(best, weight * matches[near.i])
        for child in token.children:
            if child.i not in inside and child.i in matches:
                best = max(best, 0.8 * matches[child.i])
            if child.pos_ == "ADP":  # "thousands of soldiers"
                for grand in child.children:
                    if grand.i not in inside and grand.i in matches:
                        best = max(best, 0.8 * matches[grand.i])
    return best
