"""The community USSD menu, on the chama's service code, through the engine's real hop handling."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.chama.members import add_member
from db.models import Message
from db.types import utcnow
from core.community import members, social
from db.models_community import CommunityAccount, CommunityRegistration
from tests.community_support import ACTOR, make_event, make_members
from ussd.chama import ChamaMachine
from ussd.community import SharedMenu
from ussd.engine import handle_hop


@pytest.fixture
def world(committed_db, make_org):
    with committed_db.session() as s:
        org = make_org(s, "community", name="Hub Nairobi", country="KE")
        member, other = make_members(s, org.id, 2)
        event = make_event(s, org.id, capacity=1, title="Demo day", now=utcnow(), starts_in=timedelta(days=2))
        chama = make_org(s, "chama", country="KE")
        add_member(s, ACTOR, chama.id, name="Wanjiku Kamau", phone="+254712999001", role="chair")
    return org, member, other, event


def dial(db, machine, session_id: str, phone: str, *inputs: str) -> list[str]:
    text, screens = "", [handle_hop(db, machine, session_id=session_id, phone=phone, service_code="*384#", text="")]
    for key in inputs:
        text = f"{text}*{key}" if text else key
        screens.append(handle_hop(db, machine, session_id=session_id, phone=phone, service_code="*384#", text=text))
    return screens


def test_register_and_waitlist_by_ussd(committed_db, world):
    org, member, other, event = world
    menu = SharedMenu(ChamaMachine())
    screens = dial(committed_db, menu, "s1", member.phone, "1", str(event.id), "1")
    assert screens[0].startswith("CON Hub Nairobi\n1 Upcoming events\n2 My registrations\n3 Recent posts")
    assert f"{event.id} Demo day" in screens[1]
    assert "1 places left" in screens[2]
    assert screens[3].startswith("END Thank you")
    screens = dial(committed_db, menu, "s2", other.phone, "1", str(event.id), "1")
    assert "(full)" in screens[1]
    with committed_db.session() as s:
        statuses = dict(s.execute(select(CommunityRegistration.account_id, CommunityRegistration.status)).all())
        assert statuses == {member.id: "registered", other.id: "waitlisted"}
        texts = {m.to_address: m.body for m in s.scalars(select(Message))}
    assert "you are registered for Demo day" in texts[member.phone]
    assert "is full; you are on the waitlist" in texts[other.phone]
    # My registrations, then home with 00.
    mine = dial(committed_db, menu, "s3", member.phone, "2", "00")
    assert "Demo day" in mine[1] and "registered" in mine[1] and mine[2].startswith("CON Hub Nairobi")


def test_chama_members_keep_the_chama_menu_and_newcomers_are_told_how_to_join(committed_db, world):
    org, member, other, event = world
    menu = SharedMenu(ChamaMachine())
    assert "Create a 4-digit PIN" in dial(committed_db, menu, "c1", "+254712999001")[0]
    screens = dial(committed_db, menu, "c2", "+254733000000", "1", "Amina Otieno", "3")
    assert screens[0].startswith("CON Welcome! Choose a community to join:\n1 Hub Nairobi")
    assert "secretary" not in screens[0]
    assert "Your full name" in screens[1] and "What describes you best?" in screens[2]
    assert screens[3].startswith("END Welcome to Hub Nairobi, Amina!")
    with committed_db.session() as s:
        joined = s.scalar(select(CommunityAccount).where(CommunityAccount.phone == "+254733000000"))
        assert joined is not None and joined.phone_verified
    # Now a member, the next dial opens the community's menu.
    assert dial(committed_db, menu, "c3", "+254733000000")[0].startswith("CON Hub Nairobi")


def test_a_suspended_member_is_told_and_a_post_can_be_reported(committed_db, world):
    org, member, other, event = world
    with committed_db.session() as s:
        post = social.create_post(s, ACTOR, org.id, member.primary.id, body="Cheap followers here")
        members.set_status(s, ACTOR, org.id, other.id, "suspended", reason="Spam")
    menu = SharedMenu(ChamaMachine())
    refused = dial(committed_db, menu, "r1", other.phone)[0]
    assert refused.startswith("END Sorry, your membership of Hub Nairobi is suspended")
    screens = dial(committed_db, menu, "r2", member.phone, "3", str(post.id), "1", "1")
    assert f"{post.id} Member 0: Cheap followers" in screens[1]
    assert "1 Report this post" in screens[2] and "Why are you reporting it?" in screens[3]
    assert screens[4].startswith("END Thank you. A moderator")
    with committed_db.session() as s:
        (report,) = social.moderation_queue(s, ACTOR, org.id)
    assert (report.target_id, report.reason) == (post.id, "Spam")


def test_with_no_chama_machine_a_stranger_is_offered_the_communities(committed_db, world):
    alone = SharedMenu(None)
    assert "Choose a community to join" in dial(committed_db, alone, "c4", "+254733000001")[0]
