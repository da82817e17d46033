"""Payouts: money out of the pool to a member or a payee (welfare, a merry-go-round
turn). ``n`` requests one, ``v`` approves (asks, naming the payee and the amount),
``x`` rejects with a reason, ``d`` pays an approved one (asks first). Each calls
``core.chama.payouts`` as ``ofisi chama payout …`` does."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input, Label

from console.chama.common import OrgListScreen
from console.widgets.confirm import Confirm
from console.widgets.dialog import AskText, Dialog
from console.widgets.table import Cell, OfisiTable, Row
from core.chama import payouts
from core.chama.members import find_member
from core.chama.payouts import PayoutView
from core.errors import InvalidInput, NotFound
from core.money import parse_money


class PayoutsLoaded(Message):
    def __init__(self, rows: list[PayoutView]) -> None:
        super().__init__()
        self.rows = rows


class PayoutForm(Dialog[tuple[str, int, str]]):
    """Who (a member's number or phone, or another payee's name), how much, what for."""

    def __init__(self, title: str, currency: str) -> None:
        super().__init__(title, confirm_label="Request")
        self.currency = currency

    def compose_body(self) -> ComposeResult:
        yield Label("To (member number or phone, or a payee's name)")
        yield Input(id="payout-to")
        yield Label(f"Amount in {self.currency}")
        yield Input(id="payout-amount")
        yield Label("What for")
        yield Input(id="payout-purpose")

    def on_mount(self) -> None:
        self.query_one("#payout-to", Input).focus()

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        if event.input.id == "payout-purpose":
            self.action_confirm()
        else:
            self.focus_next()

    def answer(self) -> tuple[str, int, str] | None:
        value = lambda key: self.query_one(f"#payout-{key}", Input).value.strip()  # noqa: E731
        try:
            amount = parse_money(value("amount"), self.currency)
        except InvalidInput as error:
            self.notify(str(error), severity="warning", markup=False)
            return None
        if not value("to") or not value("purpose"):
            self.notify("Say who is paid and what for.", markup=False)
            return None
        return value("to"), amount, value("purpose")


class PayoutsScreen(OrgListScreen):
    SUBTITLE, TABLE = "Payouts", "payouts"
    """Payouts waiting and paid, newest first."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("n", "request", "Request", id="payout-request", tooltip="Ask for a payout from the pool."),
        Binding("v", "approve", "Approve", id="payout-approve", tooltip="Approve the highlighted payout (asks)."),
        Binding("x", "reject", "Reject", id="payout-reject", tooltip="Reject the highlighted payout with a reason."),
        Binding("d", "pay", "Pay", id="payout-pay", tooltip="Pay the highlighted approved payout (asks)."),
    ]

    def compose_body(self) -> ComposeResult:
        yield OfisiTable(("No.", "To", "Amount", "Purpose", "Status", "Approvals", "Asked"), noun="payouts",
                         id="payouts", empty="No payouts: n requests one.")

    @work(thread=True, exclusive=True, group="payouts", exit_on_error=False)
    def load(self) -> None:
        with self.database.session() as session:
            rows = payouts.list_payouts(session, self.actor, self.org.id)
        self.post_from_worker(PayoutsLoaded(rows))

    def on_payouts_loaded(self, message: PayoutsLoaded) -> None:
        p = self.present
        self.query_one("#payouts", OfisiTable).reload(
            Row(x.id, (str(x.id), x.payee, Cell(p.money(x.amount_minor), x.amount_minor), x.purpose, x.status,
                       f"{len(x.approvals)} of {x.approvals_required}",
                       Cell(p.date(x.requested_at), x.requested_at)), data=x) for x in message.rows)

    def selected(self, status: str) -> PayoutView | None:
        row = self.query_one("#payouts", OfisiTable).selected_row
        if row is None or row.data.status != status:
            self.notify(f"Highlight a payout that is {status}.", markup=False)
            return None
        return row.data

    def title_of(self, verb: str, x: PayoutView) -> str:
        return f"{verb} {self.present.money(x.amount_minor)} to {x.payee} ({x.purpose})?"

    def action_request(self) -> None:
        self.app.push_screen(PayoutForm(f"A payout from {self.org.name}'s pool", self.org.currency),
                             callback=lambda a: a and self.request(*a))

    @work(thread=True, group="payout-write", exit_on_error=False)
    def request(self, to: str, amount: int, purpose: str) -> None:
        with self.database.session() as session:
            try:
                member = find_member(session, self.actor, self.org.id, to)
            except NotFound:  # not a member: a payee by name
                session.rollback()
                member = None
            x = payouts.request_payout(session, self.actor, self.org.id, amount, purpose=purpose,
                                       member_id=member.id if member else None, payee=None if member else to)
        self.done(f"Payout {x.id} of {self.present.money(x.amount_minor)} to {x.payee} requested.")

    def action_approve(self) -> None:
        if (x := self.selected("requested")) is not None:
            self.app.push_screen(Confirm(self.title_of("Approve", x), [f"Approvals: {len(x.approvals)} of "
                                                                       f"{x.approvals_required} so far."],
                                         confirm_label="Approve"),
                                 callback=lambda yes: yes and self.write(
                                     lambda s: payouts.approve_payout(s, self.actor, self.org.id, x.id)))

    def action_reject(self) -> None:
        if (x := self.selected("requested")) is not None:
            self.app.push_screen(AskText(self.title_of("Reject", x).rstrip("?"), "Why?", confirm_label="Reject"),
                                 callback=lambda reason: reason and self.write(
                                     lambda s: payouts.reject_payout(s, self.actor, self.org.id, x.id,
                                                                     reason=reason)))

    def action_pay(self) -> None:
        if (x := self.selected("approved")) is not None:
            self.app.push_screen(Confirm(self.title_of("Pay", x), ["Paid from the pool in cash."],
                                         confirm_label="Pay"),
                                 callback=lambda yes: yes and self.write(
                                     lambda s: payouts.pay_payout(s, self.actor, self.org.id, x.id)))

    @work(thread=True, group="payout-write", exit_on_error=False)
    def write(self, change) -> None:
        with self.database.session() as session:
            x = change(session)
        self.done(f"Payout {x.id} to {x.payee}: {x.status}.")

    def done(self, said: str) -> None:
        self.app.call_from_thread(self.notify, said, markup=False)  # a payee's name is people's text
        self.app.call_from_thread(self.load)
