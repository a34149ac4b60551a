"""Checks a written answer against the sentences it cites: which statements survive, and why not.

A model is shown numbered sentences [1]..[n] and asked to cite `[n]` after each statement. Its
answer is split into statements; each must cite at least one sentence it was given, every name,
number and date in it must appear in the cited sentences, no role it gives an entity may clash
with the cited sentence ("Ukraine's delegation" where the sentence says "the Russian
delegation"), and its content words must be supported by the cited sentences above
`min_support`. A statement that fails one check is not verified; what is done with it (removed,
or shown struck through) is the caller's choice.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from byline.types import Statement

log = logging.getLogger(__name__)

# "[1]", "[1, 3]", "[1][2]", "[1-2]", "[S1]", "[Sentence 2]": what small and large models write.
_MARKER = re.compile(r"\[\s*(?:s|sentence\s*)?(\d+(?:\s*(?:,|-|–|and)\s*(?:s|sentence\s*)?\d+)*)\s*\]", re.I)
_MARKER_RUN = re.compile(rf"(?:\s*{_MARKER.pattern})+", re.I)
# A run of markers closes a statement when a full stop, semicolon or the end follows it (not a
# comma: "Umerov [1], who wants a ceasefire [1]" is one claim about Umerov).
_CLOSES = re.compile(r"\s*(?:[.;!?]+|$|\n)")
_SENTENCE_END = re.compile(r"(?<!\bMr\.)(?<!\bMrs\.)(?<!\bMs\.)(?<!\bDr\.)(?<!\bSt\.)(?<=[.!?])[\"”’)]*\s+(?=[\"“‘(]?[A-Z0-9])")

NAME_LABELS = {"PERSON", "ORG", "GPE", "NORP", "LOC", "FAC", "EVENT", "PRODUCT", "WORK_OF_ART", "LAW"}
NUMBER_LABELS = {"CARDINAL", "QUANTITY", "MONEY", "PERCENT", "ORDINAL"}
CONTENT_POS = {"NOUN", "VERB", "ADJ", "ADV", "PROPN", "NUM"}
_WORD_NUMBERS = {
    w: i for i, w in enumerate(
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty"])
} | {"thirty": 30, "forty": 40, "fifty": 50, "hundred": 100, "thousand": 1000, "million": 10**6,
       "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5}
_DATE_WORDS = set(
    ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december", "today", "tomorrow", "yesterday"])


@dataclass(frozen=True, slots=True)
class Verification:
    """The statements of a written answer, checked."""

    written: str
    statements: tuple[Statement, ...]

    @property
    def fully_verified(self) -> bool:
        return bool(self.statements) and all(s.verified for s in self.statements)



@dataclass(frozen=True, slots=True)
class Piece:
    """A statement as cut from the written answer, before it is checked."""

    text: str  # markers removed
    cites: tuple[int, ...]  # every number its markers name, given or not
    source: str  # as written, with its markers and closing punctuation


def split_statements(text: str) -> list[Piece]:
    """Return the statements of `text`, each with the sentence numbers its markers cite.

    A run of markers belongs to the words before it ("… Umerov [1]; Russia's … [2]."), also when
    written after the full stop ("… Umerov. [1]"). Text with no marker is split into sentences.
    """
    text = re.sub(rf"([.!?])({_MARKER_RUN.pattern})", r"\2\1", text.strip())
    pieces: list[Piece] = []
    start, cited = 0, []
    for m in _MARKER_RUN.finditer(text):
        cited.extend(_numbers_in(m.group(0)))
        close = _CLOSES.match(text, m.end())
        if close is None:
            continue  # a marker mid-sentence: the statement goes on
        pieces.extend(_sentences(text[start:close.end()], tuple(dict.fromkeys(cited))))
        start, cited = close.end(), []
    pieces.extend(_sentences(text[start:], tuple(dict.fromkeys(cited))))  # a cut-off answer
    return pieces


def _sentences(source: str, cited: tuple[int, ...]) -> list[Piece]:
    """Split `source` into sentences; only the last one carries the markers that closed it."""
    parts = [p.strip() for p in _SENTENCE_END.split(source) if re.search(r"\w", _MARKER.sub("", p))]
    return [
        Piece(re.sub(r"\s{2,}", " ", _MARKER.sub("", p)).strip(" ,;.\n"), cited if i == len(parts) - 1 else (), p)
        for i, p in enumerate(parts)
    ]


def _numbers_in(markers: str) -> list[int]:
    found: list[int] = []
    for group in _MARKER.findall(markers):
        for a, dash, b in re.findall(r"(\d+)(?:\s*([-–])\s*(\d+))?", group):
            if dash and b and 0 < int(b) - int(a) < 20:
                found.extend(range(int(a), int(b) + 1))
            else:
                found.append(int(a))
    return found


class Verifier:
    """Checks written answers against numbered sentences.

    `nlp` is a spaCy pipeline with a tagger, parser, lemmatizer and NER (en_core_web_sm), or a
    function returning one (called on first use, so spaCy loads only when it is needed).
    `min_support` is the share of a statement's content words that its cited sentences must
    support (`Settings.min_support` is fitted by benchmarks/fit_min_support.py).
    `similar(word, other) -> 0..1` (e.g. the index's WordVectors.similar) lets a paraphrase
    ("led" for "headed") count in proportion; without it only same lemmas count.
    Words of the question count as supported: restating it ("Ukraine's delegation is led by …")
    is not a claim — but names and numbers must still be in the cited sentences.
    """

    def __init__(
        self, nlp: Any, *, min_support: float = 0.6,
        similar: Callable[[str, str], float] | None = None,
    ) -> None:
        self.nlp = nlp
        self.min_support = min_support
        self.similar = similar

    def run(self, written: str, sentences: Sequence[str], question: str = "") -> Verification:
        """Return `written` split into statements, each checked against the sentences it cites."""
        pieces = split_statements(written)
        nlp = self.nlp if hasattr(self.nlp, "pipe") else self.nlp()
        docs = list(nlp.pipe([p.text for p in pieces] + list(sentences) + [question]))
        statement_docs, sentence_docs, question_doc = docs[: len(pieces)], docs[len(pieces):-1], docs[-1]
        checked = [
            self._check(p, doc, sentence_docs, question_doc)
            for p, doc in zip(pieces, statement_docs, strict=True)
        ]
        return Verification(written=written, statements=tuple(checked))

    def _check(self, piece: Piece, doc: Any, sentences: list[Any], question: Any) -> Statement:
        """Return the piece as a Statement, with every problem the checks found."""
        text, cites = piece.text, piece.cites
        problems: list[str] = []
        given = tuple(n for n in cites if 1 <= n <= len(sentences))
        if invented := [n for n in cites if n not in given]:
            problems.append(f"cites {_marks(invented)}, which {'was' if len(invented) == 1 else 'were'} not given")
        if not given:
            if not cites:
                problems.append("cites no sentence")
            return Statement(text, given, 0.0, False, tuple(problems))
        cited = [sentences[n - 1] for n in given]
        words = _Vocabulary(cited)
        for name in _names(doc):
            if not all(words.has_name(part) for part in name.split()):
                problems.append(f"names “{name}”, which the cited {_sentence(given)} {_does(given)} not")
        for number in _numbers(doc):
            if number not in words.numbers:
                problems.append(f"says “{number}”, which the cited {_sentence(given)} {_does(given)} not")
        for date_word in _date_words(doc) - words.lower:
            problems.append(f"says “{date_word}”, which the cited {_sentence(given)} {_does(given)} not")
        problems.extend(_role_clashes(doc, cited))
        support = self._support(doc, words, {t.lemma_.lower() for t in question if t.is_alpha})
        if support < self.min_support:
            problems.append(f"only {support:.0%} of its words are in the cited {_sentence(given)}")
        return Statement(text, given, round(support, 4), not problems, tuple(problems))

    def _support(self, doc: Any, words: _Vocabulary, question: set[str]) -> float:
        """Return the mean match strength of the statement's content words (0..1)."""
        content = [
            t for t in doc
            if t.pos_ in CONTENT_POS and not t.is_stop and (t.is_alpha or t.like_num)
        ]
        if not content:
            return 0.0
        strengths = []
        for t in content:
            lemma = t.lemma_.lower()
            if lemma in words.lemmas or t.lower_ in words.lower or lemma in question or words.has_name(t.text):
                strengths.append(1.0)
            elif self.similar is not None and t.is_alpha:
                strengths.append(max((self.similar(lemma, w) for w in words.content), default=0.0))
            else:
                strengths.append(0.0)
        return sum(strengths) / len(strengths)


class _Vocabulary:
    """The words, lemmas and numbers of the cited sentences, for looking things up."""

    def __init__(self, docs: list[Any]) -> None:
        tokens = [t for d in docs for t in d]
        self.lower = {t.lower_ for t in tokens}
        self.lemmas = {t.lemma_.lower() for t in tokens}
        self.content = sorted({t.lemma_.lower() for t in tokens if t.is_alpha and not t.is_stop})
        self.numbers = {n for d in docs for n in _numbers(d)}

    def has_name(self, part: str) -> bool:
        """Return True when a word of the cited sentences is this name, or its adjective form.

        "Ukraine" is supported by "Ukrainian", "Russia" by "Russian", "Turkey" by "Turkish": a
        shared beginning of all but the last two letters (at least four).
        """
        part = re.sub(r"[’']s$", "", part.lower()).strip(".,")
        if not part or part in self.lower:
            return True
        stem = part[: max(4, len(part) - 2)]
        return len(part) >= 5 and any(w.startswith(stem) for w in self.lower)


def _names(doc: Any) -> list[str]:
    names = [e.text for e in doc.ents if e.label_ in NAME_LABELS]
    covered = {i for e in doc.ents for i in range(e.start, e.end)}
    names += [t.text for t in doc if t.pos_ == "PROPN" and t.i not in covered and t.is_alpha and t.i > 0]
    return [re.sub(r"[’']s$", "", n.removeprefix("the ").removeprefix("The ")) for n in names]


def _numbers(doc: Any) -> set[str]:
    """Return the numbers in `doc` as digit strings ("12,000" → "12000", "three" → "3")."""
    found = set()
    for t in doc:
        if t.like_num or t.ent_type_ in NUMBER_LABELS or t.ent_type_ == "DATE":
            value = t.lower_.replace(",", "")
            if value in _WORD_NUMBERS:
                found.add(str(_WORD_NUMBERS[value]))
            elif re.fullmatch(r"\d+(?:\.\d+)?", value):
                found.add(value)
            else:
                found.update(re.findall(r"\d+", value))  # "10am", "30-day", "1,000km"
    return found


def _date_words(doc: Any) -> set[str]:
    return {t.lower_ for t in doc if t.lower_ in _DATE_WORDS}


def _role_clashes(doc: Any, cited: list[Any]) -> list[str]:
    """Return a problem for each noun the statement ties to a nation or place that the cited
    sentences tie to another one, and never to this one ("Ukraine's delegation" against "the
    Russian delegation, presidential aide Vladimir Medinsky").
    """
    problems = []
    for noun, owner in _owned_nouns(doc):
        owners = [o for d in cited for n, o in _owned_nouns(d) if n == noun]
        if owners and not any(_same_place(owner, o) for o in owners):
            problems.append(f"ties the {noun} to “{_bare(owner)}”; the cited sentence to “{_bare(owners[0])}”")
    return problems


def _owned_nouns(doc: Any) -> list[tuple[str, str]]:
    """Return (noun lemma, nation or place) for "Ukraine's delegation", "the Russian delegation"."""
    pairs = []
    for t in doc:
        if t.ent_type_ in {"GPE", "NORP"} and t.dep_ in {"poss", "amod", "compound", "nmod"} and t.head.pos_ == "NOUN":
            pairs.append((t.head.lemma_.lower(), t.text))
    return pairs


def _bare(name: str) -> str:
    return re.sub(r"[’']s$", "", name)


def _same_place(a: str, b: str) -> bool:
    a, b = _bare(a.lower()), _bare(b.lower())
    n = max(4, min(len(a), len(b)) - 2)
    return a[:n] == b[:n]


def _marks(numbers: Sequence[int]) -> str:
    return "".join(f"[{n}]" for n in numbers)


def _sentence(given: Sequence[int]) -> str:
    return "sentence" if len(given) == 1 else "sentences"


def _does(given: Sequence[int]) -> str:
    return "does" if len(given) == 1 else "do"
