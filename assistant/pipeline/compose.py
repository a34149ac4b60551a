"""Compose: the answer text shown to the user, from the short answer and its citations.

Byline needs no language model: `ExtractiveComposer` returns the extracted span. This is the
seam where a generative model can write fluent answers from the same cited sentences:
`PromptComposer` fills `prompts/answer.txt` and hands it to any `generate(prompt) -> str`
callable, then keeps the generated text only if every cited number refers to a real citation
and the text is not a refusal; otherwise it falls back to the extracted span.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Protocol

from byline.prompts import load
from byline.types import Citation


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
