"""Centred modal dialogs with visible buttons and their own keys.

Every dialog's title names the record it acts on (build it with
``Presenter.person``: ``"SMS to Peter Kiptoo, +2547•••••912"``). The dialog's
own footer shows only its keys: Escape cancels, Enter confirms.

    class RenameDialog(Dialog[str]):
        def compose_body(self):
            yield Input(id="name")
        def answer(self):                   # None keeps the dialog open
            return self.query_one(Input).value.strip() or None

    self.app.push_screen(AskText(f"SMS to {presenter.person(w.name, w.phone)}", placeholder="Message"),
                         callback=lambda text: text and self.send(w.id, text))

:class:`Dialog` is the base (subclass it: ``compose_body`` and ``answer``);
:class:`AskText` asks for one line and refuses an empty one. A dismissed dialog
returns ``None`` to the callback. Confirmations live in ``console.widgets.confirm``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Generic, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label
from textual.worker import Worker, WorkerState

from console.widgets.text import literal

__all__ = ["AskText", "Dialog"]

T = TypeVar("T")


class Dialog(ModalScreen[T], Generic[T]):
    """A centred box: the title (naming the record), a body, and Cancel / confirm buttons."""

    CONFIRM_LABEL: ClassVar[str] = "OK"
    CANCEL_LABEL: ClassVar[str] = "Cancel"
    CANCEL_BUTTON: ClassVar[bool] = True  # False for a dialog with nothing to cancel (it only closes)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog-cancel", tooltip="Close without doing anything."),
        Binding("enter", "confirm", "Confirm", id="dialog-confirm", tooltip="Do what the dialog says."),
    ]
    DEFAULT_CSS = """
    Dialog { align: center middle; }
    Dialog > #dialog { width: 72; max-width: 95%; height: auto; max-height: 90%;
                       border: thick $primary; background: $surface; padding: 1 2; }
    Dialog > #dialog.wide { width: 90%; height: 80%; }
    Dialog #dialog-title { text-style: bold; color: $accent; margin-bottom: 1; width: 100%; }
    Dialog #dialog-buttons { height: auto; margin-top: 1; align-horizontal: right; }
    Dialog #dialog-buttons Button { margin-left: 1; }
    """

    def __init__(self, title: str, *, confirm_label: str | None = None, cancel_label: str | None = None,
                 wide: bool = False) -> None:
        super().__init__()
        self.dialog_title = title
        self.confirm_label = confirm_label or self.CONFIRM_LABEL
        self.cancel_label = cancel_label or self.CANCEL_LABEL
        self.wide = wide

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog wide" if self.wide else "dialog"):
            yield Label(literal(self.dialog_title), id="dialog-title")
            yield from self.compose_body()
            with Horizontal(id="dialog-buttons"):
                if self.CANCEL_BUTTON:
                    yield Button(self.cancel_label, id="dialog-cancel-button")
                yield Button(self.confirm_label, id="dialog-confirm-button", variant="primary")
        yield Footer()

    def compose_body(self) -> ComposeResult:
        """The dialog's fields; subclasses yield them."""
        yield from ()

    def answer(self) -> T | None:
        """What the dialog returns on confirm; ``None`` keeps it open (say why with ``notify``)."""
        return True  # type: ignore[return-value]

    def action_confirm(self) -> None:
        value = self.answer()
        if value is not None:
            self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#dialog-confirm-button")
    def _confirm_pressed(self) -> None:
        self.action_confirm()

    @on(Button.Pressed, "#dialog-cancel-button")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            report: Any = getattr(self.app, "report_failure", None)
            if report is not None:
                report(event.worker.error)


class AskText(Dialog[str]):
    """One line of text (a reason, a check's notes, an SMS); an empty line is not an answer."""

    CONFIRM_LABEL = "Send"

    def __init__(self, title: str, question: str = "", *, placeholder: str = "", confirm_label: str = "OK",
                 value: str = "") -> None:
        super().__init__(title, confirm_label=confirm_label)
        self.question, self.placeholder, self.value = question, placeholder, value

    def compose_body(self) -> ComposeResult:
        if self.question:
            yield Label(literal(self.question), id="ask-question")
        yield Input(self.value, placeholder=self.placeholder, id="ask-text")

    def on_mount(self) -> None:
        self.query_one("#ask-text", Input).focus()

    @on(Input.Submitted, "#ask-text")
    def _submitted(self) -> None:
        self.action_confirm()

    def answer(self) -> str | None:
        text = self.query_one("#ask-text", Input).value.strip()
        if not text:
            self.notify("Write a few words, or press Escape to cancel.", markup=False)
            return None
        return text
