"""What every community service shares: the org check, names, the clock, times on the
community's clock, and telling a member something (SMS, else email, and in the app)."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import outbox
from core.actors import Actor
from core.errors import Conflict, NotFound
from core.optouts import is_opted_out
from core.permissions import require
from db.models import Org
from db.models_community import CommunityAccount, CommunityNotification
from db.types import utcnow

MEMBERS = Actor.system_actor("community:member")


def community_org(session: Session, actor: Actor, org_id: int, permission: str) -> Org:
    """The org, if it is a community and ``actor`` may do ``permission`` there."""
    org = require(session, actor, org_id, permission)
    if org.kind != "community":
        raise NotFound(f"{org.name} is not a community; choose a community organisation.")
    return org


def owned(session: Session, model, org_id: int, row_id: int, what: str, *, lock: bool = False):
    """A row of this org, or NotFound (another org's row does not exist for us)."""
    query = select(model).where(model.id == row_id, model.org_id == org_id)
    row = session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise NotFound(f"There is no {what} {row_id} in this community.")
    return row


def member(session: Session, org_id: int, account_id: int, *, lock: bool = False) -> CommunityAccount:
    """A member's account of this org (never the "Removed member" placeholder)."""
    account = owned(session, CommunityAccount, org_id, account_id, "member", lock=lock)
    if account.status == "placeholder":
        raise NotFound(f"There is no member {account_id} in this community.")
    return account


def refuse_if_suspended(account: CommunityAccount, name: str = "This member") -> None:
    if account.status == "suspended":
        raise Conflict(f"{name}'s membership is suspended; reinstate them first.")


def clock(now: datetime | None) -> datetime:
    return now or utcnow()


def when(org: Org, moment: datetime, fmt: str = "%a %d %b %H:%M") -> str:
    """A stored (UTC) time as the community's clock shows it."""
    return moment.astimezone(ZoneInfo(org.timezone)).strftime(fmt)


def searchable(*parts: str | None) -> str:
    """The lower-cased text staff search matches."""
    return " ".join(p.strip().lower() for p in parts if p and p.strip())


def slug_of(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "member"


def notify(session: Session, org_id: int, account_id: int, kind: str, body: str) -> None:
    """A notification in the member's app inbox."""
    session.add(CommunityNotification(org_id=org_id, account_id=account_id, kind=kind, body=body))


def tell(session: Session, org: Org, account: CommunityAccount, body: str, *, key: str, subject: str,
         purpose: str = "transactional", kind: str = "system") -> int | None:
    """Tell a member: a notification, and an SMS (an email when they have no phone, or sent STOP and the
    outbox would hold this purpose back).

    Returns the outbox message's id, or None when nothing could be sent (no
    address that takes messages). ``key`` makes telling twice send once.
    """
    notify(session, org.id, account.id, kind, body)
    held = purpose in outbox.HELD_BY_OPT_OUT and bool(account.phone) and is_opted_out(
        session, org.id, "sms", account.phone)
    if account.phone and not held:
        return outbox.enqueue(session, org.id, to=account.phone, body=body, purpose=purpose,
                              idempotency_key=key)
    if account.email:
        return outbox.enqueue(session, org.id, to=account.email, channel="email", body=body, subject=subject,
                              purpose=purpose, idempotency_key=f"{key}:email")
    return None
