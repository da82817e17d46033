"""Whole numbers as people type them: on a phone keypad, in an SMS, in a file."""

from __future__ import annotations


def whole_number(text: object) -> int | None:
    """``text`` as a non-negative whole number, or None.

    Only ASCII digits count. ``str.isdigit`` also says yes to ``"²"`` and
    ``"①"``, which ``int`` refuses, so a check with it alone lets a stray
    character from a phone's symbol menu raise instead of getting an answer.
    """
    value = str(text if text is not None else "").strip()
    return int(value) if value and value.isascii() and value.isdigit() else None
