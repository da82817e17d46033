"""The agency's disputes, open and resolved (:func:`core.agency.placements.list_disputes`), the open
ones first: the placement, the worker and the employer, what was refunded and waived on resolving it,
and when it was opened and resolved.

``n`` (or Enter) resolves the open dispute under the cursor with the home's own resolution form (what
was agreed, any refund, whether the placement goes on); the list is read again once it is written.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Label

from console.agency.screen import AgencyScreen
from console.widgets.table import Cell, OfisiTable, Row
from core.actors import Actor
from core.agency.placements import DisputeView
from core.orgs import OrgView
from db.engine import Database


class DisputesLoaded(Message):
    def __init__(self, disputes: list[DisputeView]) -> None:
        super().__init__()
        self.disputes = disputes


class DisputesScreen(AgencyScreen):
    """Every dispute; ``n`` or Enter resolves the open one under the cursor."""

    SUBTITLE = "Disputes"
    MONEY_ACTIONS = ("resolve",)
    BINDINGS = [Binding("n", "resolve", "Resolve", id="disputes-resolve",
                        tooltip="Close the open dispute under the cursor: what was agreed, and any refund."),
                Binding("r,f5", "refresh", "Refresh", id="disputes-refresh")]

    def __init__(self, database: Database, actor: Actor, org: OrgView, role: str,
                 resolve: Callable[[DisputeView], None]) -> None:
        super().__init__(database, actor, org, role)
        self.resolve = resolve

    def compose_body(self) -> ComposeResult:
        yield Label("Disputes, open first (n or Enter resolves one)", classes="pane-title")
        yield OfisiTable(("Status", "Placement", "Worker", "Employer", "Refunded", "Waived", "Opened", "Resolved",
                          "About"), noun="disputes",
                         empty="No disputes: i on a placed worker's placement opens one.", id="agency-disputes")

    @work(thread=True, exclusive=True, group="agency-disputes", exit_on_error=False)
    def load(self) -> None:
        from core.agency.placements import list_disputes

        with self.database.session() as session:
            disputes = list_disputes(session, self.actor, self.org.id, limit=500)
        self.post_from_worker(DisputesLoaded(disputes))

    def on_disputes_loaded(self, message: DisputesLoaded) -> None:
        p = self.present
        disputes = sorted(message.disputes, key=lambda d: (d.resolved_at is not None, -d.id))
        self.query_one(OfisiTable).reload(
            Row(d.id, ("open" if d.resolved_at is None else "resolved", d.placement_id, d.worker_name,
                       d.employer_name, Cell(p.money(d.refunded_minor), d.refunded_minor),
                       Cell(p.money(d.waived_minor), d.waived_minor), Cell(p.date(d.opened_at), d.opened_at),
                       Cell(p.date(d.resolved_at), d.resolved_at) if d.resolved_at else "",
                       d.resolution or d.notes), data=d)
            for d in disputes)

    @on(OfisiTable.RowSelected)
    def _chosen(self) -> None:
        if self.check_action("resolve", ()):
            self.action_resolve()

    def action_resolve(self) -> None:
        row = self.query_one(OfisiTable).selected_row
        if row is None:
            return
        d: DisputeView = row.data
        if d.resolved_at is not None:
            self.notify(f"The dispute of {d.worker_name} at {d.employer_name} was resolved on "
                        f"{self.present.date(d.resolved_at)}: {d.resolution}", severity="warning", markup=False)
            return
        self.resolve(d)
