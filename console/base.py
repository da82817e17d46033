"""What every console screen shares: worker error reporting, the header,
footer and notifications panel, and the bindings that apply on every screen.

Workers are declared with ``exit_on_error=False`` and simply raise; the
``Worker.StateChanged`` handler here hands the error to the app, which shows
a domain error's message as a notice and logs anything else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, cast

from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.dom import NoScreen
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState

from console import widgets
from console.shell.notices import NoticesPanel

if TYPE_CHECKING:
    from core.users import SignedIn
    from db.engine import Database


class ConsoleApp(Protocol):
    """What screens ask of the app (``console.app.OfisiApp``), named here so that this module,
    which the app imports, never imports the app."""

    def report_failure(self, error: BaseException) -> None: ...

    def signed_in(self, signed_in: SignedIn) -> None: ...


class ReportsWorkerErrors:
    """Mixin for screens: a failed worker becomes a notice, never a traceback."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            cast("ConsoleApp", self.app).report_failure(event.worker.error)  # type: ignore[attr-defined]


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
        self.update(widgets.literal(f"{title} — {sub_title}" if sub_title else title))


class ConsoleScreen(ReportsWorkerErrors, ThreadSafePost, Screen):
    """A full screen with header, footer and the notifications panel."""

    BINDINGS = [
        # First, so that the footer shows it even when a narrow terminal cuts the rest.
        Binding("question_mark", "app.help", "Keys", id="screen-help", tooltip="List this screen's keys."),
        Binding("ctrl+n", "toggle_notices", "Notices", id="notices",
                tooltip="Show or hide the notices shown this session."),
    ]

    def __init__(self, database: Database, *, name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        # Held here so worker threads reach it without walking the DOM.
        self.database = database

    @property
    def ofisi(self) -> ConsoleApp:
        return cast("ConsoleApp", self.app)

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


class AskText(widgets.AskText):
    """The shared one-line question (``console.widgets.dialog.AskText``) with the area screens'
    older call shape ``AskText(database, question, placeholder=...)``; the question is the title,
    so name the record in it."""

    def __init__(self, database: Database, question: str, *, placeholder: str = "") -> None:
        super().__init__(question, placeholder=placeholder)
        self.database = database
