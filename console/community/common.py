"""What the community screens share: the stylesheet and the "a write finished" message."""

from __future__ import annotations

from pathlib import Path

from textual.message import Message

CSS = str(Path(__file__).with_name("community.tcss"))


class Done(Message):
    """A write finished; ``text`` says what happened."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
