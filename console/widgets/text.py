"""One way to show text that came from people: as text, never as markup.

Names, messages, notes, bios, imported cells and free-text replies may hold
``[/]``, ``[bold]`` or a terminal escape such as ``\\x1b[31m``. Textual parses a
plain ``str`` given to ``Static``, ``Label``, ``DataTable.add_row`` or
``notify`` as markup, so such text either crashes the app (``MarkupError``) or
restyles it. Every widget that shows data builds its content with
:func:`literal` (a ``rich.text.Text``, which is never parsed) or
:func:`plain` (a ``str`` for places that take ``markup=False``).

Control characters are made visible (``\\x1b`` becomes ``␛``), so a terminal
escape can neither colour the screen nor hide itself; tabs and line breaks
become spaces unless ``lines=True``.
"""

from __future__ import annotations

import re

from rich.text import Text

__all__ = ["LiteralText", "literal", "plain", "short"]

# C0 controls (but tab/newline, handled below), DEL and the C1 range.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"[\t\r\n]+")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # the Unicode "control pictures": ␛, ␀, ...
    if code == 0x7F:
        return "␡"
    return "�"


def plain(value: object, *, lines: bool = False) -> str:
    """``value`` as a safe string: None is "", control characters are made visible.

    With ``lines=False`` (cells, titles, notices) runs of tabs and line breaks
    become one space; with ``lines=True`` line breaks are kept (a note, a bio).
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if lines:
        text = text.replace("\r\n", "\n").replace("\t", " ")
        return "\n".join(_CONTROL.sub(_visible, line.replace("\r", " ")) for line in text.split("\n"))
    return _CONTROL.sub(_visible, _SPACES.sub(" ", text))


def short(value: object, width: int = 40) -> str:
    """:func:`plain` on one line, cut to ``width`` characters with an ellipsis."""
    text = " ".join(plain(value).split())
    return text if len(text) <= width else text[: width - 1] + "…"


class LiteralText(Text):
    """A ``Text`` of people's words; equal to the ``str`` it shows, so a table cell still
    compares with ``"queued"`` the way a plain string cell did."""

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return self.plain == other
        return super().__eq__(other)

    def __hash__(self) -> int:
        return hash(self.plain)


def literal(value: object, *, lines: bool = False, style: str = "") -> Text:
    """``value`` as a Rich ``Text`` shown exactly as written (see :func:`plain`).

    A ``Text`` passed in is returned as it is: it was built by the console, not typed by a person.
    """
    if isinstance(value, Text):
        return value
    return LiteralText(plain(value, lines=lines), style=style)
