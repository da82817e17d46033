"""Reads the home screens need, composed from core services (no SQL here).

Each function takes an open session and the signed-in actor, as the core
services do, and returns plain data for a ``console.messages`` message.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from console.messages import HomeData
from core.actors import Actor
from core.contacts import ContactView, count_contacts, list_contacts
from core.outbox import list_messages, status_counts

CONTACTS_PAGE = 50
RECENT_MESSAGES = 10


def contacts_page(
    session: Session, actor: Actor, org_id: int, *, before_id: int | None = None, limit: int = CONTACTS_PAGE
) -> tuple[list[ContactView], bool]:
    """A keyset page of contacts, newest first, and whether there are older ones."""
    rows = list_contacts(session, actor, org_id, before_id=before_id, limit=limit + 1)
    return rows[:limit], len(rows) > limit


def home_data(session: Session, actor: Actor, org_id: int, *, contacts_limit: int = CONTACTS_PAGE) -> HomeData:
    """Counts, the first ``contacts_limit`` contacts and the newest messages of one org."""
    contacts, more = contacts_page(session, actor, org_id, limit=contacts_limit)
    return HomeData(
        org_id=org_id,
        contact_count=count_contacts(session, actor, org_id),
        contacts=contacts,
        more_contacts=more,
        message_counts=status_counts(session, actor, org_id),
        recent_messages=list_messages(session, actor, org_id, limit=RECENT_MESSAGES),
    )
