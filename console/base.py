"""What every console screen shares: worker error reporting, the header,
footer and notifications panel, and the bindings that apply on every screen.

Workers are declared with ``exit_on_error=False`` and simply raise; the
``Worker.StateChanged`` handler here hands the error to the app, which shows
a domain error's message as a notice and logs anything else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Header
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
        yield Header()
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
