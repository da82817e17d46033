"""Opt-outs: an address that told an org to stop messaging it on a channel.

``STOP`` by SMS records one (see :mod:`core.inbound`), ``START`` removes it.
Areas check :func:`is_opted_out` (or filter with :func:`opted_out_among`)
before queuing anything a member did not ask for — reminders, campaigns —
while replies to what the member asked for (a balance, a sign-in code) still go.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.models import OptOut


def opt_out(session: Session, org_id: int, channel: str, address: str, *, source: str) -> bool:
    """Record the opt-out; True when it is new. Safe to repeat and to race."""
    if is_opted_out(session, org_id, channel, address):
        return False
    try:
        with session.begin_nested():
            session.add(OptOut(org_id=org_id, channel=channel, address=address, source=source))
    except IntegrityError:
        return False  # another request recorded the same opt-out first
    return True


def opt_in(session: Session, org_id: int, channel: str, address: str) -> bool:
    """Remove the opt-out; True when there was one."""
    result = session.execute(delete(OptOut).where(
        OptOut.org_id == org_id, OptOut.channel == channel, OptOut.address == address))
    return bool(result.rowcount)


def is_opted_out(session: Session, org_id: int, channel: str, address: str) -> bool:
    return session.scalar(select(OptOut.id).where(
        OptOut.org_id == org_id, OptOut.channel == channel, OptOut.address == address)) is not None


def opted_out_among(session: Session, org_id: int, channel: str, addresses: Iterable[str]) -> set[str]:
    """Which of ``addresses`` opted out (one query per thousand, for audiences)."""
    wanted = list(dict.fromkeys(addresses))
    found: set[str] = set()
    for start in range(0, len(wanted), 1000):
        found.update(session.scalars(select(OptOut.address).where(
            OptOut.org_id == org_id, OptOut.channel == channel, OptOut.address.in_(wanted[start:start + 1000]))))
    return found
