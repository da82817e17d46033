"""The chama office: the pool and arrears at a glance, the contributions chart,
the loans waiting for an official (approval, then disbursement), and the way to
members, meetings, the share-out and the audit log.

Every figure comes from ``core.chama`` services in thread workers; a refusal
(the same official approving twice, a payment to an exited member) arrives as
a notice. New contributions from M-Pesa reach the open screen through the
app's change watcher (``org_data_changed``), which reloads these panels too.
Approving and disbursing a loan ask first, naming the member and the amount.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Label, Sparkline, Static

from console.chama.common import member_label
from console.chama.meetings import MeetingsScreen
from console.chama.ledger import LedgerScreen
from console.chama.members import MembersScreen
from console.chama.payment import RecordPaymentModal
from console.chama.payouts import PayoutsScreen
from console.chama.reports import AgmReportsScreen
from console.chama.review import MpesaReviewScreen
from console.chama.settings import SettingsScreen
from console.chama.shareout import ShareoutModal
from console.home import ChamaHome, register_home
from console.shell.audit import AUDIT_BINDING, open_audit
from console.widgets.confirm import Confirm
from console.widgets.dialog import AskText
from console.widgets.table import Cell, OfisiTable, Row
from console.widgets.text import literal
from core.chama import loans, statements
from core.chama.loans import LoanView
from core.chama.statements import PeriodTotal, Position
from core.money import format_money


@dataclass(frozen=True)
class ChamaData:
    position: Position
    months: list[PeriodTotal]
    queue: list[LoanView]


class ChamaLoaded(Message):
    def __init__(self, data: ChamaData) -> None:
        super().__init__()
        self.data = data


def position_lines(p: Position) -> str:
    money = lambda minor: format_money(minor, p.currency)  # noqa: E731
    lines = [
        f"Pool (cash at hand): {money(p.pool_minor)}",
        f"Members' savings: {money(p.savings_minor)} · {p.active_members} active members",
        f"Loans out: {money(p.loans_out_minor)} · interest owed {money(p.interest_owed_minor)}",
        f"Fines owed: {money(p.fines_owed_minor)} · earned so far {money(p.earnings_minor)}",
        f"Arrears: {money(p.arrears_minor)} from {p.members_in_arrears} member"
        f"{'' if p.members_in_arrears == 1 else 's'}",
        f"Waiting for approval: {p.loans_awaiting_approval} loan(s), {p.payouts_awaiting_approval} payout(s)",
    ]
    return "\n".join(lines)


@register_home
class ChamaOffice(ChamaHome):
    """The chama home with its money panels."""

    KIND: ClassVar[str] = "chama"
    DESCRIPTION = "The pool, arrears and approvals; members, statements, meetings and the share-out."

    BINDINGS = [
        Binding("p", "record_payment", "Record payment", id="record-payment",
                tooltip="Record a contribution paid in cash or to the chama's account."),
        Binding("v", "approve_loan", "Approve loan", id="approve-loan",
                tooltip="Approve the loan highlighted in the approvals queue, as yourself."),
        Binding("x", "reject_loan", "Reject loan", id="reject-loan",
                tooltip="Reject the highlighted loan, with a reason the member is told."),
        Binding("b", "members", "Members", id="members", tooltip="Find members and read their statements."),
        Binding("g", "meetings", "Meetings", id="meetings",
                tooltip="Schedule meetings, take attendance and keep minutes."),
        Binding("d", "disburse_loan", "Disburse", id="disburse-loan",
                tooltip="Pay out the approved loan highlighted in the queue (asks first)."),
        Binding("o", "shareout", "Share-out", id="shareout",
                tooltip="The end-of-cycle share-out: each member's savings plus share of earnings; c commits."),
        Binding("w", "payouts", "Payouts", id="payouts",
                tooltip="Money out of the pool: request, approve, reject and pay payouts."),
        Binding("l", "ledger", "Ledger", id="ledger", tooltip="Every entry on the books; reverse one."),
        Binding("k", "review", "M-Pesa review", id="mpesa-review",
                tooltip="M-Pesa payments kept for review: settle each from the statement."),
        Binding("t", "settings", "Rules", id="chama-settings", tooltip="The chama's rules; change one."),
        Binding("a", "agm_reports", "AGM reports", id="agm-reports",
                tooltip="Contribution register, loan book, fines, income, attendance, share-out; export one."),
        AUDIT_BINDING,
    ]

    def compose_panels(self) -> ComposeResult:
        with Horizontal(id="chama-panels"):
            with Vertical(id="position-pane", classes="pane"):
                yield Label("The pool", classes="pane-title")
                yield Static("", id="chama-position", markup=False)
                yield Label("Contributions, last 12 months", classes="pane-title")
                yield Sparkline([], id="contributions-chart")
                yield Static("", id="contributions-range", markup=False)
            with Vertical(id="loan-queue-pane", classes="pane"):
                yield Label("Loans waiting (v approve · x reject · d disburse)", classes="pane-title")
                yield OfisiTable(("Member", "Amount", "Months", "Purpose", "Status", "Approvals"), noun="loans",
                                 empty="No loan is waiting for an official.", id="loan-queue")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "record_payment":
            return self.may("chama.money")
        if action in ("approve_loan", "reject_loan"):
            return self.may("chama.approve")
        if action in ("payouts", "ledger", "review"):
            return self.may("chama.money") or self.may("chama.approve")
        if action == "settings":
            return self.may("chama.read")
        if action == "disburse_loan":
            return self.may("chama.money")
        if action == "meetings":
            return self.may("chama.read")
        if action == "audit":
            return self.may("audit.read")
        return super().check_action(action, parameters)

    def action_refresh(self) -> None:
        super().action_refresh()
        self.load_chama()

    @work(thread=True, exclusive=True, group="chama", exit_on_error=False)
    def load_chama(self) -> None:
        with self.database.session() as session:
            data = ChamaData(statements.chama_position(session, self.actor, self.org.id),
                             statements.contributions_by_month(session, self.actor, self.org.id),
                             loans.list_loans(session, self.actor, self.org.id, status="requested")
                             + loans.list_loans(session, self.actor, self.org.id, status="approved"))
        self.post_from_worker(ChamaLoaded(data))

    def on_chama_loaded(self, message: ChamaLoaded) -> None:
        data = message.data
        self.query_one("#chama-position", Static).update(position_lines(data.position))
        totals = [m.contributions_minor for m in data.months]
        self.query_one("#contributions-chart", Sparkline).data = totals
        if data.months:
            best = max(data.months, key=lambda m: m.contributions_minor)
            self.query_one("#contributions-range", Static).update(
                f"{data.months[0].period} to {data.months[-1].period}; best month {best.period} "
                f"({format_money(best.contributions_minor, data.position.currency)}), "
                f"this month {format_money(totals[-1], data.position.currency)}")
        self.query_one("#loan-queue", OfisiTable).reload(
            Row(loan.id, (f"{loan.member_name} ({loan.member_number})",
                          Cell(format_money(loan.principal_minor, loan.currency), loan.principal_minor),
                          Cell(str(loan.months), loan.months), loan.purpose or "—", loan.status,
                          f"{len(loan.approvals)} of {loan.approvals_required}"), data=loan)
            for loan in data.queue)

    # ------------------------------------------------------------ loans

    def _highlighted_loan(self, status: str) -> LoanView | None:
        row = self.query_one("#loan-queue", OfisiTable).selected_row
        if row is None:
            self.notify("No loan is waiting for an official.", markup=False)
            return None
        loan: LoanView = row.data
        if loan.status != status:
            self.notify(f"Loan {loan.id} for {loan.member_name} is {loan.status}, not {status}.", markup=False)
            return None
        return loan

    def _loan_title(self, verb: str, loan: LoanView) -> str:
        return (f"{verb} {format_money(loan.principal_minor, loan.currency)} for "
                f"{member_label(loan.member_name, loan.member_number)}?")

    def action_approve_loan(self) -> None:
        if (loan := self._highlighted_loan("requested")) is not None:
            self.app.push_screen(
                Confirm(self._loan_title("Approve a loan of", loan),
                        [f"{loan.months} month(s), for {loan.purpose or 'no stated purpose'}.",
                         f"Your approval makes {len(loan.approvals) + 1} of {loan.approvals_required}."],
                        confirm_label="Approve"),
                callback=lambda yes: yes and self.decide_loan(loan.id, None))

    def action_reject_loan(self) -> None:
        if (loan := self._highlighted_loan("requested")) is not None:
            self.app.push_screen(AskText(self._loan_title("Reject the loan of", loan).rstrip("?"),
                                         "Why is this loan rejected? The member is told.", confirm_label="Reject"),
                                 callback=lambda reason: reason and self.decide_loan(loan.id, reason))

    def action_disburse_loan(self) -> None:
        if (loan := self._highlighted_loan("approved")) is not None:
            self.app.push_screen(
                Confirm(self._loan_title("Pay out", loan),
                        ["Paid from the pool in cash; the member gets an SMS with the first instalment."],
                        confirm_label="Disburse"),
                callback=lambda yes: yes and self.disburse(loan.id))

    @work(thread=True, group="loan-decision", exit_on_error=False)
    def decide_loan(self, loan_id: int, reason: str | None) -> None:
        with self.database.session() as session:
            if reason is None:
                loan = loans.approve_loan(session, self.actor, self.org.id, loan_id)
            else:
                loan = loans.reject_loan(session, self.actor, self.org.id, loan_id, reason=reason)
        self.app.call_from_thread(self.notify, f"Loan {loan.id} for {loan.member_name}: {loan.status} "
                                  f"({len(loan.approvals)} of {loan.approvals_required} approvals).", markup=False)
        self.app.call_from_thread(self.load_chama)

    @work(thread=True, group="loan-decision", exit_on_error=False)
    def disburse(self, loan_id: int) -> None:
        with self.database.session() as session:
            loan = loans.disburse_loan(session, self.actor, self.org.id, loan_id, source="cash")
        self.app.call_from_thread(self.notify, f"Loan {loan.id}: {format_money(loan.principal_minor, loan.currency)}"
                                  f" paid out to {loan.member_name}.", markup=False)
        self.app.call_from_thread(self.load_chama)

    # ------------------------------------------------------------ other screens

    def action_record_payment(self) -> None:
        self.app.push_screen(RecordPaymentModal(self.database, self.actor, self.org),
                             callback=lambda done: done and self.action_refresh())

    def action_members(self) -> None:
        self.app.push_screen(MembersScreen(self.database, self.actor, self.org, may_change=self.may("chama.members"),
                                           may_money=self.may("chama.money")))

    def action_meetings(self) -> None:
        self.app.push_screen(MeetingsScreen(self.database, self.actor, self.org, self.may("chama.meetings")))

    def action_shareout(self) -> None:
        self.app.push_screen(ShareoutModal(self.database, self.actor, self.org, self.may("chama.money")),
                             callback=lambda done: done and self.action_refresh())

    def action_audit(self) -> None:
        open_audit(self)

    def action_payouts(self) -> None:
        self.app.push_screen(PayoutsScreen(self.database, self.actor, self.org),
                             callback=lambda _=None: self.action_refresh())

    def action_ledger(self) -> None:
        self.app.push_screen(LedgerScreen(self.database, self.actor, self.org),
                             callback=lambda _=None: self.action_refresh())

    def action_review(self) -> None:
        self.app.push_screen(MpesaReviewScreen(self.database, self.actor, self.org),
                             callback=lambda _=None: self.action_refresh())

    def action_agm_reports(self) -> None:
        self.app.push_screen(AgmReportsScreen(self.database, self.actor, self.org))

    def action_settings(self) -> None:
        self.app.push_screen(SettingsScreen(self.database, self.actor, self.org))
