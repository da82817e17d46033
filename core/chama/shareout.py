"""End-of-cycle share-out: the whole pool goes back to the members.

Each member receives their savings plus a share of what the chama earned
(interest and fines paid, less payouts), in proportion to their savings.

Rounding: shares are whole minor units by the largest-remainder method. Each
member first gets the floor of their exact share; the units left over go one
each to the members with the largest remainders, the earlier member (lower
id) first on a tie. So the shares add up exactly to the earnings and the
payouts exactly to the pool, which is zero afterwards. If payouts took more
than was earned, the shortfall is shared the same way.

A share-out needs every loan repaid, every fine paid and no approved payout
waiting; the preview lists what is in the way. Committing needs the code the
preview printed, so nothing can change between reading the preview and
committing it without the commit being refused.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit
from core.actors import Actor
from core.chama.base import chama_org, contact_of, largest_remainder, lock_chama, money
from core.chama.ledger import announce, effect, post, sums, sums_by_member
from core.errors import Conflict
from db.models import Org
from db.models_chama import ChamaLedgerEntry, ChamaMember, ChamaPayout, ChamaShareout
from db.types import utcnow


@dataclass(frozen=True)
class ShareLine:
    member_id: int
    name: str
    member_number: str
    savings_minor: int
    earnings_share_minor: int
    payout_minor: int


@dataclass(frozen=True)
class ShareoutPlan:
    org_id: int
    currency: str
    pool_minor: int
    savings_minor: int
    earnings_minor: int
    lines: list[ShareLine]
    blockers: list[str]
    code: str


@dataclass(frozen=True)
class ShareoutView:
    id: int
    org_id: int
    committed_at: datetime
    pool_minor: int
    members: int
    lines: list[ShareLine]


def _names(session: Session, org_id: int, member_ids: list[int]) -> str:
    names = [contact_of(session, m).name.split()[0] for m in session.scalars(
        select(ChamaMember).where(ChamaMember.org_id == org_id, ChamaMember.id.in_(member_ids))
        .order_by(ChamaMember.id))]
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def _plan(session: Session, org: Org) -> ShareoutPlan:
    totals = sums(session, org.id)
    by_member = sums_by_member(session, org.id)
    blockers: list[str] = []
    owing = {m: b.loan for m, b in by_member.items() if b.loan}
    if owing:
        blockers.append(f"{len(owing)} member(s) still owe {money(org, sum(owing.values()))} on loans "
                        f"({_names(session, org.id, list(owing))}); loans must be repaid first.")
    fined = {m: b.fines for m, b in by_member.items() if b.fines}
    if fined:
        blockers.append(f"{len(fined)} member(s) owe {money(org, sum(fined.values()))} in fines "
                        f"({_names(session, org.id, list(fined))}); record the payments or reverse the fines.")
    waiting = list(session.scalars(select(ChamaPayout.id).where(ChamaPayout.org_id == org.id,
                                                               ChamaPayout.status == "approved")))
    if waiting:
        blockers.append(f"Payout(s) {', '.join(map(str, waiting))} are approved but not paid; pay or reverse them first.")
    savings = {m: b.savings for m, b in sorted(by_member.items()) if b.savings > 0}
    surplus = totals.pool - sum(savings.values())
    if totals.pool <= 0:
        blockers.append("The pool is empty; there is nothing to share.")
    elif not savings:
        blockers.append("Nobody has savings, so the earnings cannot be shared in proportion to them.")
    lines: list[ShareLine] = []
    if savings and not blockers:
        shares = largest_remainder(surplus, list(savings.values()))
        members = {m.id: m for m in session.scalars(select(ChamaMember).where(ChamaMember.id.in_(list(savings))))}
        for (member_id, saved), share in zip(savings.items(), shares):
            member = members[member_id]
            lines.append(ShareLine(member_id, contact_of(session, member).name, member.member_number, saved, share,
                                   saved + share))
    last_entry = session.scalar(select(func.max(ChamaLedgerEntry.id)).where(ChamaLedgerEntry.org_id == org.id))
    digest = hashlib.sha256(repr((org.id, last_entry, totals.pool, [(ln.member_id, ln.payout_minor) for ln in lines]))
                            .encode()).hexdigest()[:10]
    return ShareoutPlan(org.id, org.currency, totals.pool, sum(savings.values()), surplus, lines, blockers, digest)


def preview_shareout(session: Session, actor: Actor, org_id: int) -> ShareoutPlan:
    """What each member would receive now, what stands in the way, and the code to commit it with."""
    org = chama_org(session, actor, org_id, "chama.read")
    return _plan(session, org)


def commit_shareout(session: Session, actor: Actor, org_id: int, *, code: str) -> ShareoutView:
    """Pay the previewed share-out: one ledger entry per member, the pool left at exactly zero."""
    org = chama_org(session, actor, org_id, "chama.money")
    lock_chama(session, org.id)
    plan = _plan(session, org)
    if plan.blockers:
        raise Conflict(" ".join(plan.blockers))
    if code.strip() != plan.code:
        raise Conflict(f"The books changed since that preview (its code was {code.strip()!r}, now {plan.code!r}); "
                       "preview again and commit with the new code.")
    shareout = ChamaShareout(org_id=org.id, pool_minor=plan.pool_minor, savings_minor=plan.savings_minor,
                             earnings_minor=plan.earnings_minor, members=len(plan.lines), fingerprint=plan.code,
                             committed_by=actor.label, committed_at=utcnow())
    session.add(shareout)
    session.flush()
    for line in plan.lines:
        if line.payout_minor <= 0:
            continue
        entry, _created = post(session, org, actor, kind="shareout", amount=line.payout_minor,
                               change=effect("shareout", line.payout_minor, savings=line.savings_minor),
                               member_id=line.member_id, shareout_id=shareout.id,
                               key=f"shareout:{shareout.id}:{line.member_id}", memo=f"share-out {shareout.id}")
        announce(session, actor, org, entry,
                 receipt=f"share-out: {money(org, line.payout_minor)} (savings {money(org, line.savings_minor)}, "
                         f"earnings {money(org, line.earnings_share_minor)}).")
    left = sums(session, org.id).pool
    if left != 0:  # the rounding above guarantees zero; refuse to commit anything else
        raise RuntimeError(f"share-out would leave {left} in the pool")
    audit.record(session, actor, "chama.shareout", "chama_shareout", shareout.id, org_id=org.id,
                 after={"pool_minor": plan.pool_minor, "members": len(plan.lines), "code": plan.code})
    session.commit()
    return ShareoutView(shareout.id, org.id, shareout.committed_at, plan.pool_minor, len(plan.lines), plan.lines)
