"""One client's appointments, newest first, and the notes on their contact."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.widgets import Static

from console.salon.common import Rows, RowsLoaded, SalonScreen
from console.widgets.table import Cell, OfisiTable, Row
from console.widgets.text import literal, short
from core.actors import Actor
from core.orgs import OrgView
from db.engine import Database


class ClientHistoryScreen(SalonScreen):
    """One client's appointments, newest first, and the notes on their contact."""

    def __init__(self, database: Database, actor: Actor, org: OrgView, contact_id: int) -> None:
        super().__init__(database, actor, org)
        self.contact_id = contact_id

    def compose_body(self) -> ComposeResult:
        yield Static("", id="client-notes")
        yield OfisiTable(("When", "Service", "With", "Price", "Status", "Notes"), noun="appointments",
                         empty="No appointments yet: book one from home (f).", id="history")

    def on_mount(self) -> None:
        self.title, self.sub_title = self.org.name, "Client history"
        self.query_one("#history", OfisiTable).focus()
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
        self.post_from_worker(RowsLoaded(Rows("history", [contact, record, history])))

    def on_rows_loaded(self, message: RowsLoaded) -> None:
        contact, record, history = message.rows.rows
        p = self.present
        visits = (f"{record.visit_count} visits since {p.date(record.first_visit_at)}, "
                  f"{record.lifetime_spend} in all" if record else "No completed visit yet")
        self.query_one("#client-notes", Static).update(literal(
            f"{p.person(contact.name, contact.phone)} · {visits}\nNotes: {contact.notes or '—'}", lines=True))
        self.query_one("#history", OfisiTable).reload(
            Row(appointment.id, (Cell(p.time(appointment.starts_at, "%a %d %b %Y %H:%M"), appointment.starts_at),
                                 appointment.service_name, appointment.professional_name, appointment.price,
                                 appointment.status, short(appointment.cancel_reason or appointment.notes, 30)),
                data=appointment)
            for appointment in history)  # AppointmentView
