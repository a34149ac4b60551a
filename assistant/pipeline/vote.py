"""A second reader's vote: a language model's short answer over the sentences the reader reads.

With `reader_llm` set, the fitted reader hears what a language model answers to the question
over the same ranked sentences: candidates that agree with it gain, its answer becomes a
candidate where a sentence says it (kind VOTED), and the answerability gate hears whether it
said "unknown", agrees with the reader and quotes the sentences. The model only votes: the
answer is still a span of a cited sentence. How much each of these counts comes from a reader
file fitted on the same model's answers (`benchmarks/fit_reader.py --llm-answers`,
`params/reader-v6-llm.json`); the fit and the product build the prompt and the features here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from byline.pipeline.overlap import normalize_answer, token_f1
from byline.prompts import load

if TYPE_CHECKING:
    from byline.pipeline.generate import LanguageModel
    from byline.types import Candidate

log = logging.getLogger(__name__)
MAX_TOKENS = 16  # a short answer; the reader file was fitted on answers cut at 16 tokens
_UNKNOWN = {"none", "not mentioned", "not given", "n a"}


@dataclass(frozen=True, slots=True)
class Vote:
    """A language model's short answer to one question (or why it gave none)."""

    answer: str  # its reply's first line ("" when it failed)
    failed: str = ""  # one line saying why no answer came: then the reader reads without a vote
    seconds: float = 0.0

    @property
    def usable(self) -> bool:
        return not self.failed

    @property
    def unknown(self) -> bool:
        """True when the model said the sentences do not answer."""
        return says_unknown(self.answer)


def messages(question: str, asked_on: str, sentences: Sequence[str], system: str = "vote_system.txt") -> list[dict[str, str]]:
    """Return the chat messages asking for a short answer from the numbered sentences (`system`:
    the prompt file that says how; benchmarks/llm_answers.py --dated tries another)."""
    from byline.pipeline.generate import numbered  # the generative mode's own numbering

    asked = f" (asked on {asked_on})" if asked_on else ""
    user = load("vote_user.txt").rstrip("\n").format(sentences=numbered(sentences), asked=asked, question=question)
    return [{"role": "system", "content": load(system).rstrip("\n")}, {"role": "user", "content": user}]


def first_line(reply: str) -> str:
    """Return the reply's first non-empty line, stripped (small models sometimes go on)."""
    return next((line.strip() for line in reply.strip().splitlines() if line.strip()), "")


def says_unknown(answer: str) -> bool:
    """Return True when a model's short answer says the sentences do not answer."""
    k = " ".join(answer.lower().split())
    return not k or k.startswith("unknown") or k in _UNKNOWN


def candidate_features(span: str, answer: str) -> dict[str, float]:
    """Return how far a candidate span agrees with the model's answer: token F1, exact match, and
    whether the model said "unknown"."""
    unknown = says_unknown(answer)
    return {
        "llm_f1": 0.0 if unknown else token_f1(span, [answer]),
        "llm_exact": float(not unknown and span.lower().split() == answer.lower().split()),
        "llm_unknown": float(unknown),
    }


def gate_features(best: str, answer: str, sentences: Sequence[str]) -> dict[str, float]:
    """Return the gate's view of the model's answer: "unknown", agreement with the reader's best
    answer `best`, and whether its words occur in the sentences read."""
    if says_unknown(answer):
        return {"g_llm_unknown": 1.0, "g_llm_agree": 0.0, "g_llm_in_text": 0.0}
    text = " " + " ".join(normalize_answer(s) for s in sentences) + " "
    return {"g_llm_unknown": 0.0, "g_llm_agree": token_f1(best, [answer]),
            "g_llm_in_text": float(f" {normalize_answer(answer)} " in text)}


class Voter:
    """Pipeline step: ranked sentences in, the language model's short answer over them out.

    The question is asked as of `as_of` (today when not given), as the quizzes the reader file was
    fitted on were; a model that fails or is too slow gives a Vote that says why, never an error.
    """

    def __init__(self, model: LanguageModel) -> None:
        self.model = model

    def run(self, question: str, candidates: list[Candidate], as_of: date | None = None) -> Vote:
        """Return the model's vote on `question` over the candidates' sentences."""
        from byline.pipeline.generate import ModelFailed

        if not candidates:
            return Vote("", failed="no sentences to read")
        asked_on = (as_of or date.today()).isoformat()
        started = time.perf_counter()
        try:
            reply = self.model.chat(messages(question, asked_on, [c.sentence.text for c in candidates]))
        except ModelFailed as exc:
            log.info("no vote: %s", exc)
            return Vote("", failed=str(exc), seconds=time.perf_counter() - started)
        vote = Vote(first_line(reply), seconds=time.perf_counter() - started)
        log.debug("vote %r in %.2f s", vote.answer, vote.seconds)
        return vote
