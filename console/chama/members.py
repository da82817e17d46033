"""Members, searched and paged in the core, and what an official does to one of them.

The list is an ``OfisiTable`` paged through ``core.chama.members.list_members``
(``/`` searches in the core, the next page is read when the cursor reaches the
end). Every action works on the member under the cursor, and the cursor stays
on that member when the list is read again:

- Enter: the member's statement; ``s``: reminder SMS off or on (the same record as STOP/START);
- ``a``: add a member; ``e``: edit the member's role and number;
- ``f``: fine; ``p``: a payment of her fines; ``r``: a loan repayment (cash or bank);
- ``o``: her opening balance (savings from before Ofisi, which pay no invoice);
- ``d``: her loan in default is recovered from its guarantors, pro rata (asks first);
- ``x``: the member leaves: her exit settlement (savings less what she owes) is named, then asked
  for as a payout the officials approve.

Each dialog's title names the member; each calls the same core service as the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Label, Static

from console.base import ConsoleScreen
from console.chama.common import member_label
from console.chama.statement import StatementModal
from console.widgets.confirm import Confirm
from console.widgets.dialog import AskText, Dialog
from console.widgets.present import Presenter
from console.widgets.table import Cell, Column, OfisiTable, Row
from console.widgets.text import literal
from core.actors import Actor
from core.chama import exits, fines, ledger, loans
from core.chama.ledger import MemberBalances
from core.chama.members import MemberView, add_member, get_member, list_members, update_member
from core.chama.settlement import Settlement
from core.errors import InvalidInput
from core.money import parse_money
from core.orgs import OrgView
from db.engine import Database

MEMBERS_PAGE = 50


class MembersLoaded(Message):
    def __init__(self, members: list[MemberView], balances: dict[int, MemberBalances], more: bool,
                 first_page: bool) -> None:
        super().__init__()
        self.members, self.balances, self.more, self.first_page = members, balances, more, first_page


class MemberChanged(Message):
    def __init__(self, member: MemberView, said: str, balances: MemberBalances | None = None) -> None:
        super().__init__()
        self.member, self.said, self.balances = member, said, balances


def sms_cell(member: MemberView) -> str:
    return "off" if member.sms_opt_out else "on"


@dataclass(frozen=True)
class MemberDetails:
    name: str
    phone: str
    number: str
    role: str


class MemberForm(Dialog[MemberDetails]):
    """Add a member (name, phone, number, role) or edit one's number and role."""

    def __init__(self, title: str, member: MemberView | None = None) -> None:
        super().__init__(title, confirm_label="Save")
        self.member = member

    def compose_body(self) -> ComposeResult:
        m = self.member
        if m is None:
            yield Label("Name")
            yield Input(id="member-name")
            yield Label("Phone")
            yield Input(id="member-phone")
        yield Label("Member number (empty: the next free one)" if m is None else "Member number")
        yield Input(m.member_number if m else "", id="member-number")
        yield Label("Role (member, chair, treasurer, secretary)")
        yield Input(m.role if m else "member", id="member-role")

    def on_mount(self) -> None:
        self.query_one("Input").focus()

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        if event.input.id == "member-role":
            self.action_confirm()
        else:
            self.focus_next()

    def answer(self) -> MemberDetails | None:
        value = lambda key: self.query_one(f"#member-{key}", Input).value.strip()  # noqa: E731
        name = self.member.name if self.member else value("name")
        phone = self.member.phone if self.member else value("phone")
        if not name or not phone:
            self.notify("A member needs a name and a phone.", markup=False)
            return None
        return MemberDetails(name, phone, value("number"), value("role") or "member")


@dataclass(frozen=True)
class MoneyAnswer:
    amount_minor: int
    text: str


class MoneyForm(Dialog[MoneyAnswer]):
    """An amount and a line of text (a fine's reason, a payment's slip number), about one member."""

    def __init__(self, title: str, currency: str, *, text_label: str, confirm_label: str) -> None:
        super().__init__(title, confirm_label=confirm_label)
        self.currency, self.text_label = currency, text_label

    def compose_body(self) -> ComposeResult:
        yield Label(f"Amount in {self.currency}")
        yield Input(id="money-amount")
        yield Label(self.text_label)
        yield Input(id="money-text")

    def on_mount(self) -> None:
        self.query_one("#money-amount", Input).focus()

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        if event.input.id == "money-text":
            self.action_confirm()
        else:
            self.focus_next()

    def answer(self) -> MoneyAnswer | None:
        text = self.query_one("#money-text", Input).value.strip()
        try:
            amount = parse_money(self.query_one("#money-amount", Input).value, self.currency)
        except InvalidInput as error:
            self.notify(str(error), severity="warning", markup=False)
            return None
        if not text:
            self.notify(f"{self.text_label}: write it, or press Escape to cancel.", markup=False)
            return None
        return MoneyAnswer(amount, text)


class MembersScreen(ConsoleScreen):
    """Members with their savings, loan and fines; the official's member tasks by key."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("s", "toggle_sms", "SMS on/off", id="member-sms",
                tooltip="Stop or restart the highlighted member's SMS."),
        Binding("a", "add", "Add member", id="member-add", tooltip="Add a member with a name and a phone."),
        Binding("e", "edit", "Edit", id="member-edit", tooltip="Change the highlighted member's number or role."),
        Binding("f", "fine", "Fine", id="member-fine", tooltip="Fine the highlighted member; they are told why."),
        Binding("p", "pay_fine", "Pay fine", id="member-pay-fine",
                tooltip="Record money the highlighted member paid against her fines."),
        Binding("r", "repay", "Repayment", id="member-repay",
                tooltip="Record a loan repayment by the highlighted member (cash or bank)."),
        Binding("o", "opening_balance", "Opening bal.", id="member-opening",
                tooltip="The savings the highlighted member brought from before Ofisi (pay no invoice)."),
        Binding("d", "recover", "Recover default", id="member-recover",
                tooltip="Charge the highlighted member's loan in default to its guarantors (asks first)."),
        Binding("x", "exit_member", "Exit", id="member-exit",
                tooltip="The highlighted member leaves the chama (asks first)."),
    ]

    def __init__(self, database: Database, actor: Actor, org: OrgView, *, may_change: bool = True,
                 may_money: bool = True) -> None:
        super().__init__(database)
        self.actor, self.org = actor, org
        self.present = Presenter.for_org(org)
        self.may_change, self.may_money = may_change, may_money
        self.more = False
        self.search = ""
        self.rows: list[Row] = []

    def compose_body(self) -> ComposeResult:
        with Vertical(id="members-page"):
            yield OfisiTable([Column(label, label.lower().rstrip(".")) for label in
                              ("No.", "Name", "Phone", "Role", "Status", "SMS", "Savings", "Loan", "Fines")],
                             noun="members", search_in_core=True,
                             empty="No members found: a adds one, / searches again.", id="members")
            yield Static("", id="members-status", markup=False)

    def on_mount(self) -> None:
        self.title, self.sub_title = self.org.name, "Members"
        self.query_one("#members", OfisiTable).focus()
        self.load_page(None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("toggle_sms", "add", "edit"):
            return self.may_change
        if action in ("fine", "pay_fine", "repay", "opening_balance", "recover", "exit_member"):
            return self.may_money
        return True

    # ------------------------------------------------------------ reading

    @on(OfisiTable.SearchChanged, "#members")
    def _search(self, event: OfisiTable.SearchChanged) -> None:
        self.search = event.text
        self.load_page(None)

    @on(OfisiTable.NearEnd, "#members")
    def _more(self) -> None:
        if self.more and self.rows:
            self.more = False
            self.load_page(int(self.rows[-1].id))

    @work(thread=True, exclusive=True, group="members", exit_on_error=False)
    def load_page(self, after_id: int | None) -> None:
        with self.database.session() as session:
            found = list_members(session, self.actor, self.org.id, search=self.search, after_id=after_id,
                                 limit=MEMBERS_PAGE + 1)
            page = found[:MEMBERS_PAGE]
            balances = ledger.balances_of_members(session, self.actor, self.org.id, [m.id for m in page])
        self.post_from_worker(MembersLoaded(page, balances, len(found) > MEMBERS_PAGE, after_id is None))

    def row(self, m: MemberView, b: MemberBalances) -> Row:
        money = self.present.money
        return Row(m.id, (m.member_number, m.name, self.present.phone(m.phone), m.role, m.status, sms_cell(m),
                          Cell(money(b.savings_minor), b.savings_minor),
                          Cell(money(b.loan_outstanding_minor), b.loan_outstanding_minor),
                          Cell(money(b.fines_owed_minor), b.fines_owed_minor)), data=(m, b))

    def on_members_loaded(self, message: MembersLoaded) -> None:
        table = self.query_one("#members", OfisiTable)
        new = [self.row(m, message.balances[m.id]) for m in message.members]
        if message.first_page:
            self.rows = new
            table.reload(new)
        else:
            self.rows += new
            table.append(new)
        self.more = message.more
        self.query_one("#members-status", Static).update(literal(
            f"{len(self.rows)} member(s) shown" + (" — more below" if self.more else "")
            + (f" matching “{self.search.strip()}”" if self.search.strip() else "")))

    def on_member_changed(self, message: MemberChanged) -> None:
        member = message.member
        for i, row in enumerate(self.rows):
            if row.id == member.id:
                self.rows[i] = self.row(member, message.balances or row.data[1])
                break
        else:
            self.load_page(None)
        self.query_one("#members", OfisiTable).reload(self.rows)
        self.notify(message.said, markup=False)

    # ------------------------------------------------------------ acting on the member under the cursor

    def selected(self) -> tuple[MemberView, MemberBalances] | None:
        row = self.query_one("#members", OfisiTable).selected_row
        if row is None:
            self.notify("No member is highlighted.", markup=False)
            return None
        return row.data

    def named(self, m: MemberView) -> str:
        return self.present.person(member_label(m.name, m.member_number), m.phone)

    @on(OfisiTable.RowSelected, "#members")
    def _statement(self, event: OfisiTable.RowSelected) -> None:
        if (picked := self.selected()) is not None:
            self.app.push_screen(StatementModal(self.database, self.actor, self.org, picked[0].id))

    def action_toggle_sms(self) -> None:
        if (picked := self.selected()) is not None:
            self.change(picked[0].id, sms_opt_out=not picked[0].sms_opt_out)

    def action_add(self) -> None:
        self.app.push_screen(MemberForm(f"Add a member to {self.org.name}"),
                             callback=lambda d: d and self.add(d))

    def action_edit(self) -> None:
        if (picked := self.selected()) is not None:
            m = picked[0]
            self.app.push_screen(MemberForm(f"Edit {self.named(m)}", m),
                                 callback=lambda d: d and self.change(m.id, member_number=d.number, role=d.role))

    def action_fine(self) -> None:
        if (picked := self.selected()) is not None:
            m = picked[0]
            self.app.push_screen(MoneyForm(f"Fine {self.named(m)}", self.org.currency,
                                           text_label="What is the fine for? (the member is told)",
                                           confirm_label="Fine"),
                                 callback=lambda a: a and self.fine(m, a))

    def action_repay(self) -> None:
        self.ask_payment("Repayment", "loan_outstanding_minor", "has no loan to repay", loans.record_repayment,
                         "bank")

    def action_pay_fine(self) -> None:
        self.ask_payment("Fine payment", "fines_owed_minor", "owes no fines", fines.record_fine_payment, "cash")

    def ask_payment(self, what: str, owed: str, nothing_owed: str, service, source: str) -> None:
        """Money the highlighted member pays against what she owes (``owed``, a balance), through ``service``."""
        if (picked := self.selected()) is not None:
            m, b = picked
            if not getattr(b, owed):
                self.notify(f"{m.name} {nothing_owed}.", markup=False)
                return
            self.app.push_screen(MoneyForm(f"{what} by {self.named(m)} (owes "
                                           f"{self.present.money(getattr(b, owed))})", self.org.currency,
                                           text_label="Reference (receipt or bank slip number)",
                                           confirm_label="Record"),
                                 callback=lambda a: a and self.pay(m, a, what, service, source))

    def action_opening_balance(self) -> None:
        if (picked := self.selected()) is not None:
            m = picked[0]
            self.app.push_screen(MoneyForm(f"Opening balance of {self.named(m)}", self.org.currency,
                                           text_label="Where it comes from (the old book, its page)",
                                           confirm_label="Record"),
                                 callback=lambda a: a and self.opening_balance(m, a))

    def action_recover(self) -> None:
        if (picked := self.selected()) is not None:
            self.prepare_recovery(picked[0])

    @work(thread=True, group="member-recover", exit_on_error=False)
    def prepare_recovery(self, m: MemberView) -> None:
        with self.database.session() as session:
            found = loans.list_loans(session, self.actor, self.org.id, member_id=m.id, status="defaulted")
        if not found:
            self.app.call_from_thread(self.notify, f"{m.name} has no loan in default.", markup=False)
            return
        self.app.call_from_thread(self.ask_recovery, m, found[0])

    def ask_recovery(self, m: MemberView, loan: loans.LoanView) -> None:
        money = self.present.money
        backing = [g for g in loan.guarantors if g.status == "accepted"]
        self.app.push_screen(
            Confirm(f"Recover loan {loan.id} of {self.named(m)} from its guarantors?",
                    [f"Still owed {money(loan.principal_outstanding_minor + loan.interest_owed_minor)}.",
                     "Charged to " + ", ".join(f"{g.name} (pledged {money(g.amount_minor)})" for g in backing)
                     + " in proportion to their pledges, each at most her pledge and her savings; each is told."
                     if backing else "Nobody guarantees it: nothing can be recovered."],
                    confirm_label="Recover"),
            callback=lambda yes: yes and self.recover(m, loan.id))

    @work(thread=True, group="member-money", exit_on_error=False)
    def recover(self, m: MemberView, loan_id: int) -> None:
        with self.database.session() as session:
            loan = loans.recover_default(session, self.actor, self.org.id, loan_id)
            b = ledger.member_balances(session, self.actor, self.org.id, m.id)
        left = self.present.money(loan.principal_outstanding_minor + loan.interest_owed_minor)
        self.post_from_worker(MemberChanged(m, f"Loan {loan.id} is {loan.status}; {left} still owed.", b))

    @work(thread=True, group="member-money", exit_on_error=False)
    def opening_balance(self, m: MemberView, a: MoneyAnswer) -> None:
        with self.database.session() as session:
            entry = ledger.record_opening_balance(session, self.actor, self.org.id, m.id, a.amount_minor,
                                                  memo=a.text)
            b = ledger.member_balances(session, self.actor, self.org.id, m.id)
        said = (f"{m.name}'s opening balance of {self.present.money(entry.amount_minor)} is entry {entry.id}"
                + ("; it was already recorded." if entry.replayed else "."))
        self.post_from_worker(MemberChanged(m, said, b))

    def action_exit_member(self) -> None:
        if (picked := self.selected()) is not None:
            self.prepare_exit(picked[0])

    @work(thread=True, group="member-exit", exit_on_error=False)
    def prepare_exit(self, m: MemberView) -> None:
        with self.database.session() as session:
            settle = exits.exit_settlement(session, self.actor, self.org.id, m.id)
        self.app.call_from_thread(self.ask_exit, m, settle)

    def ask_exit(self, m: MemberView, settle: Settlement) -> None:
        money = self.present.money
        self.app.push_screen(
            Confirm(f"{self.named(m)} leaves the chama?",
                    [f"Savings {money(settle.savings_minor)}; settles first {money(settle.owed_minor)} "
                     f"(fines, loan interest and principal); paid to her {money(settle.paid_minor)}.",
                     "The settlement is a payout the officials approve; then she takes no part in invoices, "
                     "fines or the share-out."], confirm_label="Exit"),
            callback=lambda yes: yes and self.app.push_screen(
                AskText(f"Why does {self.named(m)} leave?", "Her statement keeps it.", confirm_label="Exit"),
                callback=lambda reason: reason and self.request_exit(m, reason)))

    @work(thread=True, group="member-exit", exit_on_error=False)
    def request_exit(self, m: MemberView, reason: str) -> None:
        with self.database.session() as session:
            payout = exits.request_exit(session, self.actor, self.org.id, m.id, reason=reason)
            member = get_member(session, self.actor, self.org.id, m.id)
            b = ledger.member_balances(session, self.actor, self.org.id, m.id)
        said = (f"{m.name} has left the chama." if payout is None else
                f"{m.name}'s exit settlement of {self.present.money(payout.amount_minor)} is payout {payout.id}; "
                "approve and pay it under Payouts (w on the home).")
        self.post_from_worker(MemberChanged(member, said, b))

    @work(thread=True, group="member-add", exit_on_error=False)
    def add(self, d: MemberDetails) -> None:
        with self.database.session() as session:
            member = add_member(session, self.actor, self.org.id, name=d.name, phone=d.phone,
                                member_number=d.number or None, role=d.role)
        self.app.call_from_thread(self.notify, f"{member.name} added as member no. {member.member_number}.")
        self.app.call_from_thread(self.load_page, None)

    @work(thread=True, group="member-change", exit_on_error=False)
    def change(self, member_id: int, **changes) -> None:
        with self.database.session() as session:
            member = update_member(session, self.actor, self.org.id, member_id, **changes)
        if "sms_opt_out" in changes:
            said = f"{member.name} gets {'no SMS' if member.sms_opt_out else 'SMS again'}."
        elif "status" in changes:
            said = f"{member.name} is now {member.status}."
        else:
            said = f"{member.name} saved: no. {member.member_number}, {member.role}."
        self.post_from_worker(MemberChanged(member, said))

    @work(thread=True, group="member-money", exit_on_error=False)
    def fine(self, m: MemberView, a: MoneyAnswer) -> None:
        with self.database.session() as session:
            fines.charge_fine(session, self.actor, self.org.id, m.id, a.amount_minor, reason=a.text)
            b = ledger.member_balances(session, self.actor, self.org.id, m.id)
        self.post_from_worker(MemberChanged(m, f"{m.name} fined {self.present.money(a.amount_minor)}.", b))

    @work(thread=True, group="member-money", exit_on_error=False)
    def pay(self, m: MemberView, a: MoneyAnswer, what: str, service, source: str) -> None:
        with self.database.session() as session:
            entry = service(session, self.actor, self.org.id, m.id, a.amount_minor, source=source, reference=a.text)
            b = ledger.member_balances(session, self.actor, self.org.id, m.id)
        said = (f"Already recorded as entry {entry.id}; nothing new was written." if entry.replayed else
                f"{what} of {self.present.money(a.amount_minor)} by {m.name} recorded as entry {entry.id}.")
        self.post_from_worker(MemberChanged(m, said, b))
