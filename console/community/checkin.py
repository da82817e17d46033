"""The door: find a person by name or phone; Enter marks a registered person
attended, and on a waitlisted person asks to admit them (they take a free place,
or the event grows by one), through ``core.community.events.check_in`` / ``admit``."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Label

from console.base import ConsoleScreen
from console.community.common import CSS
from console.widgets.confirm import Confirm
from console.widgets.present import Presenter
from console.widgets.table import OfisiTable, Row
from console.widgets.text import literal
from core.actors import Actor
from core.community import events
from core.community.events import EventView, RegistrationView
from core.orgs import OrgView
from db.engine import Database


class RegistrationsLoaded(Message):
    def __init__(self, rows: list[RegistrationView]) -> None:
        super().__init__()
        self.rows = rows


class CheckedIn(Message):
    def __init__(self, row: RegistrationView, said: str) -> None:
        super().__init__()
        self.row, self.said = row, said


class CheckInScreen(ConsoleScreen):
    """The door: Enter marks the person attended, or admits them from the waitlist after a yes."""

    CSS_PATH = CSS
    BINDINGS = [Binding("escape", "app.pop_screen", "Back", id="checkin-back")]

    def __init__(self, database: Database, actor: Actor, org: OrgView, event: EventView) -> None:
        super().__init__(database)
        self.actor, self.org, self.event = actor, org, event
        self.present = Presenter.for_org(org)

    def compose_body(self) -> ComposeResult:
        with Vertical(id="checkin"):
            yield Label(literal(f"Check-in: {self.event.title}"), classes="pane-title")
            yield Input(placeholder="Name or phone", id="checkin-search")
            yield OfisiTable(("Name", "Phone", "Status"), noun="people", id="checkin-table",
                             empty="Nobody matches: type part of a name or a phone.")

    def on_mount(self) -> None:
        self.title, self.sub_title = self.org.name, "Check-in at the door"
        self.query_one("#checkin-search", Input).focus()
        self.load_rows("")

    @on(Input.Changed, "#checkin-search")
    def _search(self, event: Input.Changed) -> None:
        self.load_rows(event.value)

    @on(Input.Submitted, "#checkin-search")
    def _to_table(self) -> None:
        self.query_one("#checkin-table", OfisiTable).focus()

    @work(thread=True, exclusive=True, group="checkin-rows", exit_on_error=False)
    def load_rows(self, text: str) -> None:
        with self.database.session() as session:
            rows = events.list_registrations(session, self.actor, self.org.id, self.event.id, search=text,
                                             limit=100)
        self.post_from_worker(RegistrationsLoaded(rows))

    def row(self, r: RegistrationView) -> Row:
        return Row(r.id, (r.name, self.present.phone(r.phone or r.email or ""), r.status), data=r)

    def on_registrations_loaded(self, message: RegistrationsLoaded) -> None:
        self.rows = [self.row(r) for r in message.rows]
        self.query_one("#checkin-table", OfisiTable).reload(self.rows)

    @on(OfisiTable.RowSelected, "#checkin-table")
    def _selected(self) -> None:
        row = self.query_one("#checkin-table", OfisiTable).selected_row
        if row is None:
            return
        r: RegistrationView = row.data
        if r.status == "waitlisted":
            self.app.push_screen(
                Confirm(f"Admit {self.present.person(r.name, r.phone)} from the waitlist?",
                        [f"{self.event.title}: {self.event.registered} of {self.event.capacity} places taken; "
                         "if it is full, the event grows by one place."], confirm_label="Admit"),
                callback=lambda yes: yes and self.admit(r.id))
        else:
            self.check_in(r.id)

    @work(thread=True, group="checkin", exit_on_error=False)
    def check_in(self, registration_id: int) -> None:
        with self.database.session() as session:
            row = events.check_in(session, self.actor, self.org.id, registration_id)
        self.post_from_worker(CheckedIn(row, f"{row.name} checked in."))

    @work(thread=True, group="checkin", exit_on_error=False)
    def admit(self, registration_id: int) -> None:
        with self.database.session() as session:
            row, raised = events.admit(session, self.actor, self.org.id, registration_id)
        self.post_from_worker(CheckedIn(row, f"{row.name} admitted from the waitlist"
                                             + (" (one place added)." if raised else ".")))

    def on_checked_in(self, message: CheckedIn) -> None:
        self.rows = [self.row(message.row) if r.id == message.row.id else r for r in self.rows]
        self.query_one("#checkin-table", OfisiTable).reload(self.rows)
        self.app.notify(message.said, markup=False)
