"""What every console screen shares: worker error reporting, the header,
footer and notifications panel, and the bindings that apply on every screen.

Workers are declared with ``exit_on_error=False`` and simply raise; the
``Worker.StateChanged`` handler here hands the error to the app, which shows
a domain error's message as a notice and logs anything else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.dom import NoScreen
from textual.containers import Vertical
from textual.widgets import Footer, Input, Label, Static
from textual.worker import Worker, WorkerState

from console.notices import NoticesPanel

if TYPE_CHECKING:
    from console.app import OfisiApp
    from db.engine import Database


class ReportsWorkerErrors:
    """Mixin for screens: a failed worker becomes a notice, never a traceback."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            cast("OfisiApp", self.app).report_failure(event.worker.error)  # type: ignore[attr-defined]


class ThreadSafePost:
    """Mixin: post from a worker thread without failing when the screen has gone."""

    def post_from_worker(self, message: Message) -> None:
        try:
            self.post_message(message)  # type: ignore[attr-defined]
        except RuntimeError:
            # The screen was closed while the worker ran; nobody needs the result.
            pass


class TitleBar(Static):
    """The screen's title and sub-title on one line.

    Textual's Header looks its title widget up whenever a title changes and
    fails when that happens while a screen is being torn down; this bar
    holds its own text and has nothing to look up.
    """

    def __init__(self) -> None:
        super().__init__(markup=False, id="title-bar")

    def on_mount(self) -> None:
        self.watch(self.screen, "title", self._show)
        self.watch(self.screen, "sub_title", self._show)

    def _show(self) -> None:
        try:
            screen = self.screen
        except NoScreen:
            return
        title = screen.title or self.app.title
        sub_title = screen.sub_title or self.app.sub_title
        self.update(f"{title} — {sub_title}" if sub_title else title)


class ConsoleScreen(ReportsWorkerErrors, ThreadSafePost, Screen):
    """A full screen with header, footer and the notifications panel."""

    BINDINGS = [
        Binding("ctrl+n", "toggle_notices", "Notices", id="notices",
                tooltip="Show or hide the notices shown this session."),
    ]

    def __init__(self, database: Database, *, name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        # Held here so worker threads reach it without walking the DOM.
        self.database = database

    @property
    def ofisi(self) -> OfisiApp:
        return cast("OfisiApp", self.app)

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield from self.compose_body()
        yield NoticesPanel(id="notices-panel")
        yield Footer()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def action_toggle_notices(self) -> None:
        panel = self.query_one(NoticesPanel)
        panel.toggle_class("-visible")


class ConsoleModal(ReportsWorkerErrors, ThreadSafePost, ModalScreen):
    """A dialog over the current screen."""

    def __init__(self, database: Database) -> None:
        super().__init__()
        self.database = database


class AskText(ConsoleModal):
    """One line of text from the person (a reason, a check's notes, an SMS); dismisses with it,
    or with None on escape. An empty line is not an answer: the box stays open and says so."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel-ask")]

    def __init__(self, database: Database, question: str, *, placeholder: str = "") -> None:
        super().__init__(database)
        self.question, self.placeholder = question, placeholder

    def compose(self) -> ComposeResult:
        with Vertical(id="ask", classes="dialog"):
            yield Label(self.question, classes="form-title", markup=False)
            yield Input(placeholder=self.placeholder, id="ask-text")

    def on_mount(self) -> None:
        self.query_one("#ask-text", Input).focus()

    @on(Input.Submitted, "#ask-text")
    def _answer(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(event.value.strip())
        else:
            self.notify("Write a few words, or press Escape to cancel.", markup=False)

    def action_cancel(self) -> None:
        self.dismiss(None)
