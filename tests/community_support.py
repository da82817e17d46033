"""Helpers for the community tests: a community with members and an event."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.actors import Actor
from core.community import accounts, events
from db.models import Message
from tests.fakes import phone

ACTOR = Actor.system_actor("cli:test")
NOW = datetime(2026, 11, 21, 9, 0, tzinfo=timezone.utc)


def make_members(session: Session, org_id: int, n: int, *, first_phone: int = 500) -> list[accounts.AccountView]:
    return [accounts.create_account(session, ACTOR, org_id, display_name=f"Member {i}", phone=phone(first_phone + i))
            for i in range(n)]


def make_event(session: Session, org_id: int, *, capacity: int = 20, starts_in: timedelta = timedelta(days=3),
               title: str = "Pitch night", now: datetime = NOW) -> events.EventView:
    starts = now + starts_in
    return events.create_event(session, ACTOR, org_id, title=title, starts_at=starts,
                               ends_at=starts + timedelta(hours=2), capacity=capacity, venue="iHub, Nairobi",
                               now=now)


def messages_to(session: Session, address: str) -> list[str]:
    """The bodies of the messages that go (or went) to ``address``: not those an opt-out held back."""
    return list(session.scalars(select(Message.body).where(Message.to_address == address,
                                                           Message.status != "opted_out").order_by(Message.id)))
