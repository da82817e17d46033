"""The leads pipeline: every lead with its score, status and next task.

Each action works on the lead under the cursor and the cursor stays on it
after the list is read again; dialogs name the lead. ``k`` (convert) asks first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Label

from console.base import AskText
from console.salon.common import Rows, RowsLoaded, SalonChanged, SalonScreen
from console.widgets.confirm import Confirm
from console.widgets.table import Cell, OfisiTable, Row
from console.widgets.text import literal

if TYPE_CHECKING:
    from core.salon.leads import LeadView, TaskView

LEADS_PAGE = 100


class LeadsScreen(SalonScreen):
    """The pipeline: call, advance, lose or convert the lead under the cursor."""

    BINDINGS = [
        Binding("c", "called", "Called", id="lead-called", tooltip="Log a call to the lead under the cursor."),
        Binding("n", "advance", "Next stage", id="lead-advance", tooltip="new → contacted → qualified."),
        Binding("x", "lost", "Lost", id="lead-lost", tooltip="Mark the lead lost, with a reason."),
        Binding("k", "convert", "Convert", id="lead-convert", tooltip="Make the lead a client (asks first)."),
        Binding("m", "more", "More", id="more-leads", tooltip="Read the next page of leads."),
    ]

    def compose_body(self) -> ComposeResult:
        yield Label("Leads", id="leads-screen-title", classes="pane-title")
        yield OfisiTable(("Lead", "Phone", "Score", "Status", "Source", "Wants", "Next task"), noun="leads",
                         empty="No leads yet: they arrive from the web form, SMS and calls.", id="leads")

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

    @work(thread=True, group="salon-write", exit_on_error=False)
    def write(self, change: Callable[[Session], object], done: str, lead_id: int) -> None:
        with self.database.session() as session:
            change(session)
        self.post_from_worker(SalonChanged(done, lead_id))
