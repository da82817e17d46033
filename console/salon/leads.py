"""The leads pipeline: every lead with its score, status and next task, and under it what has
happened with the lead under the cursor (its activity log: captured, repeat contacts, calls,
messages, edits, stage changes, tasks done).

Each action works on the lead under the cursor and the cursor stays on it
after the list is read again; dialogs name the lead. ``k`` (convert) asks first.
``a`` adds a lead by hand (a call, a walk-in's number), ``e`` corrects what a lead said (it is
scored again), ``b`` converts and books the first appointment in one step (all of it or nothing),
``t`` opens every task (``tasks``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Input, Label, Select, Static

from console.base import AskText
from console.salon.common import EnterConfirms, Rows, RowsLoaded, SalonChanged, SalonScreen
from console.salon.tasks import TasksScreen
from console.widgets.confirm import Confirm
from console.widgets.dialog import Dialog
from console.widgets.table import Cell, OfisiTable, Row
from console.widgets.text import literal

if TYPE_CHECKING:
    from core.salon.leads import LeadView, TaskView

LEADS_PAGE = 100
FIELDS = (("phone", "Phone, like 0712 345 678"), ("name", "Name"), ("email", "Email"),
          ("service_wanted", "Service wanted"), ("preferred_date", "Preferred date, like 2026-12-12"),
          ("message", "What they said"))


def _happened(activity) -> str:
    """An activity's kind as words (a stage change names the stage)."""
    details = activity.details or {}
    if activity.kind == "status_changed":
        return f"{details.get('from', '')} → {details.get('to', '')}"
    if activity.kind == "created":
        return f"came in ({details.get('source', '')}, {details.get('score', '')} {details.get('temperature', '')})"
    return activity.kind.replace("_", " ")


@dataclass(frozen=True)
class FirstBooking:
    professional_id: int
    service_id: int
    start: datetime  # as typed: the salon's wall clock


class ConvertBookDialog(EnterConfirms, Dialog[FirstBooking]):
    """With whom, which service and when the lead's first appointment is."""

    CONFIRM_LABEL = "Convert and book"

    def __init__(self, title: str, professionals: list[tuple[int, str]], services: list[tuple[int, str]],
                 wanted: str) -> None:
        super().__init__(title)
        self.professionals, self.services, self.wanted = professionals, services, wanted

    def compose_body(self) -> ComposeResult:
        chosen = next((sid for sid, name in self.services if name.lower() == self.wanted.strip().lower()),
                      self.services[0][0] if self.services else Select.BLANK)
        yield Select([(name, pid) for pid, name in self.professionals], prompt="With", id="first-pro",
                     value=self.professionals[0][0] if self.professionals else Select.BLANK, compact=True)
        yield Select([(name, sid) for sid, name in self.services], prompt="Service", id="first-service",
                     value=chosen, compact=True)
        yield Input(placeholder="When, like 2026-12-12 10:00", id="first-at", compact=True)

    def on_mount(self) -> None:
        self.query_one("#first-at", Input).focus()

    def answer(self) -> FirstBooking | None:
        pro, service = (self.query_one(f"#first-{k}", Select).value for k in ("pro", "service"))
        text = self.query_one("#first-at", Input).value.strip()
        try:
            start = datetime.fromisoformat(text)
        except ValueError:
            self.app.notify(f"{text!r} is not a time; write it like 2026-12-12 10:00.", severity="warning")
            return None
        if not (isinstance(pro, int) and isinstance(service, int)):
            self.app.notify("Choose the professional and the service.", severity="warning")
            return None
        return FirstBooking(pro, service, start)


@dataclass(frozen=True)
class LeadAnswer:
    fields: dict[str, Any]  # as update_lead and LeadDetails name them; the phone only for a new lead


class LeadDialog(EnterConfirms, Dialog[LeadAnswer]):
    """A new lead (with its phone), or what a lead said, to correct."""

    CONFIRM_LABEL = "Save"

    def __init__(self, title: str, lead: LeadView | None = None) -> None:
        super().__init__(title)
        self.lead = lead

    def compose_body(self) -> ComposeResult:
        for key, hint in FIELDS:
            if key == "phone" and self.lead is not None:
                continue
            value = getattr(self.lead, key, None) if self.lead is not None else None
            yield Input("" if value is None else str(value), placeholder=hint, id=f"lead-{key}", compact=True)

    def on_mount(self) -> None:
        self.query(Input).first().focus()

    def answer(self) -> LeadAnswer | None:
        fields: dict[str, Any] = {}
        for key, _ in FIELDS:
            if key == "phone" and self.lead is not None:
                continue
            text = self.query_one(f"#lead-{key}", Input).value.strip()
            if key == "preferred_date" and text:
                try:
                    fields[key] = date.fromisoformat(text)
                except ValueError:
                    self.app.notify(f"{text!r} is not a date; write it like 2026-12-12.", severity="warning")
                    return None
            elif key != "preferred_date":
                fields[key] = text
        if self.lead is None and not fields["phone"]:
            self.app.notify("A lead needs a phone number.", severity="warning")
            return None
        if self.lead is not None:
            fields = {k: v for k, v in fields.items() if v != (getattr(self.lead, k) or "")}
        return LeadAnswer(fields)


class LeadsScreen(SalonScreen):
    """The pipeline: call, advance, lose or convert the lead under the cursor."""

    BINDINGS = [
        Binding("c", "called", "Called", id="lead-called", tooltip="Log a call to the lead under the cursor."),
        Binding("n", "advance", "Next stage", id="lead-advance", tooltip="new → contacted → qualified."),
        Binding("x", "lost", "Lost", id="lead-lost", tooltip="Mark the lead lost, with a reason."),
        Binding("k", "convert", "Convert", id="lead-convert", tooltip="Make the lead a client (asks first)."),
        Binding("m", "more", "More", id="more-leads", tooltip="Read the next page of leads."),
        Binding("a", "add", "Add", id="lead-add", tooltip="A lead taken by hand: a call, a walk-in's number."),
        Binding("e", "edit", "Edit", id="lead-edit", tooltip="Correct what the lead said; it is scored again."),
        Binding("t", "tasks", "Tasks", id="all-tasks", tooltip="Every task: overdue, today, upcoming, and for whom."),
        Binding("b", "convert_and_book", "Convert + book", id="lead-convert-book",
                tooltip="Make the lead a client and book the first appointment in one step."),
    ]

    def compose_body(self) -> ComposeResult:
        yield Label("Leads", id="leads-screen-title", classes="pane-title")
        yield OfisiTable(("Lead", "Phone", "Score", "Status", "Source", "Wants", "Next task"), noun="leads",
                         empty="No leads yet: they arrive from the web form, SMS and calls; a adds one.", id="leads")
        yield Static("", id="lead-activity")

    def on_mount(self) -> None:
        self.title, self.sub_title = self.org.name, "Leads"
        self.more = False
        self.query_one("#leads", OfisiTable).focus()
        self.action_refresh()

    @property
    def table(self) -> OfisiTable:
        return self.query_one("#leads", OfisiTable)

    def action_refresh(self) -> None:
        self.load_leads(None, max(LEADS_PAGE, len(self.table.records)))

    def action_more(self) -> None:
        if self.more and self.table.records:
            self.load_leads(min(int(r.id) for r in self.table.records), LEADS_PAGE)

    @on(OfisiTable.NearEnd, "#leads")
    def _near_the_end(self) -> None:
        self.action_more()

    @work(thread=True, exclusive=True, group="leads", exit_on_error=False)
    def load_leads(self, before_id: int | None, limit: int) -> None:
        from core.salon.leads import list_leads, list_tasks

        with self.database.session() as session:
            leads = list_leads(session, self.actor, self.org.id, before_id=before_id, limit=limit)
            tasks = list_tasks(session, self.actor, self.org.id, limit=1000)
        self.post_from_worker(RowsLoaded(Rows("leads" if before_id is None else "more-leads",
                                              [leads, tasks], len(leads) == limit)))

    def _row(self, lead: LeadView, task: TaskView | None) -> Row:
        due = f"{self.present.time(task.due_at, '%a %d %b %H:%M')} (P{task.priority})" if task else ""
        status = lead.status if lead.status != "lost" else f"lost: {lead.lost_reason}"
        return Row(lead.id, (lead.label, self.present.phone(lead.phone), Cell(f"{lead.score} {lead.temperature}",
                   lead.score), status, lead.source, lead.service_wanted, Cell(due, task.due_at if task else None)),
                   data=lead)

    def on_rows_loaded(self, message: RowsLoaded) -> None:
        if message.rows.key.startswith("activity:"):
            self._show_activity(message.rows)
            return
        if message.rows.key == "choices":
            self._ask_first_booking(*message.rows.rows)
            return
        leads, tasks = message.rows.rows
        first_task: dict[int, TaskView] = {}
        for task in tasks:
            if task.lead_id is not None:
                first_task.setdefault(task.lead_id, task)
        rows = [self._row(lead, first_task.get(lead.id)) for lead in leads]
        if message.rows.key == "leads":
            self.table.reload(rows)
        else:
            self.table.append(rows)
        self.more = message.rows.more
        if (row := self.table.selected_row) is not None:
            self.load_activity(int(row.id))
        self.query_one("#leads-screen-title", Label).update(literal(
            f"Leads — {len(self.table.records)}" + (" (m for more)" if self.more else "")))

    def _lead(self) -> LeadView | None:
        row = self.table.selected_row
        return None if row is None else row.data

    def _lead_name(self, lead: LeadView) -> str:
        return self.present.person(lead.name, lead.phone) if lead.name else self.present.phone(lead.phone)

    # ------------------------------------------------------------ actions on the lead under the cursor

    def action_called(self) -> None:
        from core.salon.leads import log_call

        if (lead := self._lead()) is not None:
            self.write(lambda s: log_call(s, self.actor, self.org.id, lead.id), f"Call to {lead.label} logged.",
                       lead.id)

    def action_advance(self) -> None:
        from core.salon.leads import PIPELINE, set_lead_status

        lead = self._lead()
        if lead is None or lead.status not in PIPELINE[:-1]:
            self.app.notify("Only new and contacted leads move on; k converts a qualified one.", severity="warning")
            return
        status = PIPELINE[PIPELINE.index(lead.status) + 1]
        self.write(lambda s: set_lead_status(s, self.actor, self.org.id, lead.id, status),
                   f"{lead.label} is {status}.", lead.id)

    def action_lost(self) -> None:
        from core.salon.leads import set_lead_status

        if (lead := self._lead()) is None:
            return

        def with_reason(reason: str | None) -> None:
            if reason:
                self.write(lambda s: set_lead_status(s, self.actor, self.org.id, lead.id, "lost", reason=reason),
                           f"{lead.label} is lost: {reason}.", lead.id)

        self.app.push_screen(AskText(self.database, f"Why is {self._lead_name(lead)} lost?"), callback=with_reason)

    def action_convert(self) -> None:
        from core.salon.leads import convert_lead

        if (lead := self._lead()) is None:
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.write(lambda s: convert_lead(s, self.actor, self.org.id, lead.id),
                           f"{lead.label} is a client now; book them from home.", lead.id)

        self.app.push_screen(Confirm(
            f"Convert {self._lead_name(lead)} into a client?",
            [f"{lead.label} becomes a client (a new one, unless this phone is already a client's), "
             "and the lead is closed as converted.", "This cannot be undone from the console."],
            confirm_label="Convert"), callback=confirmed)

    def action_add(self) -> None:
        self.app.push_screen(LeadDialog("A new lead"), callback=lambda answer: answer and self.add(answer))

    @work(thread=True, group="salon-write", exit_on_error=False)
    def add(self, answer: LeadAnswer) -> None:
        from core.salon.leads import LeadDetails, add_lead

        fields = dict(answer.fields)
        with self.database.session() as session:
            lead = add_lead(session, self.actor, self.org.id, LeadDetails(
                phone=fields.pop("phone"), email=fields.pop("email") or None, **fields))
        self.post_from_worker(SalonChanged(f"{lead.label}: {lead.score} {lead.temperature}.", lead.id))

    def action_edit(self) -> None:
        if (lead := self._lead()) is None:
            return
        self.app.push_screen(LeadDialog(f"What {self._lead_name(lead)} said", lead),
                             callback=lambda answer: answer and answer.fields and self.edit(lead.id, answer))

    @work(thread=True, group="salon-write", exit_on_error=False)
    def edit(self, lead_id: int, answer: LeadAnswer) -> None:
        from core.salon.leads import update_lead

        with self.database.session() as session:
            lead = update_lead(session, self.actor, self.org.id, lead_id, **answer.fields)
        self.post_from_worker(SalonChanged(f"{lead.label} corrected: {lead.score} {lead.temperature}.", lead.id))

    def action_convert_and_book(self) -> None:
        if (lead := self._lead()) is not None:
            self.load_choices(lead)

    @work(thread=True, exclusive=True, group="lead-choices", exit_on_error=False)
    def load_choices(self, lead: LeadView) -> None:
        from core.salon.common import list_professionals
        from core.salon.services import list_services

        with self.database.session() as session:
            pros = [(p.id, p.name) for p in list_professionals(session, self.actor, self.org.id)]
            services = [(v.id, v.name) for v in list_services(session, self.actor, self.org.id)]
        self.post_from_worker(RowsLoaded(Rows("choices", [lead, pros, services])))

    def _ask_first_booking(self, lead: LeadView, pros: list[tuple[int, str]], services: list[tuple[int, str]]) -> None:
        if not (pros and services):
            self.app.notify("Nothing to book yet: the salon needs a professional and a service.", severity="warning")
            return
        self.app.push_screen(ConvertBookDialog(f"{self._lead_name(lead)}: a client, and booked", pros, services,
                                               lead.service_wanted),
                             callback=lambda first: first and self.convert_and_book(lead.id, first))

    @work(thread=True, group="salon-write", exit_on_error=False)
    def convert_and_book(self, lead_id: int, first: FirstBooking) -> None:
        from core.salon.common import wall_clock
        from core.salon.leads import convert_lead

        start = wall_clock(first.start, self.present.tz)
        with self.database.session() as session:
            lead, booked = convert_lead(session, self.actor, self.org.id, lead_id, start=start,
                                        professional_id=first.professional_id, service_id=first.service_id)
        self.post_from_worker(SalonChanged(
            f"{lead.label} is a client, booked for {booked.service_name} with {booked.professional_name} on "
            f"{self.present.time(booked.starts_at, '%a %d %b %H:%M')}.", lead.id))

    def action_tasks(self) -> None:
        self.app.push_screen(TasksScreen(self.database, self.actor, self.org))

    @on(DataTable.RowHighlighted, "#leads")
    def _lead_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is not None:
            self.load_activity(int(event.row_key.value))

    @work(thread=True, exclusive=True, group="lead-activity", exit_on_error=False)
    def load_activity(self, lead_id: int) -> None:
        from core.salon.leads import lead_activities

        with self.database.session() as session:
            activity = lead_activities(session, self.actor, self.org.id, lead_id)
        self.post_from_worker(RowsLoaded(Rows(f"activity:{lead_id}", activity)))

    def _show_activity(self, rows: Rows) -> None:
        row = self.table.selected_row
        if row is None or f"activity:{row.id}" != rows.key:
            return
        lines = [f"{self.present.time(a.at, '%d %b %H:%M')} {_happened(a)}" + (f" by {a.actor}" if a.actor else "")
                 + (f": {a.note}" if a.note else "") for a in rows.rows[-5:]]
        self.query_one("#lead-activity", Static).update(literal(
            f"What happened ({len(rows.rows)}):\n" + "\n".join(lines), lines=True))

    @work(thread=True, group="salon-write", exit_on_error=False)
    def write(self, change: Callable[[Session], object], done: str, lead_id: int) -> None:
        with self.database.session() as session:
            change(session)
        self.post_from_worker(SalonChanged(done, lead_id))
