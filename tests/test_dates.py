"""Date expressions in questions, read against a fixed day, and `as_of` through the API and CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from byline import Assistant, UsageError
from byline.evaluation import evaluate, parse_question
from byline.pipeline.dates import resolve

FRIDAY = date(2022, 6, 17)


@pytest.mark.parametrize(
    ("question", "since", "until"),
    [
        ("What happened this week?", "2022-06-10", "2022-06-17"),
        ("Who won yesterday?", "2022-06-16", "2022-06-16"),
        ("Which team won last week?", "2022-06-06", "2022-06-12"),
        ("What happened over the weekend?", "2022-06-11", "2022-06-12"),
        ("What did he say last month?", "2022-05-01", "2022-05-31"),
        ("Who was elected in March?", "2022-03-01", "2022-03-31"),
        ("Who was elected in September?", "2021-09-01", "2021-09-30"),  # the latest September before
        ("Which shares rose in 2021?", "2021-01-01", "2021-12-31"),
        ("What happened in March 2020?", "2020-03-01", "2020-03-31"),
        ("Who spoke on Monday?", "2022-06-13", "2022-06-13"),
        ("Who died recently?", "2022-05-18", "2022-06-17"),
        ("What rose earlier this year?", "2022-01-01", "2022-06-17"),
    ],
)
def test_date_expressions_become_a_window_of_days(question: str, since: str, until: str) -> None:
    window = resolve(question, FRIDAY)
    assert window is not None
    assert (window.since.isoformat(), window.until.isoformat()) == (since, until)
    assert window.said.lower() in question.lower()


@pytest.mark.parametrize("question", ["Who may win the election?", "Who leads Ukraine's delegation?", "What is 2022 in binary?"])
def test_questions_naming_no_time_get_no_window(question: str) -> None:
    assert resolve(question, FRIDAY) is None


def test_window_tells_distance_of_a_published_date() -> None:
    window = resolve("What happened this week?", FRIDAY)
    assert window is not None
    assert window.holds("2022-06-15") and not window.holds("2022-06-01")
    assert (window.distance("2022-06-15"), window.distance("2022-06-01"), window.distance("")) == (0, 9, None)


def test_articles_published_after_as_of_are_left_out(bot: Assistant) -> None:
    before = bot.ask("Who leads Ukraine's delegation?", as_of="2025-05-01")  # the article is of 05-16
    assert before.abstained and before.as_of == "2025-05-01"
    after = bot.ask("Who leads Ukraine's delegation?", as_of=date(2025, 6, 1))
    assert "Umerov" in after.text and after.as_of == "2025-06-01"


def test_hits_say_how_far_outside_the_days_a_question_names_their_article_lies(bot: Assistant) -> None:
    from byline.types import Filters

    retriever = bot.pipeline.retriever
    inside = retriever.run("Who leads Ukraine's delegation this week?", Filters(), date(2025, 5, 20))
    later = retriever.run("Who leads Ukraine's delegation this week?", Filters(), date(2025, 6, 30))
    undated = retriever.run("Who leads Ukraine's delegation?", Filters(), date(2025, 6, 30))
    assert inside.hits and {h.days_outside for h in inside.hits} == {0}  # published 05-16, within 05-13…05-20
    assert {h.days_outside for h in later.hits} == {(date(2025, 6, 23) - date(2025, 5, 16)).days}
    assert undated.window is None and {h.days_outside for h in undated.hits} == {None}


def test_a_bad_as_of_says_what_a_date_looks_like(bot: Assistant) -> None:
    with pytest.raises(UsageError, match="like 2025-05-16"):
        bot.ask("Who leads Ukraine's delegation?", as_of="next tuesday")


def test_cli_as_of(sample_index: Path) -> None:
    run = [sys.executable, "-m", "byline.cli", "ask", "Who leads Ukraine's delegation?", "--index",
           str(sample_index), "--no-warm", "--json", "--as-of", "2025-05-01"]
    data = json.loads(subprocess.run(run, capture_output=True, text=True, timeout=300, check=True).stdout)
    assert data["abstained"] is True and data["as_of"] == "2025-05-01"


def test_question_files_give_each_question_its_day_and_keep_quiz_fields(tmp_path: Path) -> None:
    line = json.dumps({
        "id": "q1", "question": "Who leads Ukraine's delegation?", "answers": ["Rustem Umerov"],
        "evidence": ["Rustem Umerov"], "doc_ids": ["istanbul-talks"], "date": "2025/05/20",
        "explanation": "…", "choices": ["a", "b"], "answer_in_corpus": True, "quiz_source": "CNN",
    })
    question = parse_question(line)
    assert question.date == "2025-05-20" and question.answer_in_corpus is True and question.wh == "who"
    with pytest.raises(ValueError, match="like 2022-06-17"):
        parse_question(line.replace("2025/05/20", "soon"))


def test_eval_asks_without_the_gold_articles_and_expects_an_abstention(bot: Assistant, tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps({
        "id": "q1", "question": "Who leads Ukraine's delegation?", "answers": ["defence minister Rustem Umerov", "Rustem Umerov"],
        "evidence": ["headed by defence minister Rustem Umerov"], "doc_ids": ["istanbul-talks"], "date": "2025-05-20",
    }) + "\n")
    run = evaluate(path, bot=bot, only="with-gold", gold_removed=True)
    assert [r.question.kind for r in run.results] == ["answerable", "gold removed"]
    answered, removed = run.results
    assert answered.f1 == 1.0 and answered.article_rank == 1
    assert removed.abstained and removed.stage == "ok" and removed.question.without == ("istanbul-talks",)
    assert run.summary.doc_at_1 == 1.0 and run.summary.abstention_recall == 1.0
    assert set(run.by_wh) == {"who"}


@pytest.mark.parametrize(
    ("text", "wh"),
    [
        ("This week, which company agreed to buy Twitter?", "which / what"),
        ("In a rare move, who resigned on Friday?", "who"),
        ("According to the report, how many people were evacuated?", "how many / much"),
        ("Officials in which country declared a drought this week?", "where"),
        ("Which year did the treaty come into force?", "when"),
        ("Name the singer who won the award.", "who"),
        ("Tell me about the weather.", "other"),
    ],
)
def test_the_answer_kind_is_read_from_the_first_question_word_wherever_it_stands(text: str, wh: str) -> None:
    question = parse_question(json.dumps({"question": text, "answers": ["x"], "evidence": ["x"]}), line=1)
    assert question.wh == wh


def test_answer_removed_leaves_out_every_article_that_holds_the_answer(own_index: Path, tmp_path: Path) -> None:
    (tmp_path / "wire.txt").write_text(
        "Delegations meet in Turkey\n\nUkraine's team at the talks is led by Rustem Umerov, the defence minister.")
    bot = Assistant.open(own_index)
    bot.add(tmp_path / "wire.txt")
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps({
        "id": "q1", "question": "Who leads Ukraine's delegation?", "answers": ["“Rustem Umerov”"],
        "evidence": ["Rustem Umerov"], "doc_ids": ["istanbul-talks"],
    }) + "\n")
    run = evaluate(path, bot=bot, gold_removed=True, answer_removed=True)
    kinds = {r.question.kind: r for r in run.results}
    assert set(kinds) == {"answerable", "gold removed", "answer removed"}
    assert len(kinds["answer removed"].question.without) == 2  # the gold article and the wire story
    assert kinds["gold removed"].question.without == ("istanbul-talks",)  # the wire story still says it
    assert kinds["answer removed"].abstained
