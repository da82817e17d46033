"""One client: their record (visits, spend, last visit, no-shows, what is owed) and notes, their
appointments newest first, and their timeline: the SMS thread both ways, everything that happened
to their appointments (booked, moved, checked in, completed, paid, no-show) and what happened with
them as a lead (``core.salon.timeline``). ``n`` changes the notes on their contact."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Label, Static

from console.salon.common import Rows, RowsLoaded, SalonChanged, SalonScreen
from console.widgets.dialog import AskText
from console.widgets.table import Cell, OfisiTable, Row
from console.widgets.text import literal, short
from core.actors import Actor
from core.orgs import OrgView
from db.engine import Database

CLEAR = "-"


class ClientHistoryScreen(SalonScreen):
    """One client's record, appointments and timeline; ``n`` edits the notes."""

    BINDINGS = [
        *SalonScreen.BINDINGS,
        Binding("n", "notes", "Notes", id="client-notes-edit", tooltip="Change the notes on this client."),
    ]

    def __init__(self, database: Database, actor: Actor, org: OrgView, contact_id: int) -> None:
        super().__init__(database, actor, org)
        self.contact_id = contact_id
        self.contact = None

    def compose_body(self) -> ComposeResult:
        yield Static("", id="client-notes")
        yield OfisiTable(("When", "Service", "With", "Price", "Status", "Notes"), noun="appointments",
                         empty="No appointments yet: book one from home (f).", id="history")
        yield Label("Timeline", classes="pane-title")
        yield OfisiTable(("When", "What", "", "By"), noun="events", empty="Nothing has happened yet.",
                         id="timeline")

    def on_mount(self) -> None:
        self.title, self.sub_title = self.org.name, "Client history (n notes)"
        self.query_one("#history", OfisiTable).focus()
        self.action_refresh()

    def action_refresh(self) -> None:
        self.load_history()

    @work(thread=True, exclusive=True, group="history", exit_on_error=False)
    def load_history(self) -> None:
        from core.contacts import get_contact
        from core.salon.bookings import client_appointments
        from core.salon.clients import get_client
        from core.salon.timeline import person_timeline

        with self.database.session() as session:
            contact = get_contact(session, self.actor, self.org.id, self.contact_id)
            record = get_client(session, self.actor, self.org.id, self.contact_id)
            history = client_appointments(session, self.actor, self.org.id, self.contact_id)
            timeline = person_timeline(session, self.actor, self.org.id, contact.phone)
        self.post_from_worker(RowsLoaded(Rows("history", [contact, record, history, timeline])))

    def on_rows_loaded(self, message: RowsLoaded) -> None:
        contact, record, history, timeline = message.rows.rows
        self.contact = contact
        p = self.present
        if record is None or (record.visit_count == 0 and record.no_shows == 0):
            visits = "No completed visit yet"
        else:
            visits = f"{record.visit_count} visits, {record.lifetime_spend} in all"
            if record.last_visit_at is not None:
                visits += f", last {p.date(record.last_visit_at, '%d %b %Y')}"
            if record.no_shows:
                visits += f"; {record.no_shows} no-shows"
            if record.owed_minor:
                visits += f"; owes {p.money(record.owed_minor)}"
        self.query_one("#client-notes", Static).update(literal(
            f"{p.person(contact.name, contact.phone)} · {visits}\nNotes: {contact.notes or '—'}", lines=True))
        self.query_one("#history", OfisiTable).reload(
            Row(appointment.id, (Cell(p.time(appointment.starts_at, "%a %d %b %Y %H:%M"), appointment.starts_at),
                                 appointment.service_name, appointment.professional_name, appointment.price,
                                 appointment.status, short(appointment.cancel_reason or appointment.notes, 30)),
                data=appointment)
            for appointment in history)  # AppointmentView
        self.query_one("#timeline", OfisiTable).reload(
            Row(i, (Cell(p.time(e.at, "%d %b %Y %H:%M"), e.at), f"{e.kind} {e.what}", short(e.text, 40),
                    e.actor or ""), data=e)
            for i, e in enumerate(timeline))  # TimelineEntry

    def action_notes(self) -> None:
        if self.contact is None:
            return
        self.app.push_screen(AskText(f"Notes on {self.present.person(self.contact.name, self.contact.phone)}",
                                     question=f"Write {CLEAR} alone to clear them.", value=self.contact.notes or "",
                                     placeholder="Allergies, preferences, what to ask next time"),
                             callback=lambda text: text and self.save_notes("" if text == CLEAR else text))

    @work(thread=True, group="salon-write", exit_on_error=False)
    def save_notes(self, notes: str) -> None:
        from core.contacts import update_contact

        with self.database.session() as session:
            done = update_contact(session, self.actor, self.org.id, self.contact_id, notes=notes)
        self.post_from_worker(SalonChanged(f"Notes on {done.name} saved.", done.id))
