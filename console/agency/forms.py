"""The agency's small forms: a few labelled fields in a centred dialog that returns their values.

    FormDialog("Add a worker", [Field("name", "Name"), Field("phone", "Phone", placeholder="0712 345678"),
                                Field("availability", "Availability", options=AVAILABILITY)])

Confirming returns ``{key: text}`` (Select fields give their value); a field marked
``required`` that is empty keeps the dialog open with a notice naming it. Every label
and value is shown literally. ``ChooseDialog`` picks one record from a list (an employer
to unlock for, a package to sell).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Input, Label, Select

from console.widgets.dialog import Dialog
from console.widgets.text import literal, plain
from core.errors import InvalidInput


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    value: str = ""
    placeholder: str = ""
    required: bool = False
    options: Sequence[tuple[str, str]] = ()  # (shown, value): a Select instead of an Input


class FormDialog(Dialog[dict]):
    """Labelled fields; Enter or the button returns their values, Escape returns None."""

    CONFIRM_LABEL = "Save"

    def __init__(self, title: str, fields: Sequence[Field], *, confirm_label: str | None = None,
                 note: str = "") -> None:
        super().__init__(title, confirm_label=confirm_label)
        self.fields = list(fields)
        self.note = note

    DEFAULT_CSS = """
    FormDialog #form-fields { height: auto; max-height: 40vh; }
    FormDialog .form-row { height: auto; }
    FormDialog .form-label { width: 18; padding-top: 1; }
    FormDialog .form-row Input, FormDialog .form-row Select { width: 1fr; }
    """

    def compose_body(self) -> ComposeResult:
        if self.note:
            yield Label(literal(self.note), id="form-note")
        # A label beside each field, and the fields scroll: at 80x24 the buttons stay in sight.
        with VerticalScroll(id="form-fields", can_focus=False):
            for f in self.fields:
                with Horizontal(classes="form-row"):
                    yield Label(literal(f.label + (" *" if f.required else "")), classes="form-label")
                    if f.options:
                        yield Select([(literal(shown), value) for shown, value in f.options], id=f"field-{f.key}",
                                     value=f.value if f.value in {v for _, v in f.options} else Select.BLANK,
                                     prompt=plain(f.label))
                    else:
                        yield Input(f.value, placeholder=f.placeholder, id=f"field-{f.key}")

    def on_mount(self) -> None:
        if self.fields:
            self.query_one(f"#field-{self.fields[0].key}").focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_confirm()

    def values(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for f in self.fields:
            widget = self.query_one(f"#field-{f.key}")
            if isinstance(widget, Select):
                out[f.key] = widget.value if isinstance(widget.value, str) else ""
            else:
                out[f.key] = widget.value.strip()
        return out

    def answer(self) -> dict | None:
        values = self.values()
        missing = [f.label for f in self.fields if f.required and not values[f.key]]
        if missing:
            self.app.notify(f"Fill in: {', '.join(missing)}.", severity="warning")
            return None
        return values


class ChooseDialog(Dialog[str]):
    """Pick one of ``options`` ((shown, value)); returns the value."""

    CONFIRM_LABEL = "Choose"

    def __init__(self, title: str, question: str, options: Sequence[tuple[str, str]], *,
                 confirm_label: str | None = None) -> None:
        super().__init__(title, confirm_label=confirm_label)
        self.question, self.options = question, list(options)

    def compose_body(self) -> ComposeResult:
        yield Label(literal(self.question))
        yield Select([(literal(shown), value) for shown, value in self.options], id="choose",
                     value=self.options[0][1] if self.options else Select.BLANK, prompt=plain(self.question))

    def on_mount(self) -> None:
        # Enter chooses the shown option; Tab (or a click) goes to the list to pick another.
        self.query_one("#dialog-confirm-button").focus()

    def answer(self) -> str | None:
        value = self.query_one("#choose", Select).value
        return value if isinstance(value, str) else None


def day_of(text: str, label: str) -> date | None:
    """A day typed as 2026-12-31 (None when empty); anything else is refused, naming the field."""
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        raise InvalidInput(f"{label} “{text}” is not a date: write it as 2026-12-31.") from None
