"""Payouts: money out of the pool to a member or a named payee (welfare, a
merry-go-round turn, an expense), asked for, approved like a loan, then paid.

A payout comes out of the chama's earnings (interest and fines paid), so at
share-out the members share what is left of them. Two kinds come out of a
member's own savings instead, through the same approvals: a leaver's exit
settlement (see ``exits``) and the refund of an overpayment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.actors import Actor
from core.chama.approvals import (
    ApprovalView,
    approvals_needed,
    approvals_of,
    decide_and_notify,
    pay_from_pool,
    requester_key,
)
from core.chama.base import chama_org, contact_of, first_name, lock_chama, locked, member_row, money, settings_row
from core.chama.settlement import leave, settlement_of
from core.chama.ledger import Balances, check_amount, check_when, effect, finish, sums
from core.errors import Conflict, InvalidInput, NotFound
from db.models import Org
from db.models_chama import ChamaMember, ChamaPayout
from db.types import utcnow


@dataclass(frozen=True)
class PayoutView:
    id: int
    org_id: int
    member_id: int | None
    payee: str
    kind: str
    currency: str
    amount_minor: int
    purpose: str
    status: str
    approvals_required: int
    approvals: list[ApprovalView]
    requested_by: str
    requested_at: datetime
    paid_at: datetime | None
    rejection_reason: str | None


def _view(session: Session, org: Org, p: ChamaPayout) -> PayoutView:
    return PayoutView(p.id, org.id, p.member_id, p.payee, p.kind, org.currency, p.amount_minor, p.purpose, p.status,
                      p.approvals_required, approvals_of(session, p), p.requested_by, p.requested_at, p.paid_at,
                      p.rejection_reason)


def _what(p: ChamaPayout) -> str:
    return f"Payout {p.id} to {p.payee}"


def _payout(session: Session, org: Org, payout_id: int, *, lock: bool = False) -> ChamaPayout:
    missing = f"There is no payout {payout_id} in {org.name}."
    if lock:
        return locked(session, ChamaPayout, org.id, payout_id, missing)
    payout = session.get(ChamaPayout, payout_id)
    if payout is None or payout.org_id != org.id:
        raise NotFound(missing)
    return payout


def create_payout(session: Session, actor: Actor, org: Org, amount_minor: int, *, member_id: int | None,
                  payee: str | None, purpose: str, by_member_id: int | None, kind: str = "payout") -> ChamaPayout:
    """Add a payout request to the unit of work (no commit); shared with the merry-go-round."""
    check_amount(amount_minor, "A payout")
    if not purpose or not purpose.strip():
        raise InvalidInput("Say what the payout is for; officials approve it on that.")
    if member_id is not None:
        member = member_row(session, org.id, member_id)
        payee = contact_of(session, member).name
    elif not payee or not payee.strip():
        raise InvalidInput("A payout goes to a member or to a named payee.")
    maker = requester_key(session, actor, org, by_member_id=by_member_id)
    payout = ChamaPayout(
        org_id=org.id, member_id=member_id, payee=payee.strip(), amount_minor=amount_minor, purpose=purpose.strip(),
        kind=kind, approvals_required=approvals_needed(
            session, org, required=settings_row(session, org.id).approvals_required, beneficiary_id=member_id,
            requester=maker, what=f"a payout to {payee.strip()}"),
        requester_key=maker, requested_by=actor.label, requested_at=utcnow(),
    )
    session.add(payout)
    session.flush()
    audit.record(session, actor, "chama.payout.request", "chama_payout", payout.id, org_id=org.id,
                 after={"payee": payout.payee, "member_id": member_id, "amount_minor": amount_minor,
                        "purpose": payout.purpose})
    return payout


def request_payout(session: Session, actor: Actor, org_id: int, amount_minor: int, *, purpose: str,
                   member_id: int | None = None, payee: str | None = None,
                   by_member_id: int | None = None) -> PayoutView:
    """Ask for a payout; ``by_member_id`` names the official asking when a system front end records it."""
    org = chama_org(session, actor, org_id, "chama.request")
    payout = create_payout(session, actor, org, amount_minor, member_id=member_id, payee=payee, purpose=purpose,
                           by_member_id=by_member_id)
    session.commit()
    return _view(session, org, payout)


def _decide(session: Session, actor: Actor, org_id: int, payout_id: int, *, approve: bool,
            by_member_id: int | None, reason: str) -> PayoutView:
    org = chama_org(session, actor, org_id, "chama.approve")
    payout = _payout(session, org, payout_id, lock=True)
    beneficiary = member_row(session, org.id, payout.member_id) if payout.member_id else None
    decide_and_notify(session, actor, org, payout, what=_what(payout), beneficiary=beneficiary, approve=approve,
                      by_member_id=by_member_id, reason=reason)
    session.commit()
    return _view(session, org, payout)


def approve_payout(session: Session, actor: Actor, org_id: int, payout_id: int, *,
                   by_member_id: int | None = None) -> PayoutView:
    return _decide(session, actor, org_id, payout_id, approve=True, by_member_id=by_member_id, reason="")


def reject_payout(session: Session, actor: Actor, org_id: int, payout_id: int, *, reason: str,
                  by_member_id: int | None = None) -> PayoutView:
    return _decide(session, actor, org_id, payout_id, approve=False, by_member_id=by_member_id, reason=reason)


def pay_payout(session: Session, actor: Actor, org_id: int, payout_id: int, *, source: str = "cash",
               reference: str | None = None, occurred_at: datetime | None = None) -> PayoutView:
    """Pay an approved payout from the pool, under the chama lock; the pool never goes below zero."""
    org = chama_org(session, actor, org_id, "chama.money")
    when = check_when(source, occurred_at)
    lock_chama(session, org.id)
    payout = _payout(session, org, payout_id, lock=True)
    member = member_row(session, org.id, payout.member_id, lock=True) if payout.member_id else None
    kind, amount, change = _what_is_paid(session, org, payout, member)
    entry = pay_from_pool(session, actor, org, payout, what=_what(payout), kind=kind, change=change, amount=amount,
                          source=source, reference=reference, occurred_at=when, memo=payout.purpose)
    payout.status, payout.paid_at = "paid", when
    receipt = f"{money(org, payout.amount_minor)} has been paid to you: {payout.purpose}."
    if payout.kind == "exit" and member is not None:
        receipt = leave(session, org, member, entry, when, payout.purpose)
    finish(session, actor, org, entry, receipt=receipt, always=payout.kind != "payout")
    return _view(session, org, payout)


def _what_is_paid(session: Session, org: Org, payout: ChamaPayout,
                  member: ChamaMember | None) -> tuple[str, int, Balances]:
    """The entry a payout of its kind posts: (kind, amount, effect)."""
    if payout.kind == "payout":
        return "payout", payout.amount_minor, effect("payout", payout.amount_minor)
    assert member is not None
    name = first_name(session, member)
    if payout.kind == "refund":
        savings = sums(session, org.id, member_id=member.id).savings
        if savings < payout.amount_minor:
            raise Conflict(f"{name}'s savings are {money(org, savings)}; the refund of "
                           f"{money(org, payout.amount_minor)} would take more than she has.")
        return "refund", payout.amount_minor, effect("refund", payout.amount_minor)
    settle = settlement_of(session, org, member)
    if settle.paid_minor != payout.amount_minor:
        raise Conflict(f"{name}'s balances changed since her exit was asked for: it would now pay "
                       f"{money(org, settle.paid_minor)}, not {money(org, payout.amount_minor)}. "
                       "Reject this request and ask again.")
    return "exit_settlement", settle.savings_minor, settle.change


def get_payout(session: Session, actor: Actor, org_id: int, payout_id: int) -> PayoutView:
    org = chama_org(session, actor, org_id, "chama.read")
    return _view(session, org, _payout(session, org, payout_id))


def list_payouts(session: Session, actor: Actor, org_id: int, *, status: str | None = None,
                 after_id: int | None = None, limit: int = 100) -> list[PayoutView]:
    org = chama_org(session, actor, org_id, "chama.read")
    query = select(ChamaPayout).where(ChamaPayout.org_id == org.id)
    if status:
        query = query.where(ChamaPayout.status == status)
    if after_id is not None:
        query = query.where(ChamaPayout.id > after_id)
    return [_view(session, org, p) for p in session.scalars(query.order_by(ChamaPayout.id).limit(limit))]
