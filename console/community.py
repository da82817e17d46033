"""The community manager's console: the home screen with upcoming events and their
fill rate, registrations and attendance by week (sparklines), the moderation
queue and the migration batches; the door's check-in screen; member search.

Every read and write runs in a thread worker that calls a ``core.community``
service and posts one of the messages below; widgets never query.

Keys on the home screen: ``c`` check in at the highlighted event, ``s`` search
members, ``h`` hide the highlighted report's post or comment (asks the
reason), ``d`` dismiss that report, ``b`` roll back the highlighted import
batch (asks for its number again). On the check-in screen, type a name or a
phone and press Enter on a row to mark the person attended.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Input, Label, Sparkline, Static

from console.base import AskText, ConsoleScreen
from console.widgets.table import LiteralTable
from console.widgets.text import literal
from console.home import CommunityHome, register_home, shown_phone
from core.actors import Actor
from core.community import accounts, events, migration, search, social
from core.community.events import EventView, RegistrationView, WeekActivity
from core.community.migration import BatchView
from core.community.search import Hit
from core.community.social import ReportView
from core.orgs import OrgView
from db.engine import Database

CSS = str(Path(__file__).with_name("community.tcss"))


@dataclass(frozen=True)
class CommunityData:
    org_id: int
    members: int
    events: list[EventView]
    weeks: list[WeekActivity]
    reports: list[ReportView]
    batches: list[BatchView]


class CommunityLoaded(Message):
    def __init__(self, data: CommunityData) -> None:
        super().__init__()
        self.data = data


class RegistrationsLoaded(Message):
    def __init__(self, rows: list[RegistrationView]) -> None:
        super().__init__()
        self.rows = rows


class CheckedIn(Message):
    def __init__(self, row: RegistrationView) -> None:
        super().__init__()
        self.row = row


class HitsLoaded(Message):
    def __init__(self, hits: list[Hit]) -> None:
        super().__init__()
        self.hits = hits


class Done(Message):
    """A write finished; ``text`` says what happened."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


def fill_cell(event: EventView) -> str:
    return f"{event.fill_rate:.0%}"


class CheckInScreen(ConsoleScreen):
    """The door: find a person by name or phone, Enter marks them attended."""

    CSS_PATH = CSS
    BINDINGS = [Binding("escape", "app.pop_screen", "Back", id="checkin-back")]

    def __init__(self, database: Database, actor: Actor, org: OrgView, event: EventView) -> None:
        super().__init__(database)
        self.actor, self.org, self.event = actor, org, event

    def compose_body(self) -> ComposeResult:
        with Vertical(id="checkin"):
            yield Label(literal(f"Check-in: {self.event.title}"), classes="pane-title")
            yield Input(placeholder="Name or phone", id="checkin-search")
            yield LiteralTable(id="checkin-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.title, self.sub_title = self.org.name, "Check-in at the door"
        table = self.query_one("#checkin-table", DataTable)
        for label, key in (("Name", "name"), ("Phone", "phone"), ("Status", "status")):
            table.add_column(label, key=key)
        self.query_one("#checkin-search", Input).focus()
        self.load_rows("")

    @on(Input.Changed, "#checkin-search")
    def _search(self, event: Input.Changed) -> None:
        self.load_rows(event.value)

    @on(Input.Submitted, "#checkin-search")
    def _to_table(self) -> None:
        self.query_one("#checkin-table", DataTable).focus()

    @work(thread=True, exclusive=True, group="checkin-rows", exit_on_error=False)
    def load_rows(self, text: str) -> None:
        with self.database.session() as session:
            rows = events.list_registrations(session, self.actor, self.org.id, self.event.id, search=text,
                                             limit=100)
        self.post_from_worker(RegistrationsLoaded(rows))

    def on_registrations_loaded(self, message: RegistrationsLoaded) -> None:
        table = self.query_one("#checkin-table", DataTable)
        table.clear()
        for row in message.rows:
            table.add_row(row.name, shown_phone(row.phone or row.email or ""), row.status, key=str(row.id))

    @on(DataTable.RowSelected, "#checkin-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        self.check_in(int(event.row_key.value))

    @work(thread=True, group="checkin", exit_on_error=False)
    def check_in(self, registration_id: int) -> None:
        with self.database.session() as session:
            row = events.check_in(session, self.actor, self.org.id, registration_id)
        self.post_from_worker(CheckedIn(row))

    def on_checked_in(self, message: CheckedIn) -> None:
        table = self.query_one("#checkin-table", DataTable)
        if str(message.row.id) in table.rows:
            table.update_cell(str(message.row.id), "status", message.row.status)
        self.app.notify(f"{message.row.name} checked in.", markup=False)


class MemberSearchScreen(ConsoleScreen):
    """Search profiles (and events, posts, listings with Tab between kinds)."""

    CSS_PATH = CSS
    BINDINGS = [Binding("escape", "app.pop_screen", "Back", id="search-back"),
                Binding("ctrl+k", "next_kind", "Next kind", id="search-kind",
                        tooltip="Search profiles, events, posts or listings.")]

    def __init__(self, database: Database, actor: Actor, org: OrgView) -> None:
        super().__init__(database)
        self.actor, self.org, self.kind = actor, org, "profile"

    def compose_body(self) -> ComposeResult:
        with Vertical(id="member-search"):
            yield Label("Search: profile", id="search-kind-label", classes="pane-title")
            yield Input(placeholder="Two letters or more", id="member-search-input")
            yield LiteralTable(id="member-hits", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.title, self.sub_title = self.org.name, "Search"
        table = self.query_one("#member-hits", DataTable)
        table.add_column("Name or title", key="title")
        table.add_column("Detail", key="detail")
        self.query_one("#member-search-input", Input).focus()

    def action_next_kind(self) -> None:
        self.kind = search.KINDS[(search.KINDS.index(self.kind) + 1) % len(search.KINDS)]
        self.query_one("#search-kind-label", Label).update(f"Search: {self.kind}")
        self.load_hits(self.query_one("#member-search-input", Input).value)

    @on(Input.Changed, "#member-search-input")
    def _changed(self, event: Input.Changed) -> None:
        self.load_hits(event.value)

    @work(thread=True, exclusive=True, group="member-search", exit_on_error=False)
    def load_hits(self, text: str) -> None:
        if len(text.strip()) < 2:
            self.post_from_worker(HitsLoaded([]))
            return
        with self.database.session() as session:
            hits = search.search(session, self.actor, self.org.id, text, kind=self.kind)
        self.post_from_worker(HitsLoaded(hits))

    def on_hits_loaded(self, message: HitsLoaded) -> None:
        table = self.query_one("#member-hits", DataTable)
        table.clear()
        for hit in message.hits:
            table.add_row(hit.title, hit.detail, key=f"{hit.kind}:{hit.id}")


@register_home
class CommunityHomeScreen(CommunityHome):
    """The community's home: events, charts, moderation queue, migration batches."""

    CSS_PATH = CSS
    BINDINGS = [
        Binding("c", "check_in", "Check in", id="community-check-in",
                tooltip="Open the door's check-in for the highlighted event."),
        Binding("s", "search", "Search", id="community-search", tooltip="Search members, events, posts, listings."),
        Binding("h", "hide", "Hide", id="community-hide",
                tooltip="Hide the highlighted report's post or comment, with a reason."),
        Binding("d", "dismiss_report", "Dismiss report", id="community-dismiss"),
        Binding("b", "rollback", "Roll back batch", id="community-rollback",
                tooltip="Remove everything the highlighted import batch created."),
    ]

    def compose_panels(self) -> ComposeResult:
        yield Static("", id="community-counts", markup=False)
        with Horizontal(id="community-charts"):
            with Vertical():
                yield Label("Registrations by week", id="registrations-label")
                yield Sparkline([], id="registrations-chart")
            with Vertical():
                yield Label("Attendance by week", id="attendance-label")
                yield Sparkline([], id="attendance-chart")
        with Horizontal(id="community-panels"):
            with Vertical(classes="pane"):
                yield Label("Upcoming events", classes="pane-title")
                yield LiteralTable(id="events", cursor_type="row", zebra_stripes=True)
            with Vertical(classes="pane"):
                yield Label("Moderation queue", classes="pane-title")
                yield LiteralTable(id="reports", cursor_type="row", zebra_stripes=True)
            with Vertical(classes="pane"):
                yield Label("Migration batches", classes="pane-title")
                yield LiteralTable(id="batches", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        columns = {"#events": ("Event", "Starts", "Registered", "Waitlist", "Fill"),
                   "#reports": ("What", "Reason", "Text"),
                   "#batches": ("Batch", "File", "Status", "Accounts")}
        for selector, labels in columns.items():
            table = self.query_one(selector, DataTable)
            for label in labels:
                table.add_column(label, key=label.lower())
        # HomeScreen.on_mount runs after this one (Textual calls each class's handler) and refreshes.

    def action_refresh(self) -> None:
        super().action_refresh()
        self.load_community()

    @work(thread=True, exclusive=True, group="community-home", exit_on_error=False)
    def load_community(self) -> None:
        with self.database.session() as session:
            data = CommunityData(
                self.org.id, accounts.count_accounts(session, self.actor, self.org.id),
                events.upcoming_events(session, self.actor, self.org.id, limit=50),
                events.activity_by_week(session, self.actor, self.org.id, weeks=12),
                social.moderation_queue(session, self.actor, self.org.id, limit=50)
                if self.may("community.moderate") else [],
                migration.list_batches(session, self.actor, self.org.id, limit=20))
        self.post_from_worker(CommunityLoaded(data))

    def on_community_loaded(self, message: CommunityLoaded) -> None:
        data = message.data
        waitlisted = sum(e.waitlisted for e in data.events)
        registered = sum(e.registered for e in data.events)
        self.query_one("#community-counts", Static).update(
            f"Members: {data.members:,} · upcoming events: {len(data.events)} · registered: {registered} · "
            f"waitlisted: {waitlisted} · open reports: {len(data.reports)}")
        self.query_one("#registrations-chart", Sparkline).data = [w.registrations for w in data.weeks]
        self.query_one("#attendance-chart", Sparkline).data = [w.attended for w in data.weeks]
        self.query_one("#registrations-label", Label).update(
            f"Registrations by week (12 weeks: {sum(w.registrations for w in data.weeks)})")
        self.query_one("#attendance-label", Label).update(
            f"Attendance by week (12 weeks: {sum(w.attended for w in data.weeks)})")
        self._fill("#events", [(str(e.id), (e.title, f"{e.starts_at.astimezone(self.org.tz):%d %b %H:%M}",
                                            f"{e.registered}/{e.capacity}", str(e.waitlisted), fill_cell(e)))
                               for e in data.events])
        self._fill("#reports", [(f"{r.id}:{r.target}:{r.target_id}", (r.target, r.reason, r.excerpt))
                                for r in data.reports])
        self._fill("#batches", [(str(b.id), (str(b.id), b.file, b.status.replace("_", " "),
                                             str(b.report.get("accounts_created", ""))))
                                for b in data.batches])
        self.events_by_id = {e.id: e for e in data.events}

    def _fill(self, selector: str, rows: list[tuple[str, tuple[str, ...]]]) -> None:
        table = self.query_one(selector, DataTable)
        row = table.cursor_row
        table.clear()
        for key, cells in rows:
            table.add_row(*cells, key=key)
        if table.row_count:
            table.move_cursor(row=min(max(row, 0), table.row_count - 1))

    def _highlighted(self, selector: str) -> str | None:
        table = self.query_one(selector, DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value

    # ------------------------------------------------------------ actions

    def action_check_in(self) -> None:
        key = self._highlighted("#events")
        if key is None:
            self.app.notify("There is no upcoming event to check in to.", severity="warning")
            return
        self.app.push_screen(CheckInScreen(self.database, self.actor, self.org,
                                           self.events_by_id[int(key)]))

    def action_search(self) -> None:
        self.app.push_screen(MemberSearchScreen(self.database, self.actor, self.org))

    def action_hide(self) -> None:
        key = self._highlighted("#reports")
        if key is None:
            return
        _report, kind, target = key.split(":")
        self.app.push_screen(AskText(self.database, f"Why hide this {kind}? (the author may ask)"),
                             callback=lambda reason: reason and self.hide(kind, int(target), reason))

    @work(thread=True, group="community-write", exit_on_error=False)
    def hide(self, kind: str, target_id: int, reason: str) -> None:
        with self.database.session() as session:
            social.hide(session, self.actor, self.org.id, kind, target_id, reason)
        self.post_from_worker(Done(f"The {kind} is hidden."))

    def action_dismiss_report(self) -> None:
        key = self._highlighted("#reports")
        if key is not None:
            self.dismiss_report(int(key.split(":")[0]))

    @work(thread=True, group="community-write", exit_on_error=False)
    def dismiss_report(self, report_id: int) -> None:
        with self.database.session() as session:
            social.dismiss_report(session, self.actor, self.org.id, report_id)
        self.post_from_worker(Done("Report dismissed; the content stays."))

    def action_rollback(self) -> None:
        key = self._highlighted("#batches")
        if key is None:
            return
        self.app.push_screen(
            AskText(self.database, f"Roll back import batch {key}? Everything it created is removed. "
                                     f"Type {key} to confirm."),
            callback=lambda answer: self.rollback(int(key)) if answer == key else None)

    @work(thread=True, group="community-write", exit_on_error=False)
    def rollback(self, batch_id: int) -> None:
        with self.database.session() as session:
            result = migration.rollback_batch(session, self.actor, self.org.id, batch_id)
        self.post_from_worker(Done(f"Batch {batch_id} rolled back: {result.accounts} accounts, {result.posts} "
                                   f"posts and {result.connections} connections removed."))

    def on_done(self, message: Done) -> None:
        self.app.notify(message.text, markup=False)
        self.action_refresh()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("hide", "dismiss_report"):
            return self.may("community.moderate")
        if action == "rollback":
            return self.may("community.import")
        if action == "check_in":
            return self.may("community.events")
        return super().check_action(action, parameters)
