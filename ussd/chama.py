"""The chama menu for feature phones.

Unknown numbers are told whom to ask; a member without a PIN sets one
(twice); then PIN entry, where three wrong PINs lock USSD for 30 minutes
across sessions and SMS the member once (every hop that reads a PIN reads
the lock first); a member of several chamas picks one;
then the main menu: 1 balance, 2 contribute, 3 loans, 4 mini statement,
5 next meeting, 6 change PIN, 7 guarantee requests (say yes or no to backing
another member's loan). States only decide; the effects (PIN writes,
payment requests, loan requests, SMS) run in :meth:`ChamaMachine.apply`
through the same core services the console uses.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from sqlalchemy import bindparam, event, select
from sqlalchemy.orm import Session

from core import outbox
from core.actors import Actor
from core.chama.ledger import KINDS, balances_from, list_entries, member_balances
from core.chama.loans import answer_guarantee, guarantee_requests, list_loans, loan_limit, request_loan
from core.chama.meetings import next_meeting
from core.chama.members import (MEMBERSHIP_COLUMNS, MEMBERSHIP_ORDER, MEMBERSHIPS, chamas_of_phone, membership_sums,
                                membership_views, memberships_of)
from core.chama.mpesa import CONTRIBUTION, REPAYMENT, ask_to_pay
from core.money import format_money, parse_money
from core.numbers import whole_number
from core.payments import wake_payment_sender
from core.ussd_pins import (check_new_pin, hash_new_pin, pin_matches, pin_state, record_right_pin, record_wrong_pin,
                            same_pin, set_pin)
from core.ussd_sessions import HopState, Preload
from db.models import Org
from db.models_chama import ChamaMember
from db.types import utcnow
from ussd.engine import Hop, Menu, State, Step
from ussd.screens import Screen, picked

GATEWAY = Actor.system_actor("ussd")
MAX_LOAN_MONTHS = 12
# The chosen chama's and member's rows, for the core services a hop calls (ChamaFacts.held).
_HELD = select(Org, ChamaMember).where(Org.id == bindparam("org"), ChamaMember.id == bindparam("member"),
                                       ChamaMember.org_id == Org.id)


class ChamaFacts:
    """What the menu may show, read lazily: a screen reads only what it needs."""

    def __init__(self, session: Session, hop: HopState) -> None:
        self.session, self.phone, self.data, self.preloaded = session, hop.phone, hop.data, hop.preloaded
        self._pin = hop.pin
        self.now = utcnow()
        self._statements: dict[tuple[int, int], list[str]] = {}
        self._held: dict[int, Any] = {}

    @cached_property
    def memberships(self):
        if self.preloaded is not None:
            return membership_views(self.preloaded)
        return chamas_of_phone(self.session, GATEWAY, self.phone)

    @cached_property
    def pin(self):
        return self._pin if self._pin is not None else pin_state(self.session, self.phone)

    def chosen(self, data):
        for org, member in self.memberships:
            if org.id == data.get("org_id"):
                return org, member
        return None

    def held(self, org_id: int, member_id: int) -> None:
        """Read the chama's and the member's rows into the hop's unit of work, in one statement, before
        core services that read them run (they find them there instead of reading each). The
        memberships come as columns (``core.chama.members.MEMBERSHIP_COLUMNS``), and most hops call
        no service."""
        if member_id not in self._held:
            self._held[member_id] = self.session.execute(_HELD, {"org": org_id, "member": member_id}).one()

    def served(self, data):
        """The chosen chama and member, their rows held for the core services this hop calls."""
        org, member = self.chosen(data)
        self.held(org.id, member.id)
        return org, member

    def money(self, data, minor: int) -> str:
        org, _member = self.chosen(data)
        return format_money(minor, org.currency)

    @cached_property
    def _sums(self) -> dict[int, tuple[Any, ...]]:
        """The balances' values read with the session's row (ChamaMachine.preload), by member id."""
        start = len(MEMBERSHIP_COLUMNS)
        return {member.id: row[start:] for (_org, member), row in zip(self.memberships, self.preloaded or ())
                if row[start] is not None}

    def balances(self, data):
        org, member = self.chosen(data)
        if member.id in self._sums:
            return balances_from(self.session, org.id, org.currency, member.id, self._sums[member.id])
        self.held(org.id, member.id)
        return member_balances(self.session, GATEWAY, org.id, member.id)

    def limit(self, data):
        org, member = self.served(data)
        return loan_limit(self.session, GATEWAY, org.id, member.id)

    def loans(self, data):
        org, member = self.served(data)
        return list_loans(self.session, GATEWAY, org.id, member_id=member.id, limit=5)

    def statement(self, data):
        """The last five entries, one short line each: date, what, amount (read once a hop: the
        screen shows them and the SMS repeats them)."""
        org, member = self.served(data)
        if (org.id, member.id) in self._statements:
            return self._statements[org.id, member.id]
        entries = list_entries(self.session, GATEWAY, org.id, member_id=member.id, limit=5)
        lines = [f"{e.occurred_at.astimezone(org.tz):%d/%m} {KINDS[e.kind]} {format_money(e.amount_minor, org.currency)}"
                 for e in entries]
        self._statements[org.id, member.id] = lines
        return lines

    def guarantees(self, data):
        org, member = self.served(data)
        return guarantee_requests(self.session, GATEWAY, org.id, member.id)

    def meeting(self, data):
        org, _member = self.served(data)
        return next_meeting(self.session, GATEWAY, org.id)


def _first_name(facts: ChamaFacts) -> str:
    return facts.memberships[0][1].name.split()[0] if facts.memberships else ""


MPESA_MAX = {"KES": 250_000_00}  # the most M-Pesa takes in one payment, in minor units, where we know it
UNITS = {"KES": "shillings", "UGX": "shillings", "TZS": "shillings", "RWF": "francs", "BIF": "francs"}


def _amount(hop: Hop, text: str) -> int | None:
    """What the member typed as minor units of the chama's currency (``core.money``), whole units only
    (M-Pesa and loans take no cents); None when it is not such an amount."""
    org, _member = hop.facts.chosen(hop.data)
    digits = text.replace(",", "").strip()
    if whole_number(digits) is None or len(digits) > 9:  # ASCII digits only: not ², ① or ٣
        return None
    minor = parse_money(digits, org.currency)
    return minor or None


def _whole(hop: Hop, example: int) -> str:
    org, _member = hop.facts.chosen(hop.data)
    return f"Enter the amount in whole {UNITS.get(org.currency, org.currency + ' units')}, e.g. {example}."


def _after_pin(facts: ChamaFacts, pin: str | None = None) -> Step:
    # A right PIN clears earlier wrong tries, and moves a PIN hashed before the PIN key under it;
    # with neither to do there is nothing to write.
    effects = (("pin_ok", pin),) if facts.pin.failed_attempts or (pin and facts.pin.rehash) else ()
    if len(facts.memberships) == 1:
        org, member = facts.memberships[0]
        return Step(goto="menu", data={"org_id": org.id, "member_id": member.id}, effects=effects)
    return Step(goto="choose", effects=effects)


# ---------------------------------------------------------------- entry and PIN

def _locked(facts: ChamaFacts) -> str:
    at = facts.pin.locked_until.astimezone(facts.memberships[0][0].tz).strftime("%H:%M")
    return f"Too many wrong PINs. USSD is locked until {at}. Try again then."


def _pin_refused(facts: ChamaFacts, pin: str, wrong: str, *, ends: bool) -> Step | None:
    """None for the right PIN. The lock is read first, on every hop that reads a PIN (a screen
    opened before the lock takes no guess after it); a wrong PIN counts and says ``wrong``."""
    if facts.pin.locked(facts.now):
        return Step(end=_locked(facts))
    if pin_matches(facts.pin, pin):
        return None
    return Step(effects=(("wrong_pin",),), end=wrong) if ends else Step(effects=(("wrong_pin",),), notice=wrong)


def show_entry(hop: Hop) -> Screen:
    facts: ChamaFacts = hop.facts
    if not facts.memberships:
        return Screen("This number is not registered with any chama on Ofisi. "
                      "Ask your chama's secretary to add you, then dial again.", end=True)
    if facts.pin.locked(facts.now):
        return Screen(_locked(facts), end=True)
    if facts.pin.pin_hash is None:
        return Screen(f"Welcome {_first_name(facts)}. Create a 4-digit PIN for your chama account:")
    return Screen(f"Welcome {_first_name(facts)}. Enter your PIN:")


def handle_entry(hop: Hop) -> Step:
    facts: ChamaFacts = hop.facts
    if facts.pin.pin_hash is None:
        problem = check_new_pin(hop.input)
        if problem:
            return Step(notice=problem)
        return Step(goto="confirm_pin", data={"new_pin": hash_new_pin(hop.input)})
    left = facts.pin.tries_left - 1
    wrong = "Wrong PIN 3 times. USSD is locked for 30 minutes; we have sent you an SMS." if left <= 0 else \
        f"Wrong PIN. {left} tr{'ies' if left > 1 else 'y'} left."
    return _pin_refused(facts, hop.input, wrong, ends=left <= 0) or _after_pin(facts, hop.input)


def handle_confirm_pin(hop: Hop) -> Step:
    if len(hop.input) == 4 and same_pin(hop.input, hop.data.get("new_pin")):
        step = _after_pin(hop.facts)
        return Step(goto=step.goto, data={**step.data, "new_pin": None}, effects=(("set_pin", hop.input),),
                    notice="PIN set.")
    return Step(goto="entry", data={"new_pin": None}, notice="The PINs did not match.")


def show_choose(hop: Hop) -> Menu:
    return Menu("Choose your chama:", [f"{n} {org.name}" for n, (org, _m) in enumerate(hop.facts.memberships, 1)],
                footer="")


def handle_choose(hop: Hop) -> Step:
    choice = picked(hop.input, hop.facts.memberships)
    if choice is not None:
        org, member = choice
        return Step(goto="menu", data={"org_id": org.id, "member_id": member.id})
    return Step(notice="Reply with the chama's number.")


# ---------------------------------------------------------------- main menu

MENU = {"1": "balance", "2": "contribute", "3": "loans", "4": "statement", "5": "meeting", "6": "old_pin",
        "7": "guarantees"}


def show_menu(hop: Hop) -> Menu:
    org, _member = hop.facts.chosen(hop.data)
    return Menu(org.name, ["1 Balance", "2 Contribute", "3 Loans", "4 Mini statement", "5 Next meeting",
                           "6 Change PIN", "7 Guarantees"], footer="")


def handle_menu(hop: Hop) -> Step:
    target = MENU.get(hop.input)
    if target is None:
        return Step(notice="Reply with a number from 1 to 7.")
    if target == "statement":
        return Step(goto=target, effects=(("statement_sms",),))
    return Step(goto=target)


def stay(_hop: Hop) -> Step:
    return Step(notice="Reply 0 to go back or 00 for the main menu.")


def show_balance(hop: Hop) -> Screen:
    b = hop.facts.balances(hop.data)
    m = lambda minor: hop.facts.money(hop.data, minor)  # noqa: E731
    cycle = f"Cycle {b.cycle.number}\n" if b.cycle else ""
    return Screen(f"{cycle}Savings: {m(b.savings_minor)}\nLoan: {m(b.loan_outstanding_minor)}\n"
                  f"Fines: {m(b.fines_owed_minor)}\n0 Back 00 Home")


def ask_amount(prompt: str, confirm_state: str, most_owed=None):
    def show(hop: Hop) -> Screen:
        return Screen(prompt(hop) if callable(prompt) else prompt)

    def handle(hop: Hop) -> Step:
        amount = _amount(hop, hop.input)
        if amount is None:
            return Step(notice=_whole(hop, 500))
        org, _member = hop.facts.chosen(hop.data)
        most = MPESA_MAX.get(org.currency)
        if most is not None and amount > most:
            return Step(notice=f"M-Pesa takes at most {format_money(most, org.currency)} at a time.")
        if most_owed is not None:
            owed = most_owed(hop)
            if amount > owed:
                return Step(notice=f"You owe {hop.facts.money(hop.data, owed)}; enter that or less.")
        return Step(goto=confirm_state, data={"amount": amount})

    return State(show=show, handle=handle)


def confirm(question, effect, done):
    def show(hop: Hop) -> Screen:
        return Screen(f"{question(hop)}\n1 Yes\n0 Back")

    def handle(hop: Hop) -> Step:
        if hop.input != "1":
            return Step(notice="Reply 1 to confirm or 0 to go back.")
        return Step(effects=(effect(hop),), end=done(hop))

    return State(show=show, handle=handle)


def _shown(hop: Hop, minor: int) -> str:
    return hop.facts.money(hop.data, minor)


def _owed(hop: Hop) -> int:
    """What a repayment may pay: fines first, then the loans (more is refused before M-Pesa is asked)."""
    b = hop.facts.balances(hop.data)
    return b.loan_outstanding_minor + b.fines_owed_minor


def show_loans(hop: Hop) -> Menu:
    return Menu("Loans", ["1 Request a loan", "2 Loan status", "3 Repay a loan"])


def handle_loans(hop: Hop) -> Step:
    return {"1": Step(goto="loan_amount"), "2": Step(goto="loan_status"),
            "3": Step(goto="repay_amount")}.get(hop.input, Step(notice="Reply 1, 2 or 3."))


def show_loan_amount(hop: Hop) -> Screen:
    available = hop.facts.limit(hop.data).available_minor
    if available <= 0:
        return Screen("You cannot borrow more right now: loans are limited by your savings.\n0 Back")
    return Screen(f"You can borrow up to {hop.facts.money(hop.data, available)}. Enter the amount:")


def handle_loan_amount(hop: Hop) -> Step:
    amount = _amount(hop, hop.input)
    if amount is None:
        return Step(notice=_whole(hop, 5000))
    if amount > hop.facts.limit(hop.data).available_minor:
        return Step(notice="That is more than you can borrow.")
    return Step(goto="loan_months", data={"amount": amount})


def handle_loan_months(hop: Hop) -> Step:
    months = whole_number(hop.input)
    if months is not None and 1 <= months <= MAX_LOAN_MONTHS:
        return Step(goto="loan_confirm", data={"months": months})
    return Step(notice=f"Enter a number of months from 1 to {MAX_LOAN_MONTHS}.")


def show_loan_status(hop: Hop) -> Menu:
    loans = hop.facts.loans(hop.data)
    if not loans:
        return Menu("You have no loans.")
    return Menu("Your loans:", [f"{hop.facts.money(hop.data, loan.principal_minor)} {loan.status}"
                                for loan in loans])


def show_repay_amount(hop: Hop) -> Screen:
    b = hop.facts.balances(hop.data)
    if b.loan_outstanding_minor <= 0:
        return Screen("You have no loan to repay.\n0 Back")
    fines = f" and fines {hop.facts.money(hop.data, b.fines_owed_minor)}" if b.fines_owed_minor else ""
    return Screen(f"Loan outstanding {hop.facts.money(hop.data, b.loan_outstanding_minor)}{fines}. "
                  "Enter the amount to repay:")


def show_statement(hop: Hop) -> Menu:
    lines = hop.facts.statement(hop.data)
    return Menu("Last entries (also sent by SMS):" if lines else "No entries yet.", lines)


def show_meeting(hop: Hop) -> Screen:
    meeting = hop.facts.meeting(hop.data)
    if meeting is None:
        return Screen("No meeting is scheduled yet.\n0 Back")
    org, _member = hop.facts.chosen(hop.data)
    when = meeting.starts_at.astimezone(org.tz).strftime("%a %d %b %H:%M")
    return Screen(f"Next meeting: {when}\nAt: {meeting.venue}\n0 Back")


def show_guarantees(hop: Hop) -> Menu:
    asks = hop.facts.guarantees(hop.data)
    if not asks:
        return Menu("Nobody is waiting for you to guarantee a loan.")
    return Menu("Guarantee which loan?", [f"{n} {loan.member_name.split()[0]} {hop.facts.money(hop.data, loan.principal_minor)}"
                                          for n, loan in enumerate(asks, 1)])


def handle_guarantees(hop: Hop) -> Step:
    loan = picked(hop.input, hop.facts.guarantees(hop.data))
    if loan is None:
        return Step(notice="Reply with the loan's number.")
    return Step(goto="guarantee_answer", data={"loan_id": loan.id})


def show_guarantee_answer(hop: Hop) -> Screen:
    _org, member = hop.facts.chosen(hop.data)
    loan = next((ln for ln in hop.facts.guarantees(hop.data) if ln.id == hop.data.get("loan_id")), None)
    if loan is None:
        return Screen("That request is no longer waiting.\n0 Back")
    pledge = next(g.amount_minor for g in loan.guarantors if g.member_id == member.id)
    return Screen(f"Guarantee {loan.member_name.split()[0]}'s loan {loan.id} of "
                  f"{hop.facts.money(hop.data, loan.principal_minor)} with "
                  f"{hop.facts.money(hop.data, pledge)} of your savings?\n1 Yes\n2 No\n0 Back")


def handle_guarantee_answer(hop: Hop) -> Step:
    if hop.input not in ("1", "2"):
        return Step(notice="Reply 1 for yes or 2 for no.")
    accept = hop.input == "1"
    return Step(effects=(("guarantee", hop.data["loan_id"], accept),),
                end="Thank you: you guarantee the loan." if accept else "Thank you: you declined to guarantee it.")


def handle_old_pin(hop: Hop) -> Step:
    return _pin_refused(hop.facts, hop.input, "Wrong PIN. Dial again to try once more.", ends=True) or \
        Step(goto="new_pin")


def handle_new_pin(hop: Hop) -> Step:
    problem = check_new_pin(hop.input)
    if problem:
        return Step(notice=problem)
    return Step(goto="new_pin_again", data={"new_pin": hash_new_pin(hop.input)})


def handle_new_pin_again(hop: Hop) -> Step:
    if len(hop.input) == 4 and same_pin(hop.input, hop.data.get("new_pin")):
        return Step(data={"new_pin": None}, effects=(("set_pin", hop.input),), end="Your PIN is changed.")
    return Step(goto="new_pin", data={"new_pin": None}, notice="The PINs did not match.")


class ChamaMachine:
    start, home = "entry", "menu"
    # Every screen after the first names the member's chama, so her memberships come with the session's row,
    # and so does her PIN in the states that read it (and on the first hop, whose state reads it).
    # At the main menu, her balances too: balance is what members ask for most, and its screen follows.
    preload = Preload(MEMBERSHIP_COLUMNS, MEMBERSHIPS, memberships_of, order_by=MEMBERSHIP_ORDER,
                      pin_states=frozenset({"entry", "confirm_pin", "choose", "old_pin"}),
                      also=membership_sums, also_states=frozenset({"menu"}))
    states = {
        "entry": State(show=show_entry, handle=handle_entry),
        "confirm_pin": State(show=lambda h: Screen("Enter the same PIN again:"), handle=handle_confirm_pin),
        "choose": State(show=show_choose, handle=handle_choose),
        "menu": State(show=show_menu, handle=handle_menu),
        "balance": State(show=show_balance, handle=stay),
        "contribute": ask_amount("Enter the amount to contribute:", "contribute_confirm"),
        "contribute_confirm": confirm(
            lambda h: f"Contribute {_shown(h, h.data['amount'])} by M-Pesa?",
            lambda h: ("pay", CONTRIBUTION, h.data["amount"]),
            lambda h: f"Check your phone: an M-Pesa prompt for {_shown(h, h.data['amount'])} is on its way. "
                      "We will SMS you when it is received."),
        "loans": State(show=show_loans, handle=handle_loans),
        "loan_amount": State(show=show_loan_amount, handle=handle_loan_amount),
        "loan_months": State(show=lambda h: Screen(f"Repay over how many months? (1-{MAX_LOAN_MONTHS})"),
                             handle=handle_loan_months),
        "loan_confirm": confirm(
            lambda h: f"Request a loan of {_shown(h, h.data['amount'])} over {h.data['months']} months?",
            lambda h: ("loan", h.data["amount"], h.data["months"]),
            lambda h: f"Your request for {_shown(h, h.data['amount'])} is with the officials for approval. "
                      "We will SMS you."),
        "loan_status": State(show=show_loan_status, handle=stay),
        "repay_amount": State(show=show_repay_amount, handle=ask_amount("", "repay_confirm", _owed).handle),
        "repay_confirm": confirm(
            lambda h: f"Repay {_shown(h, h.data['amount'])} by M-Pesa?",
            lambda h: ("pay", REPAYMENT, h.data["amount"]),
            lambda h: f"Check your phone: an M-Pesa prompt for {_shown(h, h.data['amount'])} is on its way."),
        "statement": State(show=show_statement, handle=stay),
        "meeting": State(show=show_meeting, handle=stay),
        "guarantees": State(show=show_guarantees, handle=handle_guarantees),
        "guarantee_answer": State(show=show_guarantee_answer, handle=handle_guarantee_answer),
        "old_pin": State(show=lambda h: Screen("Enter your current PIN:"), handle=handle_old_pin),
        "new_pin": State(show=lambda h: Screen("Enter a new 4-digit PIN:"), handle=handle_new_pin),
        "new_pin_again": State(show=lambda h: Screen("Enter the new PIN again:"), handle=handle_new_pin_again),
    }

    def facts(self, session: Session, hop: HopState) -> ChamaFacts:
        return ChamaFacts(session, hop)

    def serves(self, facts: ChamaFacts) -> bool:
        return bool(facts.memberships)

    def apply(self, session: Session, hop: HopState, effects, facts: ChamaFacts) -> dict[str, Any]:
        chosen = facts.chosen(hop.data)
        if chosen is not None:
            hop.org_id = chosen[0].id
        for effect in effects:
            kind = effect[0]
            if kind == "pin_ok":
                record_right_pin(session, hop.phone, effect[1])
            elif kind == "set_pin":
                set_pin(session, hop.phone, effect[1])
            elif kind == "wrong_pin":
                locked_until = record_wrong_pin(session, hop.phone, now=facts.now)
                if locked_until is not None and facts.memberships:
                    org, member = facts.memberships[0]
                    facts.held(org.id, member.id)
                    outbox.enqueue(session, org.id, to=hop.phone, contact_id=member.contact_id, purpose="transactional",
                                   idempotency_key=f"ussd-locked:{hop.phone}:{locked_until:%Y%m%dT%H%M%S}",
                                   body="Your chama USSD PIN was entered wrongly 3 times, so USSD is locked for "
                                        "30 minutes. If this was not you, tell your chair.")
            elif kind == "pay":
                _purpose, minor = effect[1], effect[2]
                org, member = facts.served(hop.data)
                ask_to_pay(session, GATEWAY, org.id, member.id, minor, purpose=_purpose,
                           idempotency_key=f"ussd:{hop.session_id}:{_purpose}")
                event.listen(session, "after_commit", lambda _s: wake_payment_sender(), once=True)
            elif kind == "loan":
                org, member = facts.served(hop.data)
                request_loan(session, GATEWAY, org.id, member.id, effect[1], months=effect[2],
                             purpose="Requested by USSD", by_member_id=member.id)
            elif kind == "guarantee":
                org, member = facts.served(hop.data)
                answer_guarantee(session, GATEWAY, org.id, effect[1], member.id, accept=effect[2])
            elif kind == "statement_sms":
                org, member = facts.served(hop.data)
                lines = facts.statement(hop.data)
                if lines:
                    outbox.enqueue(session, org.id, to=hop.phone, contact_id=member.contact_id, purpose="transactional",
                                   body="Mini statement:\n" + "\n".join(lines),
                                   idempotency_key=f"ussd-statement:{hop.session_id}")
        return {}

