"""Answer type: the wh-word, the noun it asks about, and the WordNet classes of that noun.

"Which carmaker" asks for an organisation, "which country's" for a place, "how many years" for
a time period, "which colour" for a colour. The classes come from WordNet, looked up when the
reader is fitted (`benchmarks/fit_reader.py`) and shipped in its parameter file as a `HeadTable`,
so answering never needs WordNet itself; a noun the table lacks gets no classes, and the fitted
scorer has features for that case ("noclass").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from byline.pipeline.extract import key

WH = (
    "how many", "how much", "how long", "how old", "how far", "who", "whom", "whose", "which", "what",
    "where", "when", "why", "how",
)
_WH_RE = re.compile(r"\b(" + "|".join(WH) + r")\b", re.I)

# The WordNet synsets whose hyponyms are a kind of answer. Membership of the head noun (and of a
# candidate's head word) is crossed with the candidate's kind; the fitted weights say what fills what.
ANCHORS = (
    "person.n.01", "organization.n.01", "social_group.n.01", "business.n.01", "location.n.01",
    "region.n.03", "administrative_district.n.01", "country.n.02", "body_of_water.n.01",
    "structure.n.01", "time_period.n.01", "time_unit.n.01", "measure.n.02", "color.n.01",
    "event.n.01", "act.n.02", "communication.n.02", "artifact.n.01", "food.n.01", "food.n.02",
    "animal.n.01", "plant.n.02", "substance.n.01", "language.n.01", "currency.n.01",
    "sport.n.01", "phenomenon.n.01", "disease.n.01", "title.n.06", "show.n.03", "publication.n.01",
)

# What a wh-word without a noun asks for, in WordNet's terms: "who" a person, "where" a place. The
# fit script writes this into the head table, so a reader fitted without it reads questions as before.
IMPLIED = {"who": "person", "where": "place"}

# Nouns that say nothing of the answer's kind: "which type of extreme weather" asks about weather.
_VAGUE = {"type", "kind", "sort", "form", "member", "one", "name", "piece", "part", "group"}


@dataclass(frozen=True, slots=True)
class HeadTable:
    """Noun lemma → the WordNet classes (ANCHORS and lexicographer files) of its main senses.

    Stored compactly: `sets` lists each distinct combination of classes (by index into
    `classes`) once, and `heads` maps a lemma to the index of its combination.
    """

    classes: tuple[str, ...]
    sets: tuple[tuple[int, ...], ...]
    heads: Mapping[str, int]
    implied: Mapping[str, str] = field(default_factory=dict)  # wh-word → the noun it asks about (IMPLIED)

    def of(self, lemma: str) -> tuple[str, ...]:
        """Return the classes of `lemma`, or () when the table has not seen it."""
        i = self.heads.get(lemma.lower())
        return () if i is None else tuple(self.classes[c] for c in self.sets[i])

    def __contains__(self, lemma: object) -> bool:
        return isinstance(lemma, str) and lemma.lower() in self.heads

    def to_json(self) -> dict[str, Any]:
        """Return the table as the parameter file stores it."""
        return {"classes": list(self.classes), "sets": [list(s) for s in self.sets], "heads": dict(sorted(self.heads.items())),
                "implied": dict(self.implied)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> HeadTable:
        """Return the table stored by `to_json`."""
        return cls(tuple(data["classes"]), tuple(tuple(s) for s in data["sets"]), dict(data["heads"]), dict(data.get("implied", {})))

    @classmethod
    def build(cls, table: Mapping[str, Iterable[str]], implied: Mapping[str, str] | None = None) -> HeadTable:
        """Return a table from lemma → class names (the fit script's WordNet look-ups), reading a
        wh-word without a noun as `implied` says."""
        names = sorted({c for cs in table.values() for c in cs})
        index = {c: i for i, c in enumerate(names)}
        combos = sorted({tuple(sorted(index[c] for c in cs)) for cs in table.values() if cs})
        at = {combo: i for i, combo in enumerate(combos)}
        heads = {h: at[tuple(sorted(index[c] for c in cs))] for h, cs in table.items() if cs}
        return cls(tuple(names), tuple(combos), heads, dict(implied or {}))


@dataclass(frozen=True, slots=True)
class AnswerType:
    """What a question asks for."""

    wh: str  # "which", "how many", ...; "fill" when there is no wh-word
    head: str  # lemma of the noun the wh-word asks about ("carmaker", "country", "year"); "" if none
    classes: tuple[str, ...]  # the head noun's WordNet classes (from the HeadTable)
    known: bool  # the head noun is in the table
    asks_subject: bool  # the wh-phrase is the subject ("Which player returned?")
    keys: frozenset[str]  # lower-cased words, lemmas and matching keys of the question, to spot repeats


def head_noun(doc: Any) -> tuple[str, str, bool]:
    """Return the wh-word, the lemma of the noun it asks about and whether that is the subject."""
    m = _WH_RE.search(doc.text.lower())
    wh = m.group(1) if m else "fill"
    wh = {"whom": "who", "whose": "who"}.get(wh, wh)
    head, subject = "", False
    for t in doc:
        if t.lower_ in {"which", "what", "whose"} and t.dep_ in {"det", "poss"} and t.head.pos_ in {"NOUN", "PROPN"}:
            head, subject = t.head.lemma_.lower(), t.head.dep_ in {"nsubj", "nsubjpass"}
            break
        if t.lower_ in {"which", "what"} and t.dep_ in {"nsubj", "nsubjpass", "dobj", "attr", "pobj"}:
            # "What is the name of the ...", "Which of these ...": the first telling noun after it
            head = next(
                (r.lemma_.lower() for r in doc[t.i + 1 : t.i + 6] if r.pos_ == "NOUN" and r.lemma_.lower() not in _VAGUE),
                "",
            )
            subject = t.dep_ in {"nsubj", "nsubjpass"}
            break
        if t.lower_ == "how" and wh.startswith("how "):
            head = next((r.lemma_.lower() for r in doc[t.i + 2 : t.i + 5] if r.pos_ == "NOUN"), "")
            break
        if t.lower_ in {"who", "whom"}:
            subject = t.dep_ in {"nsubj", "nsubjpass"}
    if head in _VAGUE:
        of = next((t for t in doc if t.head.lemma_.lower() == head and t.lower_ == "of"), None)
        obj = next((c for c in of.children if c.dep_ == "pobj"), None) if of is not None else None
        if obj is not None:
            head = obj.lemma_.lower()
    return wh, head, subject


def answer_type(doc: Any, table: HeadTable) -> AnswerType:
    """Return what kind of thing the parsed question asks for."""
    wh, head, subject = head_noun(doc)
    words = [t for t in doc if not t.is_punct]
    # matching keys too, so that "Ukrainian" in a sentence repeats "Ukraine's" in the question
    keys = frozenset({t.lower_ for t in words} | {t.lemma_.lower() for t in words} | {key(t.text) for t in words})
    classes = table.of(head) if head else table.of(table.implied.get(wh, ""))
    return AnswerType(wh, head, classes, head in table, subject, keys)
