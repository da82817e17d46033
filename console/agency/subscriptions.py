"""The agency's own account with the platform: its subscriptions (tier, monthly fee, from and to)
and what it paid the platform (subscription or commission, each with its reference, used once).

``a`` adds a subscription, ``p`` records a payment, ``x`` cancels the subscription under the
cursor; each asks first, naming the tier or the amount (admins: ``agency.money``).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Label

from config.errors import OfisiError
from console.agency.forms import Field, FormDialog, day_of
from console.agency.screen import AgencyScreen
from console.widgets.confirm import Confirm
from console.widgets.table import Cell, OfisiTable, Row
from core.money import parse_money


class AccountLoaded(Message):
    def __init__(self, subscriptions: list, payments: list) -> None:
        super().__init__()
        self.subscriptions, self.payments = subscriptions, payments


class SubscriptionsScreen(AgencyScreen):
    """Subscriptions above, payments to the platform below."""

    SUBTITLE = "Subscriptions and payments to the platform"
    MONEY_ACTIONS = ("add_subscription", "pay", "cancel_subscription")
    BINDINGS = [
        Binding("a", "add_subscription", "Add subscription", id="subscription-add",
                tooltip="A subscription: its tier, monthly fee, and the days it runs."),
        Binding("p", "pay", "Record payment", id="subscription-pay",
                tooltip="A payment of the agency to the platform (subscription or commission), with its reference."),
        Binding("x", "cancel_subscription", "Cancel subscription", id="subscription-cancel",
                tooltip="Cancel the subscription under the cursor (asks first)."),
        Binding("r,f5", "refresh", "Refresh", id="subscription-refresh"),
    ]

    def compose_body(self) -> ComposeResult:
        yield Label("Subscriptions", classes="pane-title")
        yield OfisiTable(("Tier", "Monthly", "From", "To", "Status"), noun="subscriptions",
                         empty="No subscriptions: press a to add one.", id="agency-subscriptions")
        yield Label("Payments to the platform", classes="pane-title")
        yield OfisiTable(("Paid", "Kind", "Amount", "Status", "Reference"), noun="payments",
                         empty="No payments yet: press p to record one.", id="agency-platform-payments")

    @work(thread=True, exclusive=True, group="agency-account", exit_on_error=False)
    def load(self) -> None:
        from core.agency.commerce import list_agency_payments, list_subscriptions

        with self.database.session() as session:
            subscriptions = list_subscriptions(session, self.actor, self.org.id)
            payments = list_agency_payments(session, self.actor, self.org.id)
        self.post_from_worker(AccountLoaded(subscriptions, payments))

    def on_account_loaded(self, message: AccountLoaded) -> None:
        p = self.present
        self.query_one("#agency-subscriptions", OfisiTable).reload(
            Row(s.id, (s.tier, Cell(p.money(s.monthly_fee_minor), s.monthly_fee_minor), Cell(p.date(s.starts_on),
                       s.starts_on), Cell(p.date(s.ends_on), s.ends_on) if s.ends_on else "", s.status), data=s)
            for s in message.subscriptions)
        self.query_one("#agency-platform-payments", OfisiTable).reload(
            Row(x.id, (Cell(p.time(x.paid_at), x.paid_at), x.kind, Cell(p.money(x.amount_minor), x.amount_minor),
                       x.status, x.reference), data=x) for x in message.payments)

    def _ask_then(self, title: str, details: list[str], label: str, change: Callable[[Session], str]) -> None:
        self.app.push_screen(Confirm(title, details, confirm_label=label),
                             callback=lambda yes: self.write(change) if yes else None)

    @work(thread=True, group="agency-account-write", exit_on_error=False)
    def write(self, change: Callable[[Session], str]) -> None:
        with self.database.session() as session:
            text = change(session)
        self.app.call_from_thread(self.notify, text, markup=False)
        self.app.call_from_thread(self.load)

    def _read(self, read: Callable[[], tuple]) -> tuple | None:
        try:
            return read()
        except OfisiError as refused:
            self.app.report_failure(refused)
            return None

    def action_add_subscription(self) -> None:
        from core.agency.commerce import add_subscription

        def entered(values: dict | None) -> None:
            if not values or (read := self._read(lambda: (
                    parse_money(values["fee"], self.org.currency), day_of(values["start"], "From"),
                    day_of(values["end"], "To")))) is None:
                return
            fee, start, end = read
            if start is None:
                self.app.report_failure(OfisiError("From is needed: the day the subscription starts."))
                return
            money = self.present.money(fee)

            def add(s: Session) -> str:
                sub = add_subscription(s, self.actor, self.org.id, tier=values["tier"], monthly_fee_minor=fee,
                                       starts_on=start, ends_on=end)
                return f"The {sub.tier} subscription is added: {money} a month, {sub.status}."
            self._ask_then(f"Add the {values['tier']} subscription at {money} a month?",
                           [f"From {start:%d %b %Y}" + (f" to {end:%d %b %Y}." if end else ", with no end.")], "Add",
                           add)
        self.app.push_screen(FormDialog("Add a subscription", [
            Field("tier", "Tier", required=True, placeholder="e.g. basic, pro"),
            Field("fee", "Monthly fee", required=True, placeholder=self.org.currency),
            Field("start", "From", required=True, placeholder="YYYY-MM-DD"),
            Field("end", "To", placeholder="YYYY-MM-DD (empty: no end)")], confirm_label="Add"), callback=entered)

    def action_pay(self) -> None:
        from core.agency.commerce import record_agency_payment

        def entered(values: dict | None) -> None:
            if not values or (read := self._read(lambda: (parse_money(values["amount"], self.org.currency),))) is None:
                return
            amount, kind, reference = read[0], values["kind"] or "subscription", values["reference"]
            money = self.present.money(amount)

            def record(s: Session) -> str:
                record_agency_payment(s, self.actor, self.org.id, kind=kind, amount_minor=amount, reference=reference)
                return f"{money} ({kind}) paid to the platform is recorded, reference {reference}."
            self._ask_then(f"Record a payment of {money} ({kind}) to the platform?", [f"Reference {reference}."],
                           "Record", record)
        self.app.push_screen(FormDialog("Record a payment to the platform", [
            Field("kind", "For", "subscription", options=[("subscription", "subscription"),
                                                          ("commission", "commission")]),
            Field("amount", "Amount", required=True, placeholder=self.org.currency),
            Field("reference", "Reference (M-Pesa code)", required=True)], confirm_label="Record"), callback=entered)

    def action_cancel_subscription(self) -> None:
        from core.agency.commerce import cancel_subscription

        row = self.query_one("#agency-subscriptions", OfisiTable).selected_row
        if row is None or row.data.status == "cancelled":
            return
        sub = row.data
        self._ask_then(f"Cancel the {sub.tier} subscription ({self.present.money(sub.monthly_fee_minor)} a month)?",
                       ["It stops now; payments already recorded stay."], "Cancel it",
                       lambda s: f"The {cancel_subscription(s, self.actor, self.org.id, sub.id).tier} subscription "
                                 "is cancelled.")
