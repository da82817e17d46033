"""Meetings newest first: schedule (a past one too, entered after it was held), attendance,
minutes, and cancelling one still to come (asks the reason; members get an SMS)."""

from __future__ import annotations

from datetime import datetime

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Label, SelectionList, TextArea

from console.base import ConsoleScreen
from console.chama.common import OrgModal
from console.widgets.dialog import AskText
from console.widgets.table import Cell, OfisiTable, Row
from console.widgets.text import literal
from core.actors import Actor
from core.chama import meetings
from core.chama.meetings import MeetingView
from core.chama.members import MemberView, list_members
from core.errors import InvalidInput
from core.orgs import OrgView
from db.engine import Database


class MeetingsLoaded(Message):
    def __init__(self, meetings: list[MeetingView], members: list[MemberView]) -> None:
        super().__init__()
        self.meetings, self.members = meetings, members


class MeetingsScreen(ConsoleScreen):
    """Meetings newest first: n schedules one, a takes attendance, w writes the minutes, c cancels."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("n", "schedule", "Schedule", tooltip="Put a meeting in the calendar; members get an SMS."),
        Binding("a", "attendance", "Attendance", tooltip="Mark who came to the highlighted meeting."),
        Binding("w", "minutes", "Minutes", tooltip="Write the highlighted meeting's minutes."),
        Binding("c", "cancel_meeting", "Cancel meeting",
                tooltip="Cancel the highlighted meeting (asks the reason; members get an SMS)."),
    ]

    def __init__(self, database: Database, actor: Actor, org: OrgView, may_change: bool) -> None:
        super().__init__(database)
        self.actor, self.org, self.may_change = actor, org, may_change
        self.meetings: dict[int, MeetingView] = {}
        self.members: list[MemberView] = []

    def compose_body(self) -> ComposeResult:
        yield OfisiTable(("When", "Venue", "Agenda", "Status", "Present", "Minutes"), noun="meetings",
                         empty="No meetings yet: n schedules one.", id="meetings")

    def on_mount(self) -> None:
        self.title, self.sub_title = self.org.name, "Meetings"
        self.query_one("#meetings", OfisiTable).focus()
        self.load()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.may_change if action in ("schedule", "attendance", "minutes", "cancel_meeting") else True

    @work(thread=True, exclusive=True, group="meetings", exit_on_error=False)
    def load(self) -> None:
        with self.database.session() as session:
            found = meetings.list_meetings(session, self.actor, self.org.id)
            people = list_members(session, self.actor, self.org.id, status="active", limit=500)
        self.post_from_worker(MeetingsLoaded(found, people))

    def on_meetings_loaded(self, message: MeetingsLoaded) -> None:
        self.members = message.members
        self.meetings = {m.id: m for m in message.meetings}
        self.query_one("#meetings", OfisiTable).reload(
            Row(m.id, (Cell(f"{m.starts_at.astimezone(self.org.tz):%a %d %b %Y %H:%M}", m.starts_at), m.venue,
                       m.agenda or "—", m.status,
                       Cell(str(n := sum(1 for a in m.attendance if a.status in ("present", "late"))), n),
                       "yes" if m.minutes else "—"), data=m)
            for m in sorted(message.meetings, key=lambda m: m.starts_at, reverse=True))

    def _highlighted(self) -> MeetingView | None:
        row = self.query_one("#meetings", OfisiTable).selected_row
        if row is None:
            self.notify("No meetings yet: n schedules one.", markup=False)
            return None
        return row.data

    def action_schedule(self) -> None:
        self.app.push_screen(ScheduleMeetingModal(self.database, self.actor, self.org),
                             callback=lambda done: done and self.load())

    def action_attendance(self) -> None:
        meeting = self._highlighted()
        if meeting is not None:
            self.app.push_screen(AttendanceModal(self.database, self.actor, self.org, meeting, self.members),
                                 callback=lambda done: done and self.load())

    def action_minutes(self) -> None:
        meeting = self._highlighted()
        if meeting is not None:
            self.app.push_screen(MinutesModal(self.database, self.actor, self.org, meeting),
                                 callback=lambda done: done and self.load())


    def action_cancel_meeting(self) -> None:
        meeting = self._highlighted()
        if meeting is not None:
            when = f"{meeting.starts_at.astimezone(self.org.tz):%a %d %b %Y %H:%M}"
            self.app.push_screen(AskText(f"Cancel the meeting of {when} at {meeting.venue}",
                                         "Why? Every member gets an SMS with the reason.",
                                         confirm_label="Cancel meeting"),
                                 callback=lambda reason: reason and self.cancel(meeting.id, reason))

    @work(thread=True, group="meeting-cancel", exit_on_error=False)
    def cancel(self, meeting_id: int, reason: str) -> None:
        with self.database.session() as session:
            meetings.cancel_meeting(session, self.actor, self.org.id, meeting_id, reason=reason)
        self.app.call_from_thread(self.notify, "Meeting cancelled; members will get an SMS.", markup=False)
        self.app.call_from_thread(self.load)


class ScheduleMeetingModal(OrgModal):

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="meeting-form"):
            yield Label("Schedule a meeting (members get an SMS)", classes="form-title")
            yield Label(f"When (YYYY-MM-DD HH:MM, {self.org.timezone})")
            yield Input(id="meeting-when")
            yield Label("Venue")
            yield Input(id="meeting-venue")
            yield Label("Agenda")
            yield Input(id="meeting-agenda")

    def on_mount(self) -> None:
        self.query_one("#meeting-when", Input).focus()

    @on(Input.Submitted)
    def _enter(self, event: Input.Submitted) -> None:
        if event.input.id != "meeting-agenda":
            self.focus_next()
            return
        self.save(self.query_one("#meeting-when", Input).value, self.query_one("#meeting-venue", Input).value,
                  event.value)

    @work(thread=True, exclusive=True, group="schedule-meeting", exit_on_error=False)
    def save(self, when: str, venue: str, agenda: str) -> None:
        try:
            starts_at = datetime.strptime(when.strip(), "%Y-%m-%d %H:%M").replace(tzinfo=self.org.tz)
        except ValueError:
            raise InvalidInput(f"{when!r} is not a date and time; write it like 2026-12-05 14:00.") from None
        with self.database.session() as session:
            meetings.schedule_meeting(session, self.actor, self.org.id, starts_at=starts_at, venue=venue,
                                      agenda=agenda)
        self.app.call_from_thread(self.notify, "Meeting scheduled; members will get an SMS.", markup=False)
        self.app.call_from_thread(self.dismiss, True)


class AttendanceModal(OrgModal):
    """Tick who came; everyone not ticked is marked absent."""

    BINDINGS = [Binding("ctrl+s", "save", "Save")]

    def __init__(self, database: Database, actor: Actor, org: OrgView, meeting: MeetingView,
                 members: list[MemberView]) -> None:
        super().__init__(database, actor, org)
        self.meeting, self.members = meeting, members

    def compose(self) -> ComposeResult:
        came = {a.member_id for a in self.meeting.attendance if a.status in ("present", "late")}
        with Vertical(classes="dialog", id="attendance-form"):
            yield Label(literal(f"Who came on {self.meeting.starts_at.astimezone(self.org.tz):%d %b %Y}? "
                        "(space ticks, ctrl+s saves)"), classes="form-title")
            yield SelectionList[int](*[(literal(f"{m.member_number} {m.name}"), m.id, m.id in came)
                                       for m in self.members],
                                     id="attendance")

    def on_mount(self) -> None:
        self.query_one("#attendance", SelectionList).focus()

    def action_save(self) -> None:
        ticked = set(self.query_one("#attendance", SelectionList).selected)
        self.save({m.id: "present" if m.id in ticked else "absent" for m in self.members})

    @work(thread=True, exclusive=True, group="attendance", exit_on_error=False)
    def save(self, marks: dict[int, str]) -> None:
        with self.database.session() as session:
            meetings.record_attendance(session, self.actor, self.org.id, self.meeting.id, marks)
        present = sum(1 for s in marks.values() if s == "present")
        self.app.call_from_thread(self.notify, f"Attendance saved: {present} present.", markup=False)
        self.app.call_from_thread(self.dismiss, True)


class MinutesModal(OrgModal):
    BINDINGS = [Binding("ctrl+s", "save", "Save")]

    def __init__(self, database: Database, actor: Actor, org: OrgView, meeting: MeetingView) -> None:
        super().__init__(database, actor, org)
        self.meeting = meeting

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide", id="minutes-form"):
            yield Label("Minutes (ctrl+s saves)", classes="form-title")
            yield TextArea(self.meeting.minutes, id="minutes")

    def on_mount(self) -> None:
        self.query_one("#minutes", TextArea).focus()

    def action_save(self) -> None:
        self.save(self.query_one("#minutes", TextArea).text)

    @work(thread=True, exclusive=True, group="minutes", exit_on_error=False)
    def save(self, text: str) -> None:
        with self.database.session() as session:
            meetings.record_minutes(session, self.actor, self.org.id, self.meeting.id, text)
        self.app.call_from_thread(self.notify, "Minutes saved.", markup=False)
        self.app.call_from_thread(self.dismiss, True)

