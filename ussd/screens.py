"""What a feature phone can show: GSM-7 text, at most 182 characters, CON or END.

Every answer leaves through :func:`render`, so no screen, however it was
built, can break a handset: characters outside the GSM-7 basic set are
transliterated (or become ``?``) and over-long text is cut. Long lists are
split into pages that fit, with ``98 More`` to go on.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from core.gsm7 import GSM7_BASIC
from core.numbers import whole_number

MAX_LENGTH = 182
MORE, BACK, HOME = "98", "0", "00"
T = TypeVar("T")

_REPLACEMENTS = {
    "‘": "'", "’": "'", "‚": "'", "“": '"', "”": '"', "„": '"', "–": "-", "—": "-", "…": "...",
    "\t": " ", "\u00a0": " ", "•": "-", "·": "-", "₹": "Rs", "€": "EUR", "[": "(", "]": ")",
    "{": "(", "}": ")", "\\": "/", "^": "", "~": "-", "|": "/",
}


def to_gsm7(text: str) -> str:
    if GSM7_BASIC.issuperset(text):  # nearly every screen: nothing to change, checked in C
        return text
    out = []
    for ch in text:
        if ch in GSM7_BASIC:
            out.append(ch)
        elif ch in _REPLACEMENTS:
            out.append(_REPLACEMENTS[ch])
        else:
            base = unicodedata.normalize("NFKD", ch)
            kept = "".join(c for c in base if c in GSM7_BASIC)
            out.append(kept if kept else ("" if unicodedata.category(ch).startswith(("C", "M")) else "?"))
    return "".join(out)


def picked(text: str, options: Sequence[T]) -> T | None:
    """The option a reply numbers (``1`` is the first), or None for anything else."""
    n = whole_number(text)
    return options[n - 1] if n is not None and 1 <= n <= len(options) else None


@dataclass(frozen=True)
class Screen:
    text: str
    end: bool = False


def render(screen: Screen) -> str:
    """The exact body to answer Africa's Talking with."""
    prefix = "END " if screen.end else "CON "
    body = to_gsm7(screen.text).strip("\r\n ") or ("Goodbye." if screen.end else "Reply with a choice.")
    room = MAX_LENGTH - len(prefix)
    if len(body) > room:
        body = body[: room - 3].rstrip() + "..."
    return prefix + body


def page_of(title: str, items: Sequence[str], page: int, *, footer: str = f"{BACK} Back") -> tuple[str, bool]:
    """Page ``page`` (from 0) of a numbered-or-not list that fits on one screen.

    Returns the text and whether more pages follow. Items are never split;
    one item longer than a screen is cut by :func:`render`.
    """
    pages: list[list[str]] = [[]]
    more_line = f"{MORE} More"
    for item in items:
        candidate = pages[-1] + [item]
        text = "\n".join([title, *candidate, more_line, footer])
        if pages[-1] and len(to_gsm7(text)) > MAX_LENGTH - 4:
            pages.append([item])
        else:
            pages[-1] = candidate
    page = max(0, min(page, len(pages) - 1))
    more = page < len(pages) - 1
    lines = [title, *pages[page]] + ([more_line] if more else []) + ([footer] if footer else [])
    return "\n".join(line for line in lines if line), more
