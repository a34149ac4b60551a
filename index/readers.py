"""Readers: files and folders in, Articles (or Failures saying why not) out.

Plain text and Markdown, HTML pages (trafilatura), RSS/Atom feeds (feedparser) and JSONL
(one article per line: id, title, text, published, source, url).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from byline.index.clean import clean, paragraphs
from byline.index.types import Article, Failure

log = logging.getLogger(__name__)

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".text"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
FEED_SUFFIXES = {".rss", ".atom", ".xml"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
SUPPORTED = TEXT_SUFFIXES | HTML_SUFFIXES | FEED_SUFFIXES | JSONL_SUFFIXES
MAX_FILE_BYTES = 32 * 1024 * 1024
JSONL_FIELDS = {"id", "title", "text", "published", "source", "url", "author", "date", "category"}

Result = Article | Failure


def read_paths(paths: list[Path], *, max_bytes: int = MAX_FILE_BYTES) -> Iterator[Result]:
    """Yield an Article or a Failure for every article found under `paths`."""
    for path in paths:
        if path.is_dir():
            files = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and p.suffix.lower() in SUPPORTED
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not files:
                yield Failure(str(path), "folder holds no .txt, .md, .html, .jsonl or feed files")
            for file in files:
                yield from read_file(file, max_bytes=max_bytes)
        else:
            yield from read_file(path, max_bytes=max_bytes)


def read_file(path: Path, *, max_bytes: int = MAX_FILE_BYTES) -> Iterator[Result]:
    """Yield the articles of one file, or a Failure naming what is wrong with it."""
    try:
        raw = _read_bytes(path, max_bytes)
        suffix = path.suffix.lower()
        if suffix in JSONL_SUFFIXES:
            yield from _read_jsonl(path, _decode(raw))
        elif suffix in HTML_SUFFIXES:
            yield _read_html(path, _decode(raw))
        elif suffix in FEED_SUFFIXES:
            yield from _read_feed(path, raw)
        elif suffix in TEXT_SUFFIXES or suffix == "":
            yield _read_text(path, _decode(raw))
        else:
            raise ValueError(
                f"unsupported file type {suffix!r} (use .txt, .md, .html, .jsonl, .rss/.atom/.xml)"
            )
    except (ValueError, OSError) as exc:
        log.warning("skipped %s: %s", path, exc)
        yield Failure(str(path), str(exc))


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    if not path.exists():
        raise ValueError("no such file")
    size = path.stat().st_size
    if size == 0:
        raise ValueError("empty file (0 bytes)")
    if size > max_bytes:
        raise ValueError(
            f"file is {size / 2**20:.0f} MiB, over the {max_bytes / 2**20:.0f} MiB limit "
            "(split it into smaller files)"
        )
    raw = path.read_bytes()
    if b"\x00" in raw[:8192]:
        raise ValueError("binary file, not text (give .txt, .html or .jsonl articles)")
    return raw


def _decode(raw: bytes) -> str:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"not valid UTF-8 text (byte {exc.start}); convert it to UTF-8 and add it again"
        ) from None
    if not text.strip():
        raise ValueError("file holds only whitespace")
    return text


def make_article(
    *,
    text: str,
    title: str = "",
    source: str = "",
    published: str = "",
    url: str = "",
    author: str = "",
    origin: str,
    article_id: str = "",
) -> Article:
    """Return a cleaned Article; raise ValueError when no article text is left after cleaning."""
    cleaned = clean(text)
    if len(cleaned.text) < 20:
        raise ValueError("no article text found (after removing page furniture)")
    title = re.sub(r"\s+", " ", title).strip() or _title_from(cleaned.text)
    return Article(
        id=article_id or _make_id(title, cleaned.text),
        title=title,
        text=cleaned.text,
        source=source.strip(),
        published=_iso_date(published),
        url=url.strip(),
        author=author.strip(),
        origin=origin,
        dropped=cleaned.dropped,
    )


def content_hash(article: Article) -> str:
    """Return a fingerprint of the article's cleaned text: same text, same article."""
    return hashlib.sha256(re.sub(r"\s+", " ", article.text).strip().encode()).hexdigest()


def _read_text(path: Path, text: str) -> Article:
    meta = _sidecar_meta(path)
    return make_article(
        text=text,
        title=str(meta.get("title", "")),
        source=str(meta.get("source", "")),
        published=str(meta.get("published", "")),
        url=str(meta.get("url", "")),
        author=str(meta.get("author", "")),
        origin=str(path),
        article_id=str(meta.get("id", "")) or _slug(path.stem),
    )


def _sidecar_meta(path: Path) -> dict[str, object]:
    """Return metadata from `NAME.meta.json` beside `NAME.txt`, when there is one."""
    meta_path = path.with_name(path.stem + ".meta.json")
    if not meta_path.is_file():
        return {}
    try:
        data = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("ignored unreadable metadata %s: %s", meta_path, exc)
        return {}
    return data if isinstance(data, dict) else {}


def _read_html(path: Path, html: str) -> Article:
    import trafilatura

    doc: Any = trafilatura.bare_extraction(
        html, with_metadata=True, include_comments=False, include_tables=False, favor_precision=True
    )
    if doc is None or not (doc.text or "").strip():
        raise ValueError("no article text found in the HTML page")
    return make_article(
        text=doc.text.replace("\n", "\n\n"),
        title=doc.title or "",
        source=doc.sitename or doc.hostname or "",
        published=doc.date or "",
        url=doc.url or "",
        author=doc.author or "",
        origin=str(path),
        article_id=_slug(path.stem),
    )


def _read_feed(path: Path, raw: bytes) -> Iterator[Result]:
    import feedparser
    import trafilatura

    feed = feedparser.parse(raw)
    if not feed.entries:
        reason = getattr(feed, "bozo_exception", None) or "no entries"
        raise ValueError(f"not a readable RSS/Atom feed ({reason})")
    source = feed.feed.get("title", "")
    for n, entry in enumerate(feed.entries, start=1):
        origin = f"{path}#{n}"
        html = (entry.get("content") or [{}])[0].get("value") or entry.get("summary", "")
        text = trafilatura.extract(f"<html><body><article>{html}</article></body></html>") or ""
        try:
            yield make_article(
                text=text or re.sub(r"<[^>]+>", " ", html),
                title=entry.get("title", ""),
                source=source,
                published=entry.get("published", "") or entry.get("updated", ""),
                url=entry.get("link", ""),
                author=entry.get("author", ""),
                origin=origin,
                article_id=entry.get("id", "") or entry.get("link", ""),
            )
        except ValueError as exc:
            yield Failure(origin, str(exc))


def _read_jsonl(path: Path, text: str) -> Iterator[Result]:
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        origin = f"{path}:{lineno}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Failure(origin, f"malformed JSON line ({exc.msg}, column {exc.colno})")
            continue
        if not isinstance(record, dict):
            yield Failure(origin, "a line must be a JSON object with at least a 'text' field")
            continue
        body = record.get("text")
        if not isinstance(body, str) or not body.strip():
            yield Failure(origin, "line has no 'text' field with the article text")
            continue
        try:
            yield make_article(
                text=body,
                title=str(record.get("title") or ""),
                source=str(record.get("source") or ""),
                published=str(record.get("published") or record.get("date") or ""),
                url=str(record.get("url") or ""),
                author=str(record.get("author") or ""),
                origin=origin,
                article_id=str(record.get("id") or ""),
            )
        except ValueError as exc:
            yield Failure(origin, str(exc))


def _title_from(text: str) -> str:
    """Return a stand-in title: the first sentence, or its first clause when that is long."""
    first = paragraphs(text)[0]
    cut = re.split(r"(?<=[.!?”\"])\s", first, maxsplit=1)[0].rstrip(".")
    if len(cut) > 90 and 30 <= cut.find(",") <= 110:
        cut = cut[: cut.find(",")]
    return cut if len(cut) <= 110 else cut[:107].rsplit(" ", 1)[0] + "…"


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug or "article"


def _make_id(title: str, text: str) -> str:
    return f"{_slug(title)[:40]}-{hashlib.sha1(text.encode()).hexdigest()[:8]}"


def _iso_date(value: str) -> str:
    value = value.strip()
    if not value:
        return ""
    if re.match(r"^\d{4}-\d{2}-\d{2}", value):
        return value[:10]
    from email.utils import parsedate_to_datetime

    try:
        return parsedate_to_datetime(value).date().isoformat()
    except (TypeError, ValueError):
        log.info("kept unparsed date %r", value)
        return value
