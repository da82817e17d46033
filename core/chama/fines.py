"""Fines: charged by an official or by the late-contribution rule, paid in money.

A fine charged is owed by the member (it moves no money); a fine payment
brings money into the pool and counts as the chama's earnings, shared out at
the end of the cycle. Loan repayments pay fines first (see ``loans``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from core.actors import Actor
from core.chama.base import chama_org, first_name, hold_cycle, member_row, money, percent_of
from core.chama.ledger import (
    Balances,
    EntryView,
    announce,
    check_amount,
    check_money_in,
    effect,
    payment_key,
    post,
    record_once,
    sums,
)
from core.errors import Conflict, InvalidInput
from db.models import Org
from db.models_chama import ChamaLedgerEntry, ChamaMember, ChamaSettings


def charge_fine(session: Session, actor: Actor, org_id: int, member_id: int, amount_minor: int, *,
                reason: str, idempotency_key: str | None = None) -> EntryView:
    """Fine a member (lateness at a meeting, a broken rule); the reason is sent to them by SMS."""
    org = chama_org(session, actor, org_id, "chama.money")
    hold_cycle(session, org.id)
    member = member_row(session, org.id, member_id)
    check_amount(amount_minor, "A fine")
    if member.status == "exited":
        raise Conflict(f"{first_name(session, member)} left the chama on {member.exited_on}; "
                       "a member who has left is not fined.")
    if not reason or not reason.strip():
        raise InvalidInput("Say what the fine is for; the member is told.")
    return record_once(session, actor, org, member, kind="fine", amount=amount_minor, key=idempotency_key,
                       rules=lambda: effect("fine", amount_minor),
                       receipt=lambda: fine_text(session, org, member, amount_minor, reason), always=True,
                       memo=reason)


def fine_text(session: Session, org: Org, member: ChamaMember, amount: int, reason: str) -> str:
    owed = sums(session, org.id, member_id=member.id).fines
    return f"you have been fined {money(org, amount)}: {reason.strip()}. Fines owed: {money(org, owed)}."


def record_fine_payment(
    session: Session,
    actor: Actor,
    org_id: int,
    member_id: int,
    amount_minor: int,
    *,
    source: str = "cash",
    reference: str | None = None,
    idempotency_key: str | None = None,
    occurred_at: datetime | None = None,
) -> EntryView:
    """Money paid against a member's fines; more than they owe is refused."""
    org = chama_org(session, actor, org_id, "chama.money")
    when = check_money_in(amount_minor, source, occurred_at)
    hold_cycle(session, org.id)
    member = member_row(session, org.id, member_id, lock=True)

    def rules() -> Balances:
        owed = sums(session, org.id, member_id=member.id).fines
        if amount_minor > owed:
            raise Conflict(f"{first_name(session, member)} owes {money(org, owed)} in fines; "
                           f"{money(org, amount_minor)} is more than that.")
        return effect("fine_payment", amount_minor)

    def receipt() -> str:
        owed = sums(session, org.id, member_id=member.id).fines
        return f"received {money(org, amount_minor)} for fines. Fines owed now {money(org, owed)}."

    return record_once(session, actor, org, member, kind="fine_payment", amount=amount_minor,
                       key=payment_key(source, reference, idempotency_key), rules=rules, receipt=receipt,
                       source=source, reference=reference, occurred_at=when)


def late_fine_amount(settings: ChamaSettings, unpaid_minor: int) -> int:
    """The fine for a contribution left ``unpaid_minor`` short after the grace days."""
    if unpaid_minor <= 0:
        return 0
    if settings.fine_kind == "percent":
        return percent_of(unpaid_minor, settings.fine_percent_bp)
    return settings.fine_flat_minor


def post_late_fine(session: Session, org: Org, actor: Actor, member: ChamaMember, *, period: str,
                   amount: int) -> ChamaLedgerEntry | None:
    """Charge the late fine for ``period`` once (keyed), with its audit row and SMS; for due work, no commit."""
    reason = f"contribution for {period} paid late"
    entry, created = post(session, org, actor, kind="fine", amount=amount, change=effect("fine", amount),
                          member_id=member.id, key=f"late-fine:{member.id}:{period}", period=period, memo=reason)
    if not created:
        return None
    announce(session, actor, org, entry, receipt=fine_text(session, org, member, amount, reason), always=True)
    return entry
