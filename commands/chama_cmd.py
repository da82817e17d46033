"""`ofisi chama …`: a chama's ledger from scripts — settings, members, money, loans,
payouts, meetings, the merry-go-round and share-out.

Members are named by member number or phone (as people write it). Amounts are
in the chama's currency as people write them (``1500``, ``1,500.50``). Times
without an offset are the chama's wall clock. The command line is a trusted
system front end, so approvals name the official deciding with ``--by``.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any, Optional

import typer

from commands.common import err, org_id_for, print_json, print_table, unit_of_work

app = typer.Typer(help="Chamas: members, contributions, loans, fines, payouts, meetings, share-out.",
                  no_args_is_help=True)
members_app = typer.Typer(help="Add, list, show and change members.", no_args_is_help=True)
loan_app = typer.Typer(help="Loans: request, approve, reject, disburse, repay, list, show.", no_args_is_help=True)
payout_app = typer.Typer(help="Payouts: request, approve, reject, pay, list.", no_args_is_help=True)
meeting_app = typer.Typer(help="Meetings: schedule, attendance, minutes, cancel, list.", no_args_is_help=True)
rotation_app = typer.Typer(help="The merry-go-round: order, state, next turn's payout.", no_args_is_help=True)
app.add_typer(members_app, name="members")
app.add_typer(loan_app, name="loan")
app.add_typer(payout_app, name="payout")
app.add_typer(meeting_app, name="meeting")
app.add_typer(rotation_app, name="rotation")

ORG = typer.Option(..., "--org", help="Chama slug.")
JSON = typer.Option(False, "--json", help="Print the data as JSON on stdout.")
SOURCE = typer.Option("cash", "--source", help="cash, mpesa or bank.")
REFERENCE = typer.Option(None, "--reference", help="Receipt or M-Pesa code; the same reference is recorded once.")
KEY = typer.Option(None, "--key", help="An explicit idempotency key (default: source + reference).")
BY = typer.Option(None, "--by", help="The official deciding or asking: member number or phone.")


def parse_day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date; write it like 2026-03-31.") from None


def parse_moment(text: str | None, timezone: str) -> datetime | None:
    """A date and time; without an offset it is the chama's wall clock."""
    if text is None:
        return None
    from zoneinfo import ZoneInfo

    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date and time; write it like 2026-03-05T14:00.") from None
    return moment.replace(tzinfo=ZoneInfo(timezone)) if moment.tzinfo is None else moment


def chama_for(session, actor, slug: str):
    """The org view for ``slug``, refusing an org that is not a chama."""
    from core.errors import InvalidInput

    org = org_id_for(session, actor, slug)
    if org.kind != "chama":
        raise InvalidInput(f"{org.slug} is a {org.kind} organisation, not a chama.")
    return org


def member_id(session, actor, org, who: str | None) -> int | None:
    if who is None:
        return None
    from core.chama.members import find_member

    return find_member(session, actor, org.id, who).id


def amount(text: str, org) -> int:
    from core.money import parse_money

    return parse_money(text, org.currency)


def money(minor: int | None, org) -> str:
    from core.money import format_money

    return "" if minor is None else format_money(minor, org.currency)


def say_entry(entry, org, what: str) -> None:
    if entry.replayed:
        text = f"Already recorded as entry {entry.id}; nothing new was written"
        if entry.reversed_by_id:
            text += (f" (it was reversed by entry {entry.reversed_by_id}; to record the payment again, "
                     "give it a new --reference, like the old one with /2)")
        err(text + ".")
    else:
        err(f"Recorded entry {entry.id}: {what} of {money(entry.amount_minor, org)}.")
    if getattr(entry, "warning", None):
        err(f"Check: {entry.warning}")


def emit(data: Any, as_json: bool, message: str | None = None) -> None:
    """``--json``: the data on stdout; otherwise the message on stderr."""
    if as_json:
        print_json(data)
    elif message:
        err(message)


# ------------------------------------------------------------------ settings

@app.command("settings")
def settings_cmd(
    org: str = ORG,
    contribution: Optional[str] = typer.Option(None, "--contribution", help="Amount each period, like 500."),
    frequency: Optional[str] = typer.Option(None, "--frequency", help="weekly or monthly."),
    due_day: Optional[str] = typer.Option(None, "--due-day", help="Day of the month (1–31) or weekday (monday…)."),
    start: Optional[str] = typer.Option(None, "--invoices-from", help="First date invoices may fall due."),
    reminder_days: Optional[int] = typer.Option(None, "--reminder-days", help="Days before the due date."),
    grace_days: Optional[int] = typer.Option(None, "--grace-days", help="Days after the due date before a fine."),
    fine_flat: Optional[str] = typer.Option(None, "--fine-flat", help="A flat late fine, like 100."),
    fine_percent: Optional[str] = typer.Option(None, "--fine-percent", help="A late fine in % of what is unpaid."),
    interest: Optional[str] = typer.Option(None, "--interest", help="flat or reducing."),
    interest_rate: Optional[str] = typer.Option(None, "--interest-rate", help="Monthly loan interest in %, like 1.5."),
    loan_multiple: Optional[str] = typer.Option(None, "--loan-multiple", help="Loan limit × savings, like 3."),
    approvals: Optional[int] = typer.Option(None, "--approvals", help="Officials who approve a loan or payout."),
    receipts: Optional[bool] = typer.Option(None, "--receipts/--no-receipts", help="SMS a receipt for money in."),
    overpayment: Optional[str] = typer.Option(None, "--overpayment",
                                              help="What a payment beyond what is owed becomes: savings or refund."),
    loan_grace_days: Optional[int] = typer.Option(None, "--loan-grace-days",
                                                  help="Days after an instalment before it is overdue."),
    loan_penalty: Optional[str] = typer.Option(None, "--loan-penalty", help="Penalty in % of what is overdue."),
    default_after: Optional[int] = typer.Option(None, "--default-after",
                                                help="Missed instalments before a loan is in default."),
    as_json: bool = JSON,
) -> None:
    """Show the chama's rules, or change the ones given."""
    from core.chama.settings import describe_settings, get_settings, parse_due_day, parse_percent, update_settings

    with unit_of_work() as (session, actor):
        o = chama_for(session, actor, org)
        current = get_settings(session, actor, o.id)
        changes: dict[str, Any] = {}
        if contribution is not None:
            changes["contribution_minor"] = amount(contribution, o)
        if frequency is not None:
            changes["frequency"] = frequency.strip().lower()
        if due_day is not None:
            changes["due_day"] = parse_due_day(due_day, changes.get("frequency", current.frequency))
        if start is not None:
            changes["contributions_start"] = parse_day(start)
        for name, value in (("reminder_days", reminder_days), ("grace_days", grace_days),
                            ("approvals_required", approvals), ("sms_receipts", receipts),
                            ("loan_grace_days", loan_grace_days), ("default_after_missed", default_after)):
            if value is not None:
                changes[name] = value
        if fine_flat is not None:
            changes |= {"fine_kind": "flat", "fine_flat_minor": amount(fine_flat, o)}
        if fine_percent is not None:
            changes |= {"fine_kind": "percent", "fine_percent_bp": parse_percent(fine_percent)}
        if interest is not None:
            changes["interest_kind"] = interest.strip().lower()
        if interest_rate is not None:
            changes["interest_rate_bp"] = parse_percent(interest_rate)
        if loan_multiple is not None:
            changes["loan_limit_percent"] = parse_percent(loan_multiple)
        if overpayment is not None:
            changes["overpayment"] = overpayment.strip().lower()
        if loan_penalty is not None:
            changes["loan_penalty_bp"] = parse_percent(loan_penalty)
        view = update_settings(session, actor, o.id, **changes) if changes else current
    if as_json:
        print_json(view)
        return
    if changes:
        err(f"Updated {len(changes)} setting(s) of {o.name}.")
    print_table(f"{o.name} rules", ["setting", "value"], [list(row) for row in describe_settings(view)])


# ------------------------------------------------------------------ members

@members_app.command("add")
def members_add(
    name: str = typer.Argument(..., help="Full name."),
    phone: str = typer.Argument(..., help="Phone, like 0712 345 678."),
    org: str = ORG,
    number: Optional[str] = typer.Option(None, "--number", help="Member number (default: the next free one)."),
    role: str = typer.Option("member", "--role", help="chair, treasurer, secretary or member."),
    joined: Optional[str] = typer.Option(None, "--joined", help="Join date (default today)."),
    as_json: bool = JSON,
) -> None:
    """Add a member."""
    from core.chama.members import add_member

    with unit_of_work() as (session, actor):
        o = chama_for(session, actor, org)
        view = add_member(session, actor, o.id, name=name, phone=phone, member_number=number, role=role,
                          joined_on=parse_day(joined))
    emit(view, as_json, f"Added {view.label}, {view.role}, {view.phone}.")


@members_app.command("list")
def members_list(
    org: str = ORG,
    search: str = typer.Option("", "--search", help="Part of a name or phone, or a member number."),
    status: Optional[str] = typer.Option(None, "--status", help="active, suspended or exited."),
    as_json: bool = JSON,
) -> None:
    """List members with their balances, paging through the whole chama."""
    from core.chama.ledger import balances_of_members
    from core.chama.members import list_members

    with unit_of_work() as (session, actor):
        o = chama_for(session, actor, org)
        rows, after = [], None
        while page := list_members(session, actor, o.id, search=search, status=status, after_id=after, limit=500):
            balances = balances_of_members(session, actor, o.id, [m.id for m in page])
            rows += [(m, balances[m.id]) for m in page]
            after = page[-1].id
    if as_json:
        print_json([{**_plain(m), "balances": _plain(b)} for m, b in rows])
        return
    if not rows:
        err("No members match.")
        return
    print_table(f"{o.name} members", ["no.", "name", "phone", "role", "status", "savings", "loan", "fines"],
                [[m.member_number, m.name, m.phone, m.role, m.status, money(b.savings_minor, o),
                  money(b.loan_outstanding_minor, o), money(b.fines_owed_minor, o)] for m, b in rows])


def _plain(view) -> dict:
    from dataclasses import asdict

    return asdict(view)


@members_app.command("show")
def members_show(who: str = typer.Argument(..., help="Member number or phone."), org: str = ORG,
                 as_json: bool = JSON) -> None:
    """A member's details, balances and loan limit."""
    from core.chama.ledger import member_balances
    from core.chama.loans import loan_limit
    from core.chama.members import find_member

    with unit_of_work() as (session, actor):
        o = chama_for(session, actor, org)
        m = find_member(session, actor, o.id, who)
        b = member_balances(session, actor, o.id, m.id)
        limit = loan_limit(session, actor, o.id, m.id)
    if as_json:
        print_json({"member": _plain(m), "balances": _plain(b), "loan_limit": _plain(limit)})
        return
    print_table(m.label, ["", ""], [
        ["phone", m.phone], ["role", m.role], ["status", m.left_text or m.status], ["joined", m.joined_on],
        ["cycle", b.cycle.text() if b.cycle else ""],
        ["savings", money(b.savings_minor, o)], ["loan", money(b.loan_outstanding_minor, o)],
        ["fines", money(b.fines_owed_minor, o)], ["may borrow", money(limit.available_minor, o)]])


@members_app.command("update")
def members_update(
    who: str = typer.Argument(..., help="Member number or phone."),
    org: str = ORG,
    role: Optional[str] = typer.Option(None, "--role"),
    status: Optional[str] = typer.Option(None, "--status", help="active, suspended or exited."),
    number: Optional[str] = typer.Option(None, "--number", help="A new member number."),
    sms: Optional[bool] = typer.Option(None, "--sms/--no-sms", help="Whether the member gets SMS reminders."),
    as_json: bool = JSON,
) -> None:
    """Change a member's role, status, number or SMS choice."""
    from core.chama.members import update_member

    with unit_of_work() as (session, actor):
        o = chama_for(session, actor, org)
        view = update_member(session, actor, o.id, member_id(session, actor, o, who), role=role, status=status,
                             member_number=number, sms_opt_out=None if sms is None else not sms)
    emit(view, as_json, f"{view.label} is now {view.role}, {view.status}.")


@members_app.command("link")
def members_link(
    who: str = typer.Argument(..., help="Member number or phone."),
    org: str = ORG,
    user: Optional[str] = typer.Option(None, "--user", help="The staff login (email) that is this member."),
    unlink: bool = typer.Option(False, "--unlink", help="Remove the member's login link."),
    as_json: bool = JSON,
) -> None:
    """Link a staff login to its member: approvals know officials by this link, never by phone."""
    from core.chama.members import link_login

    if not unlink and not user:
        raise typer.BadParameter("Give --user EMAIL, or --unlink.")
    with unit_of_work() as (session, actor):
        o = chama_for(session, actor, org)
        view = link_login(session, actor, o.id, member_id(session, actor, o, who), email=None if unlink else user)
    emit(view, as_json, f"{view.label} is " + (f"linked to login {user}." if not unlink else "linked to no login."))


# ------------------------------------------------------------------ money in, fines, reversals

@app.command("contribute")
def contribute(
    who: str = typer.Argument(..., help="Member number or phone."),
    value: str = typer.Argument(..., metavar="AMOUNT", help="Like 500 or 1,500.50."),
    org: str = ORG,
    source: str = SOURCE,
    reference: Optional[str] = REFERENCE,
    key: Optional[str] = KEY,
    on: Optional[str] = typer.Option(None, "--on", help="When it was paid (default now), like 2026-03-05T10:00."),
    period: Optional[str] = typer.Option(None, "--period", help="The period it is for, like 2026-03 (a note)."),
    as_json: bool = JSON,
) -> None:
    """Record a contribution; the same reference or key is recorded once."""
    from core.chama.ledger import record_contribution

    with unit_of_work() as (session, actor):
        o = chama_for(session, actor, org)
        entry = record_contribution(session, actor, o.id, member_id(session, actor, o, who), amount(value, o),
                                    source=source, reference=reference, idempotency_key=key,
                                    occurred_at=parse_moment(on, o.timezone), period=period)
    if as_json:
        print_json(entry)
    else:
        say_entry(entry, o, "contribution")


@app.command("opening-balance")
def opening_balance(
    who: str = typer.Argument(..., help="Member number or phone."),
    value: str = typer.Argument(..., metavar="AMOUNT"),
    org: str = ORG,
    on: Optional[str] = typer.Option(None, "--on", help="The day it stood at that (default now)."),
    as_json: bool = JSON,
) -> None:
    """Record the savings a member brought from before Ofisi (never a payment of any invoice)."""
    from core.chama.ledger import record_opening_balance

    with unit_of_work() as (session, actor):
        o = chama_for(session, actor, org)
        entry = record_opening_balance(session, actor, o.id, member_id(session, actor, o, who), amount(value, o),
                                       as_of=parse_moment(on, o.timezone))
    if as_json:
        print_json(entry)
    else:
        say_entry(entry, o, "opening balance")


@app.command("exit")
def exit_cmd(
    who: str = typer.Argument(..., help="Member number or phone of the member leaving."),
    org: str = ORG,
    reason: Optional[str] = typer.Option(None, "--reason", help="Why she leaves; her statement keeps it."),
    by: Optional[str] = BY,
    preview: bool = typer.Option(False, "--preview", help="Only show what leaving would settle and pay."),
    as_json: bool = JSON,
) -> None:
    """A member leaves: her savings, less loans and fines (settled first), paid through the approvals."""
    from core.chama.exits import exit_settlement, request_exit

    with unit_of_work() as (session, actor):
        o = chama_for(session, actor, org)
        mid = member_id(session, actor, o, who)
        settle = exit_settlement(session, actor, o.id, mid)
        payout = None
        if not preview:
            if not reason:
                raise typer.BadParameter("Say why she leaves with --reason.")
            payout = request_exit(session, actor, o.id, mid, reason=reason,
                                  by_member_id=member_id(session, actor, o, by))
    if as_json:
        print_json({"settlement": settle, "payout": payout})
        return
    err(f"Savings {money(settle.savings_minor, o)}; settles {money(settle.owed_minor, o)} owed; "
        f"pays {money(settle.paid_minor, o)}.")
    if payout is not None:
        _payout_done(payout, o, False)
    elif not preview:
        err("Nothing to hand over: she has left the chama.")


@app.command("fine")
def fine(
    who: str = typer.Argument(..., help="Member number or phone."),
    value: str = typer.Argument(..., metavar="AMOUNT"),
    org: str = ORG,
    reason: str = typer.Option(..., "--reason", help="What the fine is for; the member is told."),
    key: Optional[str] = KEY,
    as_json: bool = JSON,
) -> None:
    """Fine a member."""
    from core.chama.fines import charge_fine

    with unit_of_work() as (session, actor):
        o = chama_for(session, actor, org)
        entry = charge_fine(session, actor, o.id, member_id(session, actor, o, who), amount(value, o),
                            reason=reason, idempotency_key=key)
    if as_json:
        print_json(entry)
    else:
        say_entry(entry, o, "fine")


@app.command("pay-fine")
def pay_fine(
    who: str = typer.Argument(..., help="Member number or phone."),
    value: str = typer.Argument(..., metavar="AMOUNT"),
    org: str = ORG,
    source: str = SOURCE,
    reference: Optional[str] = REFERENCE,
    key: Optional[str] = KEY,
    as_json: bool = JSON,
) -> None:
    """Record money paid against a member's fines."""
    from core.chama.fines import record_fine_payment

    with unit_of_work() as (session, actor):
        o = chama_for(session, actor, org)
        entry = record_fine_payment(session, actor, o.id, member_id(session, actor, o, who), amount(value, o),
                                    source=source, reference=reference, idempotency_key=key)
    if as_json:
        print_json(entry)
    else:
        say_entry(entry, o, "fine payment")


@app.command("reverse")
def reverse(
    entry_id: int = typer.Argument(..., metavar="ENTRY", help="The ledger entry to undo."),
    org: str = ORG,
    reason: str = typer.Option(..., "--reason", help="Why; kept with the reversal and sent to the member."),
    as_json: bool = JSON,
) -> None:
    """Undo a ledger entry with a reversal that points at it."""
    from core.chama.ledger import reverse_entry

    with unit_of_work() as (session, actor):
        o = chama_for(session, actor, org)
        entry = reverse_entry(session, actor, o.id, entry_id, reason=reason)
    emit(entry, as_json, f"Entry {entry_id} is reversed by entry {entry.id}.")


@app.command("entry")
def entry_show(
    entry_id: int = typer.Argument(..., metavar="ENTRY", help="The entry's number: the Ref on a member's SMS."),
    org: str = ORG,
    as_json: bool = JSON,
) -> None:
    """One ledger entry: what it was, whose, and what it did to each balance."""
    from core.chama.ledger import entry_details, get_entry
    from core.chama.members import get_member

    with unit_of_work() as (session, actor):
        o = chama_for(session, actor, org)
        entry = get_entry(session, actor, o.id, entry_id)
        who = get_member(session, actor, o.id, entry.member_id).label if entry.member_id else None
    if as_json:
        print_json(entry)
        return
    from zoneinfo import ZoneInfo

    lines = entry_details(entry, o.currency, who, ZoneInfo(o.timezone))
    print_table(f"{o.name} entry {entry.id}", ["", ""], [list(line) for line in lines])


@app.command("position")
def position(org: str = ORG, as_json: bool = JSON) -> None:
    """The pool, savings, loans, fines and arrears at a glance."""
    from core.chama.statements import chama_position

    with unit_of_work() as (session, actor):
        o = chama_for(session, actor, org)
        p = chama_position(session, actor, o.id)
    if as_json:
        print_json(p)
        return
    print_table(o.name, ["", ""], [
        ["pool", money(p.pool_minor, o)], ["savings", money(p.savings_minor, o)],
        ["loans out", money(p.loans_out_minor, o)], ["interest owed", money(p.interest_owed_minor, o)],
        ["fines owed", money(p.fines_owed_minor, o)], ["earnings", money(p.earnings_minor, o)],
        ["arrears", f"{money(p.arrears_minor, o)} ({p.members_in_arrears} members)"],
        ["active members", p.active_members], ["loans awaiting approval", p.loans_awaiting_approval],
        ["payouts awaiting approval", p.payouts_awaiting_approval]])


# ------------------------------------------------------------------ loans

def _parse_guarantor(text: str) -> tuple[str, str]:
    who, sep, value = text.partition("=")
    if not sep or not who.strip() or not value.strip():
        raise typer.BadParameter(f"{text!r}: write a guarantor as MEMBER=AMOUNT, like 12=5000.")
    return who.strip(), value.strip()


def _loan_rows(loans_, o) -> list[list[Any]]:
    return [[ln.id, f"{ln.member_name} ({ln.member_number})", money(ln.principal_minor, o), ln.months,
             f"{ln.interest_rate_bp / 100:g}% {ln.interest_kind}", ln.status,
             f"{sum(a.decision == 'approved' for a in ln.approvals)}/{ln.approvals_required}",
             money(ln.principal_outstanding_minor + ln.interest_owed_minor, o)] for ln in loans_]


LOAN_COLUMNS = ["loan", "member", "principal", "months", "interest", "status", "approvals", "owed"]


@loan_app.command("request")
def loan_request(
    who: str = typer.Argument(..., help="The applicant: member number or phone."),
    value: str = typer.Argument(..., metavar="AMOUNT"),
    org: str = ORG,
    months: int = typer.Option(..., "--months", help="How many monthly instalments."),
    purpose: str = typer.Option("", "--purpose"),
    guarantor: list[str] = typer.Option([], "--guarantor", help="MEMBER=AMOUNT pledged; repeat for more."),
    by: Optional[str] = BY,
    as_json: bool = JSON,
) -> None:
    """Ask for a loan within the member's limit (guarantors lift it)."""
    from core.chama.loans import request_loan

    pairs = [_parse_guarantor(g) for g in guarantor]
    with unit_of_work() as (session, actor):
        o = chama_for(session, actor, org)
        loan = request_loan(session, actor, o.id, member_id(session, actor, o, who), amount(value, o),
                            months=months, purpose=purpose,
                            guarantors=[(member_id(session, actor, o, g), amount(a, o)) for g, a in pairs],
                            by_member_id=member_id(session, actor, o, by))
    emit(loan, as_json, f"Loan {loan.id} for {loan.member_name}: {money(loan.principal_minor, o)} over "
                        f"{loan.months} months; it needs {loan.approvals_required} approvals.")


def _loan_decision(loan_id: int, org: str, by: str, *, reason: str | None, as_json: bool) -> None:
    from core.chama.loans import approve_loan, reject_loan

    with unit_of_work() as (session, actor):
        o = chama_for(session, actor, org)
        official = member_id(session, actor, o, by)
        loan = (reject_loan(session, actor, o.id, loan_id, reason=reason, by_member_id=official) if reason is not None
                else approve_loan(session, actor, o.id, loan_id, by_member_id=official))
    given = sum(a.decision == "approved" for a in loan.approvals)
    emit(loan, as_json, f"Loan {loan.id} is {loan.status} ({given} of {loan.approvals_required} approvals).")


@loan_app.command("approve")
def loan_approve(loan_id: int = typer.Argument(..., metavar="LOAN"), org: str = ORG,
                 by: str = typer.Option(..., "--by", help="The official approving: member number or phone."),
                 as_json: bool = JSON) -> None:
    """One official's approval."""
    _loan_decision(loan_id, org, by, reason=None, as_json=as_json)


@loan_app.command("reject")
def loan_reject(loan_id: int = typer.Argument(..., metavar="LOAN"), org: str = ORG,
                by: str = typer.Option(..., "--by", help="The official rejecting: member number or phone."),
                reason: str = typer.Option(..., "--reason"), as_json: bool = JSON) -> None:
    """Reject a loan request with a reason the member is told."""
    _loan_decision(loan_id, org, by, reason=reason, as_json=as_json)


@loan_app.command("disburse")
def loan_disburse(loan_id: int = typer.Argument(..., metavar="LOAN"), org: str = ORG, source: str = SOURCE,
                  reference: Optional[str] = REFERENCE, as_json: bool = JSON) -> None:
    """Pay an approved loan out of the pool."""
    from core.chama.loans import disburse_loan

    with unit_of_work() as (session, actor):
        o = chama_for(session, actor, org)
        loan = disburse_loan(session, actor, o.id, loan_id, source=source, reference=reference)
    emit(loan, as_json, f"Loan {loan.id} paid out: {money(loan.principal_minor, o)} to {loan.member_name}; "
                        f"first instalment due {loan.first_due_on}.")


@loan_app.command("repay")
def loan_repay(
    who: str = typer.Argument(..., help="Member number or phone."),
    value: str = typer.Argument(..., metavar="AMOUNT"),
    org: str = ORG,
    loan_id: Optional[int] = typer.Option(None, "--loan", help="Which loan (default: the oldest with money owed)."),
    source: str = SOURCE,
    reference: Optional[str] = REFERENCE,
    key: Optional[str] = KEY,
    as_json: bool = JSON,
) -> None:
    """Record a repayment: fines first, then interest, then principal."""
    from core.chama.loans import record_repayment

    with unit_of_work() as (session, actor):
        o = chama_for(session, actor, org)
        entry = record_repayment(session, actor, o.id, member_id(session, actor, o, who), amount(value, o),
                                 loan_id=loan_id, source=source, reference=reference, idempotency_key=key)
    if as_json:
        print_json(entry)
    else:
        say_entry(entry, o, f"repayment of loan {entry.loan_id}")


@loan_app.command("list")
def loan_list(org: str = ORG, status: Optional[str] = typer.Option(
        None, "--status", help="requested (awaiting approval), approved, rejected, disbursed or defaulted."),
        as_json: bool = JSON) -> None:
    """List loans."""
    from core.chama.loans import list_loans

    with unit_of_work() as (session, actor):
        o = chama_for(session, actor, org)
        rows, after = [], None
        while page := list_loans(session, actor, o.id, status=status, after_id=after, limit=500):
            rows += page
            after = page[-1].id
    if as_json:
        print_json(rows)
    elif rows:
        print_table(f"{o.name} loans", LOAN_COLUMNS, _loan_rows(rows, o))
    else:
        err("No loans match.")


@loan_app.command("show")
def loan_show(loan_id: int = typer.Argument(..., metavar="LOAN"), org: str = ORG, as_json: bool = JSON) -> None:
    """A loan, its approvals and its repayment schedule."""
    from core.chama.loans import get_loan, loan_schedule

    with unit_of_work() as (session, actor):
        o = chama_for(session, actor, org)
        loan = get_loan(session, actor, o.id, loan_id)
        plan = loan_schedule(session, actor, o.id, loan_id)
    if as_json:
        print_json({"loan": _plain(loan), "schedule": [_plain(i) for i in plan]})
        return
    print_table(None, LOAN_COLUMNS, _loan_rows([loan], o))
    for a in loan.approvals:
        err(f"{a.decision} by {a.name} ({a.role}) {a.at:%Y-%m-%d %H:%M}" + (f": {a.reason}" if a.reason else ""))
    for g in loan.guarantors:
        err(f"guarantor {g.name}: {money(g.amount_minor, o)}, {g.status}")
    print_table("Schedule", ["#", "due", "principal", "interest", "instalment", "balance after"],
                [[i.number, i.due_on, money(i.principal_minor, o), money(i.interest_minor, o),
                  money(i.total_minor, o), money(i.balance_after_minor, o)] for i in plan])


@loan_app.command("guarantee")
def loan_guarantee(loan_id: int = typer.Argument(..., metavar="LOAN"), org: str = ORG,
                   by: str = typer.Option(..., "--by", help="The guarantor answering: member number or phone."),
                   accept: bool = typer.Option(..., "--yes/--no", help="Whether she agrees to guarantee it."),
                   as_json: bool = JSON) -> None:
    """Record a guarantor's answer (as she gave it on paper); members answer by USSD or SMS themselves."""
    from core.chama.loans import answer_guarantee

    with unit_of_work() as (session, actor):
        o = chama_for(session, actor, org)
        loan = answer_guarantee(session, actor, o.id, loan_id, member_id(session, actor, o, by), accept=accept)
    emit(loan, as_json, "; ".join(f"{g.name} {g.status}" for g in loan.guarantors))


@loan_app.command("recover")
def loan_recover(loan_id: int = typer.Argument(..., metavar="LOAN"), org: str = ORG, as_json: bool = JSON) -> None:
    """Charge a loan in default to its guarantors' savings, pro rata to their pledges."""
    from core.chama.loans import recover_default

    with unit_of_work() as (session, actor):
        o = chama_for(session, actor, org)
        loan = recover_default(session, actor, o.id, loan_id)
    emit(loan, as_json, f"Loan {loan.id} is {loan.status}; "
                        f"{money(loan.principal_outstanding_minor + loan.interest_owed_minor, o)} still owed.")


# ------------------------------------------------------------------ payouts

def _payout_done(payout, o, as_json: bool) -> None:
    given = sum(a.decision == "approved" for a in payout.approvals)
    emit(payout, as_json, f"Payout {payout.id} to {payout.payee} ({money(payout.amount_minor, o)}) is "
                          f"{payout.status} ({given} of {payout.approvals_required} approvals).")


@payout_app.command("request")
def payout_request(
    value: str = typer.Argument(..., metavar="AMOUNT"),
    org: str = ORG,
    purpose: str = typer.Option(..., "--purpose", help="What it is for; officials approve it on that."),
    to: Optional[str] = typer.Option(None, "--to", help="A member receiving it: member number or phone."),
    payee: Optional[str] = typer.Option(None, "--payee", help="Or a payee who is not a member."),
    by: Optional[str] = BY,
    as_json: bool = JSON,
) -> None:
    """Ask for a payout from the pool."""
    from core.chama.payouts import request_payout

    with unit_of_work() as (session, actor):
        o = chama_for(session, actor, org)
        payout = request_payout(session, actor, o.id, amount(value, o), purpose=purpose,
                                member_id=member_id(session, actor, o, to), payee=payee,
                                by_member_id=member_id(session, actor, o, by))
    _payout_done(payout, o, as_json)


@payout_app.command("approve")
def payout_approve(payout_id: int = typer.Argument(..., metavar="PAYOUT"), org: str = ORG,
                   by: str = typer.Option(..., "--by", help="The official approving."), as_json: bool = JSON) -> None:
    """One official's approval of a payout."""
    from core.chama.payouts import approve_payout

    with unit_of_work() as (session, actor):
        o = chama_for(session, actor, org)
        payout = approve_payout(session, actor, o.id, payout_id, by_member_id=member_id(session, actor, o, by))
    _payout_done(payout, o, as_json)


@payout_app.command("reject")
def payout_reject(payout_id: int = typer.Argument(..., metavar="PAYOUT"), org: str = ORG,
                  by: str = typer.Option(..., "--by"), reason: str = typer.Option(..., "--reason"),
                  as_json: bool = JSON) -> None:
    """Reject a payout with a reason."""
    from core.chama.payouts import reject_payout

    with unit_of_work() as (session, actor):
        o = chama_for(session, actor, org)
        payout = reject_payout(session, actor, o.id, payout_id, reason=reason,
                               by_member_id=member_id(session, actor, o, by))
    _payout_done(payout, o, as_json)


@payout_app.command("pay")
def payout_pay(payout_id: int = typer.Argument(..., metavar="PAYOUT"), org: str = ORG, source: str = SOURCE,
               reference: Optional[str] = REFERENCE, as_json: bool = JSON) -> None:
    """Pay an approved payout from the pool."""
    from core.chama.payouts import pay_payout

    with unit_of_work() as (session, actor):
        o = chama_for(session, actor, org)
        payout = pay_payout(session, actor, o.id, payout_id, source=source, reference=reference)
    _payout_done(payout, o, as_json)


@payout_app.command("list")
def payout_list(org: str = ORG, status: Optional[str] = typer.Option(None, "--status"),
                as_json: bool = JSON) -> None:
    """List payouts."""
    from core.chama.payouts import list_payouts

    with unit_of_work() as (session, actor):
        o = chama_for(session, actor, org)
        rows = list_payouts(session, actor, o.id, status=status, limit=1000)
    if as_json:
        print_json(rows)
    elif rows:
        print_table(f"{o.name} payouts", ["payout", "kind", "to", "amount", "purpose", "status", "approvals"],
                    [[p.id, p.kind, p.payee, money(p.amount_minor, o), p.purpose, p.status,
                      f"{sum(a.decision == 'approved' for a in p.approvals)}/{p.approvals_required}"] for p in rows])
    else:
        err("No payouts match.")


# ------------------------------------------------------------------ meetings

@meeting_app.command("schedule")
def meeting_schedule(
    when: str = typer.Argument(..., help="Date and time, like 2026-03-05T14:00 (the chama's clock)."),
    org: str = ORG,
    venue: str = typer.Option(..., "--venue"),
    agenda: str = typer.Option("", "--agenda"),
    notify: bool = typer.Option(True, "--notify/--no-notify", help="SMS every active member."),
    as_json: bool = JSON,
) -> None:
    """Schedule a meeting."""
    from core.chama.meetings import schedule_meeting

    with unit_of_work() as (session, actor):
        o = chama_for(session, actor, org)
        meeting = schedule_meeting(session, actor, o.id, starts_at=parse_moment(when, o.timezone), venue=venue,
                                   agenda=agenda, notify=notify)
    emit(meeting, as_json, f"Meeting {meeting.id} scheduled for {when} at {meeting.venue}.")


def _who_list(text: str | None) -> list[str]:
    return [w.strip() for w in (text or "").split(",") if w.strip()]


@meeting_app.command("attendance")
def meeting_attendance(
    meeting_id: int = typer.Argument(..., metavar="MEETING"),
    org: str = ORG,
    present: Optional[str] = typer.Option(None, "--present", help="Members, comma-separated."),
    late: Optional[str] = typer.Option(None, "--late"),
    apology: Optional[str] = typer.Option(None, "--apology"),
    absent: Optional[str] = typer.Option(None, "--absent"),
    as_json: bool = JSON,
) -> None:
    """Mark who came."""
    from core.chama.meetings import record_attendance

    with unit_of_work() as (session, actor):
        o = chama_for(session, actor, org)
        marks = {member_id(session, actor, o, who): status
                 for status, names in (("present", present), ("late", late), ("apology", apology),
                                       ("absent", absent)) for who in _who_list(names)}
        meeting = record_attendance(session, actor, o.id, meeting_id, marks)
    emit(meeting, as_json, f"Meeting {meeting.id}: {len(meeting.attendance)} members marked.")


@meeting_app.command("minutes")
def meeting_minutes(
    meeting_id: int = typer.Argument(..., metavar="MEETING"),
    org: str = ORG,
    text: Optional[str] = typer.Option(None, "--text"),
    file: Optional[Path] = typer.Option(None, "--file", help="Read the minutes from a text file."),
    as_json: bool = JSON,
) -> None:
    """Record the minutes."""
    from core.chama.meetings import record_minutes

    if (text is None) == (file is None):
        raise typer.BadParameter("give the minutes with --text or --file (one of them).")
    body = text if text is not None else file.read_text(encoding="utf-8")
    with unit_of_work() as (session, actor):
        o = chama_for(session, actor, org)
        meeting = record_minutes(session, actor, o.id, meeting_id, body)
    emit(meeting, as_json, f"Minutes of meeting {meeting.id} recorded.")


@meeting_app.command("cancel")
def meeting_cancel(meeting_id: int = typer.Argument(..., metavar="MEETING"), org: str = ORG,
                   reason: str = typer.Option(..., "--reason"), as_json: bool = JSON) -> None:
    """Cancel a scheduled meeting and tell the members."""
    from core.chama.meetings import cancel_meeting

    with unit_of_work() as (session, actor):
        o = chama_for(session, actor, org)
        meeting = cancel_meeting(session, actor, o.id, meeting_id, reason=reason)
    emit(meeting, as_json, f"Meeting {meeting.id} is cancelled.")


@meeting_app.command("list")
def meeting_list(org: str = ORG, as_json: bool = JSON) -> None:
    """Meetings, latest first."""
    from zoneinfo import ZoneInfo

    from core.chama.meetings import list_meetings

    with unit_of_work() as (session, actor):
        o = chama_for(session, actor, org)
        rows = list_meetings(session, actor, o.id, limit=500)
    if as_json:
        print_json(rows)
    elif rows:
        zone = ZoneInfo(o.timezone)
        print_table(f"{o.name} meetings", ["meeting", "when", "venue", "status", "attended"],
                    [[m.id, f"{m.starts_at.astimezone(zone):%Y-%m-%d %H:%M}", m.venue, m.status,
                      sum(a.status in ("present", "late") for a in m.attendance)] for m in rows])
    else:
        err("No meetings yet.")


@meeting_app.command("show")
def meeting_show(meeting_id: int = typer.Argument(..., metavar="MEETING"), org: str = ORG,
                 as_json: bool = JSON) -> None:
    """A meeting's statement: when and where, the agenda, the minutes and who came."""
    from zoneinfo import ZoneInfo

    from core.chama.meetings import get_meeting

    with unit_of_work() as (session, actor):
        o = chama_for(session, actor, org)
        m = get_meeting(session, actor, o.id, meeting_id)
    if as_json:
        print_json(m)
        return
    tally = ", ".join(f"{n} {mark}" for mark, n in m.tally().items())
    print_table(f"Meeting {m.id}", ["", ""], [
        ["when", f"{m.starts_at.astimezone(ZoneInfo(o.timezone)):%Y-%m-%d %H:%M}"], ["venue", m.venue],
        ["status", m.status], ["agenda", m.agenda], ["minutes", m.minutes or "(none yet)"], ["attendance", tally]])
    if m.attendance:
        print_table("Attendance", ["member", "no.", "mark"], [[a.name, a.member_number, a.status] for a in m.attendance])


# ------------------------------------------------------------------ merry-go-round and share-out

def _rotation_out(view, o, as_json: bool) -> None:
    if as_json:
        print_json(view)
        return
    print_table(f"Merry-go-round round {view.round_no}", ["turn", "member", "state", "payout"],
                [[t.position, f"{t.name} ({t.member_number})", t.state, t.payout_id or ""] for t in view.turns])


@rotation_app.command("set")
def rotation_set(who: Optional[list[str]] = typer.Argument(None, help="Members in the order they receive; none "
                                                                        "repeats the last order as a new round."),
                 org: str = ORG, as_json: bool = JSON) -> None:
    """Set the order of the current round, or start the next round."""
    from core.chama.rotation import set_rotation

    with unit_of_work() as (session, actor):
        o = chama_for(session, actor, org)
        view = set_rotation(session, actor, o.id, [member_id(session, actor, o, w) for w in who] if who else None)
    _rotation_out(view, o, as_json)


@rotation_app.command("show")
def rotation_show(org: str = ORG, as_json: bool = JSON) -> None:
    """Who has received, who is next."""
    from core.chama.rotation import rotation

    with unit_of_work() as (session, actor):
        o = chama_for(session, actor, org)
        view = rotation(session, actor, o.id)
    if view is None:
        err("No merry-go-round order yet: `ofisi chama rotation set MEMBER…`.")
        return
    _rotation_out(view, o, as_json)


@rotation_app.command("next")
def rotation_next(value: str = typer.Argument(..., metavar="AMOUNT"), org: str = ORG, by: Optional[str] = BY,
                  as_json: bool = JSON) -> None:
    """Ask for the payout of the next member's turn (then approve and pay it as a payout)."""
    from core.chama.rotation import request_turn_payout

    with unit_of_work() as (session, actor):
        o = chama_for(session, actor, org)
        payout = request_turn_payout(session, actor, o.id, amount(value, o),
                                     by_member_id=member_id(session, actor, o, by))
    _payout_done(payout, o, as_json)


@app.command("shareout")
def shareout_cmd(
    org: str = ORG,
    preview: bool = typer.Option(False, "--preview", help="Show what each member would receive."),
    commit: Optional[str] = typer.Option(None, "--commit", metavar="CODE",
                                         help="Pay it out; CODE is the one the preview printed."),
    as_json: bool = JSON,
) -> None:
    """End-of-cycle share-out: preview it, then commit it with the preview's code."""
    from core.chama.shareout import commit_shareout, preview_shareout

    if preview == (commit is not None):
        raise typer.BadParameter("use --preview, or --commit CODE after a preview.")
    with unit_of_work() as (session, actor):
        o = chama_for(session, actor, org)
        result = preview_shareout(session, actor, o.id) if preview else commit_shareout(session, actor, o.id,
                                                                                        code=commit or "")
    if as_json:
        print_json(result)
        return
    print_table(f"{o.name} share-out", ["member", "savings", "earnings share", "receives"],
                [[f"{ln.name} ({ln.member_number})", money(ln.savings_minor, o), money(ln.earnings_share_minor, o),
                  money(ln.payout_minor, o)] for ln in result.lines])
    if preview:
        for blocker in result.blockers:
            err(f"Not yet: {blocker}")
        if not result.blockers:
            err(f"Pool {money(result.pool_minor, o)}. To pay it out: "
                f"ofisi chama shareout --org {o.slug} --commit {result.code}")
    else:
        err(f"Share-out {result.id} paid {money(result.pool_minor, o)} to {result.members} members.")

from commands.chama_books_cmd import expenses_app  # noqa: E402  (the AGM books live in their own module)

app.add_typer(expenses_app, name="expenses")
