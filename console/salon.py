"""The salon's console: the day at a glance, booking from a free slot, the leads
pipeline, the conversations inbox and the figures.

Home (under the shared clients and messages panes): today's agenda per
professional, the next free slots, tasks due today and new leads. To book,
pick the client in the Clients table, press ``f`` to go to the free slots,
choose one and press Enter. To move an appointment, highlight it in the agenda,
press ``e`` and choose the new slot the same way; ``x`` cancels it with a
reason. ``l`` opens the leads, ``i`` the conversations, ``y`` the figures,
``h`` the highlighted client's history. Every read and write runs in a thread
worker that calls one core service and posts a message back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Input, Label, Sparkline, Static

from console.base import AskText, ConsoleScreen
from console.widgets.table import LiteralTable
from console.widgets.text import literal, short
from console.home import SalonHome, register_home, shown_phone
from core.actors import Actor
from core.money import format_money
from core.orgs import OrgView
from db.engine import Database

if TYPE_CHECKING:
    from core.salon.analytics import SalonAnalytics
    from core.salon.bookings import AppointmentView
    from core.salon.conversations import ThreadMessage, ThreadView
    from core.salon.dashboard import FreeSlot, SalonDay
    from core.salon.leads import LeadView, TaskView

# The salon's core modules are imported where they are used (mostly in workers): the first org
# opened must not wait on the main thread for the whole booking engine to load.

LEADS_PAGE = 100


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.0%}"


# ---------------------------------------------------------------- messages from workers

class SalonDayLoaded(Message):
    def __init__(self, day: SalonDay) -> None:
        super().__init__()
        self.day = day


class SalonChanged(Message):
    """A write went through; ``text`` is what to tell the person."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


@dataclass(frozen=True)
class _Rows:
    key: str
    rows: list[Any]
    more: bool = False


class RowsLoaded(Message):
    def __init__(self, rows: _Rows) -> None:
        super().__init__()
        self.rows = rows


# ---------------------------------------------------------------- home

@register_home
class SalonHomeScreen(SalonHome):
    """The salon's day: agenda, free slots, tasks and new leads beside the clients."""

    DESCRIPTION = ("Pick a client, press f, choose a free slot, Enter: booked. "
                   "e moves, x cancels, l leads, i conversations, y figures, h history.")
    CSS_PATH = "salon.tcss"

    BINDINGS = [
        Binding("f", "focus_slots", "Free slots", id="free-slots",
                tooltip="Go to the free slots; Enter books the client picked in the Clients table."),
        Binding("e", "move", "Move", id="move-appointment",
                tooltip="Move the appointment highlighted in the agenda: then choose its new slot."),
        Binding("x", "cancel_appointment", "Cancel appt", id="cancel-appointment",
                tooltip="Cancel the appointment highlighted in the agenda, with a reason."),
        Binding("v", "next_service", "Service", id="next-service",
                tooltip="Show the free slots of the next service."),
        Binding("t", "task_done", "Task done", id="task-done", tooltip="Mark the highlighted task done."),
        Binding("l", "leads", "Leads", id="leads", tooltip="The leads pipeline with scores and tasks."),
        Binding("i", "inbox", "Inbox", id="inbox", tooltip="Conversations with clients and leads."),
        Binding("y", "analytics", "Figures", id="analytics", tooltip="Bookings, revenue, retention, leads."),
        Binding("h", "history", "History", id="client-history",
                tooltip="The highlighted client's appointments and notes."),
    ]

    def __init__(self, database: Database, signed_in, membership) -> None:
        super().__init__(database, signed_in, membership)
        self.day: SalonDay | None = None
        self.client_id: int | None = None
        self.moving: int | None = None
        self.service_id: int | None = None

    def compose_panels(self) -> ComposeResult:
        with Horizontal(id="salon-panels"):
            with Vertical(classes="pane salon-pane"):
                yield Label("Today", id="agenda-title", classes="pane-title")
                yield LiteralTable(id="agenda", cursor_type="row", zebra_stripes=True)
            with Vertical(classes="pane salon-pane"):
                yield Label("Next free slots", id="slots-title", classes="pane-title")
                yield LiteralTable(id="slots", cursor_type="row", zebra_stripes=True)
            with Vertical(classes="pane salon-pane"):
                yield Label("Tasks due today", id="tasks-title", classes="pane-title")
                yield LiteralTable(id="tasks", cursor_type="row", zebra_stripes=True)
            with Vertical(classes="pane salon-pane"):
                yield Label("New leads", id="leads-title", classes="pane-title")
                yield LiteralTable(id="new-leads", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        for table_id, columns in (("#agenda", ("Time", "With", "Client", "Service", "Status")),
                                  ("#slots", ("When", "With", "Service")),
                                  ("#tasks", ("Due", "P", "Task")),
                                  ("#new-leads", ("Lead", "Score", "Source"))):
            table = self.query_one(table_id, DataTable)
            for column in columns:
                table.add_column(column)
        # HomeScreen.on_mount runs after this one (Textual calls each class's handler) and refreshes.

    def action_refresh(self) -> None:
        super().action_refresh()
        self.load_day(self.service_id)

    @work(thread=True, exclusive=True, group="salon-day", exit_on_error=False)
    def load_day(self, service_id: int | None) -> None:
        from core.salon.dashboard import salon_day

        with self.database.session() as session:
            day = salon_day(session, self.actor, self.org.id, service_id=service_id)
        self.post_from_worker(SalonDayLoaded(day))

    def on_salon_day_loaded(self, message: SalonDayLoaded) -> None:
        day = self.day = message.day
        if day.org_id != self.org.id:
            return
        self.service_id = day.service_id
        tz = self.org.tz
        self._fill("#agenda", [(str(a.id), (f"{a.starts_at.astimezone(tz):%H:%M}", a.professional_name,
                                             a.client_name or "", a.service_name, a.status)) for a in day.agenda])
        self._fill("#slots", [(f"{s.professional_id}:{s.start.isoformat()}",
                               (f"{s.start.astimezone(tz):%a %d %b %H:%M}", s.professional_name, s.service_name))
                              for s in day.slots])
        self._fill("#tasks", [(str(t.id), (f"{t.due_at.astimezone(tz):%H:%M}", str(t.priority), short(t.title)))
                              for t in day.tasks])
        self._fill("#new-leads", [(str(lead.id), (lead.label, f"{lead.score} {lead.temperature}", lead.source))
                                  for lead in day.new_leads])
        self.query_one("#agenda-title", Label).update(f"Today — {len(day.agenda)} appointments")
        service = next((s.name for s in day.services if s.id == day.service_id), "no services yet")
        self.query_one("#slots-title", Label).update(literal(f"Next free slots — {service} (v: next service)"))

    def _fill(self, selector: str, rows: list[tuple[str, tuple[str, ...]]]) -> None:
        table = self.query_one(selector, DataTable)
        cursor = table.cursor_row
        table.clear()
        for key, cells in rows:
            table.add_row(*cells, key=key)
        if table.row_count:
            table.move_cursor(row=min(max(cursor, 0), table.row_count - 1))

    @staticmethod
    def _highlighted(table: DataTable) -> str | None:
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value

    @on(DataTable.RowHighlighted, "#contacts")
    def _client_picked(self, event: DataTable.RowHighlighted) -> None:
        self.client_id = int(event.row_key.value) if event.row_key.value else None

    def action_focus_slots(self) -> None:
        self.query_one("#slots", DataTable).focus()

    def action_next_service(self) -> None:
        if self.day and self.day.services:
            ids = [s.id for s in self.day.services]
            self.service_id = ids[(ids.index(self.service_id) + 1) % len(ids)] if self.service_id in ids else ids[0]
            self.load_day(self.service_id)

    @on(DataTable.RowSelected, "#slots")
    def _slot_chosen(self, event: DataTable.RowSelected) -> None:
        slot = next((s for s in (self.day.slots if self.day else [])
                     if f"{s.professional_id}:{s.start.isoformat()}" == event.row_key.value), None)
        if slot is None:
            return
        if self.moving is not None:
            self.move_to(self.moving, slot)
            self.moving = None
        elif self.client_id is None:
            self.app.notify("Pick the client in the Clients table first.", severity="warning")
        else:
            self.book_slot(self.client_id, slot)

    @work(thread=True, group="salon-write", exit_on_error=False)
    def book_slot(self, contact_id: int, slot: FreeSlot) -> None:
        from core.salon.bookings import book

        with self.database.session() as session:
            done = book(session, self.actor, self.org.id, professional_id=slot.professional_id,
                        service_id=slot.service_id, contact_id=contact_id, start=slot.start)
        self.post_from_worker(SalonChanged(f"Booked {done.client_name} with {done.professional_name}, "
                                           f"{done.starts_at.astimezone(self.org.tz):%a %d %b %H:%M}."))

    @work(thread=True, group="salon-write", exit_on_error=False)
    def move_to(self, appointment_id: int, slot: FreeSlot) -> None:
        from core.salon.bookings import reschedule

        with self.database.session() as session:
            done = reschedule(session, self.actor, self.org.id, appointment_id, start=slot.start,
                              professional_id=slot.professional_id)
        self.post_from_worker(SalonChanged(f"Moved {done.client_name} to "
                                           f"{done.starts_at.astimezone(self.org.tz):%a %d %b %H:%M}."))

    def action_move(self) -> None:
        chosen = self._highlighted(self.query_one("#agenda", DataTable))
        if chosen is None:
            self.app.notify("Highlight an appointment in the agenda first.", severity="warning")
            return
        self.moving = int(chosen)
        self.app.notify("Choose the new slot and press Enter.")
        self.action_focus_slots()

    def action_cancel_appointment(self) -> None:
        chosen = self._highlighted(self.query_one("#agenda", DataTable))
        if chosen is None:
            self.app.notify("Highlight an appointment in the agenda first.", severity="warning")
            return

        def with_reason(reason: str | None) -> None:
            if reason:
                self.cancel_with(int(chosen), reason)

        self.app.push_screen(AskText(self.database, "Why is it cancelled?"), callback=with_reason)

    @work(thread=True, group="salon-write", exit_on_error=False)
    def cancel_with(self, appointment_id: int, reason: str) -> None:
        from core.salon.bookings import cancel

        with self.database.session() as session:
            done = cancel(session, self.actor, self.org.id, appointment_id, reason=reason)
        self.post_from_worker(SalonChanged(f"Cancelled {done.client_name}'s {done.service_name}."))

    def action_task_done(self) -> None:
        chosen = self._highlighted(self.query_one("#tasks", DataTable))
        if chosen is not None:
            self.finish_task(int(chosen))

    @work(thread=True, group="salon-write", exit_on_error=False)
    def finish_task(self, task_id: int) -> None:
        from core.salon.leads import complete_task

        with self.database.session() as session:
            done = complete_task(session, self.actor, self.org.id, task_id)
        self.post_from_worker(SalonChanged(f"Done: {done.title}."))

    def on_salon_changed(self, message: SalonChanged) -> None:
        self.app.notify(message.text, markup=False)
        self.action_refresh()

    def action_leads(self) -> None:
        self.app.push_screen(LeadsScreen(self.database, self.actor, self.org))

    def action_inbox(self) -> None:
        self.app.push_screen(InboxScreen(self.database, self.actor, self.org))

    def action_analytics(self) -> None:
        self.app.push_screen(AnalyticsScreen(self.database, self.actor, self.org))

    def action_history(self) -> None:
        if self.client_id is not None:
            self.app.push_screen(ClientHistoryScreen(self.database, self.actor, self.org, self.client_id))


# ---------------------------------------------------------------- the screens behind home

class SalonScreen(ConsoleScreen):
    """A salon screen over home: escape goes back."""

    CSS_PATH = "salon.tcss"
    BINDINGS = [Binding("escape", "back", "Back", id="back")]

    def __init__(self, database: Database, actor: Actor, org: OrgView) -> None:
        super().__init__(database)
        self.actor = actor
        self.org = org

    def action_back(self) -> None:
        self.app.pop_screen()

    def org_data_changed(self) -> None:
        self.action_refresh()

    def action_refresh(self) -> None:
        """Read the screen's data again (each screen says how)."""

    def on_salon_changed(self, message: SalonChanged) -> None:
        self.app.notify(message.text, markup=False)
        self.action_refresh()


class LeadsScreen(SalonScreen):
    """The pipeline: every lead with score, status and next task; call, advance, lose, convert."""

    BINDINGS = [
        Binding("c", "called", "Called", id="lead-called", tooltip="Log a call to the highlighted lead."),
        Binding("n", "advance", "Next stage", id="lead-advance", tooltip="new → contacted → qualified."),
        Binding("x", "lost", "Lost", id="lead-lost", tooltip="Mark the lead lost, with a reason."),
        Binding("k", "convert", "Convert", id="lead-convert", tooltip="Make the lead a client."),
        Binding("m", "more", "More", id="more-leads", tooltip="Read the next page of leads."),
    ]

    def compose_body(self) -> ComposeResult:
        yield Label("Leads", id="leads-screen-title", classes="pane-title")
        yield LiteralTable(id="leads", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.title, self.sub_title = self.org.name, "Leads"
        self.leads: dict[str, LeadView] = {}
        self.tasks: dict[int, TaskView] = {}
        table = self.query_one("#leads", DataTable)
        for column in ("Lead", "Phone", "Score", "Status", "Source", "Wants", "Next task"):
            table.add_column(column)
        table.focus()
        self.action_refresh()

    def action_refresh(self) -> None:
        self.load_leads(None, max(LEADS_PAGE, len(self.leads)))

    def action_more(self) -> None:
        if self.leads:
            self.load_leads(min(int(k) for k in self.leads), LEADS_PAGE)

    @work(thread=True, exclusive=True, group="leads", exit_on_error=False)
    def load_leads(self, before_id: int | None, limit: int) -> None:
        from core.salon.leads import list_leads, list_tasks

        with self.database.session() as session:
            leads = list_leads(session, self.actor, self.org.id, before_id=before_id, limit=limit)
            tasks = list_tasks(session, self.actor, self.org.id, limit=1000)
        self.post_from_worker(RowsLoaded(_Rows("leads" if before_id is None else "more-leads",
                                               [leads, tasks], len(leads) == limit)))

    def on_rows_loaded(self, message: RowsLoaded) -> None:
        leads, tasks = message.rows.rows
        table = self.query_one("#leads", DataTable)
        if message.rows.key == "leads":
            table.clear()
            self.leads = {}
        self.tasks = {}
        for task in tasks:
            if task.lead_id is not None:
                self.tasks.setdefault(task.lead_id, task)
        for lead in leads:
            task = self.tasks.get(lead.id)
            due = f"{task.due_at.astimezone(self.org.tz):%a %d %b %H:%M} (P{task.priority})" if task else ""
            cells = (lead.label, shown_phone(lead.phone), f"{lead.score} {lead.temperature}",
                     lead.status if lead.status != "lost" else f"lost: {lead.lost_reason}", lead.source,
                     lead.service_wanted, due)
            if str(lead.id) not in self.leads:
                table.add_row(*cells, key=str(lead.id))
            self.leads[str(lead.id)] = lead
        self.query_one("#leads-screen-title", Label).update(
            f"Leads — {len(self.leads)}" + (" (m for more)" if message.rows.more else ""))

    def _lead(self) -> LeadView | None:
        table = self.query_one("#leads", DataTable)
        if not table.row_count:
            return None
        return self.leads.get(table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value)

    def action_called(self) -> None:
        from core.salon.leads import log_call

        if (lead := self._lead()) is not None:
            self.write(lambda s: log_call(s, self.actor, self.org.id, lead.id), f"Call to {lead.label} logged.")

    def action_advance(self) -> None:
        from core.salon.leads import PIPELINE, set_lead_status

        lead = self._lead()
        if lead is None or lead.status not in PIPELINE[:-1]:
            self.app.notify("Only new and contacted leads move on; k converts a qualified one.", severity="warning")
            return
        status = PIPELINE[PIPELINE.index(lead.status) + 1]
        self.write(lambda s: set_lead_status(s, self.actor, self.org.id, lead.id, status),
                   f"{lead.label} is {status}.")

    def action_lost(self) -> None:
        from core.salon.leads import set_lead_status

        if (lead := self._lead()) is None:
            return

        def with_reason(reason: str | None) -> None:
            if reason:
                self.write(lambda s: set_lead_status(s, self.actor, self.org.id, lead.id, "lost", reason=reason),
                           f"{lead.label} is lost: {reason}.")

        self.app.push_screen(AskText(self.database, f"Why is {lead.label} lost?"), callback=with_reason)

    def action_convert(self) -> None:
        from core.salon.leads import convert_lead

        if (lead := self._lead()) is not None:
            self.write(lambda s: convert_lead(s, self.actor, self.org.id, lead.id),
                       f"{lead.label} is a client now; book them from home.")

    @work(thread=True, group="salon-write", exit_on_error=False)
    def write(self, change, done: str) -> None:
        with self.database.session() as session:
            change(session)
        self.post_from_worker(SalonChanged(done))


class InboxScreen(SalonScreen):
    """Conversations: the threads, the highlighted one's messages with delivery status, and a reply box."""

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="inbox"):
            with Vertical(classes="pane"):
                yield Label("Conversations", classes="pane-title")
                yield LiteralTable(id="threads", cursor_type="row", zebra_stripes=True)
            with Vertical(classes="pane"):
                yield Label("", id="thread-title", classes="pane-title")
                yield LiteralTable(id="thread", cursor_type="row", zebra_stripes=True)
                yield Input(id="reply", placeholder="Reply (Enter sends an SMS)")

    def on_mount(self) -> None:
        self.title, self.sub_title = self.org.name, "Conversations"
        self.phone: str | None = None
        for table_id, columns in (("#threads", ("Who", "Last", "When")), ("#thread", ("", "Message", "Status", "When"))):
            table = self.query_one(table_id, DataTable)
            for column in columns:
                table.add_column(column)
        self.query_one("#threads", DataTable).focus()
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
        self.post_from_worker(RowsLoaded(_Rows(phone or "", [threads, messages])))

    def on_rows_loaded(self, message: RowsLoaded) -> None:
        threads: list[ThreadView] = message.rows.rows[0]
        messages: list[ThreadMessage] = message.rows.rows[1]
        tz = self.org.tz
        table = self.query_one("#threads", DataTable)
        table.clear()
        for t in threads:
            table.add_row(t.name if t.name != t.phone else shown_phone(t.phone),
                          ("↗ " if t.last_direction == "out" else "") + short(t.last_body, 30),
                          f"{t.last_at.astimezone(tz):%d %b %H:%M}", key=t.phone)
        self.phone = message.rows.key or None
        if self.phone and self.phone in table.rows:
            table.move_cursor(row=table.get_row_index(self.phone))
        shown = self.query_one("#thread", DataTable)
        shown.clear()
        for m in reversed(messages):
            shown.add_row("→" if m.direction == "out" else "←", short(m.body, 60), m.status or "",
                          f"{m.at.astimezone(tz):%d %b %H:%M}", key=str(m.id))
        self.query_one("#thread-title", Label).update(literal(shown_phone(self.phone) if self.phone else "No messages yet"))

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


class AnalyticsScreen(SalonScreen):
    """The figures for the last 12 weeks."""

    def compose_body(self) -> ComposeResult:
        with Vertical(id="analytics"):
            yield Label("Bookings per week", classes="pane-title")
            yield Sparkline([], id="bookings-chart")
            yield Label("Revenue per week", classes="pane-title")
            yield Sparkline([], id="revenue-chart")
            yield Static("", id="figures", markup=False)

    def on_mount(self) -> None:
        self.title, self.sub_title = self.org.name, "Figures"
        self.action_refresh()

    def action_refresh(self) -> None:
        self.load_figures()

    @work(thread=True, exclusive=True, group="figures", exit_on_error=False)
    def load_figures(self) -> None:
        from core.salon.analytics import salon_analytics

        with self.database.session() as session:
            figures = salon_analytics(session, self.actor, self.org.id)
        self.post_from_worker(RowsLoaded(_Rows("figures", [figures])))

    def on_rows_loaded(self, message: RowsLoaded) -> None:
        figures: SalonAnalytics = message.rows.rows[0]
        self.query_one("#bookings-chart", Sparkline).data = [w.bookings for w in figures.weeks]
        self.query_one("#revenue-chart", Sparkline).data = [w.revenue_minor for w in figures.weeks]
        last = figures.weeks[-1]
        lines = [
            f"This week: {last.bookings} bookings, {format_money(last.revenue_minor, figures.currency)}; "
            f"12 weeks: {sum(w.bookings for w in figures.weeks)} bookings, "
            f"{format_money(sum(w.revenue_minor for w in figures.weeks), figures.currency)}",
            "Services: " + (", ".join(f"{name} {n}" for name, n in figures.services[:6]) or "none booked yet"),
            f"No-show rate: {_percent(figures.no_show_rate)}",
            f"Clients back within 90 days: {_percent(figures.retention_rate)} "
            f"({figures.retained_clients} of {figures.eligible_clients})",
            f"Lead conversion: {_percent(figures.lead_conversion_rate)}",
        ]
        for source in figures.lead_sources:
            wait = source.median_first_response_minutes
            lines.append(f"  {source.source}: {source.leads} leads, {_percent(source.conversion_rate)} converted, "
                         f"median first response {'—' if wait is None else f'{wait:.0f} min'}")
        self.query_one("#figures", Static).update(literal("\n".join(lines), lines=True))


class ClientHistoryScreen(SalonScreen):
    """One client's appointments, newest first, and the notes on their contact."""

    def __init__(self, database: Database, actor: Actor, org: OrgView, contact_id: int) -> None:
        super().__init__(database, actor, org)
        self.contact_id = contact_id

    def compose_body(self) -> ComposeResult:
        yield Static("", id="client-notes", markup=False)
        yield LiteralTable(id="history", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.title, self.sub_title = self.org.name, "Client history"
        table = self.query_one("#history", DataTable)
        for column in ("When", "Service", "With", "Price", "Status", "Notes"):
            table.add_column(column)
        table.focus()
        self.action_refresh()

    def action_refresh(self) -> None:
        self.load_history()

    @work(thread=True, exclusive=True, group="history", exit_on_error=False)
    def load_history(self) -> None:
        from core.contacts import get_contact
        from core.salon.bookings import client_appointments
        from core.salon.clients import get_client

        with self.database.session() as session:
            contact = get_contact(session, self.actor, self.org.id, self.contact_id)
            record = get_client(session, self.actor, self.org.id, self.contact_id)
            history = client_appointments(session, self.actor, self.org.id, self.contact_id)
        self.post_from_worker(RowsLoaded(_Rows("history", [contact, record, history])))

    def on_rows_loaded(self, message: RowsLoaded) -> None:
        contact, record, history = message.rows.rows
        visits = (f"{record.visit_count} visits since {record.first_visit_at.astimezone(self.org.tz):%d %b %Y}, "
                  f"{record.lifetime_spend} in all" if record else "No completed visit yet")
        self.query_one("#client-notes", Static).update(literal(
            f"{contact.name} · {shown_phone(contact.phone)} · {visits}\nNotes: {contact.notes or '—'}", lines=True))
        table = self.query_one("#history", DataTable)
        table.clear()
        appointment: AppointmentView
        for appointment in history:
            table.add_row(f"{appointment.starts_at.astimezone(self.org.tz):%a %d %b %Y %H:%M}",
                          appointment.service_name, appointment.professional_name, appointment.price,
                          appointment.status, short(appointment.cancel_reason or appointment.notes, 30),
                          key=str(appointment.id))
