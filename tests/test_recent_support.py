"""benchmarks/recent_support.py: which questions an article of their quiz's week answers."""

from __future__ import annotations

from benchmarks.recent_support import recent, recent_questions, summary
from byline import Assistant

UMEROV = ["Rustem Umerov"]  # the sample article, published 2025-05-16, names him


def test_an_article_counts_from_a_week_before_the_quiz_to_the_day_after() -> None:
    assert recent("2025-05-20", ["2025-05-13"]) and recent("2025-05-20", ["2025-05-21"])
    assert not recent("2025-05-20", ["2025-05-12", "2025-05-22", ""])
    assert recent("2025-05-20", ["2025-05-01"], days=30)


def test_a_question_is_recent_only_when_an_article_of_its_week_holds_its_answer(bot: Assistant) -> None:
    questions = [
        {"id": "week", "date": "2025-05-20", "answers": UMEROV},
        {"id": "month-later", "date": "2025-06-20", "answers": UMEROV},
        {"id": "nowhere", "date": "2025-05-20", "answers": ["Jacinda Ardern"]},
        {"id": "undated", "answers": UMEROV},
    ]
    assert recent_questions(questions, bot.store) == {"week"}


def test_summary_reports_answerable_and_answer_removed_questions_apart() -> None:
    rows = [
        {"question": {"id": "a"}, "f1": 1.0, "abstained": False, "vote_f1": 0.5},
        {"question": {"id": "b"}, "f1": 0.0, "abstained": True, "vote_f1": None},
        {"question": {"id": "a (answer removed)", "without": ["x"]}, "f1": 0.0, "abstained": True},
    ]
    text = summary(rows)
    assert "2 answerable, F1 0.500, false abstention 0.50, vote F1 0.500" in text
    assert "abstains with the answer removed 1.00 (1)" in text
