"""Cleaning: separate article text from page furniture, keeping what was dropped for inspection."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Whole paragraphs that are navigation, promotion or picture credits rather than reporting.
_FURNITURE = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"^(read|see) (more|also)\b.{0,80}$",
        r"^(related|more on this story|most read|advertisement|sponsored)\b.{0,60}$",
        r"^\[?.{0,200}opens in new window\s*\]?$",
        r"^.{0,300}\b(photograph|photo|picture|image|illustration)\s*:\s*[\w .,'/&-]{1,60}$",
        r"^.{0,300}\((getty images|reuters|ap|afp|epa|pa)( photo)?\)$",
        r"^(share|share this (article|story)|follow us|sign up|subscribe|click here|tap here)\b.{0,120}$",
        r"^.{0,120}\b(sign up (for|to) (our|the)|subscribe to (our|the)|newsletter)\b.{0,80}$",
        r"^(copyright|©).{0,120}$",
    )
]


@dataclass(frozen=True, slots=True)
class Cleaned:
    """Article text with furniture removed, and the removed paragraphs."""

    text: str
    dropped: tuple[str, ...]


def normalise(text: str) -> str:
    """Return text with unified newlines, NFC characters and no trailing spaces per line."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = text.replace("\u00a0", " ").replace("\u200b", "")
    return "\n".join(line.rstrip() for line in text.split("\n")).strip()


def paragraphs(text: str) -> list[str]:
    """Return the paragraphs of text: blocks separated by blank lines, inner whitespace folded."""
    blocks = re.split(r"\n\s*\n", text)
    return [re.sub(r"\s+", " ", b).strip() for b in blocks if b.strip()]


def is_furniture(paragraph: str) -> bool:
    """Return True when a paragraph is page furniture (link lines, captions, share blurbs)."""
    p = paragraph.strip()
    return any(rx.search(p) for rx in _FURNITURE)


_SIGN_OFF = re.compile(r"\s+[–—-]\s*(AP|AFP|Reuters|PA|Bloomberg|PA Media|dpa)\s*$")


def clean(text: str) -> Cleaned:
    """Return the article text (paragraphs joined by blank lines) without page furniture."""
    kept: list[str] = []
    dropped: list[str] = []
    for para in paragraphs(normalise(text)):
        (dropped if is_furniture(para) else kept).append(para)
    if kept and (sign_off := _SIGN_OFF.search(kept[-1])):
        dropped.append(sign_off.group(0).strip())
        kept[-1] = kept[-1][: sign_off.start()]
    return Cleaned("\n\n".join(kept), tuple(dropped))
