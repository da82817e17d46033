"""Closing a visit from an appointment list: ``i`` checks the client in, ``d``
completes the visit (price, discount, tip, paid by cash, M-Pesa or card), ``m``
marks a no-show (the Confirm says the salon's no-show fee).

:class:`AppointmentTable` is an :class:`OfisiTable` whose own keys act on the
appointment under its cursor; the keys only work while the table has focus, so
the screen's keys (``i`` inbox, ``m`` more contacts) keep working elsewhere.
Each write calls the core service the CLI's ``bookings checkin / complete /
no-show`` call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Input, Label, RadioButton, RadioSet
from textual.worker import Worker, WorkerState

from console.base import ThreadSafePost
from console.salon.common import EnterConfirms, SalonChanged
from console.widgets.confirm import Confirm
from console.widgets.dialog import Dialog
from console.widgets.table import OfisiTable
from core.money import format_money

if TYPE_CHECKING:
    from core.salon.bookings import AppointmentView

METHODS = (("cash", "Cash"), ("mpesa", "M-Pesa"), ("card", "Card"))


@dataclass(frozen=True)
class Payment:
    price: str
    discount: str
    tip: str
    method: str


class CompleteDialog(EnterConfirms, Dialog[Payment]):
    """The amount taken for a visit: price (the booked one), discount, tip, and how it was paid."""

    CONFIRM_LABEL = "Complete"
    DEFAULT_CSS = """
    CompleteDialog #amounts { height: 3; }
    CompleteDialog #amounts Input { width: 1fr; }
    CompleteDialog #amount-labels { height: 1; }
    CompleteDialog #amount-labels Label { width: 1fr; }
    CompleteDialog #method { height: auto; width: 100%; layout: horizontal; }
    """

    def __init__(self, title: str, price: str) -> None:
        super().__init__(title)
        self.price = price

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="amount-labels"):
            yield Label("Price")
            yield Label("Discount")
            yield Label("Tip")
        with Horizontal(id="amounts"):
            yield Input(self.price, id="price")
            yield Input("", placeholder="0", id="discount")
            yield Input("", placeholder="0", id="tip")
        with RadioSet(id="method"):
            for index, (key, label) in enumerate(METHODS):
                yield RadioButton(label, value=index == 0, id=f"method-{key}")

    def on_mount(self) -> None:
        self.query_one("#price", Input).focus()

    def answer(self) -> Payment | None:
        pressed = self.query_one("#method", RadioSet).pressed_button
        method = (pressed.id or "method-cash").removeprefix("method-") if pressed else "cash"
        price = self.query_one("#price", Input).value.strip()
        if not price:
            self.app.notify("Say the price (the booked price is filled in).", severity="warning")
            return None
        return Payment(price, self.query_one("#discount", Input).value.strip(),
                       self.query_one("#tip", Input).value.strip(), method)


CLOSING_KEYS: list[BindingType] = [
    Binding("i", "check_in", "Check in", id="appointment-check-in",
            tooltip="The client under the cursor has arrived."),
    Binding("d", "complete", "Done + paid", id="appointment-complete",
            tooltip="The visit is done: the amount taken and how it was paid."),
    Binding("m", "no_show", "No-show", id="appointment-no-show",
            tooltip="The client did not come: the salon's no-show fee is charged."),
]


class ClosesVisits:
    """Mixin for a widget or screen (``self.screen`` has ``database``, ``actor``, ``org``, ``present``)
    whose ``_appointment()`` is the appointment under its cursor: ``i``, ``d`` and ``m`` close it."""

    def _appointment(self) -> AppointmentView | None:
        raise NotImplementedError

    def _who(self, a: AppointmentView) -> str:
        present = self.screen.present  # type: ignore[attr-defined]
        return f"{present.person(a.client_name or 'a walk-in', a.client_phone)} at {present.time(a.starts_at, '%H:%M')}"

    def action_check_in(self) -> None:
        if (a := self._appointment()) is not None:
            self.close_visit(a.id, "check_in", None)

    def action_complete(self) -> None:
        if (a := self._appointment()) is None:
            return
        price = format_money(a.price_minor, a.currency).removeprefix(f"{a.currency.upper()} ")
        title = f"{self._who(a)}: {a.service_name} done and paid"
        self.app.push_screen(CompleteDialog(title, price),
                             callback=lambda paid: paid and self.close_visit(a.id, "complete", paid))

    def action_no_show(self) -> None:
        if (a := self._appointment()) is None:
            return
        self.ask_no_show(a)

    @work(thread=True, group="salon-write", exit_on_error=False)
    def ask_no_show(self, a: AppointmentView) -> None:
        from core.salon.settings import booking_settings

        screen = self.screen
        with screen.database.session() as session:  # type: ignore[attr-defined]
            fee = booking_settings(session, screen.actor, screen.org.id).no_show_fee_minor  # type: ignore[attr-defined]
        present = screen.present  # type: ignore[attr-defined]
        details = [f"{a.service_name} with {a.professional_name}.",
                   f"No-show fee: {present.money(fee)} (owed on the appointment)." if fee
                   else "The salon charges no no-show fee."]
        self.app.call_from_thread(
            self.app.push_screen, Confirm(f"Mark {self._who(a)} a no-show?", details, confirm_label="No-show"),
            lambda yes: yes and self.close_visit(a.id, "no_show", None))

    @work(thread=True, group="salon-write", exit_on_error=False)
    def close_visit(self, appointment_id: int, how: str, paid: Payment | None) -> None:
        from core.salon.bookings import check_in, complete, mark_no_show

        screen = self.screen
        actor, org_id = screen.actor, screen.org.id  # type: ignore[attr-defined]
        with screen.database.session() as session:  # type: ignore[attr-defined]
            if how == "check_in":
                done = check_in(session, actor, org_id, appointment_id)
                text = f"{done.client_name or 'The client'} checked in."
            elif how == "no_show":
                done = mark_no_show(session, actor, org_id, appointment_id)
                owed = f", {format_money(done.owed_minor, done.currency)} owing" if done.owed_minor else ""
                text = f"{done.client_name or 'The client'}: no-show{owed}."
            else:
                assert paid is not None
                done = complete(session, actor, org_id, appointment_id, price=paid.price,
                                discount=paid.discount or None, tip=paid.tip or None, method=paid.method)
                text = (f"{done.client_name or 'The client'}: done, paid "
                        f"{format_money(done.paid_minor, done.currency)}.")
        self.post_from_worker(SalonChanged(text, done.id))


class AppointmentTable(ClosesVisits, ThreadSafePost, OfisiTable):
    """Appointments, one per row (``Row.data`` an ``AppointmentView``), closed from the keyboard."""

    BINDINGS: ClassVar[list[BindingType]] = CLOSING_KEYS

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        event.stop()  # told here once, not again by the screen
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.app.report_failure(event.worker.error)  # type: ignore[attr-defined]

    def _appointment(self) -> AppointmentView | None:
        row = self.selected_row
        if row is None:
            self.app.notify("Highlight an appointment first.", severity="warning")
        return None if row is None else row.data
