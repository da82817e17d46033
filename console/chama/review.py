"""M-Pesa payments kept for review (amount differs, receipt reused, no answer):
the official checks the M-Pesa statement and settles each. ``y`` it was paid
(asks the receipt number, then the amount the receipt shows, filled in with
what M-Pesa reported; the payment is credited with it, once), ``f`` it was not
(asks first). Both call ``core.payments.staff.settle_payment`` as
``ofisi payments settle`` does."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message

from console.chama.common import OrgListScreen
from console.widgets.confirm import Confirm
from console.widgets.dialog import AskText
from console.widgets.table import Cell, OfisiTable, Row
from core.payments.request import CURRENCY, PaymentView
from core.money import format_money, parse_money
from core.payments.staff import list_payments, reported_amount, settle_payment


class ReviewLoaded(Message):
    def __init__(self, rows: list[PaymentView], reported: dict[int, int | None]) -> None:
        super().__init__()
        self.rows, self.reported = rows, reported


class MpesaReviewScreen(OrgListScreen):
    SUBTITLE, TABLE = "M-Pesa review", "review"
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("y", "paid", "Was paid", id="review-paid",
                tooltip="The statement shows it paid: give the receipt number; the payment is credited."),
        Binding("f", "not_paid", "Not paid", id="review-not-paid",
                tooltip="The statement does not show it: the request is closed as failed (asks first)."),
    ]

    def compose_body(self) -> ComposeResult:
        yield OfisiTable(("No.", "Phone", "Amount", "For", "Status", "Why", "Asked"), noun="payments",
                         id="review", empty="No M-Pesa payment is waiting for review.")

    @work(thread=True, exclusive=True, group="review", exit_on_error=False)
    def load(self) -> None:
        with self.database.session() as session:
            rows = (list_payments(session, self.actor, self.org.id, status="review")
                    + list_payments(session, self.actor, self.org.id, status="unknown"))
            reported = {x.id: reported_amount(session, x.id) for x in rows}
        self.post_from_worker(ReviewLoaded(rows, reported))

    def on_review_loaded(self, message: ReviewLoaded) -> None:
        p = self.present
        self.reported = message.reported
        self.query_one("#review", OfisiTable).reload(
            Row(x.id, (str(x.id), p.phone(x.phone), Cell(p.money(x.amount_minor), x.amount_minor), x.description,
                       x.status, x.last_error or x.result_desc or "", Cell(p.date(x.created_at), x.created_at)),
                data=x) for x in message.rows)

    def selected(self) -> PaymentView | None:
        row = self.query_one("#review", OfisiTable).selected_row
        return None if row is None else row.data

    def named(self, x: PaymentView) -> str:
        return f"payment {x.id}: {self.present.money(x.amount_minor)} from {self.present.phone(x.phone)}"

    def action_paid(self) -> None:
        if (x := self.selected()) is not None:
            self.app.push_screen(AskText(f"Settle {self.named(x)} as paid", "The M-Pesa receipt number:",
                                         confirm_label="Credit it"),
                                 callback=lambda receipt: receipt and self.ask_amount(x, receipt))

    def ask_amount(self, x: PaymentView, receipt: str) -> None:
        """What the receipt shows was paid: M-Pesa's reported amount when it sent one, else the amount asked."""
        paid = getattr(self, "reported", {}).get(x.id) or x.amount_minor
        self.app.push_screen(AskText(f"Settle {self.named(x)} as paid",
                                     f"Amount paid, as receipt {receipt.strip().upper()} shows "
                                     f"({format_money(x.amount_minor, x.currency)} was asked):",
                                     confirm_label="Credit it", value=format_money(paid, x.currency)),
                             callback=lambda amount: amount and self.settle(x.id, True, receipt, amount))

    def action_not_paid(self) -> None:
        if (x := self.selected()) is not None:
            self.app.push_screen(Confirm(f"Close {self.named(x)} as not paid?",
                                         ["Only if the M-Pesa statement does not show it."], confirm_label="Not paid"),
                                 callback=lambda yes: yes and self.settle(x.id, False, None))

    @work(thread=True, group="review-settle", exit_on_error=False)
    def settle(self, payment_id: int, paid: bool, receipt: str | None, amount: str | None = None) -> None:
        with self.database.session() as session:
            amount_minor = None if amount is None else parse_money(amount, CURRENCY)
            done = settle_payment(session, self.actor, self.org.id, payment_id, paid=paid, receipt_number=receipt,
                                  amount_minor=amount_minor)
        self.app.call_from_thread(self.notify, f"Payment {done.id} is {done.status}.")
        self.app.call_from_thread(self.load)
