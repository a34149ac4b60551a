"""Evaluation metrics: pure functions of answers, citations, passages and gold data.

Every function here is deterministic and takes plain strings and numbers, so each can be checked
by hand. `docs/evaluation.md` defines each metric in words; this module is the definition in code.
Per-question functions return None where a metric is undefined (no citations to be precise about,
no evidence to recall), and the aggregates skip those questions rather than counting them as 0.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from byline.pipeline.overlap import exact_match, normalize_answer, token_f1

__all__ = [
    "AbstentionScores",
    "abstention_scores",
    "citation_hit",
    "citation_precision",
    "contains_evidence",
    "evidence_at_1",
    "evidence_matches",
    "evidence_rank",
    "exact_match",
    "mean",
    "normalize_answer",
    "normalize_text",
    "percentile",
    "recall_at_k",
    "reciprocal_rank",
    "token_f1",
]

# Curly quotes and dashes are written both ways in news copy; gold strings are typed straight.
_TYPOGRAPHY = str.maketrans(
    {"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "\u00a0": " "}
)
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])[\"')\]]*\s+")
MIN_FRAGMENT_WORDS = 4
"""A cited sentence shorter than this never matches by being *inside* the evidence string."""


# -- evidence --------------------------------------------------------------------------------


def normalize_text(text: str) -> str:
    """Return `text` for evidence matching: straight quotes and dashes, case-folded, one space."""
    text = unicodedata.normalize("NFKC", text).translate(_TYPOGRAPHY).casefold()
    return " ".join(text.split())


def contains_evidence(text: str, evidence: Iterable[str]) -> bool:
    """Return True when `text` contains a gold evidence string (ignoring case and spacing)."""
    haystack = normalize_text(text)
    return any(e.strip() and normalize_text(e) in haystack for e in evidence)


def evidence_matches(sentence: str, evidence: Iterable[str]) -> bool:
    """Return True when a cited sentence supports the gold evidence.

    It does when the sentence contains an evidence string. Because evidence strings are cut from
    running text, a segmenter may split one in two; the sentence then also matches when it lies
    wholly inside an evidence string, or contains one sentence-sized piece of it, provided that
    piece has at least MIN_FRAGMENT_WORDS words (so "Mr." or "He said." never count).
    """
    cited = normalize_text(sentence)
    if not cited:
        return False
    for gold in evidence:
        target = normalize_text(gold)
        if not target:
            continue
        if target in cited:
            return True
        if len(cited.split()) >= MIN_FRAGMENT_WORDS and cited.strip(" .!?\"'") in target:
            return True
        pieces = [p for p in _SENTENCE_BREAK.split(target) if len(p.split()) >= MIN_FRAGMENT_WORDS]
        if len(pieces) > 1 and any(p in cited for p in pieces):
            return True
    return False


# -- citations -------------------------------------------------------------------------------


def citation_precision(cited: Sequence[str], evidence: Sequence[str]) -> float | None:
    """Return the share of cited sentences that support the evidence; None when nothing was cited.

    With no gold evidence (an unanswerable question) every citation is wrong, so the share is 0.0.
    """
    if not cited:
        return None
    return sum(evidence_matches(s, evidence) for s in cited) / len(cited)


def citation_hit(cited: Sequence[str], evidence: Sequence[str]) -> bool | None:
    """Return True when any cited sentence supports the evidence; None when there is no evidence."""
    if not evidence:
        return None
    return any(evidence_matches(s, evidence) for s in cited)


def evidence_at_1(cited: Sequence[str], evidence: Sequence[str]) -> bool | None:
    """Return True when the first cited sentence supports the evidence; None without evidence."""
    if not evidence:
        return None
    return bool(cited) and evidence_matches(cited[0], evidence)


# -- retrieval -------------------------------------------------------------------------------


def evidence_rank(passages: Sequence[str], evidence: Sequence[str]) -> int | None:
    """Return the 1-based rank of the first passage holding gold evidence; None when none does."""
    for rank, passage in enumerate(passages, start=1):
        if contains_evidence(passage, evidence):
            return rank
    return None


def recall_at_k(rank: int | None, k: int) -> float:
    """Return 1.0 when the evidence was found within the first `k` passages, else 0.0."""
    return float(rank is not None and rank <= k)


def reciprocal_rank(rank: int | None) -> float:
    """Return 1/rank of the first passage holding the evidence, 0.0 when no passage does."""
    return 0.0 if rank is None else 1.0 / rank


# -- abstention ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AbstentionScores:
    """How well "not in the articles" was said: None where a share has nothing to divide by."""

    precision: float | None  # abstentions that were on unanswerable questions
    recall: float | None  # unanswerable questions that were abstained on
    false_rate: float | None  # answerable questions wrongly abstained on


def abstention_scores(outcomes: Iterable[tuple[bool, bool]]) -> AbstentionScores:
    """Return abstention precision, recall, false-abstention rate over (abstained, answerable)."""
    abstained_unanswerable = abstained_answerable = unanswerable = answerable = 0
    for abstained, is_answerable in outcomes:
        if is_answerable:
            answerable += 1
            abstained_answerable += abstained
        else:
            unanswerable += 1
            abstained_unanswerable += abstained
    abstentions = abstained_unanswerable + abstained_answerable
    return AbstentionScores(
        precision=_share(abstained_unanswerable, abstentions),
        recall=_share(abstained_unanswerable, unanswerable),
        false_rate=_share(abstained_answerable, answerable),
    )


# -- aggregation -----------------------------------------------------------------------------


def mean(values: Iterable[float | bool | None]) -> float | None:
    """Return the mean of the defined values (None skipped); None when there are none."""
    defined = [float(v) for v in values if v is not None]
    return sum(defined) / len(defined) if defined else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """Return the q-th percentile (0–100), interpolated linearly as numpy does; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


RIGHT_F1 = 0.5  # an answer counts as right for calibration when its token F1 reaches this


@dataclass(frozen=True, slots=True)
class ReliabilityBin:
    """Answers whose confidence fell in [low, high): how many, their mean confidence, how many were right."""

    low: float
    high: float
    answers: int
    mean_confidence: float | None
    accuracy: float | None


def reliability(pairs: Sequence[tuple[float, bool]], bins: int = 5) -> list[ReliabilityBin]:
    """Return the reliability table of (confidence, right) pairs in `bins` equal-width bins over [0, 1]."""
    out = []
    for i in range(bins):
        low, high = i / bins, (i + 1) / bins
        inside = [(c, ok) for c, ok in pairs if low <= min(max(c, 0.0), 1.0) < high or (i == bins - 1 and c >= 1.0)]
        out.append(ReliabilityBin(
            low, high, len(inside), mean(c for c, _ in inside), mean(ok for _, ok in inside),
        ))
    return out


def brier(pairs: Sequence[tuple[float, bool]]) -> float | None:
    """Return the mean squared gap between confidence (clipped to [0, 1]) and being right."""
    return mean((min(max(c, 0.0), 1.0) - float(ok)) ** 2 for c, ok in pairs)
