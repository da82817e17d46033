"""Members' SMS keywords (EVENTS, JOIN n, LEAVE n), called as the inbound router calls them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from core.community import events
from core.community.sms import HANDLERS
from tests.community_support import ACTOR, NOW, make_event, make_members, messages_to


@dataclass(frozen=True)
class Sms:
    """The fields of ``core.inbound.InboundSms`` that the handlers read."""

    org_id: int
    phone: str
    text: str
    received_at: datetime = NOW

    @property
    def keyword(self) -> str:
        return self.text.split()[0].upper() if self.text.split() else ""

    @property
    def rest(self) -> str:
        return self.text.partition(" ")[2].strip()


def reply(session, org_id: int, phone: str, text: str) -> str:
    sms = Sms(org_id, phone, text)
    return HANDLERS[sms.keyword](session, sms)


@pytest.fixture
def org(session, make_org):
    return make_org(session, "community", country="KE")


def test_events_join_and_leave(session, org):
    (member,) = make_members(session, org.id, 1)
    full = make_event(session, org.id, capacity=1, title="Investor clinic", starts_in=timedelta(days=2))
    pitch = make_event(session, org.id, capacity=5, title="Pitch night")
    events.register(session, ACTOR, org.id, full.id, member.id, now=NOW)
    listing = reply(session, org.id, "+254711111111", "events")
    assert f"{full.id}. Investor clinic" in listing and "(full, waitlist)" in listing
    assert f"{pitch.id}. Pitch night" in listing and listing.index("Investor") < listing.index("Pitch")

    newcomer = "+254711111111"
    assert reply(session, org.id, newcomer, f"JOIN {pitch.id}").startswith(f"You are registered for event {pitch.id}")
    assert "waitlist" in reply(session, org.id, newcomer, f"join {full.id}")
    regs = {r.event_id: r.status for e in (full, pitch)
            for r in events.list_registrations(session, ACTOR, org.id, e.id, search="254711111")}
    assert regs == {full.id: "waitlisted", pitch.id: "registered"}

    # The member with the place leaves: the newcomer is promoted and told by SMS.
    assert reply(session, org.id, member.phone, f"LEAVE {full.id}").startswith(f"You have left event {full.id}")
    assert "now registered for Investor clinic" in messages_to(session, newcomer)[-1]


def test_unclear_messages_get_help(session, org):
    assert "JOIN and the event number" in reply(session, org.id, "+254711111111", "JOIN")
    assert "no upcoming events" in reply(session, org.id, "+254711111111", "EVENTS")
    assert "no event 999" in reply(session, org.id, "+254711111111", "JOIN 999").lower()
    assert "not registered" in reply(session, org.id, "+254722222222", "LEAVE 3")
