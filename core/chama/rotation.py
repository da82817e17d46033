"""The merry-go-round: members take turns to receive a payout, in an agreed order.

A round is an ordered list of members. Each turn is an ordinary payout
(asked for, approved by officials, paid from the pool), so the same rules
guard it; a turn is done when its payout is paid. The order of a round can
be changed until its first payout is asked for; the next round repeats the
last order unless a new one is given.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from core import audit
from core.actors import Actor
from core.chama.base import chama_org, contact_of, first_name, lock_chama, member_row
from core.chama.payouts import PayoutView, create_payout, get_payout
from core.errors import Conflict, InvalidInput
from db.models import Org
from db.models_chama import ChamaMember, ChamaPayout, ChamaRotationSlot

LIVE = ("requested", "approved", "paid")


@dataclass(frozen=True)
class TurnView:
    position: int
    member_id: int
    name: str
    member_number: str
    payout_id: int | None
    state: str  # received, in progress (payout asked for or approved), next, waiting


@dataclass(frozen=True)
class RotationView:
    round_no: int
    turns: list[TurnView]
    next_member_id: int | None
    complete: bool


def _slots(session: Session, org_id: int, round_no: int) -> list[tuple[ChamaRotationSlot, str | None]]:
    return [(slot, status) for slot, status in session.execute(
        select(ChamaRotationSlot, ChamaPayout.status)
        .outerjoin(ChamaPayout, ChamaPayout.id == ChamaRotationSlot.payout_id)
        .where(ChamaRotationSlot.org_id == org_id, ChamaRotationSlot.round_no == round_no)
        .order_by(ChamaRotationSlot.position))]


def _current_round(session: Session, org_id: int) -> int | None:
    return session.scalar(select(func.max(ChamaRotationSlot.round_no)).where(ChamaRotationSlot.org_id == org_id))


def _view(session: Session, org: Org, round_no: int) -> RotationView:
    turns: list[TurnView] = []
    next_id = None
    for slot, status in _slots(session, org.id, round_no):
        member = member_row(session, org.id, slot.member_id)
        if status == "paid":
            state = "received"
        elif next_id is None:
            next_id = member.id
            state = "in progress" if status in LIVE else "next"
        else:
            state = "waiting"
        turns.append(TurnView(slot.position, member.id, contact_of(session, member).name, member.member_number,
                              slot.payout_id if status in LIVE else None, state))
    return RotationView(round_no, turns, next_id, next_id is None)


def rotation(session: Session, actor: Actor, org_id: int) -> RotationView | None:
    """The current round, or None before the first order is set."""
    org = chama_org(session, actor, org_id, "chama.read")
    round_no = _current_round(session, org.id)
    return None if round_no is None else _view(session, org, round_no)


def set_rotation(session: Session, actor: Actor, org_id: int, member_ids: list[int] | None = None) -> RotationView:
    """Set the order of the current round (before its first payout) or start the next round."""
    org = chama_org(session, actor, org_id, "chama.members")
    lock_chama(session, org.id)
    current = _current_round(session, org.id)
    slots = _slots(session, org.id, current) if current is not None else []
    started = any(status in LIVE for _slot, status in slots)
    complete = bool(slots) and all(status == "paid" for _slot, status in slots)
    if started and not complete:
        raise Conflict(f"Round {current} of the merry-go-round is under way; finish it before changing the order.")
    if member_ids is None:
        if not slots:
            raise InvalidInput("Give the members in the order they receive.")
        member_ids = [slot.member_id for slot, _status in slots]
    if len(set(member_ids)) != len(member_ids) or not member_ids:
        raise InvalidInput("Name each member once, in the order they receive.")
    for member_id in member_ids:
        member = member_row(session, org.id, member_id)
        if member.status != "active":
            raise Conflict(f"{first_name(session, member)} is {member.status} and cannot take a turn.")
    if current is not None and not started:
        round_no = current
        session.execute(delete(ChamaRotationSlot).where(ChamaRotationSlot.org_id == org.id,
                                                        ChamaRotationSlot.round_no == current))
    else:
        round_no = (current or 0) + 1
    for position, member_id in enumerate(member_ids, start=1):
        session.add(ChamaRotationSlot(org_id=org.id, round_no=round_no, position=position, member_id=member_id))
    session.flush()
    audit.record(session, actor, "chama.rotation.set", "chama_rotation", round_no, org_id=org.id,
                 after={"round": round_no, "order": member_ids})
    session.commit()
    return _view(session, org, round_no)


def request_turn_payout(session: Session, actor: Actor, org_id: int, amount_minor: int, *,
                        by_member_id: int | None = None) -> PayoutView:
    """Ask for the payout of the next member's turn; officials approve and pay it like any payout."""
    org = chama_org(session, actor, org_id, "chama.request")
    lock_chama(session, org.id)
    current = _current_round(session, org.id)
    if current is None:
        raise Conflict("There is no merry-go-round order yet; set one first.")
    for slot, status in _slots(session, org.id, current):
        if status == "paid":
            continue
        member = session.get(ChamaMember, slot.member_id)
        assert member is not None
        if status in LIVE:
            raise Conflict(f"{first_name(session, member)}'s turn already has payout {slot.payout_id} ({status}); "
                           "approve and pay it first.")
        payout = create_payout(session, actor, org, amount_minor, member_id=member.id, payee=None,
                               purpose=f"merry-go-round round {current}, turn {slot.position}",
                               by_member_id=by_member_id)
        slot.payout_id = payout.id
        session.commit()
        return get_payout(session, actor, org.id, payout.id)
    raise Conflict(f"Round {current} is complete; start the next round first.")
