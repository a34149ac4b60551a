"""Rewrite: follow-up questions ("And Russia's?") become questions that stand alone."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from byline.pipeline.nlp import parse
from byline.types import Answer, Turn

_FOLLOW_UP = re.compile(r"^(and|but|what about|how about|and what about)\b[\s,]*", re.IGNORECASE)
_GROUP_LABELS = {"GPE", "NORP", "ORG", "LOC"}


class FollowUpRewriter:
    """Pipeline step: a follow-up question in, the same question standing alone out."""

    def run(self, question: str, history: Sequence[Turn]) -> str:
        """Return `question` rewritten to stand alone, using the previous turn of `history`."""
        return standalone(question, history)


def standalone(question: str, history: Sequence[Turn]) -> str:
    """Return the question rewritten to stand alone, using the previous turn.

    Two moves, no language model: an elliptical follow-up ("And Russia's?") takes the previous
    question and swaps in its new entity; pronouns and "there" are replaced by the person and
    place the previous turn was about ("What meeting was he attending there?").
    """
    if not history:
        return question
    prev_q, prev_a = history[-1]
    prev_q = prev_a.standalone_question or prev_q
    doc, prev = parse([question, prev_q])
    fragment = _FOLLOW_UP.match(question) is not None or not any(
        t.pos_ in {"VERB", "AUX"} for t in doc
    )
    if fragment and doc.ents:
        rewritten = prev_q
        for ent in doc.ents:
            same_kind = [e for e in prev.ents if _kind(e.label_) == _kind(ent.label_)]
            if same_kind:
                rewritten = rewritten.replace(same_kind[0].text, ent.text.removesuffix("'s").removesuffix("’s"))
        if rewritten != prev_q:
            return rewritten
    if fragment and not doc.ents:
        rest = _FOLLOW_UP.sub("", question).rstrip("?").strip()
        if rest:
            return f"{prev_q.rstrip('?')} {rest}?"
    return _resolve_references(question, doc, prev, prev_a)


def _kind(label: str) -> str:
    return "group" if label in _GROUP_LABELS else label


def _resolve_references(question: str, doc: Any, prev: Any, prev_a: Answer) -> str:
    people = [e.text for e in prev.ents if e.label_ == "PERSON"]
    if not people and not prev_a.abstained and prev_a.citations:
        people = [prev_a.text] if prev_a.text and prev_a.text[:1].isupper() else []
    place = prev_a.text if not prev_a.abstained and prev.text.lower().startswith("where") else ""
    out: list[str] = []
    for t in doc:
        word = t.text
        lower = t.lower_
        if lower in {"he", "she", "him", "her"} and people and t.tag_ != "PRP$":
            word = people[0]
        elif lower in {"his", "her"} and people and t.tag_ == "PRP$":
            word = people[0] + "'s"
        elif lower == "there" and place and t.dep_ != "expl":
            word = f"in {place}"
        out.append(word + t.whitespace_)
    return "".join(out)
