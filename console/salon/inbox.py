"""Conversations with clients and leads: the threads, one thread's messages with
their delivery status, and a reply box (Enter sends an SMS)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Input, Label

from console.salon.common import Rows, RowsLoaded, SalonChanged, SalonScreen
from console.widgets.table import OfisiTable, Row
from console.widgets.text import literal, short

if TYPE_CHECKING:
    from core.salon.conversations import ThreadMessage, ThreadView


class InboxScreen(SalonScreen):
    """Conversations: the threads, the highlighted one's messages with delivery status, and a reply box."""

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="inbox"):
            with Vertical(classes="pane"):
                yield Label("Conversations", classes="pane-title")
                yield OfisiTable(("Who", "Last", "When"), noun="conversations", id="threads",
                                 empty="No conversations yet: clients' and leads' SMS arrive here.")
            with Vertical(classes="pane"):
                yield Label("", id="thread-title", classes="pane-title")
                yield OfisiTable(("", "Message", "Status", "When"), noun="messages", id="thread",
                                 empty="Pick a conversation and press Enter.")
                yield Input(id="reply", placeholder="Reply (Enter sends an SMS)")

    def on_mount(self) -> None:
        self.title, self.sub_title = self.org.name, "Conversations"
        self.phone: str | None = None
        self.query_one("#threads", OfisiTable).focus()
        self.action_refresh()

    def action_refresh(self) -> None:
        self.load_inbox(self.phone)

    @work(thread=True, exclusive=True, group="inbox", exit_on_error=False)
    def load_inbox(self, phone: str | None) -> None:
        from core.salon.conversations import inbox, thread

        with self.database.session() as session:
            threads = inbox(session, self.actor, self.org.id)
            phone = phone or (threads[0].phone if threads else None)
            messages = thread(session, self.actor, self.org.id, phone) if phone else []
        self.post_from_worker(RowsLoaded(Rows(phone or "", [threads, messages])))

    def on_rows_loaded(self, message: RowsLoaded) -> None:
        threads: list[ThreadView] = message.rows.rows[0]
        messages: list[ThreadMessage] = message.rows.rows[1]
        p = self.present
        table = self.query_one("#threads", OfisiTable)
        table.reload(Row(t.phone, (t.name if t.name != t.phone else p.phone(t.phone),
                                   ("↗ " if t.last_direction == "out" else "") + short(t.last_body, 30),
                                   p.time(t.last_at)), data=t) for t in threads)
        self.phone = message.rows.key or None
        if self.phone:
            table.move_to(self.phone)
        self.query_one("#thread", OfisiTable).reload(
            Row(m.id, ("→" if m.direction == "out" else "←", short(m.body, 60), m.status or "", p.time(m.at)),
                data=m) for m in reversed(messages))
        self.query_one("#thread-title", Label).update(literal(p.phone(self.phone) if self.phone else "No messages yet"))

    @on(DataTable.RowSelected, "#threads")
    def _open_thread(self, event: DataTable.RowSelected) -> None:
        self.phone = event.row_key.value
        self.load_inbox(self.phone)
        self.query_one("#reply", Input).focus()

    @on(Input.Submitted, "#reply")
    def _send(self, event: Input.Submitted) -> None:
        if self.phone and event.value.strip():
            self.send_reply(self.phone, event.value)
            event.input.value = ""

    @work(thread=True, group="salon-write", exit_on_error=False)
    def send_reply(self, phone: str, text: str) -> None:
        from core.salon.conversations import reply

        with self.database.session() as session:
            reply(session, self.actor, self.org.id, phone, text)
        self.post_from_worker(SalonChanged("Reply queued."))
