"""Compose: the answer text shown to the user, from the short answer and its citations.

Byline needs no language model: `ExtractiveComposer` returns the extracted span. This is the
seam where a generative model can write fluent answers from the same cited sentences:
`PromptComposer` fills `prompts/answer.txt` and hands it to any `generate(prompt) -> str`
callable, then keeps the generated text only if every cited number refers to a real citation
and the text is not a refusal; otherwise it falls back to the extracted span.

`GenerativeComposer` is the full version, used when a language model is configured
(`Settings.llm`): the ranked sentences go to the model numbered, its answer streams back, and
each statement is checked against the sentences it cites (`verify.py`); only verified
statements are kept, and when none is, or the model fails, the extractive answer stays, with a
one-line note saying why.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import Protocol

from byline.pipeline.generate import LanguageModel, ModelFailed
from byline.pipeline.verify import Verifier
from byline.prompts import load
from byline.types import Answer, Citation, Statement

log = logging.getLogger(__name__)


class Composer(Protocol):
    """A pipeline step: question, short answer and citations in, the answer text out."""

    def run(self, question: str, short_answer: str, citations: Sequence[Citation]) -> str:
        """Return the answer text shown to the user."""
        ...


class ExtractiveComposer:
    """The default: the answer is the span extracted from the first cited sentence."""

    def run(self, question: str, short_answer: str, citations: Sequence[Citation]) -> str:
        """Return the extracted span, unchanged."""
        return short_answer


class PromptComposer:
    """Writes the answer with a generative model, checked against the citations."""

    def __init__(self, generate: Callable[[str], str], template: str = "answer.txt") -> None:
        self.generate = generate
        self.template = load(template)

    def prompt(self, question: str, citations: Sequence[Citation]) -> str:
        """Return the filled prompt."""
        numbered = "\n".join(f"[{n}] {c.text}" for n, c in enumerate(citations, start=1))
        return self.template.format(question=question, sentences=numbered)

    def run(self, question: str, short_answer: str, citations: Sequence[Citation]) -> str:
        """Return the model's answer when it cites only given sentences, else the extracted span."""
        text = self.generate(self.prompt(question, citations)).strip()
        cited = {int(n) for n in re.findall(r"\[(\d+)\]", text)}
        if not text or "NOT IN THE ARTICLES" in text or not cited <= set(range(1, len(citations) + 1)):
            return short_answer
        return text


class GenerativeComposer:
    """Writes the answer with a language model; keeps only statements their citations support.

    `sentences` is how many ranked sentences the model is shown (the extractive answer's
    citations first): few, because small local models read ~30 tokens a second on a laptop CPU.
    """

    def __init__(self, model: LanguageModel, verifier: Verifier, *, sentences: int = 4) -> None:
        self.model = model
        self.verifier = verifier
        self.sentences = sentences

    def run(self, question: str, short_answer: str, citations: Sequence[Citation]) -> str:
        """Return the verified written answer over `citations`, or `short_answer` (the Composer seam)."""
        extractive = Answer(question=question, text=short_answer, abstained=False, citations=tuple(citations))
        *_, answer = self.write(question, extractive, citations)
        assert isinstance(answer, Answer)
        return answer.text

    def write(self, question: str, extractive: Answer, given: Sequence[Citation]) -> Iterator[str | Answer]:
        """Yield the model's text as it arrives, then the Answer: verified, or `extractive` with a note."""
        given = list(given)[: self.sentences]
        written = ""
        try:
            for delta in self.model.write(question, [c.text for c in given], extractive.text):
                written += delta
                yield delta
        except ModelFailed as exc:
            yield replace(extractive, written=written, note=f"Extracted answer shown: {exc}.")
            return
        checked = self.verifier.run(written, [c.text for c in given], question)
        yield composed(extractive, given, written, checked.statements)


def composed(extractive: Answer, given: Sequence[Citation], written: str, statements: Sequence[Statement]) -> Answer:
    """Return the answer made of the verified statements, cited sentences renumbered [1], [2] ….

    With no verified statement, `extractive` is returned, recording what was written and why
    it was not kept.
    """
    kept = [s for s in statements if s.verified]
    if not kept:
        why = next((s.problems[0] for s in statements if s.problems), "wrote nothing")
        log.info("written answer not kept (%s): %r", why, written)
        return replace(
            extractive, written=written, statements=tuple(statements), verified=False,
            note=f"Extracted answer shown: the language model's answer {why}.",
        )
    order = list(dict.fromkeys(n for s in kept for n in s.citations))
    number = {n: i for i, n in enumerate(order, start=1)}
    renumbered = tuple(
        replace(s, citations=tuple(number[n] for n in s.citations if n in number)) for s in statements
    )
    text = " ".join(
        f"{s.text.rstrip('.!?')} {''.join(f'[{n}]' for n in s.citations)}." for s in renumbered if s.verified
    )
    removed = sum(not s.verified for s in statements)
    return replace(
        extractive, text=text, citations=tuple(given[n - 1] for n in order), written=written,
        statements=renumbered, verified=True,
        note=f"{removed} unsupported statement{'s' if removed > 1 else ''} left out." if removed else "",
    )
