"""Recording a contribution paid in cash or to the chama's account: who, how much, the slip."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label

from console.chama.common import OrgModal
from console.widgets.text import literal
from core.chama import ledger
from core.chama.members import find_member
from core.errors import InvalidInput
from core.money import format_money, parse_money


class RecordPaymentModal(OrgModal):
    """A contribution paid in cash or to the chama's account: who, how much, the reference."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="payment-form"):
            yield Label(literal(f"Record a contribution to {self.org.name}"), classes="form-title")
            yield Label("Member (member number or phone)")
            yield Input(id="payment-member")
            yield Label(f"Amount in {self.org.currency}")
            yield Input(id="payment-amount")
            yield Label("Reference (receipt or bank slip number)")
            yield Input(id="payment-reference")
            with Horizontal(classes="buttons"):
                yield Button("Record", id="save-payment", variant="primary")
                yield Button("Cancel", id="cancel-payment")

    def on_mount(self) -> None:
        self.query_one("#payment-member", Input).focus()

    @on(Input.Submitted)
    def _enter(self, event: Input.Submitted) -> None:
        if event.input.id == "payment-reference":
            self._save()
        else:
            self.focus_next()

    @on(Button.Pressed, "#save-payment")
    def _save(self) -> None:
        self.record(self.query_one("#payment-member", Input).value, self.query_one("#payment-amount", Input).value,
                    self.query_one("#payment-reference", Input).value)

    @work(thread=True, exclusive=True, group="record-payment", exit_on_error=False)
    def record(self, who: str, amount: str, reference: str) -> None:
        if not reference.strip():
            raise InvalidInput("Give the receipt or slip number, so the same payment is never recorded twice.")
        with self.database.session() as session:
            member = find_member(session, self.actor, self.org.id, who)
            entry = ledger.record_contribution(session, self.actor, self.org.id, member.id,
                                               parse_money(amount, self.org.currency), source="cash",
                                               reference=reference.strip())
        amount_text = format_money(entry.amount_minor, self.org.currency)
        # A slip reference already on the books writes nothing: say so, as the CLI does.
        said = (f"Already recorded as entry {entry.id} ({amount_text} from {member.name}); nothing new was written."
                if entry.replayed else f"{amount_text} from {member.name} recorded as entry {entry.id}.")
        self.app.call_from_thread(self.notify, said, severity="warning" if entry.replayed else "information",
                                  markup=False)
        self.app.call_from_thread(self.dismiss, True)

    @on(Button.Pressed, "#cancel-payment")
    def _cancel(self) -> None:
        self.dismiss(None)

