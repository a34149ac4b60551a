"""Benchmark corpora: N-article JSONL files built deterministically from the 2,225 BBC articles.

Every corpus starts with the articles the bbc-dev questions need (so answer quality is comparable
across sizes), then the other real articles in a seeded order (leaving out the 136 repeats, same
text up to white space, in the BBC set: 2,089 distinct real articles), then synthetic articles:
each keeps the paragraph shape of a real one but is filled with sentences drawn from a seeded
shuffle of every real sentence, so no two articles are identical. Sentences of the answer
articles are kept out of the synthetic pool: the article a question names stays the only one
that says it, so doc@1 keeps its meaning at every size.

A smaller corpus is always a prefix of a larger one built with the same seed.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
BBC = SHARED / "corpora" / "bbc-news.jsonl"
BBC_DEV = SHARED / "eval" / "bbc-dev.jsonl"
SEED = 20250524
VERSION = 2  # bump when the recipe changes: cached corpora are named by seed and version


@dataclass(frozen=True, slots=True)
class CorpusInfo:
    """A built corpus file and its size in articles, sentences and characters."""

    path: Path
    articles: int
    sentences: int
    chars: int
    real: int  # articles taken as they are from the BBC set
    synthetic: int  # articles recombined from shuffled sentences


def split_sentences(text: str) -> list[str]:
    """Return the sentences of `text`; blank lines are hard boundaries (paragraphs)."""
    return [s for p in split_paragraphs(text) for s in paragraph_sentences(p)]


def split_paragraphs(text: str) -> list[str]:
    """Return the non-empty paragraphs of `text` (separated by blank lines)."""
    return [p.strip() for p in text.split("\n\n") if p.strip()]


def paragraph_sentences(paragraph: str) -> list[str]:
    """Return the sentences of one paragraph, split with blingfire."""
    from blingfire import text_to_sentences

    return [s for s in text_to_sentences(" ".join(paragraph.split())).split("\n") if s.strip()]


def load_real(path: Path = BBC) -> list[dict[str, str]]:
    """Return the real BBC articles, as read from their JSONL file."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def answer_ids(path: Path = BBC_DEV) -> list[str]:
    """Return the ids of the articles the bbc-dev questions are answered by, in question order."""
    ids: list[str] = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            for doc_id in json.loads(line).get("doc_ids", []):
                if doc_id not in ids:
                    ids.append(doc_id)
    return ids


def articles(n: int, *, seed: int = SEED) -> Iterator[dict[str, str]]:
    """Yield the first `n` articles of the benchmark sequence for `seed`."""
    real = load_real()
    needed = answer_ids()
    by_id = {a["id"]: a for a in real}
    missing = [i for i in needed if i not in by_id]
    if missing:
        raise ValueError(f"bbc-dev names articles absent from {BBC}: {missing}")
    rng = random.Random(seed)
    rest = [a for a in real if a["id"] not in set(needed)]
    rng.shuffle(rest)
    ordered = _unique([by_id[i] for i in needed] + rest)
    yield from ordered[:n]
    if n > len(ordered):
        yield from _synthetic(n - len(ordered), real, set(needed), rng)


def _unique(items: list[dict[str, str]]) -> list[dict[str, str]]:
    # The BBC set repeats articles word for word; an index would (rightly) skip the copies,
    # which would make the two pipelines index different amounts of text.
    seen: set[str] = set()
    kept = []
    for item in items:
        key = " ".join(item["text"].split())
        if key not in seen:
            seen.add(key)
            kept.append(item)
    return kept


def _synthetic(
    count: int, real: list[dict[str, str]], excluded: set[str], rng: random.Random
) -> Iterator[dict[str, str]]:
    pool = [s for a in real if a["id"] not in excluded for s in split_sentences(a["text"])]
    shapes = [[len(paragraph_sentences(p)) for p in split_paragraphs(a["text"])] for a in real]
    order = list(range(len(pool)))
    rng.shuffle(order)
    cursor = 0
    seen: set[str] = set()
    made = 0
    while made < count:
        template = real[made % len(real)]
        paragraphs = []
        for size in shapes[made % len(real)]:
            if cursor + size > len(order):
                rng.shuffle(order)
                cursor = 0
            paragraphs.append(" ".join(pool[order[i]] for i in range(cursor, cursor + size)))
            cursor += size
        text = "\n\n".join(paragraphs)
        digest = hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
        if digest in seen:  # astronomically unlikely; draw again rather than repeat an article
            continue
        seen.add(digest)
        made += 1
        section = template.get("section", "news")
        yield {
            "id": f"synth-{section}-{made:06d}",
            "title": f"{template['title']} (variant {made})",
            "text": text,
            "source": "BBC News",
            "section": section,
        }


def build(n: int, out_dir: Path, *, seed: int = SEED) -> CorpusInfo:
    """Return the corpus of `n` articles written to `out_dir` (rebuilt only when missing)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"bbc-{n}-seed{seed}-v{VERSION}.jsonl"
    meta = path.with_suffix(".meta.json")
    if path.exists() and meta.exists():
        data = json.loads(meta.read_text())
        return CorpusInfo(path=path, **data)
    counts = {"articles": 0, "sentences": 0, "chars": 0, "real": 0, "synthetic": 0}
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for article in articles(n, seed=seed):
            fh.write(json.dumps(article, ensure_ascii=False) + "\n")
            counts["articles"] += 1
            counts["sentences"] += len(split_sentences(article["text"]))
            counts["chars"] += len(article["text"])
            counts["synthetic" if article["id"].startswith("synth-") else "real"] += 1
    tmp.replace(path)
    meta.write_text(json.dumps(counts))
    return CorpusInfo(path=path, **counts)


def sentence_sample(path: Path, at_least: int) -> tuple[list[str], int]:
    """Return the sentences of the corpus's first articles (≥ `at_least`) and how many articles."""
    sentences: list[str] = []
    taken = 0
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if len(sentences) >= at_least:
                break
            sentences.extend(split_sentences(json.loads(line)["text"]))
            taken += 1
    return sentences, taken
