"""Members' SMS keywords (EVENTS, JOIN n, LEAVE n) through the inbound router, and end to end
through `POST /sms/inbound` on the live gateway with a fake Africa's Talking receiving the replies."""

from __future__ import annotations

import itertools
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from core import inbound, outbox
from core.community import events
from core.orgs import set_sms_number
from db.models import Message
from db.types import utcnow
from tests.community_support import ACTOR, make_event, make_members, messages_to
from tests.fakes.africastalking import fake_at  # noqa: F401  (fixture)
from tests.live_gateway import running_gateway

NUMBER = "22555"
_ids = itertools.count(1)


def sms(session, sender: str, body: str, to: str = NUMBER) -> str | None:
    inbound.receive(session, provider="africastalking", provider_message_id=f"AT-c{next(_ids)}",
                    from_phone=sender, to=to, text=body)
    answers = list(session.scalars(select(Message.body).where(
        Message.to_address == sender, Message.idempotency_key.like("inbound:%")).order_by(Message.id.desc())))
    return answers[0] if answers else None


@pytest.fixture
def org(session, make_org):
    community = make_org(session, "community", name="Hub Nairobi", country="KE")
    set_sms_number(session, ACTOR, community.id, NUMBER)
    return community


def test_events_join_and_leave(session, org):
    (member,) = make_members(session, org.id, 1)
    now = utcnow()
    full = make_event(session, org.id, capacity=1, title="Investor clinic", starts_in=timedelta(days=2), now=now)
    pitch = make_event(session, org.id, capacity=5, title="Pitch night", now=now)
    events.register(session, ACTOR, org.id, full.id, member.id)
    newcomer = "+254711111111"
    listing = sms(session, newcomer, "events")
    assert f"{full.id}. Investor clinic" in listing and "(full, waitlist)" in listing
    assert f"{pitch.id}. Pitch night" in listing and listing.index("Investor") < listing.index("Pitch")

    assert sms(session, newcomer, f"JOIN {pitch.id}").startswith(f"You are registered for event {pitch.id}")
    assert "waitlist" in sms(session, newcomer, f"join {full.id}")
    sms(session, newcomer, f"JOIN {full.id}")  # asking twice is one registration
    regs = [(r.event_id, r.status) for e in (full, pitch)
            for r in events.list_registrations(session, ACTOR, org.id, e.id, search="254711111")]
    assert sorted(regs) == sorted([(full.id, "waitlisted"), (pitch.id, "registered")])

    # The member with the place leaves by SMS: the newcomer is promoted and told by SMS.
    assert sms(session, member.phone, f"LEAVE {full.id}").startswith(f"You have left event {full.id}")
    assert "now registered for Investor clinic" in messages_to(session, newcomer)[-1]


def test_unclear_messages_get_help(session, org):
    assert "JOIN and the event number" in sms(session, "+254711111111", "JOIN")
    assert "no upcoming events" in sms(session, "+254711111112", "EVENTS")
    assert "no event 999" in sms(session, "+254711111113", "JOIN 999").lower()
    assert "not registered" in sms(session, "+254722222222", "LEAVE 3")


def test_members_reach_their_community_without_its_number(session, org):
    """Accounts are not contacts: the community tells the router which phones it knows."""
    (member,) = make_members(session, org.id, 1)
    assert "no upcoming events" in sms(session, member.phone, "EVENTS", to="40404")


def test_a_member_who_sent_stop_gets_no_reminder_sms(session, org):
    a, b = make_members(session, org.id, 2)
    event = make_event(session, org.id, capacity=5, now=utcnow(), starts_in=timedelta(hours=20))
    for person in (a, b):
        events.register(session, ACTOR, org.id, event.id, person.id)
    sms(session, b.phone, "STOP")
    events.send_reminders(session, type("Job", (), {"payload": {"event_id": event.id}})())
    assert any("a reminder" in m for m in messages_to(session, a.phone))
    assert not any("a reminder" in m for m in messages_to(session, b.phone))


def test_join_and_leave_end_to_end_through_the_gateway(committed_db, make_org, fake_at):  # noqa: F811
    with committed_db.session() as s:
        org = make_org(s, "community", name="Hub Nairobi", country="KE")
        set_sms_number(s, ACTOR, org.id, NUMBER)
        (holder,) = make_members(s, org.id, 1)
        event = make_event(s, org.id, capacity=1, title="Demo day", now=utcnow())
        events.register(s, ACTOR, org.id, event.id, holder.id)
    newcomer = "+254733000111"

    def form(sender: str, text: str, message_id: str) -> dict[str, str]:
        return {"from": sender, "to": NUMBER, "text": text, "date": "2026-11-21 10:00:00", "id": message_id,
                "linkId": f"link-{message_id}"}

    with running_gateway(committed_db) as base:
        assert httpx.post(f"{base}/sms/inbound", data=form(newcomer, f"JOIN {event.id}", "ATX-j1"),
                          timeout=10).text == "handled"
        assert httpx.post(f"{base}/sms/inbound", data=form(newcomer, f"JOIN {event.id}", "ATX-j1"),
                          timeout=10).text == "duplicate"
        assert httpx.post(f"{base}/sms/inbound", data=form(holder.phone, f"LEAVE {event.id}", "ATX-l1"),
                          timeout=10).text == "handled"
    outbox.send_due(committed_db, {"sms": fake_at.provider()})
    to_newcomer = [r.message for r in fake_at.received_for(newcomer)]
    assert any("full; you are on the waitlist" in m for m in to_newcomer)
    assert any("a place opened up and you are now registered for Demo day" in m for m in to_newcomer)
    assert any(f"You have left event {event.id}" in r.message for r in fake_at.received_for(holder.phone))
    with committed_db.session() as s:
        rows = {r.account_id: r.status for r in events.list_registrations(s, ACTOR, org.id, event.id)}
    assert sorted(rows.values()) == ["cancelled", "registered"] and rows[holder.id] == "cancelled"
