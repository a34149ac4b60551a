"""Rewrite: follow-up questions ("And Russia's?") become questions that stand alone."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from byline.pipeline.nlp import parse
from byline.prompts import load
from byline.types import Answer, Turn

if TYPE_CHECKING:
    from byline.pipeline.generate import LanguageModel

log = logging.getLogger(__name__)

_FOLLOW_UP = re.compile(r"^(and|but|what about|how about|and what about)\b[\s,]*", re.IGNORECASE)
_GROUP_LABELS = {"GPE", "NORP", "ORG", "LOC"}


class Rewriter(Protocol):
    """A pipeline step: a follow-up question in, the same question standing alone out."""

    def run(self, question: str, history: Sequence[Turn], *, with_model: bool = True) -> str:
        """Return `question` rewritten to stand alone, using the previous turn of `history`."""
        ...


class FollowUpRewriter:
    """Pipeline step: a follow-up question in, the same question standing alone out (by rules)."""

    def run(self, question: str, history: Sequence[Turn], *, with_model: bool = True) -> str:
        """Return `question` rewritten to stand alone, using the previous turn of `history`."""
        return standalone(question, history)


class ModelRewriter:
    """Rewrites follow-ups with a language model (`prompts/rewrite.txt`); the rules when it fails.

    A reply is used only when it is one question of at most `max_chars`; otherwise, or when the
    model is down or slow, the rule-based rewrite is used, as without a model.
    """

    def __init__(self, model: LanguageModel, *, max_chars: int = 300) -> None:
        self.model = model
        self.max_chars = max_chars
        self.rules = FollowUpRewriter()

    def run(self, question: str, history: Sequence[Turn], *, with_model: bool = True) -> str:
        """Return `question` rewritten to stand alone by the model, else by the rules."""
        if not history or not with_model:
            return self.rules.run(question, history)
        from byline.pipeline.generate import ModelFailed

        prev_q, prev_a = history[-1]
        prompt = load("rewrite.txt").format(
            previous=prev_a.standalone_question or prev_q, answer=prev_a.text, question=question,
        )
        try:
            reply = self.model.reply(prompt)
        except ModelFailed as exc:
            log.warning("follow-up rewritten by rules: %s", exc)
            return self.rules.run(question, history)
        rewritten = " ".join(reply.strip().removeprefix("Rewritten question:").strip(' "“”').split("\n")[0].split())
        if not rewritten or len(rewritten) > self.max_chars or not re.search(r"[^\W\d_]{2,}", rewritten):
            log.info("follow-up rewritten by rules: the model replied %r", reply)
            return self.rules.run(question, history)
        return rewritten


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
