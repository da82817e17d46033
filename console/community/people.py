"""The member directory: every member, searched and paged in the core
(``core.community.members.list_members``), and what a manager does to one.

Keys act on the member under the cursor (the cursor stays on them when the
list is read again): Enter opens the member's page (profiles, contact details,
registrations and attendance, posts, connections, moderation history); ``v``
verifies (again: unverifies); ``z`` suspends with a reason the member is told
(again: reinstates); ``g`` merges another account into this one, proven by a
code sent to the other account's address, which its owner reads out; ``o`` shows again
a hidden post or comment of theirs (chosen from a list of what is hidden).
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Static

from console.base import ConsoleScreen
from console.community.common import CSS, Done
from console.widgets.dialog import AskText, Dialog
from console.widgets.present import Presenter
from console.widgets.table import Cell, OfisiTable, Row
from console.widgets.text import literal
from core.actors import Actor
from core.community import members, social
from core.community.members import MemberPost, MemberRow
from core.orgs import OrgView
from db.engine import Database

PAGE = 50


class DirectoryLoaded(Message):
    def __init__(self, rows: list[MemberRow], more: bool, first: bool) -> None:
        super().__init__()
        self.rows, self.more, self.first = rows, more, first


class MemberPageScreen(Dialog[bool]):
    """One member's page as the CLI prints it (``ofisi community member show``)."""

    BINDINGS = [Binding("escape", "cancel", "Close", id="member-page-close")]

    def __init__(self, database: Database, actor: Actor, org: OrgView, account_id: int, title: str = "") -> None:
        super().__init__(title or f"Member {account_id}", confirm_label="Close", wide=True)
        self.database, self.actor, self.org, self.account_id = database, actor, org, account_id

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="member-page-body"):
            yield Static("", id="member-page", markup=False)

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exit_on_error=False)
    def load(self) -> None:
        with self.database.session() as session:
            page = members.member_page(session, self.actor, self.org.id, self.account_id)
        lines = members.describe(self.org, page)
        self.app.call_from_thread(self.query_one("#member-page", Static).update, literal("\n".join(lines), lines=True))


class RestoreDialog(Dialog[MemberPost]):
    """A member's hidden posts and comments; Enter (or Restore) shows the highlighted one again."""

    def __init__(self, title: str, hidden: list[MemberPost], present: Presenter) -> None:
        super().__init__(title, confirm_label="Restore", wide=True)
        self.hidden, self.present = hidden, present

    def compose_body(self) -> ComposeResult:
        yield OfisiTable(("What", "When", "Text", "Hidden because"), noun="hidden items", id="hidden-items")

    def on_mount(self) -> None:
        table = self.query_one("#hidden-items", OfisiTable)
        table.reload(Row(f"{p.kind}:{p.id}", (p.kind, Cell(self.present.date(p.created_at), p.created_at), p.text,
                                              p.hidden_reason or ""), data=p) for p in self.hidden)
        table.focus()

    @on(OfisiTable.RowSelected, "#hidden-items")
    def _picked(self) -> None:
        self.action_confirm()

    def answer(self) -> MemberPost | None:
        row = self.query_one("#hidden-items", OfisiTable).selected_row
        return None if row is None else row.data


class DirectoryScreen(ConsoleScreen):
    """Members by name; ``/`` searches names, usernames, phones and emails in the core."""

    CSS_PATH = CSS
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("v", "verify", "Verify", id="member-verify",
                tooltip="Mark the highlighted member's primary profile verified (again: not verified)."),
        Binding("z", "suspend", "Suspend", id="member-suspend",
                tooltip="Suspend the highlighted member with a reason they are told (again: reinstate)."),
        Binding("g", "merge", "Merge", id="member-merge",
                tooltip="Fold another account of the same person into this one, proven by a code."),
        Binding("o", "restore", "Restore post", id="member-restore",
                tooltip="Show again a post or comment of the highlighted member that was hidden."),
    ]

    def __init__(self, database: Database, actor: Actor, org: OrgView, *, may_change: bool = True) -> None:
        super().__init__(database)
        self.actor, self.org, self.may_change = actor, org, may_change
        self.present = Presenter.for_org(org)
        self.search = ""
        self.rows: list[Row] = []
        self.more = False

    def compose_body(self) -> ComposeResult:
        with Vertical(id="people"):
            yield Static("", id="people-status", markup=False)
            yield OfisiTable(("Name", "Type", "Phone", "Email", "Status", "Verified", "Profiles", "Joined"),
                             noun="members", search_in_core=True, id="directory",
                             empty="No member matches: / searches again.")

    def on_mount(self) -> None:
        self.title, self.sub_title = self.org.name, "Members"
        self.query_one("#directory", OfisiTable).focus()
        self.load(None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.may_change if action in ("verify", "suspend", "merge", "restore") else True

    @work(thread=True, exclusive=True, group="directory", exit_on_error=False)
    def load(self, after: tuple[str, int] | None) -> None:
        with self.database.session() as session:
            found = members.list_members(session, self.actor, self.org.id, search=self.search, after=after,
                                         limit=PAGE + 1)
        self.post_from_worker(DirectoryLoaded(found[:PAGE], len(found) > PAGE, after is None))

    def row(self, m: MemberRow) -> Row:
        p = self.present
        return Row(m.id, (m.name, m.type, p.phone(m.phone), m.email or "", m.status, "yes" if m.verified else "",
                          Cell(str(m.profiles), m.profiles), Cell(p.date(m.joined_at), m.joined_at)), data=m)

    def on_directory_loaded(self, message: DirectoryLoaded) -> None:
        table = self.query_one("#directory", OfisiTable)
        new = [self.row(m) for m in message.rows]
        if message.first:
            self.rows = new
            table.reload(new)
        else:
            self.rows += new
            table.append(new)
        self.more = message.more
        self.query_one("#people-status", Static).update(literal(
            f"{len(self.rows)} member(s) shown" + (" — more below" if self.more else "")
            + (f" matching “{self.search}”" if self.search else "")
            + ". Enter opens a member; v verify, z suspend, g merge."))

    @on(OfisiTable.SearchChanged, "#directory")
    def _search(self, event: OfisiTable.SearchChanged) -> None:
        self.search = event.text.strip()
        self.load(None)

    @on(OfisiTable.NearEnd, "#directory")
    def _more(self) -> None:
        if self.more and self.rows:
            self.more = False
            self.load(self.rows[-1].data.cursor)

    def selected(self) -> MemberRow | None:
        row = self.query_one("#directory", OfisiTable).selected_row
        if row is None:
            self.notify("No member is highlighted.", markup=False)
        return None if row is None else row.data

    def named(self, m: MemberRow) -> str:
        return self.present.person(m.name, m.phone or m.email)

    @on(OfisiTable.RowSelected, "#directory")
    def _open(self) -> None:
        if (m := self.selected()) is not None:
            self.app.push_screen(MemberPageScreen(self.database, self.actor, self.org, m.id, self.named(m)))

    def action_verify(self) -> None:
        if (m := self.selected()) is not None:
            self.write(lambda s: members.verify_member(s, self.actor, self.org.id, m.id, verified=not m.verified),
                       f"{m.name} is {'no longer ' if m.verified else ''}verified.")

    def action_suspend(self) -> None:
        if (m := self.selected()) is None:
            return
        if m.status == "suspended":
            self.write(lambda s: members.set_status(s, self.actor, self.org.id, m.id, "active"),
                       f"{m.name} is reinstated.")
            return
        self.app.push_screen(
            AskText(f"Suspend {self.named(m)}?", "Why? The member is told.", confirm_label="Suspend"),
            callback=lambda reason: reason and self.write(
                lambda s: members.set_status(s, self.actor, self.org.id, m.id, "suspended", reason=reason),
                f"{m.name} is suspended."))

    def action_merge(self) -> None:
        if (m := self.selected()) is None:
            return
        self.app.push_screen(
            AskText(f"Merge another account into {self.named(m)}",
                    "The other account's phone or email (a code is sent there):", confirm_label="Send code"),
            callback=lambda address: address and self.start_merge(m, address))

    def action_restore(self) -> None:
        if (m := self.selected()) is not None:
            self.hidden_of(m)

    @work(thread=True, group="directory-write", exit_on_error=False)
    def hidden_of(self, m: MemberRow) -> None:
        with self.database.session() as session:
            page = members.member_page(session, self.actor, self.org.id, m.id)
        hidden = [p for p in page.posts if p.hidden]
        self.app.call_from_thread(self.ask_restore, m, hidden)

    def ask_restore(self, m: MemberRow, hidden: list[MemberPost]) -> None:
        if not hidden:
            self.notify(f"Nothing of {m.name}'s is hidden.", markup=False)
            return
        self.app.push_screen(RestoreDialog(f"Restore a post or comment of {self.named(m)}", hidden, self.present),
                             callback=lambda p: p and self.write(
                                 lambda s: social.restore(s, self.actor, self.org.id, p.kind, p.id),
                                 f"The {p.kind} of {m.name} is shown again."))

    @work(thread=True, group="directory-write", exit_on_error=False)
    def start_merge(self, m: MemberRow, address: str) -> None:
        with self.database.session() as session:
            members.start_merge(session, self.actor, self.org.id, m.id, address)
        self.app.call_from_thread(self.ask_code, m, address)

    def ask_code(self, m: MemberRow, address: str) -> None:
        self.app.push_screen(
            AskText(f"Merge {address} into {self.named(m)}", f"The code sent to {address}:",
                    confirm_label="Merge"),
            callback=lambda code: code and self.write(
                lambda s: members.finish_merge(s, self.actor, self.org.id, m.id, address, code),
                f"{address} is merged into {m.name}."))

    @work(thread=True, group="directory-write", exit_on_error=False)
    def write(self, change, said: str) -> None:
        with self.database.session() as session:
            change(session)
        self.post_from_worker(Done(said))

    def on_done(self, message: Done) -> None:
        self.notify(message.text, markup=False)
        self.load(None)
