"""Helpers for the campaigns tests: an org with many contacts, written in one statement."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from core.actors import Actor
from db.models import Contact, Message
from db.types import utcnow
from tests.fakes import phone

ACTOR = Actor.system_actor("cli:test")


def add_contacts(session: Session, org_id: int, count: int, *, start: int = 0, email: bool = False) -> list[str]:
    """``count`` contacts named "Member <i>" with phone(i); returns their phones."""
    now = utcnow()
    rows = [{"org_id": org_id, "name": f"Member {i} Test", "phone": phone(i), "notes": "",
             "email": f"member{i}@example.org" if email else None, "created_at": now, "updated_at": now}
            for i in range(start, start + count)]
    session.execute(insert(Contact), rows)
    session.commit()
    return [r["phone"] for r in rows]


def message_states(session: Session, campaign_id: int) -> Counter[str]:
    return Counter(session.scalars(select(Message.status).where(Message.campaign_id == campaign_id)))
