"""``Confirm``: ask before an action that moves money, sends to more than one person
or cannot be undone, and say what will happen.

    self.app.push_screen(
        Confirm(f"Convert {presenter.person(lead.name, lead.phone)} into a client?",
                ["Creates a client with this name and phone.", "Closes the lead as won."],
                confirm_label="Convert"),
        callback=lambda yes: yes and self.convert(lead.id))

The title names the record and the consequence; ``details`` are the facts
(amount, recipients, count, cost where known). ``y`` or Enter confirms (the
callback gets ``True``); ``n`` or Escape cancels (``False``). Nothing is done
by the dialog itself: the caller acts only on ``True``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from console.widgets.dialog import Dialog
from console.widgets.text import literal

__all__ = ["Confirm"]


class Confirm(Dialog[bool]):
    """Yes or no to one consequential action; dismisses with True or False."""

    CONFIRM_LABEL = "Yes (y)"
    CANCEL_LABEL = "No (n)"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y,enter", "confirm", "Yes", id="confirm-yes", tooltip="Go ahead."),
        Binding("n,escape", "cancel", "No", id="confirm-no", tooltip="Do nothing."),
    ]

    def __init__(self, title: str, details: str | Sequence[str] = (), *, confirm_label: str | None = None) -> None:
        super().__init__(title, confirm_label=f"{confirm_label} (y)" if confirm_label else None)
        self.details = [details] if isinstance(details, str) else list(details)

    def compose_body(self) -> ComposeResult:
        for index, line in enumerate(self.details):
            yield Static(literal(line, lines=True), classes="confirm-detail", id=f"confirm-detail-{index}")

    def on_mount(self) -> None:
        self.query_one("#dialog-confirm-button").focus()

    def answer(self) -> bool:
        return True

    def action_cancel(self) -> None:
        self.dismiss(False)
