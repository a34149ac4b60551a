"""Readers: files and folders in, Articles (or Failures and Notices saying why not) out.

Plain text and Markdown, HTML pages (trafilatura), RSS/Atom feeds (feedparser) and JSONL
(one article per line: id, title, text, published, source, url).
"""

from __future__ import annotations

import codecs
import dataclasses
import datetime
import hashlib
import json
import logging
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeAlias

from byline.index.clean import clean, paragraphs
from byline.index.types import Article, Failure, Notice

log = logging.getLogger(__name__)

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".text"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
FEED_SUFFIXES = {".rss", ".atom", ".xml"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
SUPPORTED = TEXT_SUFFIXES | HTML_SUFFIXES | FEED_SUFFIXES | JSONL_SUFFIXES
MAX_FILE_BYTES = 32 * 1024 * 1024
# A long feature is ~60,000 characters; past this a "text" is a dump, not an article, and the
# question-time parser (spaCy, 1,000,000 characters at most) must never see it whole.
MAX_ARTICLE_CHARS = 300_000
HTML_MAX_DEPTH = 255  # libxml2's nesting limit: deeper pages come back empty from the parser
JSONL_FIELDS = {"id", "title", "text", "published", "source", "url", "author", "date", "category"}

Result: TypeAlias = Article | Failure | Notice
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def read_paths(paths: list[Path], *, max_bytes: int = MAX_FILE_BYTES) -> Iterator[Result]:
    """Yield an Article, Failure or Notice for every article (or problem) found under `paths`."""
    for path in paths:
        try:
            is_dir = path.is_dir()
        except OSError as exc:
            yield Failure(shown_path(path), f"cannot be read ({exc.strerror})")
            continue
        if is_dir:
            files, problems = _folder_files(path)
            yield from problems
            if not files and not problems:
                yield Failure(shown_path(path), "folder holds no .txt, .md, .html, .jsonl or feed files")
            for file in files:
                yield from read_file(file, max_bytes=max_bytes)
        else:
            yield from read_file(path, max_bytes=max_bytes)


def _folder_files(root: Path) -> tuple[list[Path], list[Failure]]:
    """Return the supported files under `root` and what was skipped there, and why.

    Hidden files and folders are left out; symbolic links are not followed out of `root`.
    """
    base = root.resolve()
    files: list[Path] = []
    problems: list[Failure] = []

    def unreadable(exc: OSError) -> None:
        where = shown_path(Path(exc.filename)) if exc.filename else shown_path(root)
        log.warning("skipped folder %s: %s", where, exc.strerror)
        problems.append(Failure(where, f"skipped: the folder cannot be read ({exc.strerror})"))

    for dirpath, dirnames, filenames in os.walk(root, onerror=unreadable):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in dirnames:
            if (here / name).is_symlink() and not _inside(here / name, base):
                problems.append(_outside_link(here / name))
        for name in sorted(filenames):
            file = here / name
            if name.startswith(".") or file.suffix.lower() not in SUPPORTED:
                continue
            if file.is_symlink() and not _inside(file, base):
                problems.append(_outside_link(file))
                continue
            files.append(file)
    return sorted(files), problems


def _inside(link: Path, base: Path) -> bool:
    return link.resolve().is_relative_to(base)


def _outside_link(link: Path) -> Failure:
    target = shown_path(Path(os.readlink(link)))
    log.warning("skipped link %s → %s: outside the folder being added", link, target)
    return Failure(
        shown_path(link),
        f"skipped: a symbolic link to {target}, outside the folder being added (not followed)",
    )


def shown_path(path: Path) -> str:
    """Return `path` as text that can be printed and stored: undecodable bytes become �."""
    return os.fsencode(path).decode("utf-8", "replace")


def _source_key(path: Path) -> str:
    """Return the identity of a file: its resolved path (two names never share one)."""
    resolved = path.resolve()
    key = shown_path(resolved)
    if key != str(resolved):  # names that differ only in undecodable bytes stay apart
        key += "#" + hashlib.sha1(os.fsencode(resolved)).hexdigest()[:8]
    return key


def read_file(path: Path, *, max_bytes: int = MAX_FILE_BYTES) -> Iterator[Result]:
    """Yield the articles of one file (and notices), or a Failure naming what is wrong with it."""
    try:
        raw = _read_bytes(path, max_bytes)
        suffix = path.suffix.lower()
        if suffix in JSONL_SUFFIXES:
            yield from _read_jsonl(path, raw)
        elif suffix in HTML_SUFFIXES:
            yield from _read_html(path, _decode(raw))
        elif suffix in FEED_SUFFIXES:
            yield from _read_feed(path, raw)
        elif suffix in TEXT_SUFFIXES or suffix == "":
            yield from _read_text(path, _decode(raw))
        else:
            raise ValueError(
                f"unsupported file type {suffix!r} (use .txt, .md, .html, .jsonl, .rss/.atom/.xml)"
            )
    except (ValueError, OSError) as exc:
        reason = f"cannot be read ({exc.strerror})" if isinstance(exc, OSError) else str(exc)
        log.warning("skipped %s: %s", shown_path(path), reason)
        yield Failure(shown_path(path), reason)


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ValueError("no such file") from None
    if not stat.S_ISREG(info.st_mode):
        # a named pipe would block the add until someone writes to it
        raise ValueError("not a regular file (a named pipe, socket or device); it was not read")
    if info.st_size == 0:
        raise ValueError("empty file (0 bytes)")
    if info.st_size > max_bytes:
        raise ValueError(
            f"file is {info.st_size / 2**20:.0f} MiB, over the {max_bytes / 2**20:.0f} MiB limit "
            "(split it into smaller files)"
        )
    with open(path, "rb") as handle:
        raw = handle.read(max_bytes + 1)
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
    key: str = "",
    notes: list[Notice] | None = None,
) -> Article:
    """Return a cleaned Article; raise ValueError when no article text is left after cleaning.

    What had to be repaired or left out (invalid characters, an invalid date, an overlong
    text) is appended to `notes`.
    """
    notes = notes if notes is not None else []
    fields = {"text": text, "title": title, "source": source, "url": url, "author": author}
    bad = sum(len(_SURROGATE.findall(v)) for v in fields.values())
    if bad:
        fields = {k: _SURROGATE.sub("\ufffd", v) for k, v in fields.items()}
        notes.append(Notice(origin, f"replaced {bad} invalid character(s) (lone UTF-16 surrogates) with �"))
    article_id = _SURROGATE.sub("\ufffd", article_id)
    raw_length = len(fields["text"])
    # cleaning a 30 MiB line whole costs GBs for text that is cut below anyway
    cleaned = clean(fields["text"][: 2 * MAX_ARTICLE_CHARS])
    body = cleaned.text
    if len(cleaned.text) < 20:
        raise ValueError("no article text found (after removing page furniture)")
    if raw_length > MAX_ARTICLE_CHARS and len(body) >= MAX_ARTICLE_CHARS:
        body = _cut(body, MAX_ARTICLE_CHARS)
        notes.append(
            Notice(
                origin,
                f"the text is {raw_length:,} characters: only the first {len(body):,} were indexed "
                f"(the limit is {MAX_ARTICLE_CHARS:,}; split it into several articles to index all of it)",
            )
        )
    date = _iso_date(published)
    if date is None:
        notes.append(Notice(origin, f"date {published.strip()!r} is not a valid date; it was not stored"))
        date = ""
    title = re.sub(r"\s+", " ", fields["title"]).strip() or _title_from(body)
    return Article(
        id=article_id or _make_id(title, body),
        title=title,
        text=body,
        source=fields["source"].strip(),
        published=date,
        url=fields["url"].strip(),
        author=fields["author"].strip(),
        origin=origin,
        dropped=cleaned.dropped,
        key=key or origin,
    )


def _cut(text: str, limit: int) -> str:
    """Return at most `limit` characters of text, ending at a paragraph or word break if near."""
    for mark in ("\n\n", " "):
        at = text.rfind(mark, limit - limit // 10, limit)
        if at > 0:
            return text[:at].rstrip()
    return text[:limit]


def content_hash(article: Article) -> str:
    """Return a fingerprint of the article's cleaned text: same text, same article."""
    return hashlib.sha256(re.sub(r"\s+", " ", article.text).strip().encode()).hexdigest()


def _read_text(path: Path, text: str) -> Iterator[Result]:
    meta = _sidecar_meta(path)
    notes: list[Notice] = []
    yield make_article(
        text=text,
        title=str(meta.get("title", "")),
        source=str(meta.get("source", "")),
        published=str(meta.get("published", "")),
        url=str(meta.get("url", "")),
        author=str(meta.get("author", "")),
        origin=shown_path(path),
        article_id=str(meta.get("id", "")) or _slug(shown_path(Path(path.stem))),
        key=_source_key(path),
        notes=notes,
    )
    yield from notes


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


def _read_html(path: Path, html: str) -> Iterator[Result]:
    import trafilatura

    doc: Any = trafilatura.bare_extraction(
        html, with_metadata=True, include_comments=False, include_tables=False, favor_precision=True
    )
    if doc is None or not (doc.text or "").strip():
        depth = _nesting_depth(html)
        if depth > HTML_MAX_DEPTH:
            raise ValueError(
                f"the HTML is nested {depth} levels deep, more than the {HTML_MAX_DEPTH} the HTML "
                "parser reads, so no text could be extracted (save the article as .txt instead)"
            )
        raise ValueError("no article text found in the HTML page")
    notes: list[Notice] = []
    yield make_article(
        text=doc.text.replace("\n", "\n\n"),
        title=doc.title or "",
        source=doc.sitename or doc.hostname or "",
        published=doc.date or "",
        url=doc.url or "",
        author=doc.author or "",
        origin=shown_path(path),
        article_id=_slug(shown_path(Path(path.stem))),
        key=_source_key(path),
        notes=notes,
    )
    yield from notes


_TAG = re.compile(r"<(/?)([a-zA-Z][\w:-]*)[^>]*?(/?)>")
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def _nesting_depth(html: str) -> int:
    """Return roughly how deep the elements of an HTML page nest."""
    depth = deepest = 0
    for closing, name, self_closing in _TAG.findall(html):
        if self_closing or name.lower() in _VOID:
            continue
        depth = max(0, depth - 1) if closing else depth + 1
        deepest = max(deepest, depth)
    return deepest


def _read_feed(path: Path, raw: bytes) -> Iterator[Result]:
    import feedparser
    import trafilatura

    feed = feedparser.parse(raw)
    if not feed.entries:
        reason = getattr(feed, "bozo_exception", None) or "no entries"
        raise ValueError(f"not a readable RSS/Atom feed ({reason})")
    source = feed.feed.get("title", "")
    for n, entry in enumerate(feed.entries, start=1):
        origin = f"{shown_path(path)}#{n}"
        html = (entry.get("content") or [{}])[0].get("value") or entry.get("summary", "")
        text = trafilatura.extract(f"<html><body><article>{html}</article></body></html>") or ""
        entry_id = entry.get("id", "") or entry.get("link", "")
        notes: list[Notice] = []
        try:
            yield make_article(
                text=text or re.sub(r"<[^>]+>", " ", html),
                title=entry.get("title", ""),
                source=source,
                published=entry.get("published", "") or entry.get("updated", ""),
                url=entry.get("link", ""),
                author=entry.get("author", ""),
                origin=origin,
                article_id=entry_id,
                key=f"{_source_key(path)}#{entry_id or n}",
                notes=notes,
            )
        except ValueError as exc:
            yield Failure(origin, str(exc))
        yield from notes


def _read_jsonl(path: Path, raw: bytes) -> Iterator[Result]:
    """Yield one article per line; a bad line is a Failure naming it, the others are read."""
    raw = raw.removeprefix(codecs.BOM_UTF8)
    if not raw.strip():
        raise ValueError("file holds only whitespace")
    shown, source_key = shown_path(path), _source_key(path)
    first_line: dict[str, int] = {}  # explicit id → the line that used it first
    for lineno, data in enumerate(raw.split(b"\n"), start=1):
        origin = f"{shown}:{lineno}"
        try:
            line = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield Failure(origin, f"not valid UTF-8 (byte {exc.start + 1} of the line); the line was skipped")
            continue
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Failure(origin, f"malformed JSON line ({exc.msg}, column {exc.colno})")
            continue
        except RecursionError:
            yield Failure(origin, "malformed JSON line (nested too deeply)")
            continue
        if not isinstance(record, dict):
            yield Failure(origin, "a line must be a JSON object with at least a 'text' field")
            continue
        body = record.get("text")
        if not isinstance(body, str) or not body.strip():
            kind = "" if body is None or isinstance(body, str) else f" ('text' is {_kind(body)})"
            yield Failure(origin, f"line has no 'text' field with the article text{kind}")
            continue
        notes: list[Notice] = []
        fields = {name: _text_field(record, name, origin, notes) for name in
                  ("id", "title", "source", "url", "author", "published", "date")}
        article_id = fields["id"].strip()
        if article_id in first_line:
            yield Failure(
                origin,
                f"id {article_id!r} was already used on line {first_line[article_id]} of this file; "
                "the line was skipped (give each line its own id)",
            )
            continue
        try:
            article = make_article(
                text=body,
                title=fields["title"],
                source=fields["source"],
                published=fields["published"] or fields["date"],
                url=fields["url"],
                author=fields["author"],
                origin=origin,
                article_id=article_id,
                notes=notes,
            )
        except ValueError as exc:
            yield Failure(origin, str(exc))
            continue
        if article_id:
            first_line[article_id] = lineno
        # a line's identity is its id in this file (or, without one, its content)
        yield dataclasses.replace(article, key=f"{source_key}#{article.id}")
        yield from notes


def _text_field(record: dict[str, Any], name: str, origin: str, notes: list[Notice]) -> str:
    """Return a JSONL field as text; a field of another type is left out with a notice."""
    value = record.get(name)
    if value is None or isinstance(value, str):
        return value or ""
    if name == "id" and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    notes.append(Notice(origin, f"field {name!r} is {_kind(value)}, not text; it was not stored"))
    return ""


def _kind(value: object) -> str:
    return {dict: "an object", list: "a list", bool: "true/false", int: "a number",
            float: "a number"}.get(type(value), type(value).__name__)


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


def _iso_date(value: str) -> str | None:
    """Return the date as YYYY-MM-DD, "" when there is none, None when it is not a real date."""
    value = value.strip()
    if not value:
        return ""
    if re.match(r"^\d{4}-\d{2}-\d{2}", value):
        try:
            return datetime.date.fromisoformat(value[:10]).isoformat()
        except ValueError:
            return None
    from email.utils import parsedate_to_datetime

    try:
        return parsedate_to_datetime(value).date().isoformat()
    except (TypeError, ValueError, IndexError):
        return None
