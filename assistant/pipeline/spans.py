"""Candidate answers of every kind a news quiz asks for, from one parsed sentence.

Named entities of every label (people, organisations, places, dates, money, ...), noun chunks
(with and without their modifiers), proper-noun runs ("Florida Gov. Ron DeSantis"), numbers with
the unit they count ("2.5 million customers"), durations ("six months"), titles and roles before
a name ("defence minister" Rustem Umerov) and quoted names (“Top Gun: Maverick”). The fitted
reader (`fitted.py`) scores them; nothing here decides which is right.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

MAX_TOKENS = 12  # longer spans are clauses, not quiz answers (none of the gold answers is longer)
_MULTIPLIERS = {"million", "billion", "trillion", "thousand", "hundred", "percent", "%"}
# The units that turn a number into a length of time: a DURATION, not a count of things.
TIME_UNITS = {
    "second", "minute", "hour", "day", "week", "fortnight", "month", "year", "decade", "century",
    "seconds", "minutes", "hours", "days", "weeks", "months", "years", "decades", "centuries",
}
_QUOTE = re.compile(r"[“\"‘]([^”\"’]{2,80})[”\"’]")
_DROP_LEFT = {"the", "a", "an"}
_GENERIC = {"NP", "PROPN", "NUM"}
_SPECIFIC = {"NUMUNIT", "QUOTE", "TITLE"}


@dataclass(frozen=True, slots=True)
class SpanCandidate:
    """A candidate answer: token offsets in its sentence's Doc, its text and its kind."""

    start: int
    end: int
    text: str
    kind: str  # an entity label, or NP, PROPN, NUM, NUMUNIT, DURATION, TITLE, QUOTE (fitted.py adds MODEL, VOTED)

    def char_offsets(self, doc: Any) -> tuple[int, int]:
        """Return the span's character offsets in the sentence."""
        return doc[self.start].idx, doc[self.end - 1].idx + len(doc[self.end - 1].text)


def candidates(doc: Any) -> list[SpanCandidate]:
    """Return the candidate answer spans of a parsed sentence, one per distinct offsets."""
    out: dict[tuple[int, int], SpanCandidate] = {}

    def add(start: int, end: int, kind: str) -> None:
        while start < end and (doc[start].is_punct or doc[start].lower_ in _DROP_LEFT):
            start += 1
        while end > start and doc[end - 1].is_punct:
            end -= 1
        if end <= start or end - start > MAX_TOKENS:
            return
        old = out.get((start, end))
        # a specific kind wins over a generic one for the same words ("2.5 million cars" is a
        # NUMUNIT, not just a noun chunk); a number of time units is a DURATION even where the
        # tagger says DATE ("six months")
        if old is None or kind == "DURATION" or (kind in _SPECIFIC and old.kind in _GENERIC):
            out[(start, end)] = SpanCandidate(start, end, doc[start:end].text, kind)

    for e in doc.ents:
        add(e.start, e.end, e.label_)
        if e.label_ == "PERSON":
            _title_before(doc, e.start, add)
    for nc in doc.noun_chunks:
        if nc.root.pos_ != "PRON":
            add(nc.start, nc.end, "NP")
            left = next((t.i for t in nc if t.pos_ in {"NOUN", "PROPN"}), nc.root.i)
            if left > nc.start:  # "deadly heat waves" → "heat waves"
                add(left, nc.end, "NP")
    _proper_runs(doc, add)
    _numbers(doc, add)
    for m in _QUOTE.finditer(doc.text):
        span = doc.char_span(m.start(1), m.end(1), alignment_mode="expand")
        if span is not None:
            add(span.start, span.end, "QUOTE")
    return list(out.values())


def _title_before(doc: Any, start: int, add: Any) -> None:
    """Add the role written before a name: "defence minister" Rustem Umerov, "Gov." Ron DeSantis."""
    i = start
    while i > 0 and doc[i - 1].pos_ in {"NOUN", "PROPN", "ADJ"} and doc[i - 1].ent_type_ in {"", "NORP"}:
        i -= 1
    if i < start:
        add(i, start, "TITLE")


def _proper_runs(doc: Any, add: Any) -> None:
    i = 0
    while i < len(doc):
        if doc[i].pos_ != "PROPN":
            i += 1
            continue
        j = i
        while j + 1 < len(doc) and (
            doc[j + 1].pos_ == "PROPN"
            or (doc[j + 1].text == "." and j + 2 < len(doc) and doc[j + 2].pos_ == "PROPN")
        ):
            j += 1
        add(i, j + 1, "PROPN")
        i = j + 1


def _numbers(doc: Any, add: Any) -> None:
    """Add numbers alone and with the unit they count ("2.5 million customers", "six months")."""
    for t in doc:
        if not (t.like_num or t.pos_ == "NUM") or (t.i > 0 and doc[t.i - 1].like_num):
            continue
        j = t.i
        while j + 1 < len(doc) and (doc[j + 1].like_num or doc[j + 1].lower_ in _MULTIPLIERS):
            j += 1
        if j + 1 < len(doc) and doc[j + 1].pos_ == "NOUN":
            unit = doc[j + 1]
            add(t.i, j + 2, "DURATION" if unit.lower_ in TIME_UNITS or unit.lemma_.lower() in TIME_UNITS else "NUMUNIT")
        add(t.i, j + 1, "NUM")
