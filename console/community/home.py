"""The community manager's home: upcoming events and their fill rate,
registrations and attendance by week, the moderation queue and the migration
batches, and the way to the member directory, the inbox and the audit log.

Every read and write runs in a thread worker that calls a ``core.community``
service; widgets never query. Keys act on the row under each list's cursor:

- events: ``c`` check in at the door (admit from the waitlist there), ``e`` edit
  (time, venue, places), ``x`` cancel (asks, naming how many are told),
  ``t`` export the attendance to a file;
- moderation queue: ``h`` hide with a reason (the author is told), ``d`` dismiss the report,
  ``z`` hide it and suspend its author (restoring is on the member's row in the directory, ``o``);
- batches: ``b`` roll back (asks for its number again);
- ``p`` the member directory, ``s`` search, ``i`` the inbox, ``u`` the audit log (admins).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Label, Sparkline, Static

from console.community.checkin import CheckInScreen
from console.community.common import CSS, Done
from console.community.events import EditEventDialog, EventEdit
from console.community.inbox import InboxScreen
from console.community.reports import ReportsScreen
from console.community.people import DirectoryScreen
from console.community.search import MemberSearchScreen
from console.home import CommunityHome, register_home
from console.widgets.confirm import Confirm
from console.widgets.dialog import AskText
from console.widgets.table import Cell, OfisiTable, Row
from console.widgets.text import literal
from core.community import accounts, events, migration, social
from core.community.events import EventView, WeekActivity
from core.community.migration import BatchView
from core.community.social import ReportView


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


def fill_cell(event: EventView) -> Cell:
    return Cell(f"{event.fill_rate:.0%}", event.fill_rate)


@register_home
class CommunityHomeScreen(CommunityHome):
    """The community's home: events, charts, moderation queue, migration batches."""

    CSS_PATH = CSS
    BINDINGS = [
        Binding("p", "people", "Members", id="community-people",
                tooltip="The member directory: find, open, verify, suspend, merge."),
        Binding("c", "check_in", "Check in", id="community-check-in",
                tooltip="Open the door's check-in for the highlighted event (admit from the waitlist there)."),
        Binding("e", "edit_event", "Edit event", id="community-edit-event",
                tooltip="Change the highlighted event's title, time, venue or places."),
        Binding("x", "cancel_event", "Cancel event", id="community-cancel-event",
                tooltip="Call off the highlighted event; everyone registered or waitlisted is told."),
        Binding("t", "export_attendance", "Export attendance", id="community-export",
                tooltip="Write the highlighted event's attendance to a .csv or .xlsx file."),
        Binding("s", "search", "Search", id="community-search", tooltip="Search members, events, posts, listings."),
        Binding("i", "inbox", "Inbox", id="community-inbox", tooltip="SMS conversations with members; reply."),
        Binding("g", "reports", "Reports", id="community-reports",
                tooltip="Member growth, attendance and no-shows per event, most active members, with charts."),
        Binding("h", "hide", "Hide", id="community-hide",
                tooltip="Hide the highlighted report's post or comment, with a reason."),
        Binding("d", "dismiss_report", "Dismiss report", id="community-dismiss"),
        Binding("z", "suspend_author", "Suspend author", id="community-suspend-author",
                tooltip="Hide the highlighted report's content and suspend its author (both told)."),
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
                yield Label("Upcoming events (c e x t)", classes="pane-title")
                yield OfisiTable(("Event", "Starts", "Registered", "Waitlist", "Fill"), noun="events", id="events",
                                 empty="No upcoming events.")
            with Vertical(classes="pane"):
                yield Label("Moderation queue (h d z)", classes="pane-title")
                yield OfisiTable(("What", "Reason", "Text"), noun="reports", id="reports",
                                 empty="No open reports.")
            with Vertical(classes="pane"):
                yield Label("Migration batches (b)", classes="pane-title")
                yield OfisiTable(("Batch", "File", "Status", "Accounts"), noun="batches", id="batches",
                                 empty="No imports.")

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
        p = self.present
        self.query_one("#events", OfisiTable).reload(
            Row(e.id, (e.title, Cell(p.time(e.starts_at), e.starts_at),
                       Cell(f"{e.registered}/{e.capacity}", e.registered), Cell(str(e.waitlisted), e.waitlisted),
                       fill_cell(e)), data=e) for e in data.events)
        self.query_one("#reports", OfisiTable).reload(
            Row(r.id, (r.target, r.reason, r.excerpt), data=r) for r in data.reports)
        self.query_one("#batches", OfisiTable).reload(
            Row(b.id, (str(b.id), b.file, b.status.replace("_", " "), str(b.report.get("accounts_created", ""))),
                data=b) for b in data.batches)

    def _selected(self, selector: str, nothing: str):
        row = self.query_one(selector, OfisiTable).selected_row
        if row is None:
            self.app.notify(nothing, severity="warning", markup=False)
            return None
        return row.data

    def _event(self) -> EventView | None:
        return self._selected("#events", "There is no upcoming event.")

    # ------------------------------------------------------------ screens

    def action_people(self) -> None:
        self.app.push_screen(DirectoryScreen(self.database, self.actor, self.org,
                                             may_change=self.may("community.members")))

    def action_check_in(self) -> None:
        if (event := self._event()) is not None:
            self.app.push_screen(CheckInScreen(self.database, self.actor, self.org, event),
                                 callback=lambda _=None: self.action_refresh())

    def action_search(self) -> None:
        self.app.push_screen(MemberSearchScreen(self.database, self.actor, self.org))

    def action_inbox(self) -> None:
        self.app.push_screen(InboxScreen(self.database, self.actor, self.org))

    def action_reports(self) -> None:
        self.app.push_screen(ReportsScreen(self.database, self.actor, self.org))

    # ------------------------------------------------------------ events

    def action_edit_event(self) -> None:
        if (event := self._event()) is not None:
            self.app.push_screen(EditEventDialog(event, self.org.tz, self.org.timezone),
                                 callback=lambda edit: edit and self.edit_event(event, edit))

    @work(thread=True, group="community-write", exit_on_error=False)
    def edit_event(self, event: EventView, edit: EventEdit) -> None:
        starts = edit.starts_at.replace(tzinfo=self.org.tz) if edit.starts_at else None
        with self.database.session() as session:
            change = events.update_event(session, self.actor, self.org.id, event.id, title=edit.title or None,
                                         starts_at=starts, venue=edit.venue, capacity=edit.capacity)
        said = f"{change.event.title} saved: {change.event.registered}/{change.event.capacity} registered"
        if change.moved_to_waitlist:
            said += f", {change.moved_to_waitlist} moved to the waitlist"
        if change.promoted:
            said += f", {change.promoted} promoted from the waitlist"
        self.post_from_worker(Done(said + f"; {change.told} told."))

    def action_cancel_event(self) -> None:
        if (event := self._event()) is None:
            return
        told = event.registered + event.waitlisted
        self.app.push_screen(
            Confirm(f"Cancel {event.title} ({self.present.time(event.starts_at)})?",
                    [f"{told} people registered or waitlisted are told by SMS or email.",
                     "Next you give the reason they read."], confirm_label="Cancel the event"),
            callback=lambda yes: yes and self.app.push_screen(
                AskText(f"Why is {event.title} cancelled?", f"The {told} people told read this.",
                        confirm_label="Cancel the event"),
                callback=lambda reason: reason and self.cancel_event(event, reason)))

    @work(thread=True, group="community-write", exit_on_error=False)
    def cancel_event(self, event: EventView, reason: str) -> None:
        with self.database.session() as session:
            change = events.cancel_event(session, self.actor, self.org.id, event.id, reason=reason)
        self.post_from_worker(Done(f"{event.title} is cancelled; {change.told} people told."))

    def action_export_attendance(self) -> None:
        if (event := self._event()) is not None:
            self.app.push_screen(
                AskText(f"Export the attendance of {event.title}", "Write to which file? (.csv or .xlsx)",
                        value=str(Path.cwd() / f"attendance-{event.id}.csv"), confirm_label="Export"),
                callback=lambda path: path and self.export(event, path))

    @work(thread=True, group="community-write", exit_on_error=False)
    def export(self, event: EventView, path: str) -> None:
        target = Path(path).expanduser()
        fmt = "xlsx" if target.suffix.lower() == ".xlsx" else "csv"
        with self.database.session() as session:
            rows = events.export_attendance(session, self.actor, self.org.id, event.id, target, fmt=fmt)
        self.post_from_worker(Done(f"{rows} row(s) of {event.title} written to {target}."))

    # ------------------------------------------------------------ moderation and imports

    def action_hide(self) -> None:
        report = self._selected("#reports", "No report is waiting.")
        if report is not None:
            self.app.push_screen(AskText(f"Hide this {report.target}: “{report.excerpt}”",
                                         "Why? The author is told.", confirm_label="Hide"),
                                 callback=lambda reason: reason and self.hide(report.target, report.target_id, reason))

    @work(thread=True, group="community-write", exit_on_error=False)
    def hide(self, kind: str, target_id: int, reason: str) -> None:
        with self.database.session() as session:
            social.hide(session, self.actor, self.org.id, kind, target_id, reason)
        self.post_from_worker(Done(f"The {kind} is hidden."))

    def action_suspend_author(self) -> None:
        report = self._selected("#reports", "No report is waiting.")
        if report is not None:
            self.app.push_screen(
                AskText(f"Suspend {report.author} and hide their {report.target}: “{report.excerpt}”",
                        "Why? They are told.", confirm_label="Suspend"),
                callback=lambda reason: reason and self.suspend_author(report, reason))

    @work(thread=True, group="community-write", exit_on_error=False)
    def suspend_author(self, report: ReportView, reason: str) -> None:
        with self.database.session() as session:
            social.suspend_author(session, self.actor, self.org.id, report.id, reason)
        self.post_from_worker(Done(f"{report.author} is suspended and the {report.target} hidden."))

    def action_dismiss_report(self) -> None:
        report = self._selected("#reports", "No report is waiting.")
        if report is not None:
            self.dismiss_report(report.id)

    @work(thread=True, group="community-write", exit_on_error=False)
    def dismiss_report(self, report_id: int) -> None:
        with self.database.session() as session:
            social.dismiss_report(session, self.actor, self.org.id, report_id)
        self.post_from_worker(Done("Report dismissed; the content stays."))

    def action_rollback(self) -> None:
        batch = self._selected("#batches", "No import batch to roll back.")
        if batch is None:
            return
        key = str(batch.id)
        self.app.push_screen(
            AskText(f"Roll back import batch {key} ({batch.file})?",
                    f"Everything it created is removed. Type {key} to confirm.", confirm_label="Roll back"),
            callback=lambda answer: self.rollback(batch.id) if answer == key else None)

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
        if action in ("hide", "dismiss_report", "suspend_author"):
            return self.may("community.moderate")
        if action == "rollback":
            return self.may("community.import")
        if action in ("check_in", "edit_event", "cancel_event", "export_attendance"):
            return self.may("community.events")
        return super().check_action(action, parameters)
