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


def mark_sent(session: Session, campaign_id: int, minutes_ago: int) -> None:
    """Every message of the campaign sent ``minutes_ago``, as the dispatcher would have left it."""
    from datetime import timedelta

    for m in session.scalars(select(Message).where(Message.campaign_id == campaign_id)):
        m.status, m.sent_at = "sent", utcnow() - timedelta(minutes=minutes_ago)
    session.commit()


def reply(session: Session, message_id: str, sender: str, text: str) -> None:
    """An SMS from ``sender`` as Africa's Talking delivers it (routed, answered, committed)."""
    from core import inbound

    inbound.receive(session, provider="africastalking", provider_message_id=message_id, from_phone=sender,
                    to="40404", text=text)


def message_states(session: Session, campaign_id: int) -> Counter[str]:
    return Counter(session.scalars(select(Message.status).where(Message.campaign_id == campaign_id)))


DLT_ENTITY = "1101234567890123456"
DLT_TEMPLATE = "1107161234567890123"


def dlt_template(session: Session, org_id: int, name: str, body: str, *, dlt_id: str = DLT_TEMPLATE) -> str:
    """An SMS template registered on DLT, in an org with its DLT entity ID (SMS to India); returns its name."""
    from core.campaigns import campaign_settings
    from core.templates import save_template

    campaign_settings(session, ACTOR, org_id, dlt_entity_id=DLT_ENTITY)
    save_template(session, ACTOR, org_id, name=name, channel="sms", body=body, dlt_template_id=dlt_id)
    return name
