"""Synthetic reading-comprehension pairs for the span model, made from corpus sentences by cloze
translation (Lewis, Denoyer and Riedel, "Unsupervised Question Answering by Cloze Translation",
ACL 2019).

The quiz pairs `fit_span.py` learns from are distantly supervised: a sentence that holds the
answer string often does not say what the question asks, so the model learns which kinds of span
quizzes want more than where a sentence answers a question ("On which day did the manoeuvring
begin?" → "Istanbul"). A cloze pair teaches the alignment: a named entity or noun chunk of a
sentence is the answer, and the question is the sentence around it with the answer replaced by a
wh-phrase of its kind, moved to the front, with words dropped and locally shuffled so that copying
the sentence's word order does not find it; half of the questions are led by another sentence of
the article, as a quiz question leads with the week's news ("Tony Dow died this week at 77. He was
best known for which show?"), so that the lead's words are not taken for the answer's
neighbours. The same question paired with another sentence of the article that lacks the answer
teaches the null span.

Nothing here is fitted; every choice below is part of the recipe that `fit_span.py --cloze`
records, and a rerun with the same seed writes the same pairs.
"""

from __future__ import annotations

import json
import logging
import random
from pathlib import Path
from typing import Any

log = logging.getLogger("cloze")

# wh-phrases a quiz uses for each kind of answer (spaCy's entity labels; NP: a plain noun chunk)
WH: dict[str, tuple[str, ...]] = {
    "PERSON": ("who", "which person", "who"),
    "ORG": ("which organisation", "which company", "what group", "what"),
    "GPE": ("where", "which country", "which city", "which state"),
    "LOC": ("where", "which region"),
    "FAC": ("where", "which building", "what"),
    "NORP": ("which nationality", "which group", "what"),
    "DATE": ("when", "on which day", "in what year", "when"),
    "TIME": ("when", "at what time"),
    "CARDINAL": ("how many",),
    "MONEY": ("how much", "how much money"),
    "PERCENT": ("what percentage", "by how much"),
    "QUANTITY": ("how much", "how far", "how many"),
    "ORDINAL": ("which", "what place"),
    "EVENT": ("which event", "what"),
    "WORK_OF_ART": ("which film", "which book", "what"),
    "PRODUCT": ("which product", "what"),
    "LAW": ("which law", "what"),
    "LANGUAGE": ("which language",),
    "NP": ("what", "what", "which"),
}
# a preposition before a place or a time goes with it into the wh-word ("in Ankara" → "where")
_ABSORBS = {"where": {"in", "at", "to", "from"}, "when": {"on", "in", "at", "since", "by", "until"}}
WINDOW = 9  # words kept on each side of the answer: quiz questions are short
PREAMBLE = 0.5  # share of questions led by another sentence of the article, as quizzes lead with the news
DROP = 0.1  # chance that a question word is dropped
SHUFFLE = 2.0  # how far (in words) a question word may move


def question_from(doc: Any, start: int, end: int, kind: str, rng: random.Random) -> str:
    """Return a noisy wh-question whose answer is doc[start:end]."""
    wh = rng.choice(WH.get(kind, WH["NP"]))
    left = max(0, start - WINDOW)
    before = list(doc[left:start])
    if before and before[-1].lower_ in _ABSORBS.get(wh.split()[0], set()):
        before = before[:-1]
    after = list(doc[end : end + WINDOW])
    words = [t.text for t in before + after if not t.is_punct and not t.is_space]
    kept = [w for w in words if rng.random() >= DROP] or words
    order = sorted(range(len(kept)), key=lambda i: i + rng.uniform(0, SHUFFLE))
    body = " ".join(kept[i] for i in order)
    return f"{wh[:1].upper()}{wh[1:]} {body}?"


def answers_of(doc: Any) -> list[tuple[int, int, str]]:
    """Return the spans a cloze may ask for: named entities and noun chunks not already entities."""
    out = [(e.start, e.end, e.label_) for e in doc.ents if e.end - e.start <= 8]
    taken = {i for s, e, _ in out for i in range(s, e)}
    for nc in doc.noun_chunks:
        toks = [t for t in nc if t.pos_ not in {"DET", "PRON"}]
        if toks and not any(t.i in taken for t in toks) and nc.root.pos_ in {"NOUN", "PROPN"} and len(toks) <= 6:
            out.append((toks[0].i, toks[-1].i + 1, "NP"))
    return out


def cloze_pairs(
    corpora: list[Path], count: int, *, seed: int = 13, negatives: float = 0.5,
) -> list[dict[str, Any]]:
    """Return about `count` cloze pairs (question, context, answer character span or None) from
    sentences of the articles in `corpora` (Byline JSONL), and for a `negatives` share of them the
    same question paired with another sentence of the article lacking the answer."""
    from byline.index.sentences import split_sentences
    from byline.pipeline.nlp import pipeline

    rng = random.Random(seed)
    articles: list[list[str]] = []
    for path in corpora:
        for line in path.open(encoding="utf-8"):
            a = json.loads(line)
            sents = [s.text for s in split_sentences(a["id"], a["text"]) if 8 <= len(s.text.split()) <= 50]
            if len(sents) >= 4:
                articles.append(sents)
    rng.shuffle(articles)
    picks = [(sents, rng.randrange(len(sents))) for sents in articles[: int(count / (1 + negatives)) + 1]]
    docs = pipeline().pipe([s[i] for s, i in picks], batch_size=64)
    out: list[dict[str, Any]] = []
    for (sents, i), doc in zip(picks, docs, strict=True):
        found = answers_of(doc)
        if not found:
            continue
        # entities first: they are what quizzes ask for; a noun chunk a third of the time
        ents = [f for f in found if f[2] != "NP"]
        start, end, kind = rng.choice(ents if ents and rng.random() < 0.67 else found)
        span = doc[start:end]
        question = question_from(doc, start, end, kind, rng)
        silent = [s for j, s in enumerate(sents) if j != i and span.text.lower() not in s.lower()]  # lack the answer
        if silent and rng.random() < PREAMBLE:
            question = f"{rng.choice(silent)} {question}"
        out.append({"question": question, "context": doc.text, "span": (span.start_char, span.end_char), "source": "cloze"})
        if rng.random() < negatives and silent:
            out.append({"question": question, "context": rng.choice(silent), "span": None, "source": "cloze-none"})
    log.info("%d cloze pairs from %d sentences", len(out), len(picks))
    return out
