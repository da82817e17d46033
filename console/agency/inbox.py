"""The agency's inbox: texts from workers, employers and strangers that no keyword answered, one
conversation a row (:func:`core.agency.inbox.list_threads`), the newest first.

Enter opens the conversation (reading it marks it handled) and offers a reply by SMS; a worker's
number stays masked, as on every agency pane, and the reply goes to her without staff seeing it.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Label

from console.agency.screen import AgencyScreen
from console.widgets.confirm import Confirm
from console.widgets.dialog import AskText
from console.widgets.table import Cell, OfisiTable, Row
from core.agency.inbox import InboxMessageView, ThreadView


class ThreadsLoaded(Message):
    def __init__(self, threads: list[ThreadView]) -> None:
        super().__init__()
        self.threads = threads


class InboxScreen(AgencyScreen):
    """Every conversation with what is waiting; Enter reads one and offers a reply."""

    SUBTITLE = "Inbox"
    BINDINGS = [Binding("r,f5", "refresh", "Refresh", id="inbox-refresh")]

    def compose_body(self) -> ComposeResult:
        yield Label("Texts no keyword answered (Enter reads and replies)", classes="pane-title")
        yield OfisiTable(("Who", "Phone", "Waiting", "Last text", "When"), noun="conversations",
                         empty="No texts waiting: workers' YES/NO and AVAILABLE, and employers' BUY and UNLOCK, "
                               "are answered by themselves.", id="agency-inbox")

    @work(thread=True, exclusive=True, group="agency-inbox", exit_on_error=False)
    def load(self) -> None:
        from core.agency.inbox import list_threads

        with self.database.session() as session:
            threads = list_threads(session, self.actor, self.org.id)
        self.post_from_worker(ThreadsLoaded(threads))

    def on_threads_loaded(self, message: ThreadsLoaded) -> None:
        p = self.present
        self.query_one(OfisiTable).reload(
            Row(t.id, (t.who, p.phone(t.phone), t.waiting or "", t.last_text, Cell(p.time(t.last_at), t.last_at)),
                data=t) for t in message.threads)

    @on(OfisiTable.RowSelected)
    def _open(self) -> None:
        row = self.query_one(OfisiTable).selected_row
        if row is not None:
            self.read(row.data)

    @work(thread=True, group="agency-inbox-read", exit_on_error=False)
    def read(self, thread: ThreadView) -> None:
        from core.agency.inbox import show_thread

        with self.database.session() as session:
            said = show_thread(session, self.actor, self.org.id, thread.id)
        self.app.call_from_thread(self._show, thread, said)

    def _show(self, thread: ThreadView, said: list[InboxMessageView]) -> None:
        who = f"{thread.who}, {self.present.phone(thread.phone)}"
        lines = [f"{self.present.time(m.at)} {'they' if m.direction == 'in' else 'we'}: {m.body}" for m in said]
        self.app.push_screen(Confirm(f"Conversation with {who}", lines[-12:], confirm_label="Reply"),
                             callback=lambda yes: self._ask_reply(thread, who) if yes else self.action_refresh())

    def _ask_reply(self, thread: ThreadView, who: str) -> None:
        self.app.push_screen(AskText(f"Reply to {who}", placeholder="Message", confirm_label="Send"),
                             callback=lambda text: text and self.send(thread, text))

    @work(thread=True, group="agency-inbox-write", exit_on_error=False)
    def send(self, thread: ThreadView, text: str) -> None:
        from core.agency.inbox import reply

        with self.database.session() as session:
            message_id = reply(session, self.actor, self.org.id, thread.id, text)
        self.app.call_from_thread(self.notify, f"Reply to {thread.who} queued (message {message_id}).",
                                  markup=False)
        self.app.call_from_thread(self.action_refresh)
