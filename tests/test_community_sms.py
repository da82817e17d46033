"""Members' SMS (EVENTS, JOIN n / JOIN4 / join #4, LEAVE n, MY EVENTS, POSTS, REPORT n, HELP, and the
inbox for the rest) through the inbound router, and end to end through `POST /sms/inbound` on the live
gateway in Africa's Talking's format, with a fake Africa's Talking receiving the replies."""

from __future__ import annotations

import itertools
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from core import inbound, outbox
from core.community import events, inbox, members, social
from core.orgs import set_sms_number
from db.models import Message
from db.models_community import CommunityAccount, CommunityEvent, CommunityReport, CommunitySignup
from db.types import utcnow
from tests.community_support import ACTOR, make_event, make_members, messages_to
from tests.fakes.africastalking import fake_at  # noqa: F401  (fixture)
from tests.live_gateway import running_gateway

NUMBER = "22555"
_ids = itertools.count(1)


def sms(session, sender: str, body: str, to: str = NUMBER) -> str | None:
    before = session.scalar(select(func.max(Message.id))) or 0
    inbound.receive(session, provider="africastalking", provider_message_id=f"AT-c{next(_ids)}",
                    from_phone=sender, to=to, text=body)
    answers = list(session.scalars(select(Message.body).where(
        Message.to_address == sender, Message.idempotency_key.like("inbound:%"), Message.id > before)))
    return answers[0] if answers else None


@pytest.fixture
def org(session, make_org):
    community = make_org(session, "community", name="Hub Nairobi", country="KE")
    set_sms_number(session, ACTOR, community.id, NUMBER)
    return community


def accounts_in(session, org_id: int) -> int:
    return session.scalar(select(func.count()).select_from(CommunityAccount).where(CommunityAccount.org_id == org_id))


def test_events_join_and_leave(session, org):
    member, newcomer = make_members(session, org.id, 2)
    now = utcnow()
    full = make_event(session, org.id, capacity=1, title="Investor clinic", starts_in=timedelta(days=2), now=now)
    pitch = make_event(session, org.id, capacity=5, title="Pitch night", now=now)
    events.register(session, ACTOR, org.id, full.id, member.id)
    listing = sms(session, newcomer.phone, "events")
    assert f"{full.id}. Investor clinic" in listing and "(full, waitlist)" in listing
    assert f"{pitch.id}. Pitch night" in listing and listing.index("Investor") < listing.index("Pitch")

    assert "you are registered for Pitch night" in sms(session, newcomer.phone, f"JOIN{pitch.id}")
    assert "waitlist" in sms(session, newcomer.phone, f"join #{full.id}")
    sms(session, newcomer.phone, f"JOIN {full.id}")  # asking twice is one registration
    regs = [(r.event_id, r.status) for e in (full, pitch)
            for r in events.list_registrations(session, ACTOR, org.id, e.id) if r.account_id == newcomer.id]
    assert sorted(regs) == sorted([(full.id, "waitlisted"), (pitch.id, "registered")])
    mine = sms(session, newcomer.phone, "MY EVENTS")
    assert "Investor clinic" in mine and "waitlisted" in mine and "Pitch night" in mine

    # The member with the place leaves by SMS: the newcomer is promoted and told by SMS.
    assert f"you have left event {full.id}" in sms(session, member.phone, f"LEAVE {full.id}")
    assert "now registered for Investor clinic" in messages_to(session, newcomer.phone)[-1]


def test_a_stranger_joins_the_community_before_registering(session, org):
    event = make_event(session, org.id, capacity=5, title="Demo day", now=utcnow())
    stranger = "+254711222333"
    assert "no event 999" in sms(session, stranger, "JOIN 999")
    assert accounts_in(session, org.id) == 0 and session.scalar(select(func.count()).select_from(CommunitySignup)) == 0
    assert "reply with your full name" in sms(session, stranger, f"JOIN {event.id}")
    assert accounts_in(session, org.id) == 0
    assert "Which describes you best" in sms(session, stranger, "Amina Otieno")
    assert "number from 1 to 7" in sms(session, stranger, "9")
    done = sms(session, stranger, "2")
    assert done.startswith("Welcome to Hub Nairobi, Amina! You are registered for Demo day")
    (row,) = members.list_members(session, ACTOR, org.id)
    assert (row.name, row.type, row.phone) == ("Amina Otieno", "mentor", stranger)
    assert [r.account_id for r in events.list_registrations(session, ACTOR, org.id, event.id)] == [row.id]


def test_help_the_inbox_and_a_members_report(session, org):
    (member,) = make_members(session, org.id, 1)
    assert "EVENTS to see events" in sms(session, member.phone, "HELP")
    assert "our staff will read your message" in sms(session, member.phone, "Is there parking at iHub? [b]x[/b]")
    assert sms(session, member.phone, "And is it free?") is None  # one acknowledgement per conversation
    (thread,) = inbox.list_threads(session, ACTOR, org.id)
    assert thread.unread == 2 and thread.name == "Member 0" and thread.last_text == "And is it free?"
    inbox.reply(session, ACTOR, org.id, thread.id, "Yes, free parking.")
    assert messages_to(session, member.phone)[-1] == "Yes, free parking."
    _view, texts = inbox.read_thread(session, ACTOR, org.id, thread.id)
    assert [m.direction for m in texts] == ["in", "in", "out"]

    post = social.create_post(session, ACTOR, org.id, member.primary.id, body="Buy followers cheap")
    assert f"{post.id}. Member 0: Buy followers" in sms(session, member.phone, "POSTS")
    assert "is reported" in sms(session, member.phone, f"REPORT {post.id} spam please")
    (report,) = social.moderation_queue(session, ACTOR, org.id)
    assert (report.target_id, report.reason, report.author) == (post.id, "spam please", "Member 0")


def test_a_suspended_member_is_refused_politely(session, org):
    (member,) = make_members(session, org.id, 1)
    event = make_event(session, org.id, now=utcnow())
    members.set_status(session, ACTOR, org.id, member.id, "suspended", reason="Spam")
    for text in (f"JOIN {event.id}", "EVENTS", "MY EVENTS", f"LEAVE {event.id}"):
        assert "sorry, your membership is suspended" in sms(session, member.phone, text)
    assert events.list_registrations(session, ACTOR, org.id, event.id) == []
    assert "EVENTS to see events" in sms(session, member.phone, "HELP")


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


def form(sender: str, text: str, message_id: str) -> dict[str, str]:
    """An inbound SMS as Africa's Talking posts it."""
    return {"from": sender, "to": NUMBER, "text": text, "date": "2026-11-21 10:00:00", "id": message_id,
            "linkId": f"link-{message_id}"}


def test_members_sms_end_to_end_through_the_gateway(committed_db, make_org, fake_at):  # noqa: F811
    with committed_db.session() as s:
        org = make_org(s, "community", name="Hub Nairobi", country="KE")
        set_sms_number(s, ACTOR, org.id, NUMBER)
        holder, glued, hashed, suspended, latecomer = make_members(s, org.id, 5)
        demo = make_event(s, org.id, capacity=2, title="Demo day", now=utcnow())
        started = make_event(s, org.id, capacity=5, title="Morning run", now=utcnow())
        events.register(s, ACTOR, org.id, demo.id, holder.id)
        events.register(s, ACTOR, org.id, started.id, latecomer.id)
        s.get(CommunityEvent, started.id).starts_at = utcnow() - timedelta(minutes=10)
        post = social.create_post(s, ACTOR, org.id, holder.primary.id, body="Followers for sale")
        members.set_status(s, ACTOR, org.id, suspended.id, "suspended", reason="Spam")
        s.commit()
        before = accounts_in(s, org.id)
    stranger = "+254733000999"
    with running_gateway(committed_db) as base:
        def send(sender: str, text: str, message_id: str) -> str:
            return httpx.post(f"{base}/sms/inbound", data=form(sender, text, message_id), timeout=10).text

        assert send(glued.phone, f"JOIN{demo.id}", "ATX-1") == "handled"
        assert send(hashed.phone, f"join #{demo.id}", "ATX-2") == "handled"
        assert send(glued.phone, "HELP", "ATX-3") == "handled"
        assert send(hashed.phone, f"REPORT {post.id} spam", "ATX-4") == "handled"
        assert send(suspended.phone, f"JOIN {demo.id}", "ATX-5") == "handled"
        assert send(latecomer.phone, f"LEAVE {started.id}", "ATX-6") == "handled"
        assert send(stranger, "JOIN 999", "ATX-7") == "handled"
        assert send(stranger, "JOIN 999", "ATX-7") == "duplicate"
    outbox.send_due(committed_db, {"sms": fake_at.provider()})

    def got(phone: str) -> list[str]:
        return [r.message for r in fake_at.received_for(phone)]

    assert any("you are registered for Demo day" in m for m in got(glued.phone))
    assert any("Demo day is full; you are on the waitlist" in m for m in got(hashed.phone))
    assert any("JOIN and a number to register" in m for m in got(glued.phone))
    assert any(f"post {post.id} is reported" in m for m in got(hashed.phone))
    assert any("sorry, your membership is suspended" in m for m in got(suspended.phone))
    assert any("Morning run has already started" in m for m in got(latecomer.phone))
    assert any("there is no event 999" in m for m in got(stranger))
    with committed_db.session() as s:
        assert accounts_in(s, org.id) == before  # the stranger's bad JOIN created nothing
        assert s.scalar(select(func.count()).select_from(CommunitySignup)) == 0
        statuses = {r.account_id: r.status for r in events.list_registrations(s, ACTOR, org.id, demo.id)}
        assert statuses == {holder.id: "registered", glued.id: "registered", hashed.id: "waitlisted"}
        assert [r.account_id for r in events.list_registrations(s, ACTOR, org.id, started.id)
                if r.status == "registered"] == [latecomer.id]
        assert s.scalar(select(CommunityReport.reason).where(CommunityReport.post_id == post.id)) == "spam"
