"""The fitted retrieval fusion: its parameter file, its article order, its date prior."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from byline import Assistant, Filters, Settings, SettingsError
from byline.pipeline.fusion import FEATURES, FusionParams, headline, shipped_fusion
from byline.pipeline.retrieve import HybridRetriever

FLAGSHIP = "Who leads Ukraine's delegation?"
STORY = (
    "The city council of {town} voted on {day} to close the old harbour bridge to cars after "
    "engineers found cracks in its steel supports.\n\nThe bridge, built in 1932, carried 9,000 "
    "vehicles a day. Repairs will take {months} months, the council said."
)


def test_the_shipped_fusion_file_loads_and_matches_its_recorded_version() -> None:
    params = shipped_fusion()
    assert params.version == "retrieval-v1" and params.features == FEATURES
    assert len(params.coef) == len(params.mean) == len(params.scale) == len(FEATURES)
    assert params.raw["fitted_on"]["set"] == "rtqa-2022" and params.raw["out_of_fold"]["all"]["n"] > 100


def test_a_fusion_file_with_other_features_says_to_refit(tmp_path: Path) -> None:
    data = dict(shipped_fusion().raw, features=["dense_cos"])
    path = tmp_path / "fusion.json"
    path.write_text(json.dumps(data))
    with pytest.raises(SettingsError, match="fit_retrieval"):
        FusionParams.load(path)


def test_headlines_lose_the_site_name_a_feed_appends() -> None:
    assert headline("'Squid Game': Netflix green lights season 2 - CNN") == "'Squid Game': Netflix green lights season 2"
    assert headline("Markets rally | Reuters") == "Markets rally"


def test_fitted_fusion_orders_passages_by_article_probability(bot: Assistant) -> None:
    retriever = bot.pipeline.retriever
    assert retriever.fusion is not None
    hits = retriever.run(FLAGSHIP, Filters()).hits
    assert len(hits) == min(retriever.top, bot.store.stats().chunks)  # one article fills every slot it can
    assert all(0.0 < h.score < 1.0 for h in hits)
    assert "Umerov" in " ".join(h.chunk.text for h in hits[:3])


@pytest.fixture(scope="module")
def two_bridges(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    """Two near-identical stories a year apart, and one unrelated story."""
    folder = tmp_path_factory.mktemp("bridges")
    rows = [
        {"id": "old", "title": "Harbour bridge closed to cars", "published": "2023-05-02",
         "text": STORY.format(town="Porthaven", day="Tuesday", months="six")},
        {"id": "new", "title": "Harbour bridge closed to cars again", "published": "2024-05-07",
         "text": STORY.format(town="Porthaven", day="Monday", months="eight")},
        {"id": "other", "title": "Library opens", "published": "2024-05-06",
         "text": "A new public library opened in Porthaven on Saturday with 40,000 books."},
    ]
    (folder / "news.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    bot = Assistant.open(folder / "index")
    assert len(bot.add(folder / "news.jsonl").added) == 3
    return bot


def test_the_date_prior_prefers_the_story_of_the_week_asked_about(two_bridges: Assistant) -> None:
    question = "Which bridge did Porthaven's council close to cars this week?"
    retriever = two_bridges.pipeline.retriever
    this_week = retriever.run(question, Filters(), as_of=date(2024, 5, 9)).hits
    assert this_week[0].chunk.article_id == "new"
    a_year_ago = retriever.run(question, Filters(), as_of=date(2023, 5, 4)).hits
    assert a_year_ago[0].chunk.article_id == "old"  # the newer story is also left out: published later
    assert "new" not in {h.chunk.article_id for h in a_year_ago}


def test_rrf_setting_brings_back_equal_reciprocal_rank_fusion(two_bridges: Assistant) -> None:
    bot = Assistant.open(two_bridges.store.path, settings=Settings(fusion="rrf"), create=False)
    assert bot.pipeline.retriever.fusion is None
    assert bot.ask("How many vehicles did the bridge carry a day?").text == "9,000"


def test_article_heads_follow_a_write(two_bridges: Assistant, tmp_path: Path) -> None:
    retriever = two_bridges.pipeline.retriever
    assert next(iter(retriever.heads.search("new public library", 5))) == "other"
    (tmp_path / "zoo.txt").write_text("Zoo welcomes twin pandas\n\nThe city zoo welcomed twin pandas on Sunday.")
    two_bridges.add(tmp_path / "zoo.txt")
    found = retriever.heads.search("twin pandas zoo", 5)
    assert found and next(iter(found)) not in {"old", "new", "other"}


def test_each_leading_article_keeps_a_passage_when_one_article_dominates(tmp_path: Path) -> None:
    long_story = "\n\n".join(
        f"The harbour bridge in Porthaven carried {n},000 vehicles a day in {1990 + n}, the council's traffic report said."
        for n in range(1, 16)
    )
    rows = [
        {"id": "long", "title": "Harbour bridge traffic over the years", "text": long_story},
        {"id": "short", "title": "Council meets", "text": "The Porthaven council met on Monday to discuss the harbour bridge."},
    ]
    (tmp_path / "news.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    bot = Assistant.open(tmp_path / "index")
    bot.add(tmp_path / "news.jsonl")
    question = "How many vehicles a day did the harbour bridge carry?"

    def articles(min_articles: int) -> list[str]:
        retriever = HybridRetriever(bot.store, top=3, min_articles=min_articles, fusion=shipped_fusion())
        return [h.chunk.article_id for h in retriever.run(question, Filters()).hits]

    assert articles(0) == ["long", "long", "long"]  # the dominant article alone fills the passages
    assert sorted(set(articles(2))) == ["long", "short"] and articles(2)[0] == "long"
