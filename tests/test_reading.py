"""Reading, cleaning and sentence splitting (no model needed)."""

from __future__ import annotations

from conftest import DATA, SAMPLES

from byline.index.clean import clean
from byline.index.readers import read_paths
from byline.index.sentences import split_sentences
from byline.index.types import Article, Failure


def test_sentences_survive_titles_abbreviations_quotes_and_units() -> None:
    text = (
        "Mr Putin met U.S. officials at 10am. “We don’t have high expectations,” he said. "
        "The front line runs roughly 1,000km (620-mile). Then the talks ended."
    )
    sentences = split_sentences("a", text)
    assert [s.text for s in sentences] == [
        "Mr Putin met U.S. officials at 10am.",
        "“We don’t have high expectations,” he said.",
        "The front line runs roughly 1,000km (620-mile).",
        "Then the talks ended.",
    ]
    assert all(text[s.start : s.end] == s.text for s in sentences)


def test_paragraph_break_is_a_hard_sentence_boundary() -> None:
    text = "Ankara, Turkey. Photograph: EPA\n\nRussia and Ukraine are set to talk"
    sentences = split_sentences("a", text)
    assert sentences[-1].text == "Russia and Ukraine are set to talk"
    assert sentences[-1].paragraph == 1


def test_cleaning_drops_page_furniture_and_keeps_it_inspectable() -> None:
    raw = (SAMPLES / "istanbul-talks.txt").read_text()
    cleaned = clean(raw)
    assert "READ MORE" not in cleaned.text
    assert "Opens in new window" not in cleaned.text
    assert "Photograph: EPA" not in cleaned.text
    assert "READ MORE" in cleaned.dropped
    assert any("Opens in new window" in d for d in cleaned.dropped)
    assert any(d.endswith("Photograph: EPA") for d in cleaned.dropped)
    assert "headed by defence minister Rustem Umerov" in cleaned.text


def test_sample_article_takes_source_and_date_from_its_metadata_file() -> None:
    (article,) = list(read_paths([SAMPLES / "istanbul-talks.txt"]))
    assert isinstance(article, Article)
    assert article.source == "AP (as published by an Irish newspaper)"
    assert article.published == "2025-05-16"


def test_html_page_gives_main_text_and_metadata() -> None:
    (article,) = list(read_paths([DATA / "summit.html"]))
    assert isinstance(article, Article), article
    assert article.title == "Harbour city hosts fisheries summit"
    assert article.published == "2024-03-07"
    assert article.author == "Maria Lindqvist"
    assert article.url == "https://courier.example.org/news/fisheries-summit"
    assert "Astrid Solberg" in article.text
    assert "Sport" not in article.text and "newsletter" not in article.text


def test_jsonl_lines_become_articles_and_bad_lines_are_reported_by_line() -> None:
    results = list(read_paths([DATA / "wire.jsonl"]))
    articles = [r for r in results if isinstance(r, Article)]
    failures = [r for r in results if isinstance(r, Failure)]
    assert [a.id for a in articles] == ["glacier-1", "rail-2"]
    assert articles[0].source == "Alpine Wire" and articles[0].published == "2023-09-28"
    assert {f.path.rsplit(":", 1)[1] for f in failures} == {"2", "3"}
    assert any("malformed JSON" in f.reason for f in failures)
    assert any("no 'text' field" in f.reason for f in failures)


def test_feed_entries_become_articles(tmp_path) -> None:  # type: ignore[no-untyped-def]
    feed = tmp_path / "wire.rss"
    feed.write_text(
        """<?xml version="1.0"?><rss version="2.0"><channel><title>Harbour Wire</title>
        <item><title>Ferry strike ends</title><link>https://wire.example.org/ferry</link>
        <pubDate>Tue, 05 Mar 2024 08:00:00 GMT</pubDate>
        <description>&lt;p&gt;Ferry crews ended their three-day strike on Tuesday after the operator
        agreed to a 6% pay rise, the union said.&lt;/p&gt;</description></item></channel></rss>"""
    )
    (article,) = list(read_paths([feed]))
    assert isinstance(article, Article), article
    assert article.title == "Ferry strike ends" and article.source == "Harbour Wire"
    assert article.published == "2024-03-05" and "6% pay rise" in article.text
