"""The end-of-cycle share-out: the preview (what each member would take home if
the cycle closed now) and, for an official who handles money, committing it.

``c`` asks first, naming the total paid out and how many members receive it;
only ``y`` calls ``core.chama.shareout.commit_shareout`` with the preview's
code (the same call as ``ofisi chama shareout --commit CODE``), so a share-out
that changed since it was read is refused by the core, not paid.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Label, Static

from console.chama.common import OrgModal
from console.widgets.confirm import Confirm
from console.widgets.table import Cell, OfisiTable, Row
from console.widgets.text import literal
from core.actors import Actor
from core.chama import shareout
from core.chama.shareout import ShareoutPlan
from core.orgs import OrgView
from db.engine import Database


class ShareoutModal(OrgModal):
    """What each member would take home if the cycle closed now; ``c`` commits it after a yes."""

    BINDINGS = [
        Binding("escape", "cancel", "Close"),
        Binding("c", "commit", "Commit share-out", id="commit-shareout",
                tooltip="Pay every member their share now (asks first, naming the total and the count)."),
    ]

    def __init__(self, database: Database, actor: Actor, org: OrgView, may_commit: bool = False) -> None:
        super().__init__(database, actor, org)
        self.may_commit = may_commit
        self.plan: ShareoutPlan | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide", id="shareout"):
            yield Label("Share-out preview", classes="form-title", id="shareout-title")
            yield Static("", id="shareout-summary", markup=False)
            yield OfisiTable(("No.", "Member", "Savings", "Share of earnings", "Takes home"), noun="members",
                             empty="No member takes part in the share-out.", id="shareout-lines")

    def on_mount(self) -> None:
        self.load()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.may_commit if action == "commit" else True

    @work(thread=True, exclusive=True, group="shareout", exit_on_error=False)
    def load(self) -> None:
        with self.database.session() as session:
            plan = shareout.preview_shareout(session, self.actor, self.org.id)
        self.app.call_from_thread(self.show, plan)

    def show(self, plan: ShareoutPlan) -> None:
        self.plan = plan
        money = self.present.money
        summary = (f"Pool {money(plan.pool_minor)} = savings {money(plan.savings_minor)} + earnings "
                   f"{money(plan.earnings_minor)}; {len(plan.lines)} member(s) take part."
                   + (" c commits it." if self.may_commit else ""))
        if plan.blockers:
            summary += "\nBefore it can be committed: " + "; ".join(plan.blockers)
        self.query_one("#shareout-summary", Static).update(literal(summary, lines=True))
        table = self.query_one("#shareout-lines", OfisiTable)
        table.reload(Row(line.member_number, (line.member_number, line.name,
                                              Cell(money(line.savings_minor), line.savings_minor),
                                              Cell(money(line.earnings_share_minor), line.earnings_share_minor),
                                              Cell(money(line.payout_minor), line.payout_minor)), data=line)
                     for line in plan.lines)
        table.focus()

    def action_commit(self) -> None:
        plan = self.plan
        if plan is None:
            return
        if plan.blockers:
            self.notify("The share-out cannot be committed yet: " + "; ".join(plan.blockers), severity="warning")
            return
        total = sum(line.payout_minor for line in plan.lines)
        self.app.push_screen(
            Confirm(f"Commit the share-out of {self.org.name}?",
                    [f"Pays {self.present.money(total)} to {len(plan.lines)} member(s).",
                     "Each member gets an SMS; the pool is left at zero and a new cycle starts."],
                    confirm_label="Commit"),
            callback=lambda yes: yes and self.commit(plan.code))

    @work(thread=True, exclusive=True, group="shareout-commit", exit_on_error=False)
    def commit(self, code: str) -> None:
        with self.database.session() as session:
            done = shareout.commit_shareout(session, self.actor, self.org.id, code=code)
        self.app.call_from_thread(
            self.notify, f"Share-out {done.id} committed: {self.present.money(done.pool_minor)} "
                         "paid out.")
        self.app.call_from_thread(self.dismiss, True)
