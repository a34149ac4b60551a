"""Chunks: overlapping windows of whole sentences, the unit of passage retrieval."""

from __future__ import annotations

from byline.index.types import Chunk, Sentence


def make_chunks(sentences: list[Sentence], text: str, *, size: int, overlap: int, first_id: int) -> list[Chunk]:
    """Return windows of `size` sentences sharing `overlap` with the previous window.

    Chunk ids are consecutive from `first_id`; the chunk text is the article text spanning its
    sentences, so offsets stay true.
    """
    if size < 1 or not 0 <= overlap < size:
        raise ValueError(f"chunk size {size} / overlap {overlap}: need size >= 1 and 0 <= overlap < size")
    chunks: list[Chunk] = []
    step = size - overlap
    start = 0
    while start < len(sentences):
        window = sentences[start : start + size]
        chunks.append(
            Chunk(
                id=first_id + len(chunks),
                article_id=window[0].article_id,
                first=window[0].position,
                last=window[-1].position,
                text=text[window[0].start : window[-1].end],
            )
        )
        if start + size >= len(sentences):
            break
        start += step
    return chunks
