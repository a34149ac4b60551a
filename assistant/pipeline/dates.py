"""Dates in questions: "this week", "yesterday", "in March", "in 2024" as a window of days.

A question is read against `as_of`, the day it is asked (a news quiz's day, or today): the
window says when the articles that answer it were most likely published.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

_MONTHS = {name.lower(): n for n, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): n for n, name in enumerate(calendar.month_abbr) if name})
_MONTHS.pop("may", None)  # "may" is a verb far more often than a month when not capitalised
_WEEKDAYS = {name.lower(): n for n, name in enumerate(calendar.day_name)}
_YEAR = r"(19|20)\d\d"


@dataclass(frozen=True, slots=True)
class DateWindow:
    """Days (inclusive) a question points at, and the words that said so."""

    since: date
    until: date
    said: str

    def holds(self, published: str) -> bool | None:
        """Return whether an ISO date lies in the window (None when the date is unknown)."""
        day = parse_day(published)
        return None if day is None else self.since <= day <= self.until

    def distance(self, published: str) -> int | None:
        """Return how many days an ISO date lies outside the window (0 inside; None unknown)."""
        day = parse_day(published)
        if day is None:
            return None
        if day < self.since:
            return (self.since - day).days
        return max(0, (day - self.until).days)


def parse_day(text: str) -> date | None:
    """Return the day of an ISO date or timestamp ("2025-05-16", "2025-05-16T10:00"), or None."""
    try:
        return date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


def resolve(question: str, as_of: date) -> DateWindow | None:
    """Return the window of days `question` refers to, read on day `as_of`; None when it names none."""
    text = question.lower()
    for rule in (_relative, _month_year, _month, _year, _weekday):
        window = rule(question, text, as_of)
        if window is not None:
            return window
    return None


def _relative(question: str, text: str, as_of: date) -> DateWindow | None:
    week_start = as_of - timedelta(days=as_of.weekday())
    month_start = as_of.replace(day=1)
    last_month_end = month_start - timedelta(days=1)
    spans: list[tuple[str, date, date]] = [
        (r"\btoday\b|\bthis morning\b|\btonight\b", as_of, as_of),
        (r"\byesterday\b", as_of - timedelta(days=1), as_of - timedelta(days=1)),
        (r"\blast weekend\b|\bthis past weekend\b|\bover the weekend\b",
         week_start - timedelta(days=2), week_start - timedelta(days=1)),
        (r"\bthis week\b|\bthis past week\b|\bearlier this week\b", as_of - timedelta(days=7), as_of),
        (r"\blast week\b", week_start - timedelta(days=7), week_start - timedelta(days=1)),
        (r"\bthis month\b|\bearlier this month\b", month_start, as_of),
        (r"\blast month\b", last_month_end.replace(day=1), last_month_end),
        (r"\bthis year\b|\bearlier this year\b", as_of.replace(month=1, day=1), as_of),
        (r"\blast year\b", date(as_of.year - 1, 1, 1), date(as_of.year - 1, 12, 31)),
        (r"\brecently\b|\blately\b|\bin recent (days|weeks)\b", as_of - timedelta(days=30), as_of),
    ]
    for pattern, since, until in spans:
        found = re.search(pattern, text)
        if found:
            return DateWindow(since, until, found.group(0))
    return None


def _month_year(question: str, text: str, as_of: date) -> DateWindow | None:
    found = re.search(rf"\b([A-Za-z]+)\.? ({_YEAR})\b", question)
    month = _MONTHS.get(found.group(1).lower()) if found else None
    if found is None or month is None and found.group(1) != "May":
        return None
    month = month or 5
    year = int(found.group(2))
    return DateWindow(date(year, month, 1), _month_end(year, month), found.group(0))


def _month(question: str, text: str, as_of: date) -> DateWindow | None:
    """"in March", "on March 3", "last March": the most recent such month up to `as_of`."""
    for found in re.finditer(r"\b(?:in|on|since|by|during|last|early|late|mid-?)\s+([A-Za-z]+)\b", question):
        word = found.group(1)
        month = 5 if word == "May" else _MONTHS.get(word.lower())
        if month is None:
            continue
        year = as_of.year if month <= as_of.month else as_of.year - 1
        if found.group(0).lower().startswith("last") and month == as_of.month:
            year -= 1
        return DateWindow(date(year, month, 1), min(_month_end(year, month), as_of), found.group(0))
    return None


def _year(question: str, text: str, as_of: date) -> DateWindow | None:
    found = re.search(rf"\b(?:in|during|since|of|for)\s+({_YEAR})\b", text)
    if found is None:
        return None
    year = int(found.group(1))
    return DateWindow(date(year, 1, 1), min(date(year, 12, 31), max(as_of, date(year, 1, 1))), found.group(0))


def _weekday(question: str, text: str, as_of: date) -> DateWindow | None:
    """"on Monday": the latest such day up to `as_of` (news speaks of the days just past)."""
    found = re.search(r"\b(?:on|last|this past)\s+(monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b", text)
    if found is None:
        return None
    back = (as_of.weekday() - _WEEKDAYS[found.group(1)]) % 7
    day = as_of - timedelta(days=back or (7 if found.group(0).startswith("last") else 0))
    return DateWindow(day, day, found.group(0))


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])
