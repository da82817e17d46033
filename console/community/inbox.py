"""The community inbox: SMS that were not a keyword (``HELP`` aside), one thread
per phone, latest first. Enter opens a thread and its messages; typing a reply
and Enter sends it (``core.community.inbox.reply``, an SMS to that phone)."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Input, Static

from console.base import ConsoleScreen
from console.community.common import CSS
from console.widgets.dialog import Dialog
from console.widgets.present import Presenter
from console.widgets.table import Cell, OfisiTable, Row
from console.widgets.text import literal, short
from core.actors import Actor
from core.community import inbox
from core.community.inbox import ThreadView
from core.orgs import OrgView
from db.engine import Database


class ThreadsLoaded(Message):
    def __init__(self, threads: list[ThreadView]) -> None:
        super().__init__()
        self.threads = threads


class ThreadDialog(Dialog[str]):
    """One thread's messages and a reply line; Enter sends the reply."""

    def __init__(self, database: Database, actor: Actor, org: OrgView, thread: ThreadView, title: str) -> None:
        super().__init__(title, confirm_label="Send reply", wide=True)
        self.database, self.actor, self.org, self.thread = database, actor, org, thread
        self.present = Presenter.for_org(org)

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="thread-body"):
            yield Static("", id="thread-messages", markup=False)
        yield Input(placeholder="Reply (sent by SMS)", id="thread-reply")

    def on_mount(self) -> None:
        self.query_one("#thread-reply", Input).focus()
        self.load()

    @work(thread=True, exit_on_error=False)
    def load(self) -> None:
        with self.database.session() as session:
            _thread, messages = inbox.read_thread(session, self.actor, self.org.id, self.thread.id)
        lines = [f"{self.present.time(m.created_at)} {'→' if m.direction == 'out' else '←'} "
                 f"{m.staff or self.thread.name}: {m.body}" for m in messages]
        self.app.call_from_thread(self.query_one("#thread-messages", Static).update,
                                  literal("\n".join(lines) or "(no messages)", lines=True))

    @on(Input.Submitted, "#thread-reply")
    def _send(self) -> None:
        self.action_confirm()

    def answer(self) -> str | None:
        text = self.query_one("#thread-reply", Input).value.strip()
        if not text:
            self.notify("Write the reply, or press Escape to close.", markup=False)
            return None
        return text


class InboxScreen(ConsoleScreen):
    """Open threads, latest message first."""

    CSS_PATH = CSS
    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, database: Database, actor: Actor, org: OrgView) -> None:
        super().__init__(database)
        self.actor, self.org = actor, org
        self.present = Presenter.for_org(org)

    def compose_body(self) -> ComposeResult:
        with Vertical(id="inbox-page"):
            yield OfisiTable(("Last", "From", "Phone", "Unread", "Text"), noun="threads", id="threads",
                             empty="No open conversations.")

    def on_mount(self) -> None:
        self.title, self.sub_title = self.org.name, "Inbox"
        self.query_one("#threads", OfisiTable).focus()
        self.load()

    @work(thread=True, exclusive=True, group="threads", exit_on_error=False)
    def load(self) -> None:
        with self.database.session() as session:
            threads = inbox.list_threads(session, self.actor, self.org.id, limit=200)
        self.post_from_worker(ThreadsLoaded(threads))

    def on_threads_loaded(self, message: ThreadsLoaded) -> None:
        p = self.present
        self.query_one("#threads", OfisiTable).reload(
            Row(t.id, (Cell(p.time(t.last_message_at), t.last_message_at), t.name, p.phone(t.phone),
                       Cell(str(t.unread), t.unread), short(t.last_text, 50)), data=t) for t in message.threads)

    @on(OfisiTable.RowSelected, "#threads")
    def _open(self) -> None:
        row = self.query_one("#threads", OfisiTable).selected_row
        if row is None:
            return
        t: ThreadView = row.data
        self.app.push_screen(ThreadDialog(self.database, self.actor, self.org, t, self.present.person(t.name, t.phone)),
                             callback=lambda text: text and self.reply(t, text))

    @work(thread=True, group="thread-reply", exit_on_error=False)
    def reply(self, t: ThreadView, text: str) -> None:
        with self.database.session() as session:
            inbox.reply(session, self.actor, self.org.id, t.id, text)
        self.app.call_from_thread(self.notify, f"Reply sent to {t.name}.")
        self.app.call_from_thread(self.load)
