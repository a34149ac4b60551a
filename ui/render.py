"""Rendering: answers, citations, upload reports and the index panel as HTML from escaped parts.

Article text is untrusted. Every string that comes from an article (sentence, paragraph, title,
source, date, link) or from a user goes through `html.escape` here, and only http(s) links
become `href`s. The chat renders these strings as HTML without Markdown, so nothing in an
article can become markup, a link or a script.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from byline.types import AddReport, Answer, Citation, IndexStats

_UNSAFE_URL_CHARS = re.compile(r"[\s\x00-\x1f\x7f<>\"'`\\]")


def esc(text: object) -> str:
    """Return `text` with &, <, >, " and ' escaped, safe inside HTML text and attributes."""
    return html.escape(str(text), quote=True)


def safe_url(url: str) -> str | None:
    """Return `url` when it is an absolute http(s) link fit for an href, else None."""
    url = url.strip()
    if not url or _UNSAFE_URL_CHARS.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        return None
    return url


def render_question(question: str) -> str:
    """Return the user's question as inert HTML text."""
    return f'<div class="byline-question">{esc(question)}</div>'


def render_pending(articles: int, seconds: float, stage: str = "Searching") -> str:
    """Return the placeholder shown while an answer is being worked out."""
    what = f"{articles:,} article{'s' if articles != 1 else ''}"
    return (
        '<div class="byline-pending" role="status">'
        '<span class="byline-spinner" aria-hidden="true"></span>'
        f'{esc(stage)} {what}… <span class="byline-elapsed">{seconds:.1f} s</span></div>'
    )


def render_error(message: str) -> str:
    """Return an error shown in the chat instead of an answer."""
    return f'<div class="byline-error" role="alert">{esc(message)}</div>'


def render_writing(text: str, seconds: float) -> str:
    """Return a written answer as the model streams it, marked as not yet checked."""
    return (
        '<div class="byline-answer byline-writing">'
        f'<p class="byline-written">{esc(text)}</p>'
        f'<p class="byline-muted">Writing… {seconds:.0f} s — each statement is checked against '
        "the sentence it cites when the model is done</p></div>"
    )


def render_statements(answer: Answer, *, strike: bool = False) -> str:
    """Return a verified written answer: each kept statement marked as checked, with its markers.

    Statements that failed the checks are left out, or with `strike` shown struck through and
    labelled as not supported — never marked as checked.
    """
    parts = []
    for s in answer.statements:
        marks = "".join(f'<sup class="byline-marker">[{n}]</sup>' for n in s.citations)
        if s.verified:
            parts.append(
                f'<span class="byline-statement byline-verified" title="checked against the cited '
                f'sentence ({s.support:.0%} of its words)">{esc(s.text)}.{marks}'
                '<span class="byline-check" aria-label="checked">✓</span></span>'
            )
        elif strike:
            problem = f" — {s.problems[0]}" if s.problems else ""
            parts.append(
                f'<span class="byline-statement byline-unsupported"><s>{esc(s.text)}.</s> '
                f'<span class="byline-muted">(not supported by the cited sentence{esc(problem)})</span></span>'
            )
    return " ".join(parts)


def render_answer(answer: Answer, *, strike: bool = False) -> str:
    """Return the answer with inline markers and, under it, its numbered citations."""
    if answer.abstained or not answer.citations:
        note = f'<p class="byline-note">{esc(answer.note)}</p>' if answer.note else ""
        return (
            '<div class="byline-answer byline-abstained">'
            f'<p class="byline-answer-text">{esc(answer.text)}</p>{note}'
            f"{_footer(answer)}</div>"
        )
    markers = "".join(
        f'<sup class="byline-marker">[{n}]</sup>' for n in range(1, len(answer.citations) + 1)
    )
    parts = ['<div class="byline-answer">']
    if answer.verified:
        parts.append(f'<p class="byline-answer-text byline-written">{render_statements(answer, strike=strike)}</p>')
    else:
        parts.append(f'<p class="byline-answer-text">{esc(answer.text)} {markers}</p>')
    if answer.note and (answer.written or answer.note.startswith(("Extracted", "Read without"))):
        parts.append(f'<p class="byline-note">{esc(answer.note)}</p>')
    if _rewritten(answer):
        parts.append(
            f'<p class="byline-understood">Understood as: {esc(answer.standalone_question)}</p>'
        )
    parts.append('<div class="byline-citations">')
    parts.extend(render_citation(n, c) for n, c in enumerate(answer.citations, start=1))
    parts.append("</div>")
    parts.append(_footer(answer))
    parts.append("</div>")
    return "".join(parts)


def render_citation(number: int, citation: Citation) -> str:
    """Return one citation: the sentence, where it came from, and its paragraph when expanded."""
    sentence = _mark(citation.text, citation.answer_start, citation.answer_end, "strong")
    return (
        f'<div class="byline-citation" data-n="{number}">'
        "<details>"
        f'<summary><span class="byline-num">[{number}]</span> '
        f'<span class="byline-sentence">{sentence}</span></summary>'
        f'<blockquote class="byline-paragraph">{_paragraph(citation)}</blockquote>'
        "</details>"
        f'<div class="byline-meta">{render_source(citation)}</div>'
        "</div>"
    )


def render_source(citation: Citation) -> str:
    """Return the article's title, source, date and link (clickable only when http/https)."""
    bits = [f'<span class="byline-title">{esc(citation.title or citation.article_id)}</span>']
    if citation.source:
        bits.append(f'<span class="byline-source">{esc(citation.source)}</span>')
    if citation.published:
        bits.append(f'<time class="byline-date">{esc(citation.published)}</time>')
    if citation.url:
        url = safe_url(citation.url)
        if url:
            host = urlsplit(url).hostname or url
            bits.append(
                f'<a class="byline-link" href="{esc(url)}" target="_blank" '
                f'rel="noopener noreferrer nofollow">{esc(host)} ↗</a>'
            )
        else:
            bits.append(f'<span class="byline-link-text">{esc(citation.url)}</span>')
    return " · ".join(bits)


def render_add_report(report: AddReport, rejected: Sequence[tuple[str, str]] = ()) -> str:
    """Return the summary of an upload: added, duplicates, and failures with their reasons."""
    failed = [(f.path, f.reason) for f in report.failed] + list(rejected)
    head = (
        f"<b>{len(report.added)}</b> added · <b>{len(report.duplicates)}</b> already indexed · "
        f"<b>{len(failed)}</b> failed"
    )
    if report.seconds:
        head += f' <span class="byline-muted">({report.seconds:.1f} s)</span>'
    parts = [f'<div class="byline-report"><p>{head}</p>']
    if report.added:
        parts.append(_list("Added", [a.title or a.id for a in report.added], limit=8))
    if report.duplicates:
        parts.append(_list("Already indexed", [a.title or a.id for a in report.duplicates], 4))
    if failed:
        parts.append(_list("Failed", [f"{_short(path)}: {reason}" for path, reason in failed], 8))
    parts.append("</div>")
    return "".join(parts)


def render_rejection(message: str) -> str:
    """Return a message about an upload that was refused before indexing."""
    return f'<div class="byline-report byline-error">{esc(message)}</div>'


def render_index_panel(stats: IndexStats) -> str:
    """Return the panel saying what is indexed: articles, sources, date range."""
    if stats.articles == 0:
        return '<div class="byline-index"><p>No articles indexed yet — add some below.</p></div>'
    sources = ", ".join(esc(s) for s in stats.sources[:6]) or "unknown"
    if len(stats.sources) > 6:
        sources += f" and {len(stats.sources) - 6} more"
    if stats.first_published:
        dates = f"{esc(stats.first_published)} to {esc(stats.last_published)}"
    else:
        dates = "unknown"
    return (
        '<div class="byline-index"><dl>'
        f"<dt>Articles</dt><dd>{stats.articles:,} ({stats.sentences:,} sentences)</dd>"
        f"<dt>Sources</dt><dd>{sources}</dd>"
        f"<dt>Dates</dt><dd>{dates}</dd>"
        "</dl></div>"
    )


def _paragraph(citation: Citation) -> str:
    """Return the citation's paragraph, escaped, with the cited sentence in <mark>."""
    paragraph = citation.paragraph or citation.text
    start = citation.start - citation.paragraph_start
    end = citation.end - citation.paragraph_start
    if not (0 <= start < end <= len(paragraph)) or paragraph[start:end] != citation.text:
        start = paragraph.find(citation.text)
        end = start + len(citation.text)
    return _mark(paragraph, start, end, "mark", css="byline-highlight")


def _mark(text: str, start: int, end: int, tag: str, css: str = "byline-answer-span") -> str:
    """Return escaped `text` with text[start:end] wrapped in `tag` (no wrap when out of range)."""
    if not (0 <= start < end <= len(text)):
        return esc(text)
    return (
        f'{esc(text[:start])}<{tag} class="{css}">{esc(text[start:end])}</{tag}>{esc(text[end:])}'
    )


def _rewritten(answer: Answer) -> bool:
    understood = answer.standalone_question.strip()
    return bool(understood) and understood.casefold() != answer.question.strip().casefold()


def _footer(answer: Answer) -> str:
    if not answer.seconds:
        return ""
    return f'<p class="byline-muted byline-timing">{answer.seconds:.2f} s</p>'


def _list(label: str, items: Sequence[str], limit: int) -> str:
    shown = "".join(f"<li>{esc(item)}</li>" for item in items[:limit])
    more = f"<li>… and {len(items) - limit} more</li>" if len(items) > limit else ""
    return f'<p class="byline-muted">{esc(label)}:</p><ul>{shown}{more}</ul>'


def _short(path: str) -> str:
    """Return the file name part of a path (uploads live in temporary folders)."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    return name or path
