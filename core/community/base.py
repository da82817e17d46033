"""What every community service shares: the org check, names, the clock."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.actors import Actor
from core.errors import NotFound
from core.permissions import require
from db.models import Org
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


def clock(now: datetime | None) -> datetime:
    return now or utcnow()


def searchable(*parts: str | None) -> str:
    """The lower-cased text staff search matches."""
    return " ".join(p.strip().lower() for p in parts if p and p.strip())


def slug_of(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "member"
