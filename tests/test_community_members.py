"""The member directory, a member's page, contact changes, verification, suspension and merging."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from core.community import accounts, events, members, social
from core.errors import AuthenticationFailed, Conflict, InvalidInput
from db.models import Org
from tests.community_support import ACTOR, NOW, make_event, make_members, messages_to


@pytest.fixture
def org(session, make_org):
    return make_org(session, "community", country="KE")


def test_directory_pages_and_searches(session, org):
    people = make_members(session, org.id, 7)
    accounts.add_profile(session, ACTOR, org.id, people[3].id, type="mentor", display_name="Solar Wanjiru")
    first = members.list_members(session, ACTOR, org.id, limit=3)
    second = members.list_members(session, ACTOR, org.id, after=first[-1].cursor, limit=3)
    third = members.list_members(session, ACTOR, org.id, after=second[-1].cursor, limit=3)
    names = [m.name for m in first + second + third]
    assert names == sorted(names) and len(set(names)) == 7
    assert [m.id for m in members.list_members(session, ACTOR, org.id, search="solar")] == [people[3].id]
    by_phone = members.list_members(session, ACTOR, org.id, search=people[5].phone[-7:])
    assert [m.id for m in by_phone] == [people[5].id] and by_phone[0].profiles == 1
    assert members.list_members(session, ACTOR, org.id, search="Member 3")[0].profiles == 2
    assert members.count_members(session, ACTOR, org.id) == 7


def test_a_members_page_gathers_what_staff_need(session, org):
    a, b = make_members(session, org.id, 2)
    event = make_event(session, org.id, capacity=5)
    events.register(session, ACTOR, org.id, event.id, a.id, now=NOW)
    post = social.create_post(session, ACTOR, org.id, a.primary.id, body="Selling [bold]followers[/]")
    social.report_content(session, ACTOR, org.id, "post", post.id, "Spam", reporter_account_id=b.id)
    social.hide(session, ACTOR, org.id, "post", post.id, "Spam is not allowed")
    social.request_connection(session, ACTOR, org.id, b.primary.id, a.primary.id)
    page = members.member_page(session, ACTOR, org.id, a.id, now=NOW)
    assert page.name == "Member 0" and page.registrations[0].title == "Pitch night"
    assert page.posts[0].hidden and page.posts[0].hidden_reason == "Spam is not allowed"
    assert page.connections[0].other == "Member 1"
    whats = [m.what for m in page.moderation]
    assert "post hide" in whats and any(w.startswith("reported") for w in whats)
    text = "\n".join(members.describe(session.get(Org, org.id), page))
    assert "Pitch night" in text and "Member 1" in text


def test_contact_changes_verification_suspension_and_reinstatement(session, org):
    a, b = make_members(session, org.id, 2)
    changed = members.update_contact(session, ACTOR, org.id, a.id, email="Amina@Example.org")
    assert changed.email == "amina@example.org"
    with pytest.raises(Conflict, match="merge"):
        members.update_contact(session, ACTOR, org.id, b.id, phone=a.phone)
    with pytest.raises(InvalidInput):
        members.update_contact(session, ACTOR, org.id, b.id, phone="")
    assert members.verify_member(session, ACTOR, org.id, a.id).primary.verified
    with pytest.raises(InvalidInput, match="reason"):
        members.set_status(session, ACTOR, org.id, a.id, "suspended")
    members.set_status(session, ACTOR, org.id, a.id, "suspended", reason="Spamming members", now=NOW)
    assert "suspended: Spamming members" in messages_to(session, a.phone)[-1]
    event = make_event(session, org.id)
    with pytest.raises(Conflict, match="suspended"):
        events.register(session, ACTOR, org.id, event.id, a.id, now=NOW)
    assert [m.id for m in members.list_members(session, ACTOR, org.id, status="suspended")] == [a.id]
    members.set_status(session, ACTOR, org.id, a.id, "active", now=NOW + timedelta(minutes=1))
    assert events.register(session, ACTOR, org.id, event.id, a.id, now=NOW).status == "registered"
    whats = [m.what for m in members.member_page(session, ACTOR, org.id, a.id).moderation]
    assert whats[:2] == ["member reinstate", "member suspend"]


def test_merging_two_accounts_needs_the_code_sent_to_the_merged_address(session, org):
    keep, other, third = make_members(session, org.id, 3)
    event = make_event(session, org.id, capacity=2)
    # Both accounts registered for one event (two places for one person), the third waits.
    for person in (keep, other, third):
        events.register(session, ACTOR, org.id, event.id, person.id, now=NOW)
    accounts.add_profile(session, ACTOR, org.id, other.id, type="investor", display_name="Other Angel")
    members.update_contact(session, ACTOR, org.id, other.id, email="other@example.org")
    sent = members.start_merge(session, ACTOR, org.id, keep.id, "other@example.org", now=NOW)
    assert sent.channel == "email"
    code = re.match(r"\d{6}", messages_to(session, "other@example.org")[-1]).group(0)
    with pytest.raises(AuthenticationFailed):
        members.finish_merge(session, ACTOR, org.id, keep.id, "other@example.org", "000000", now=NOW)
    merged = members.finish_merge(session, ACTOR, org.id, keep.id, "other@example.org", code, now=NOW)
    assert merged.email == "other@example.org" and merged.email_verified and merged.phone == keep.phone
    assert sorted(p.display_name for p in merged.profiles) == ["Member 0", "Member 1", "Other Angel"]
    assert [p.is_primary for p in merged.profiles].count(True) == 1
    rows = {r.account_id: r.status for r in events.list_registrations(session, ACTOR, org.id, event.id)}
    assert rows == {keep.id: "registered", third.id: "registered"}  # the freed place went to the waitlist
    assert members.count_members(session, ACTOR, org.id) == 2
    with pytest.raises(InvalidInput, match="own address"):
        members.start_merge(session, ACTOR, org.id, keep.id, keep.phone, now=NOW)
