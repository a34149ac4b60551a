"""The chat's HTML is built from escaped parts: article text can never become markup or a link."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from byline.types import AddReport, Answer, ArticleInfo, Citation, Failure, IndexStats
from byline.ui.render import render_add_report, render_answer, render_index_panel, safe_url

PAYLOADS = (
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=2">',
    "[click me](javascript:window.__xss=3)",
    "<a href='javascript:window.__xss=4'>link</a>",
    "**bold** _it_ `code` $$x$$",
)
UMEROV = (
    "He said the Ukrainian side would be headed by defence minister Rustem Umerov and its aim "
    "is “to attempt at least the first steps toward de-escalation”."
)


class _Tags(HTMLParser):
    """Collects the tags and attributes a browser would build from some HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(markup: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(markup)
    return parser.tags


def _citation(text: str, **fields: object) -> Citation:
    paragraph = str(fields.pop("paragraph", f"Before it. {text} After it."))
    start = paragraph.find(text)
    values: dict[str, object] = {
        "text": text,
        "start": 100 + start,
        "end": 100 + start + len(text),
        "article_id": "a1",
        "title": "Istanbul talks",
        "source": "AP",
        "published": "2025-05-16",
        "url": "https://example.com/talks",
        "score": 0.9,
        "paragraph": paragraph,
        "paragraph_start": 100,
    }
    values.update(fields)
    return Citation(**values)  # type: ignore[arg-type]


def _answer(*citations: Citation, text: str = "defence minister Rustem Umerov") -> Answer:
    return Answer(
        question="Who leads Ukraine's delegation?",
        text=text,
        abstained=False,
        citations=citations,
    )


def test_answer_shows_markers_and_numbered_citations_with_title_source_date_and_link() -> None:
    start = UMEROV.index("defence minister")
    cited = _citation(UMEROV, answer_start=start, answer_end=start + 30)
    markup = render_answer(_answer(cited, _citation("Second sentence here.")))

    assert "defence minister Rustem Umerov" in markup
    assert markup.count('class="byline-marker"') == 2
    assert "[1]" in markup and "[2]" in markup
    assert "Istanbul talks" in markup and "AP" in markup and "2025-05-16" in markup
    assert '<strong class="byline-answer-span">defence minister Rustem Umerov</strong>' in markup
    links = [attrs for tag, attrs in _tags(markup) if tag == "a"]
    assert links and all(a["href"] == "https://example.com/talks" for a in links)
    assert all(a["rel"] == "noopener noreferrer nofollow" for a in links)


def test_expanded_citation_shows_its_paragraph_with_the_sentence_highlighted() -> None:
    markup = render_answer(_answer(_citation(UMEROV)))

    details = re.search(r"<details>.*</details>", markup, re.S)
    assert details
    assert '<mark class="byline-highlight">He said the Ukrainian side' in details.group(0)
    assert "Before it. <mark" in details.group(0)
    assert "</mark> After it." in details.group(0)


def test_highlight_falls_back_to_finding_the_sentence_when_offsets_disagree() -> None:
    cited = _citation(UMEROV, paragraph_start=0, start=5, end=9)
    markup = render_answer(_answer(cited))

    assert '<mark class="byline-highlight">He said the Ukrainian side' in markup


def test_abstaining_answer_says_so_and_cites_nothing() -> None:
    answer = Answer(
        question="Who won the 2030 World Cup?",
        text="The articles don't say who won the 2030 World Cup.",
        abstained=True,
    )
    markup = render_answer(answer)

    assert "don&#x27;t say" in markup
    assert "byline-citation" not in markup and "byline-marker" not in markup


def test_article_payloads_render_as_inert_text() -> None:
    for payload in PAYLOADS:
        cited = _citation(
            f"The keeper said {payload} loudly.",
            title=f"Title {payload}",
            source=f"Source {payload}",
            published=payload,
            paragraph=f"{payload} Then: The keeper said {payload} loudly. {payload}",
            url="javascript:window.__xss=9",
        )
        markup = render_answer(_answer(cited, text=f"answer {payload}"))

        tags = {tag for tag, _ in _tags(markup)}
        assert tags <= {
            "div",
            "p",
            "sup",
            "details",
            "summary",
            "span",
            "blockquote",
            "mark",
            "time",
            "strong",
        }, tags
        for _, attrs in _tags(markup):
            assert not any(name.startswith("on") for name in attrs)
            assert "href" not in attrs
        assert "javascript:window.__xss=9" in markup  # shown as text, not linked
        if "<" in payload:
            assert "&lt;" in markup


def test_only_http_and_https_links_are_clickable() -> None:
    assert safe_url("https://example.com/a?b=1") == "https://example.com/a?b=1"
    assert safe_url(" http://example.com ") == "http://example.com"
    for bad in (
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox",
        "//example.com/x",
        "/relative/path",
        'https://example.com/"onmouseover="alert(1)',
        "https://exa mple.com",
        "java\tscript:alert(1)",
        "",
    ):
        assert safe_url(bad) is None, bad


def test_upload_summary_lists_added_duplicates_and_failures_with_reasons_escaped() -> None:
    info = ArticleInfo("x", "<b>New</b> article", "src", "2025-01-01", "", 3)
    report = AddReport(
        added=(info,),
        duplicates=(info,),
        failed=(Failure("/tmp/gradio/abc/bad<img>.jsonl:2", "malformed JSON line"),),
        seconds=1.5,
    )
    markup = render_add_report(report, rejected=[("virus.exe", "not an accepted file type")])

    assert "<b>1</b> added" in markup and "<b>1</b> already indexed" in markup
    assert "<b>2</b> failed" in markup
    assert "&lt;b&gt;New&lt;/b&gt; article" in markup
    assert "bad&lt;img&gt;.jsonl:2: malformed JSON line" in markup
    assert "virus.exe: not an accepted file type" in markup


def test_index_panel_shows_count_sources_and_date_range() -> None:
    stats = IndexStats(
        path=Path("/tmp/i"),
        articles=2,
        sentences=40,
        chunks=10,
        sources=("AP", "<i>BBC</i>"),
        first_published="2004-01-01",
        last_published="2025-05-16",
        model="m",
        dimension=384,
        vector_index="Flat",
        bytes_on_disk=1,
    )
    markup = render_index_panel(stats)

    assert "2 (40 sentences)" in markup
    assert "AP, &lt;i&gt;BBC&lt;/i&gt;" in markup
    assert "2004-01-01 to 2025-05-16" in markup


def test_uploads_of_other_types_or_over_the_size_cap_are_refused_with_a_reason(
    tmp_path: Path,
) -> None:
    from byline.ui.uploads import UploadLimits, check_uploads

    ok = tmp_path / "story.txt"
    ok.write_text("A short story about a harbour. " * 3)
    big = tmp_path / "big.jsonl"
    big.write_text("x" * 2048)
    exe = tmp_path / "tool.exe"
    exe.write_bytes(b"MZ")

    accepted, rejected = check_uploads([str(ok), str(big), str(exe)], UploadLimits(max_bytes=1024))

    assert accepted == [ok]
    reasons = dict(rejected)
    assert "upload limit" in reasons["big.jsonl"]
    assert "not an accepted file type" in reasons["tool.exe"] and ".jsonl" in reasons["tool.exe"]


def test_filters_take_iso_dates_and_say_what_to_fix_otherwise() -> None:
    from byline.ui.app import ALL_SOURCES, parse_filters

    filters = parse_filters("AP", "2025-05-01", "")
    assert (filters.source, filters.since, filters.until) == ("AP", "2025-05-01", None)
    assert parse_filters(ALL_SOURCES, "", "").active is False
    with pytest.raises(ValueError, match="like 2025-05-16, not 'last week'"):
        parse_filters(None, "last week", "")


def test_auth_values_and_file_lines_become_logins(tmp_path: Path) -> None:
    import typer

    from byline.cli.serve import _is_local, _logins

    auth_file = tmp_path / "logins"
    auth_file.write_text("# team\nbea:pa:ss\n\ncal:word\n")

    assert _logins(["ann:s3cret"], auth_file) == [
        ("ann", "s3cret"),
        ("bea", "pa:ss"),
        ("cal", "word"),
    ]
    with pytest.raises(typer.BadParameter):
        _logins(["no-colon"], None)
    assert _is_local("127.0.0.1") and _is_local("::1") and not _is_local("0.0.0.0")


def _written(*, verified: bool = True) -> Answer:
    from dataclasses import replace

    from byline.types import Statement

    kept = Statement("Defence minister Rustem Umerov leads it", (1,), 1.0, True)
    removed = Statement(
        f"Medinsky leads Ukraine's delegation {PAYLOADS[1]}", (), 0.4, False,
        ("ties the delegation to “Ukraine”; the cited sentence to “Russian”",),
    )
    answer = _answer(_citation(UMEROV), text="Defence minister Rustem Umerov leads it [1].")
    return replace(answer, written="…", statements=(kept, removed), verified=verified,
                   note="1 unsupported statement left out.")


def test_a_written_answer_marks_its_checked_statements_and_never_shows_a_removed_one() -> None:
    markup = render_answer(_written())
    assert markup.count("byline-verified") == 1 and "✓" in markup
    assert "Medinsky" not in markup
    assert "1 unsupported statement left out." in markup


def test_a_struck_statement_is_labelled_unsupported_escaped_and_not_marked_as_checked() -> None:
    markup = render_answer(_written(), strike=True)
    struck = markup[markup.index("byline-unsupported"):]
    assert "<s>Medinsky leads Ukraine&#x27;s delegation" in struck or "<s>Medinsky leads Ukraine's delegation" in struck
    assert "not supported by the cited sentence" in struck and "✓" not in struck
    assert not [t for t, attrs in _tags(markup) if t == "img" or any(k.startswith("on") for k in attrs)]
