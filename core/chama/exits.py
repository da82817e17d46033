"""Leaving the chama: the exit settlement, asked for and approved like any money out.

``request_exit`` works out the settlement (see ``settlement``) and asks the
officials for it as a payout of kind ``exit``; paying it posts the exit
settlement entry and marks the member exited. A member who owes more than
she saved pays the difference first; a guarantor of an open loan stays until
it is repaid; a member with nothing saved and nothing owed simply leaves.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.actors import Actor
from core.chama.base import chama_org, first_name, lock_chama, member_row, money
from core.chama.ledger import finish, post
from core.chama.loans import guaranteeing
from core.chama.payouts import PayoutView, create_payout, get_payout
from core.chama.settlement import Settlement, leave, settlement_of
from core.errors import Conflict, InvalidInput
from db.models_chama import ChamaLoan, ChamaPayout
from db.types import utcnow


def exit_settlement(session: Session, actor: Actor, org_id: int, member_id: int) -> Settlement:
    """What leaving would pay the member now, and what it would settle first."""
    org = chama_org(session, actor, org_id, "chama.read")
    return settlement_of(session, org, member_row(session, org.id, member_id))


def request_exit(session: Session, actor: Actor, org_id: int, member_id: int, *, reason: str,
                 by_member_id: int | None = None) -> PayoutView | None:
    """Ask for a member's exit settlement (None when she had nothing to settle and has left already)."""
    org = chama_org(session, actor, org_id, "chama.request")
    if not reason or not reason.strip():
        raise InvalidInput("Say why the member leaves (moved away, asked to leave, died); her statement keeps it.")
    lock_chama(session, org.id)
    member = member_row(session, org.id, member_id, lock=True)
    name = first_name(session, member)
    if member.status == "exited":
        raise Conflict(f"{name} already left the chama on {member.exited_on}.")
    backing = guaranteeing(session, org.id, member.id)
    if backing:
        raise Conflict(f"{name} guarantees loan(s) {', '.join(map(str, backing))}; she can leave once they are "
                       "repaid or her pledge is released.")
    if session.scalar(select(ChamaLoan.id).where(ChamaLoan.member_id == member.id,
                                                 ChamaLoan.status.in_(("requested", "approved")))):
        raise Conflict(f"{name} has a loan request waiting; reject or withdraw it first.")
    pending = session.scalar(select(ChamaPayout.id).where(ChamaPayout.member_id == member.id,
                                                          ChamaPayout.kind == "exit",
                                                          ChamaPayout.status.in_(("requested", "approved"))))
    if pending:
        raise Conflict(f"{name}'s exit is already asked for (payout {pending}).")
    settle = settlement_of(session, org, member)
    if settle.paid_minor < 0:
        raise Conflict(f"{name} owes {money(org, settle.owed_minor)} (loans and fines) and has saved "
                       f"{money(org, settle.savings_minor)}; she pays the other {money(org, -settle.paid_minor)} "
                       "before she leaves.")
    if settle.paid_minor == 0:
        # Nothing is handed over: her savings (if any) settle exactly what she owes.
        entry = None
        if settle.savings_minor:
            entry, _ = post(session, org, actor, kind="exit_settlement", amount=settle.savings_minor,
                            change=settle.change, member_id=member.id, memo=reason.strip(),
                            key=f"exit:{member.id}:{date.today().isoformat()}")
        text = leave(session, org, member, entry, utcnow(), reason.strip())
        audit.record(session, actor, "chama.member.exit", "chama_member", member.id, org_id=org.id,
                     after={"reason": reason.strip(), "settled_minor": settle.savings_minor})
        if entry is not None:
            finish(session, actor, org, entry, receipt=text, always=True)
        else:
            session.commit()
        return None
    payout = create_payout(session, actor, org, settle.paid_minor, member_id=member.id, payee=None, kind="exit",
                           purpose=reason.strip(), by_member_id=by_member_id)
    session.commit()
    return get_payout(session, actor, org.id, payout.id)
