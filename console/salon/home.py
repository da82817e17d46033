"""The salon's home: under the shared panes, today's agenda (by time), the next
free slots, tasks due today and new leads.

Pick the client in the Clients list, ``f`` goes to the free slots, Enter books.
``e`` moves the appointment under the agenda's cursor (then choose its slot),
``x`` cancels it with a reason; the dialog names the client, the service and
the time. On the agenda, ``i`` checks the client in, ``d`` completes the visit
with the amount taken and ``m`` marks a no-show (see ``closing``). Every list keeps its cursor on the same record when it is read again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Label

from console.base import AskText
from console.home import SalonHome, register_home
from console.salon.analytics import AnalyticsScreen
from console.salon.calendar import CalendarScreen
from console.salon.closing import AppointmentTable
from console.salon.common import SalonChanged, SalonPresenter, next_after
from console.salon.history import ClientHistoryScreen
from console.salon.inbox import InboxScreen
from console.salon.leads import LeadsScreen
from console.salon.setup import ServicesScreen
from console.salon.takings import TakingsScreen
from console.salon.tasks import FinishesTasks, TasksScreen
from console.widgets.table import Cell, OfisiTable, Row
from console.widgets.text import literal, short
from db.engine import Database

if TYPE_CHECKING:
    from core.salon.bookings import AppointmentView
    from core.salon.dashboard import FreeSlot, SalonDay


class SalonDayLoaded(Message):
    def __init__(self, day: SalonDay) -> None:
        super().__init__()
        self.day = day


@register_home
class SalonHomeScreen(FinishesTasks, SalonHome):
    """The salon's day: agenda, free slots, tasks and new leads beside the clients."""

    DESCRIPTION = ("Pick a client, press f, choose a free slot, Enter: booked. "
                   "On the agenda: i check-in, d done + paid, m no-show. e moves, x cancels, "
                   "c calendar, o setup, l leads, g tasks, i conversations, y figures, k takings, h history.")
    CSS_PATH = "salon.tcss"
    TASKS_TABLE = "#tasks"

    BINDINGS = [
        Binding("f", "focus_slots", "Free slots", id="free-slots",
                tooltip="Go to the free slots; Enter books the client picked in the Clients list."),
        Binding("e", "move", "Move", id="move-appointment",
                tooltip="Move the appointment under the agenda's cursor: then choose its new slot."),
        Binding("x", "cancel_appointment", "Cancel appt", id="cancel-appointment",
                tooltip="Cancel the appointment under the agenda's cursor, with a reason."),
        Binding("v", "next_service", "Service", id="next-service",
                tooltip="Show the free slots of the next service."),
        Binding("t", "task_done", "Task done", id="task-done", tooltip="Mark the task under the cursor done."),
        Binding("c", "calendar", "Calendar", id="calendar",
                tooltip="Any day of all professionals, or a week of one; book in an empty cell, w walk-in."),
        Binding("o", "setup", "Setup", id="salon-setup",
                tooltip="Services, hours, holidays, booking rules, time blocks, forms, staff; 1-7 switch."),
        Binding("l", "leads", "Leads", id="leads", tooltip="The leads pipeline with scores and tasks."),
        Binding("g", "tasks", "All tasks", id="tasks",
                tooltip="Every open task: overdue, today, upcoming; add, give to someone, done."),
        Binding("i", "inbox", "Inbox", id="inbox", tooltip="Conversations with clients and leads."),
        Binding("y", "analytics", "Figures", id="analytics", tooltip="Bookings, revenue, retention, leads."),
        Binding("k", "takings", "Takings", id="takings",
                tooltip="What was taken on a day or a week: by payment method, professional and service."),
        Binding("h", "history", "History", id="client-history",
                tooltip="The highlighted client's appointments and notes."),
    ]

    def __init__(self, database: Database, signed_in, membership) -> None:
        super().__init__(database, signed_in, membership)
        self.present = SalonPresenter.for_org(self.org)
        self.day: SalonDay | None = None
        self.client_id: int | None = None
        self.moving: int | None = None
        self.service_id: int | None = None

    def compose_panels(self) -> ComposeResult:
        with Horizontal(id="salon-panels"):
            with Vertical(classes="pane salon-pane", id="agenda-pane"):
                yield Label("Today", id="agenda-title", classes="pane-title")
                yield AppointmentTable(("Time", "With", "Client", "Service", "Status"), noun="appointments",
                                       empty="Nothing booked today: pick a client, f, Enter.", id="agenda")
            with Vertical(classes="pane salon-pane", id="slots-pane"):
                yield Label("Next free slots", id="slots-title", classes="pane-title")
                yield OfisiTable(("When", "With", "Service"), noun="slots",
                                 empty="No free slot soon: v shows another service.", id="slots")
            with Vertical(classes="pane salon-pane", id="tasks-pane"):
                yield Label("Tasks due today (g: all)", id="tasks-title", classes="pane-title")
                yield OfisiTable(("Due", "P", "Task"), noun="tasks", empty="No task due today.", id="tasks")
            with Vertical(classes="pane salon-pane", id="new-leads-pane"):
                yield Label("New leads", id="leads-title", classes="pane-title")
                yield OfisiTable(("Lead", "Score", "Source"), noun="leads", empty="No new leads.", id="new-leads")

    def action_refresh(self) -> None:
        super().action_refresh()
        self.load_day(self.service_id)

    def on_screen_resume(self) -> None:
        """Back from the calendar, setup or a client's history: read the day again (it may have changed there)."""
        if self.day is not None:
            self.action_refresh()

    @work(thread=True, exclusive=True, group="salon-day", exit_on_error=False)
    def load_day(self, service_id: int | None) -> None:
        from core.salon.dashboard import salon_day

        with self.database.session() as session:
            day = salon_day(session, self.actor, self.org.id, service_id=service_id)
        self.post_from_worker(SalonDayLoaded(day))

    def on_salon_day_loaded(self, message: SalonDayLoaded) -> None:
        day = message.day
        if day.org_id != self.org.id:
            return
        self.day = day
        self.service_id = day.service_id
        p = self.present
        agenda = sorted(day.agenda, key=lambda a: (a.starts_at, a.professional_name, a.id))
        self.query_one("#agenda", OfisiTable).reload(
            Row(a.id, (Cell(p.time(a.starts_at, "%H:%M"), a.starts_at), a.professional_name, a.client_name or "",
                       a.service_name, a.status), data=a) for a in agenda)
        self.query_one("#slots", OfisiTable).reload(
            Row(f"{s.professional_id}:{s.start.isoformat()}",
                (Cell(p.time(s.start, "%a %d %b %H:%M"), s.start), s.professional_name, s.service_name), data=s)
            for s in day.slots)
        self.query_one("#tasks", OfisiTable).reload(
            Row(t.id, (Cell(p.time(t.due_at, "%H:%M"), t.due_at), str(t.priority), short(t.title)), data=t)
            for t in day.tasks)
        self.query_one("#new-leads", OfisiTable).reload(
            Row(lead.id, (lead.label, Cell(f"{lead.score} {lead.temperature}", lead.score), lead.source), data=lead)
            for lead in day.new_leads)
        self.query_one("#agenda-title", Label).update(f"Today — {len(day.agenda)} appointments")
        service = next((s.name for s in day.services if s.id == day.service_id), "no services yet")
        self.query_one("#slots-title", Label).update(literal(f"Next free slots — {service} (v: next service)"))

    @on(DataTable.RowHighlighted, "#contacts")
    def _client_picked(self, event: DataTable.RowHighlighted) -> None:
        self.client_id = int(event.row_key.value) if event.row_key.value else None

    def action_focus_slots(self) -> None:
        self.query_one("#slots", OfisiTable).focus()

    def action_next_service(self) -> None:
        if self.day and self.day.services:
            ids = [s.id for s in self.day.services]
            self.service_id = next_after(ids, self.service_id)
            self.load_day(self.service_id)

    @on(DataTable.RowSelected, "#slots")
    def _slot_chosen(self, event: DataTable.RowSelected) -> None:
        row = self.query_one("#slots", OfisiTable).selected_row
        if row is None or str(row.id) != event.row_key.value:
            return
        slot: FreeSlot = row.data
        if self.moving is not None:
            self.move_to(self.moving, slot)
            self.moving = None
        elif self.client_id is None:
            self.app.notify("Pick the client in the Clients list first.", severity="warning")
        else:
            self.book_slot(self.client_id, slot)

    @work(thread=True, group="salon-write", exit_on_error=False)
    def book_slot(self, contact_id: int, slot: FreeSlot) -> None:
        from core.salon.bookings import book

        with self.database.session() as session:
            done = book(session, self.actor, self.org.id, professional_id=slot.professional_id,
                        service_id=slot.service_id, contact_id=contact_id, start=slot.start)
        self.post_from_worker(SalonChanged(f"Booked {done.client_name} with {done.professional_name}, "
                                           f"{self.present.time(done.starts_at, '%a %d %b %H:%M')}.", done.id))

    @work(thread=True, group="salon-write", exit_on_error=False)
    def move_to(self, appointment_id: int, slot: FreeSlot) -> None:
        from core.salon.bookings import reschedule

        with self.database.session() as session:
            done = reschedule(session, self.actor, self.org.id, appointment_id, start=slot.start,
                              professional_id=slot.professional_id)
        self.post_from_worker(SalonChanged(f"Moved {done.client_name} to "
                                           f"{self.present.time(done.starts_at, '%a %d %b %H:%M')}.", done.id))

    def _appointment(self) -> AppointmentView | None:
        row = self.query_one("#agenda", OfisiTable).selected_row
        if row is None:
            self.app.notify("Highlight an appointment in the agenda first.", severity="warning")
            return None
        return row.data

    def _described(self, a: AppointmentView) -> str:
        return (f"{a.client_name or 'a walk-in'}'s {a.service_name} with {a.professional_name} at "
                f"{self.present.time(a.starts_at, '%a %d %b %H:%M')}")

    def action_move(self) -> None:
        if (appointment := self._appointment()) is None:
            return
        self.moving = appointment.id
        self.app.notify(f"Moving {self._described(appointment)}: choose the new slot and press Enter.")
        self.action_focus_slots()

    def action_cancel_appointment(self) -> None:
        if (appointment := self._appointment()) is None:
            return

        def with_reason(reason: str | None) -> None:
            if reason:
                self.cancel_with(appointment.id, reason)

        self.app.push_screen(AskText(self.database, f"Cancel {self._described(appointment)}? Why?",
                                     placeholder="The reason (the client is told)"), callback=with_reason)

    @work(thread=True, group="salon-write", exit_on_error=False)
    def cancel_with(self, appointment_id: int, reason: str) -> None:
        from core.salon.bookings import cancel

        with self.database.session() as session:
            done = cancel(session, self.actor, self.org.id, appointment_id, reason=reason)
        self.post_from_worker(SalonChanged(f"Cancelled {done.client_name}'s {done.service_name}.", done.id))

    def on_salon_changed(self, message: SalonChanged) -> None:
        self.app.notify(message.text, markup=False)
        self.action_refresh()

    def action_calendar(self) -> None:
        self.app.push_screen(CalendarScreen(self.database, self.actor, self.org))

    def action_setup(self) -> None:
        self.app.push_screen(ServicesScreen(self.database, self.actor, self.org))

    def action_leads(self) -> None:
        self.app.push_screen(LeadsScreen(self.database, self.actor, self.org))

    def action_inbox(self) -> None:
        self.app.push_screen(InboxScreen(self.database, self.actor, self.org))

    def action_analytics(self) -> None:
        self.app.push_screen(AnalyticsScreen(self.database, self.actor, self.org))

    def action_tasks(self) -> None:
        self.app.push_screen(TasksScreen(self.database, self.actor, self.org))

    def action_takings(self) -> None:
        self.app.push_screen(TakingsScreen(self.database, self.actor, self.org))

    def action_history(self) -> None:
        if self.client_id is not None:
            self.app.push_screen(ClientHistoryScreen(self.database, self.actor, self.org, self.client_id))
