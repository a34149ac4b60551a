"""Sentence segmentation with character offsets; paragraph breaks are hard boundaries."""

from __future__ import annotations

import re
from collections.abc import Iterator

import blingfire

from byline.index.types import Sentence

_PARAGRAPH = re.compile(r"[^\n]+(?:\n(?!\s*\n)[^\n]+)*")
# blingfire ends a sentence after an opening quote's sentence-final punctuation inside quotes
# correctly, but it does split after abbreviations followed by an initial ("Dr. J. Smith"):
# we accept that (MODELS.md measured it; it is rare in news copy).
MAX_SENTENCE_CHARS = 2_000  # ~8x a long news sentence; the encoder reads only ~1,000 characters


def split_sentences(article_id: str, text: str, *, limit: int = MAX_SENTENCE_CHARS) -> list[Sentence]:
    """Return the sentences of `text`, each with its paragraph and offsets into `text`.

    A run without sentence breaks longer than `limit` characters (a table, a dump) is cut at
    whitespace into pieces of at most `limit`, so no stored sentence can stall a question.
    """
    sentences: list[Sentence] = []
    for paragraph_no, match in enumerate(_PARAGRAPH.finditer(text)):
        block = match.group(0)
        if not block.strip():
            continue
        _, offsets = blingfire.text_to_sentences_and_offsets(block)
        for start, end in (p for a, b in offsets for p in _pieces(block, a, b, limit)):
            piece = block[start:end]
            stripped = piece.strip()
            if not stripped:
                continue
            lead = len(piece) - len(piece.lstrip())
            s = match.start() + start + lead
            sentences.append(
                Sentence(
                    article_id=article_id,
                    position=len(sentences),
                    paragraph=paragraph_no,
                    start=s,
                    end=s + len(stripped),
                    text=stripped,
                )
            )
    return sentences


def _pieces(block: str, start: int, end: int, limit: int) -> Iterator[tuple[int, int]]:
    """Yield spans of at most `limit` characters covering block[start:end], cut at whitespace."""
    while end - start > limit:
        window = block[start : start + limit + 1]
        cut = max(window.rfind(" "), window.rfind("\n"), window.rfind("\t"))
        if cut <= 0:  # no whitespace at all: cut mid-word
            cut = limit
        yield start, start + cut
        start += cut
        while start < end and block[start].isspace():
            start += 1
    if start < end:
        yield start, end
