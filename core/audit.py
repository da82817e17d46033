"""The append-only audit log: who did what, before and after, when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.actors import Actor
from core.permissions import require
from db.models import AuditEntry
from db.types import utcnow


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: object = None,
    *,
    org_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Add an audit row to the current unit of work (it commits with the change)."""
    session.add(
        AuditEntry(
            org_id=org_id,
            actor=actor.label,
            actor_user_id=actor.user_id,
            action=action,
            entity=entity,
            entity_id=None if entity_id is None else str(entity_id),
            before=before,
            after=after,
            at=utcnow(),
        )
    )


@dataclass(frozen=True)
class AuditView:
    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def list_entries(session: Session, actor: Actor, org_id: int, *, limit: int = 100, before_id: int | None = None) -> list[AuditView]:
    """Newest first, paged by id (keyset)."""
    require(session, actor, org_id, "audit.read")
    query = select(AuditEntry).where(AuditEntry.org_id == org_id)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    rows = session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit))
    return [
        AuditView(r.id, r.at, r.actor, r.action, r.entity, r.entity_id, r.before, r.after) for r in rows
    ]
