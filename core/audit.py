"""The append-only audit log: who did what, before and after, when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core.actors import Actor
from core.errors import InvalidInput
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
    actor_user_id: int | None = None


PAGE_LIMIT = 500


def list_entries(
    session: Session,
    actor: Actor,
    org_id: int,
    *,
    who: str | None = None,
    what: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    entity: str | None = None,
    entity_ids: Sequence[object] | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[AuditView]:
    """One org's audit rows, newest first, a page at a time: the one read path of the audit log.

    Needs ``audit.read`` in the org. Every filter is optional and they combine:

    * ``who``: part of the actor's label, any case (a staff email, ``cli:NAME``,
      ``gateway``, ``mpesa``...).
    * ``what``: an action (``chama.contribution``) or a family of them by its
      leading parts (``chama`` or ``chama.loan`` match ``chama.loan.request``;
      ``chama.lo`` matches nothing).
    * ``since`` / ``until``: tz-aware times; rows at or after ``since`` and
      strictly before ``until``.
    * ``entity`` and ``entity_ids``: rows about those records (``entity="chama_member",
      entity_ids=[4, 9]``); ids compare as text, as they are stored.
    * ``limit`` (1 to ``PAGE_LIMIT``) rows; for the next page pass the last row's
      id as ``before_id`` (keyset paging: new rows never shift a page).
    """
    require(session, actor, org_id, "audit.read")
    if not 1 <= limit <= PAGE_LIMIT:
        raise InvalidInput(f"A page holds 1 to {PAGE_LIMIT} audit rows, not {limit}.")
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise InvalidInput(f"{name} needs a time zone.")
    query = select(AuditEntry).where(AuditEntry.org_id == org_id)
    if who:
        query = query.where(func.lower(AuditEntry.actor).contains(who.strip().lower(), autoescape=True))
    if what:
        what = what.strip().rstrip(".")
        query = query.where(or_(AuditEntry.action == what,
                                AuditEntry.action.startswith(what + ".", autoescape=True)))
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    if entity is not None:
        query = query.where(AuditEntry.entity == entity)
    if entity_ids is not None:
        query = query.where(AuditEntry.entity_id.in_([str(i) for i in entity_ids]))
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    rows = session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit))
    return [_view(r) for r in rows]


def _view(r: AuditEntry) -> AuditView:
    return AuditView(r.id, r.at, r.actor, r.action, r.entity, r.entity_id, r.before, r.after, r.actor_user_id)
