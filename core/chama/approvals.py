"""Maker–checker for loans and payouts: the one rule both follow.

A request needs ``approvals_required`` approvals (a chama setting, default 2)
from different officials (chair, treasurer, secretary). The member who gets
the money never decides on it, nor does the official who asked for it, and
an official decides once: the database's unique key on (request, official)
holds that even when two clicks race.

An official is known by a key: ``m<member id>``. A staff login decides as
the member it is explicitly linked to (``members.link_login``), never by a
matching phone, so the same person approving from the console and being
named from the command line is one official, and a login linked to the
applicant cannot approve her loan. A login linked to no member may ask for
money (its key is then ``u<user id>``) but not decide on it.

The approvals a request needs are capped, when it is made, by the officials
eligible for it (active officials other than the one who gets the money and
the one who asked), so a request can always finish; a request nobody
eligible could approve is refused then, with the reason, and the settings
refuse a rule more officials than a chama has could ever meet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import audit
from core.actors import Actor
from core.chama.base import OFFICIAL_ROLES, contact_of, member_row, money, notify_member
from core.chama.ledger import Balances, cash_to_spend, post
from core.errors import Conflict, InvalidInput, PermissionDenied
from core.permissions import role_of
from db.models import Org, User
from db.models_chama import ChamaApproval, ChamaLedgerEntry, ChamaLoan, ChamaMember, ChamaPayout
from db.models_payments import Disbursement
from db.types import utcnow

Subject = ChamaLoan | ChamaPayout


@dataclass(frozen=True)
class Official:
    key: str
    member_id: int | None
    user_id: int | None
    label: str
    role: str
    name: str


@dataclass(frozen=True)
class ApprovalView:
    name: str
    role: str
    decision: str
    reason: str
    at: datetime


def member_key(member_id: int) -> str:
    return f"m{member_id}"


def linked_member(session: Session, org_id: int, user_id: int | None) -> ChamaMember | None:
    """The member a staff login is linked to in this chama, if any."""
    if user_id is None:
        return None
    return session.scalar(select(ChamaMember).where(ChamaMember.org_id == org_id, ChamaMember.user_id == user_id))


def active_officials(session: Session, org_id: int) -> list[ChamaMember]:
    return list(session.scalars(select(ChamaMember).where(
        ChamaMember.org_id == org_id, ChamaMember.status == "active",
        ChamaMember.role.in_(OFFICIAL_ROLES)).order_by(ChamaMember.id)))


def approvals_needed(session: Session, org: Org, *, required: int, beneficiary_id: int | None,
                     requester: str | None, what: str) -> int:
    """``required`` capped by the officials who may approve this request; refused when none may."""
    eligible = [m for m in active_officials(session, org.id)
                if m.id != beneficiary_id and member_key(m.id) != requester]
    if not eligible:
        raise Conflict(f"No official may approve {what}: the active officials are the one who gets the money "
                       "and the one asking. Let another official ask, or elect one more official.")
    return min(required, len(eligible))


def official_for(session: Session, actor: Actor, org: Org, by_member_id: int | None) -> Official:
    """Who is deciding: the signed-in official, or for a system front end the member it names."""
    if not actor.system:
        user = session.get(User, actor.user_id)
        assert user is not None  # require() found their membership
        role = role_of(session, actor, org.id) or ""
        member = linked_member(session, org.id, user.id)
        if by_member_id is not None and (member is None or member.id != by_member_id):
            raise PermissionDenied("You decide as yourself; another official's approval is theirs to give.")
        if member is None:
            return Official(f"u{user.id}", None, user.id, actor.label, role, user.name)
        return Official(member_key(member.id), member.id, user.id, actor.label, role, contact_of(session, member).name)
    if by_member_id is None:
        raise InvalidInput("Say which official decides (the chair, treasurer or secretary approving).")
    member = member_row(session, org.id, by_member_id)
    name = contact_of(session, member).name
    if member.role not in OFFICIAL_ROLES or member.status != "active":
        raise PermissionDenied(f"{name} is {'an ' + member.status if member.status != 'active' else 'a'} "
                               f"{member.role}; only an active chair, treasurer or secretary decides on money.")
    return Official(member_key(member.id), member.id, None, f"{actor.label} for {name}", member.role, name)


def requester_key(session: Session, actor: Actor, org: Org, *, by_member_id: int | None) -> str | None:
    """The maker of a request, so they cannot also be its checker."""
    if not actor.system:
        return official_for(session, actor, org, None).key
    return member_key(by_member_id) if by_member_id is not None else None


def _subject_column(subject: Subject):
    return ChamaApproval.loan_id if isinstance(subject, ChamaLoan) else ChamaApproval.payout_id


def approvals_of(session: Session, subject: Subject) -> list[ApprovalView]:
    rows = session.scalars(select(ChamaApproval).where(_subject_column(subject) == subject.id)
                           .order_by(ChamaApproval.id))
    return [ApprovalView(r.approver_name, r.approver_role, r.decision, r.reason, r.at) for r in rows]


def approval_gap(what: str, required: int, approvals: list[ApprovalView]) -> str | None:
    """"Wanjiku's loan needs 2 approvals; it has 1 (from the chair)." — or None when it has enough."""
    given = [a for a in approvals if a.decision == "approved"]
    if len(given) >= required:
        return None
    if given:
        roles = " and ".join(f"the {a.role}" for a in given)
        has = f"{len(given)} (from {roles})"
    else:
        has = "none yet"
    return f"{what} needs {required} approval{'s' if required != 1 else ''}; it has {has}."


def decide(
    session: Session,
    actor: Actor,
    org: Org,
    subject: Subject,
    *,
    what: str,
    beneficiary_member_id: int | None,
    approve: bool,
    by_member_id: int | None = None,
    reason: str = "",
) -> Official:
    """Record one official's approval or rejection of a request the caller has locked."""
    official = official_for(session, actor, org, by_member_id)
    if official.member_id is None:
        raise PermissionDenied(f"Your login is not linked to a member of {org.name}, so it cannot decide on money; "
                               "an official links it with `ofisi chama members link NUMBER --user EMAIL`.")
    if subject.status != "requested":
        raise Conflict(f"{what} is already {subject.status}; there is nothing to decide.")
    if beneficiary_member_id is not None and official.key == member_key(beneficiary_member_id):
        raise PermissionDenied(f"{official.name} cannot decide on {what}: the money would go to them.")
    if subject.requester_key is not None and official.key == subject.requester_key:
        raise PermissionDenied(f"{official.name} asked for {what}, so other officials must check it.")
    if not approve and not reason.strip():
        raise InvalidInput("Give the reason for the rejection; the member is told.")
    column = _subject_column(subject)
    if session.scalar(select(ChamaApproval.id).where(column == subject.id,
                                                     ChamaApproval.approver_key == official.key)):
        raise Conflict(f"{official.name} has already decided on {what}; another official must approve it.")
    approval = ChamaApproval(
        org_id=org.id, approver_key=official.key, approver_member_id=official.member_id,
        approver_user_id=official.user_id, approver_label=official.label, approver_name=official.name, approver_role=official.role,
        decision="approved" if approve else "rejected", reason=reason.strip(), at=utcnow(),
        **{column.key: subject.id},
    )
    try:
        with session.begin_nested():
            session.add(approval)
    except IntegrityError:
        raise Conflict(f"{official.name} has already decided on {what}.") from None
    if not approve:
        subject.status, subject.rejection_reason, subject.decided_at = "rejected", reason.strip(), utcnow()
    elif approval_gap(what, subject.approvals_required, approvals_of(session, subject)) is None:
        subject.status, subject.decided_at = "approved", utcnow()
    session.flush()
    return official


def decide_and_notify(
    session: Session,
    actor: Actor,
    org: Org,
    subject: Subject,
    *,
    what: str,
    beneficiary: ChamaMember | None,
    approve: bool,
    by_member_id: int | None,
    reason: str,
) -> None:
    """Decide, audit, and tell the member once the request is approved or rejected (no commit)."""
    before = subject.status
    official = decide(session, actor, org, subject, what=what,
                      beneficiary_member_id=beneficiary.id if beneficiary else None,
                      approve=approve, by_member_id=by_member_id, reason=reason)
    entity = "chama_loan" if isinstance(subject, ChamaLoan) else "chama_payout"
    audit.record(session, actor, f"{entity.replace('_', '.')}.{'approve' if approve else 'reject'}", entity,
                 subject.id, org_id=org.id, before={"status": before},
                 after={"status": subject.status, "official": official.name, "role": official.role,
                        "reason": reason.strip() or None})
    if beneficiary is None or subject.status == "requested":
        return
    text = (f"{what} of {money(org, _amount(subject))} is approved." if subject.status == "approved"
            else f"{what} of {money(org, _amount(subject))} was declined: {reason.strip()}.")
    notify_member(session, org, beneficiary, text, f"{org.id}:{entity}:{subject.id}:{subject.status}",
                  purpose="transactional")


def _amount(subject: Subject) -> int:
    return subject.principal_minor if isinstance(subject, ChamaLoan) else subject.amount_minor


LOAN_BY_MPESA, PAYOUT_BY_MPESA = "chama.loan", "chama.payout"  # the subjects of a B2C disbursement


def refuse_short_pool(session: Session, org: Org, out: int, what: str) -> None:
    """Refuse money out that the pool, less what M-Pesa is already paying out, cannot cover."""
    pool = cash_to_spend(session, org.id)
    if out > pool:
        raise Conflict(f"The pool holds {money(org, max(pool, 0))} not already on its way out; {what} of "
                       f"{money(org, out)} needs {money(org, out - max(pool, 0))} more.")


def _refuse_in_flight(session: Session, org: Org, subject: Subject, what: str, source: str) -> None:
    """A request M-Pesa is paying (or whose B2C result an official must settle) is not paid again by hand:
    the money may already have left. When M-Pesa's result is written, the disbursement has ended already."""
    kind = LOAN_BY_MPESA if isinstance(subject, ChamaLoan) else PAYOUT_BY_MPESA
    open_one = session.scalars(select(Disbursement).where(
        Disbursement.org_id == org.id, Disbursement.subject == kind, Disbursement.subject_id == subject.id,
        Disbursement.open_key.is_not(None))).first()
    if open_one is not None:
        raise Conflict(f"{what} is being paid by M-Pesa (disbursement {open_one.id}, {open_one.status}); paying "
                       f"it by {source} too could pay it twice. Wait for M-Pesa's answer, or, if the portal shows "
                       f"no payment, settle it first: `ofisi mpesa settle-disbursement {open_one.id} --org {org.slug} "
                       "--not-paid`.")


def pay_from_pool(
    session: Session,
    actor: Actor,
    org: Org,
    subject: Subject,
    *,
    what: str,
    kind: str,
    change: Balances,
    source: str,
    reference: str | None,
    occurred_at: datetime,
    memo: str = "",
    amount: int | None = None,
) -> ChamaLedgerEntry:
    """Post the money for an approved request; the caller holds the chama lock, so the pool cannot race.
    ``amount`` is the entry's when it is not the request's (an exit settlement records the savings it settles)."""
    if subject.status == "requested":
        gap = approval_gap(what, subject.approvals_required, approvals_of(session, subject))
        raise Conflict(gap or f"{what} is waiting for approval.")
    if subject.status != "approved":
        raise Conflict(f"{what} is {subject.status}; only an approved request is paid out.")
    _refuse_in_flight(session, org, subject, what, source)
    refuse_short_pool(session, org, -change.pool, what)
    is_loan = isinstance(subject, ChamaLoan)
    entry, _created = post(
        session, org, actor, kind=kind, amount=amount or _amount(subject), change=change, member_id=subject.member_id,
        loan_id=subject.id if is_loan else None, payout_id=None if is_loan else subject.id,
        source=source, reference=reference, memo=memo, occurred_at=occurred_at,
    )
    return entry
