"""Question analysis: what kind of answer is wanted, and which words must the evidence share."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from byline.pipeline.nlp import parse

PERSON = frozenset({"PERSON"})
PLACE = frozenset({"GPE", "LOC", "FAC"})
TIME = frozenset({"DATE", "TIME"})
NUMBER = frozenset({"CARDINAL", "QUANTITY", "MONEY", "PERCENT"})
MONEY = frozenset({"MONEY", "CARDINAL"})  # the small model often tags "1.2 billion euros" CARDINAL
GROUP = frozenset({"ORG", "NORP", "GPE"})

# "which city", "what company": the noun after the wh-word says what kind of thing is wanted
_NOUN_TYPES: dict[str, frozenset[str]] = {
    **dict.fromkeys(
        ["city", "town", "country", "state", "capital", "place", "region", "nation", "village", "province", "county", "area", "venue"], PLACE),
    **dict.fromkeys(
        ["official", "person", "man", "woman", "minister", "president", "leader", "player", "chief", "executive", "spokesman", "spokeswoman", "director", "actor", "actress", "singer", "star", "secretary", "coach", "manager", "boss", "politician", "mp", "judge", "captain", "champion", "winner", "author", "chairman", "founder", "aide", "striker", "footballer", "ceo", "head", "prosecutor", "governor", "senator", "premier", "chancellor", "candidate"], PERSON),
    **dict.fromkeys(
        ["company", "firm", "organisation", "organization", "team", "club", "party", "group", "body", "bank", "union", "agency", "band", "network", "broadcaster", "airline", "retailer", "carrier", "manufacturer", "regulator"],
        frozenset({"ORG"})),
    **dict.fromkeys(["day", "date", "year", "month", "time", "week", "season"], TIME),
    **dict.fromkeys(["nationality"], frozenset({"NORP"})),
}
_MONEY_WORDS = re.compile(
    r"\b(cost|pay|paid|donat|spend|spent|worth|price|offer|deficit|profit|loss|fine|fined|bid|"
    r"sales|revenue|budget|fund|raise|raised|earn|salary|deal|debt|aid|invest)", re.IGNORECASE
)
WH_WORDS = {"who", "whom", "whose", "what", "which", "where", "when", "how", "why"}


@dataclass(frozen=True, slots=True)
class Question:
    """A parsed question: its answer type and the words the evidence should share."""

    text: str
    wh: str  # who, where, when, how-many, how-much, what, which, why, other
    expected: frozenset[str]  # entity labels a typed answer should carry (empty: a phrase)
    head_noun: str  # lemma of the noun after "what/which", e.g. "meeting"
    content: tuple[str, ...]  # content lemmas, lower-cased
    entities: tuple[tuple[str, str], ...]  # (text, label) named in the question
    doc: Any
    asks_subject: bool = False  # the wh-phrase is the subject ("Which player returned ...?")

    @property
    def typed(self) -> bool:
        return bool(self.expected)


def analyse(text: str) -> Question:
    """Return the parsed question."""
    doc = parse([text])[0]
    lower = text.lower()
    wh, expected, head = _answer_type(doc, lower)
    content = tuple(
        dict.fromkeys(
            t.lemma_.lower()
            for t in doc
            if not (t.is_stop or t.is_punct or t.lower_ in WH_WORDS or t.pos_ in {"AUX", "DET", "PRON"})
            and len(t.text) > 1
        )
    )
    entities = tuple((e.text, e.label_) for e in doc.ents)
    return Question(text, wh, expected, head, content, entities, doc, _asks_subject(doc))


def _asks_subject(doc: Any) -> bool:
    for token in doc:
        if token.lower_ in WH_WORDS:
            phrase = token.head if token.dep_ in {"det", "advmod"} else token
            return bool(phrase.dep_ in {"nsubj", "nsubjpass"})
    return False


def _answer_type(doc: Any, lower: str) -> tuple[str, frozenset[str], str]:
    words = [t.lower_ for t in doc]
    first = next((w for w in words if w in WH_WORDS), "")
    if first in {"who", "whom", "whose"}:
        return "who", PERSON, ""
    if first == "where":
        return "where", PLACE, ""
    if first == "when":
        return "when", TIME, ""
    if first == "why":
        return "why", frozenset(), ""
    if first == "how":
        nxt = words[words.index("how") + 1] if words.index("how") + 1 < len(words) else ""
        counted = _noun_after(doc, "how")
        if nxt == "much":
            return "how-much", MONEY if _MONEY_WORDS.search(lower) else NUMBER, counted
        if nxt in {"many", "long", "old", "far", "big", "large", "high", "tall"}:
            return "how-many", NUMBER | (TIME if nxt in {"long", "old"} else frozenset()), counted
        return "how", frozenset(), ""
    if first in {"what", "which"}:
        head = _noun_after_wh(doc)
        if head in _NOUN_TYPES:
            return first, _NOUN_TYPES[head], head
        if _MONEY_WORDS.search(head or "~"):
            return first, MONEY, head
        return first, frozenset(), head
    return "other", frozenset(), ""


def _noun_after(doc: Any, word: str) -> str:
    """Return the lemma of the first noun within three words after `word` ("how many soldiers")."""
    for token in doc:
        if token.lower_ == word:
            for right in doc[token.i + 1 : token.i + 4]:
                if right.pos_ == "NOUN":
                    return str(right.lemma_.lower())
    return ""


def _noun_after_wh(doc: Any) -> str:
    """Return the lemma of the noun the wh-word asks about ("which US official" → official)."""
    for token in doc:
        if token.lower_ in {"what", "which"}:
            if token.dep_ == "det" and token.head.pos_ in {"NOUN", "PROPN"}:
                return str(token.head.lemma_.lower())
            for right in doc[token.i + 1 : token.i + 5]:
                if right.pos_ == "NOUN":
                    return str(right.lemma_.lower())
                if right.pos_ in {"VERB", "AUX"}:
                    break
    return ""
