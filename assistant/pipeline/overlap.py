"""How far two short answers agree, as SQuAD compares them: normalised text, exact match, token F1.

The evaluation scores answers with these (`evaluation.metrics` re-exports them), and the fitted
reader compares its candidates with a language model's vote by them (`vote.py`).
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from collections.abc import Sequence

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = frozenset(string.punctuation) | {"‘", "’", "“", "”", "–", "—", "£", "€", "…"}


def normalize_answer(text: str) -> str:
    """Return `text` as SQuAD compares answers: lower-cased, no punctuation or articles."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str, answers: Sequence[str]) -> float:
    """Return 1.0 when `prediction` equals any acceptable answer after normalisation, else 0.0.

    With no acceptable answers (an unanswerable question) only an empty prediction matches,
    as in SQuAD 2.0: pass "" for an abstention.
    """
    predicted = normalize_answer(prediction)
    if not answers:
        return float(predicted == "")
    return float(any(predicted == normalize_answer(a) for a in answers))


def token_f1(prediction: str, answers: Sequence[str]) -> float:
    """Return the best token-overlap F1 between `prediction` and any acceptable answer (0.0–1.0)."""
    if not answers:
        return exact_match(prediction, answers)
    return max(
        _f1(normalize_answer(prediction).split(), normalize_answer(a).split()) for a in answers
    )


def _f1(predicted: list[str], gold: list[str]) -> float:
    if not predicted or not gold:
        return float(predicted == gold)
    common = sum((Counter(predicted) & Counter(gold)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(gold)
    return 2 * precision * recall / (precision + recall)
