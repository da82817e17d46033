"""Community services on both backends: profiles, OTP, events, social, moderation, search."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from core import jobs
from core.community import accounts, events, otp, search, social
from core.errors import AuthenticationFailed, Conflict, InvalidInput, NotFound
from db.models import Job
from db.models_community import CommunityNotification, CommunityProfile
from tests.community_support import ACTOR, NOW, make_event, make_members, messages_to
from tests.fakes import phone


@pytest.fixture
def org(session, make_org):
    return make_org(session, "community", country="KE")


def test_an_account_has_exactly_one_primary_profile(session, org):
    account = accounts.create_account(session, ACTOR, org.id, display_name="Amina Omar", email="amina@example.org")
    mentor = accounts.add_profile(session, ACTOR, org.id, account.id, type="mentor", display_name="Amina the mentor")
    assert account.primary.type == "innovator" and not mentor.is_primary
    accounts.set_primary(session, ACTOR, org.id, mentor.id)
    again = accounts.get_account(session, ACTOR, org.id, account.id)
    assert [p.id for p in again.profiles if p.is_primary] == [mentor.id]
    # The database itself refuses a second primary.
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(CommunityProfile(org_id=org.id, account_id=account.id, type="investor", display_name="X",
                                     username="x-second", is_primary=True))
        session.flush()


def test_profile_completion_and_unique_usernames(session, org):
    a = accounts.create_account(session, ACTOR, org.id, display_name="Brian Kimani", phone="0712000001")
    b = accounts.create_account(session, ACTOR, org.id, display_name="Brian Kimani", phone="0712000002")
    assert a.primary.username == "brian-kimani" and b.primary.username == "brian-kimani-2"
    assert a.primary.completion == 33
    full = accounts.update_profile(session, ACTOR, org.id, a.primary.id, bio="Agritech", location="Nakuru",
                                   website="https://b.example", avatar_file="b.png")
    assert full.completion == 100
    with pytest.raises(InvalidInput, match="profile type"):
        accounts.add_profile(session, ACTOR, org.id, a.id, type="wizard", display_name="B")
    with pytest.raises(Conflict, match="already exists"):
        accounts.create_account(session, ACTOR, org.id, display_name="Again", phone="+254712000001")


def _code(session, address: str) -> str:
    return re.match(r"(\d{6}) ", messages_to(session, address)[-1]).group(1)


def test_otp_sign_in_creates_the_account_and_codes_are_hashed(session, org):
    sent = otp.request_code(session, ACTOR, org.id, "0712 345 678", now=NOW)
    assert sent.address == "+254712345678" and sent.channel == "sms"
    code = _code(session, sent.address)
    from db.models_community import CommunityOtp
    stored = session.get(CommunityOtp, sent.otp_id)
    assert code not in (stored.code_hash, stored.salt) and len(stored.code_hash) == 64
    signed = otp.verify_code(session, ACTOR, org.id, "+254712345678", code, now=NOW + timedelta(minutes=4))
    assert signed.created
    account = accounts.get_account(session, ACTOR, org.id, signed.account_id)
    assert account.phone_verified and account.primary.display_name == "+254712345678"
    with pytest.raises(AuthenticationFailed, match="No sign-in code"):
        otp.verify_code(session, ACTOR, org.id, "+254712345678", code, now=NOW + timedelta(minutes=4))
    # Signing in again finds the same account.
    otp.request_code(session, ACTOR, org.id, "+254712345678", now=NOW + timedelta(minutes=10))
    again = otp.verify_code(session, ACTOR, org.id, "+254712345678", _code(session, "+254712345678"),
                            now=NOW + timedelta(minutes=11))
    assert again.account_id == signed.account_id and not again.created


def test_otp_by_email(session, org):
    otp.request_code(session, ACTOR, org.id, "Zawadi@Example.org", now=NOW)
    signed = otp.verify_code(session, ACTOR, org.id, "zawadi@example.org", _code(session, "zawadi@example.org"),
                             now=NOW)
    account = accounts.get_account(session, ACTOR, org.id, signed.account_id)
    assert account.email == "zawadi@example.org" and account.email_verified and account.primary.display_name == "zawadi"


def test_otp_expires_after_five_minutes(session, org):
    otp.request_code(session, ACTOR, org.id, "+254712345678", now=NOW)
    code = _code(session, "+254712345678")
    with pytest.raises(AuthenticationFailed, match="expired"):
        otp.verify_code(session, ACTOR, org.id, "+254712345678", code, now=NOW + timedelta(minutes=5, seconds=1))


def test_otp_allows_three_attempts(session, org):
    otp.request_code(session, ACTOR, org.id, "+254712345678", now=NOW)
    code = _code(session, "+254712345678")
    wrong = "000000" if code != "000000" else "111111"
    for left in ("2 tries", "1 try", "last try"):
        with pytest.raises(AuthenticationFailed, match=left):
            otp.verify_code(session, ACTOR, org.id, "+254712345678", wrong, now=NOW)
    with pytest.raises(AuthenticationFailed, match="tried 3 times"):
        otp.verify_code(session, ACTOR, org.id, "+254712345678", code, now=NOW)


def test_otp_three_codes_per_hour(session, org):
    for minute in (0, 10, 20):
        otp.request_code(session, ACTOR, org.id, "+254712345678", now=NOW + timedelta(minutes=minute))
    with pytest.raises(otp.TooManyCodes, match="last hour"):
        otp.request_code(session, ACTOR, org.id, "+254712345678", now=NOW + timedelta(minutes=59))
    assert otp.request_code(session, ACTOR, org.id, "+254712345678", now=NOW + timedelta(minutes=61))


def test_capacity_waitlist_promotion_and_notification(session, org):
    people = make_members(session, org.id, 4)
    event = make_event(session, org.id, capacity=2)
    statuses = [events.register(session, ACTOR, org.id, event.id, p.id, now=NOW).status for p in people]
    assert statuses == ["registered", "registered", "waitlisted", "waitlisted"]
    assert events.register(session, ACTOR, org.id, event.id, people[0].id, now=NOW).status == "registered"
    events.cancel_registration(session, ACTOR, org.id, event.id, people[1].id, now=NOW)
    rows = {r.account_id: r.status for r in events.list_registrations(session, ACTOR, org.id, event.id)}
    assert rows == {people[0].id: "registered", people[1].id: "cancelled", people[2].id: "registered",
                    people[3].id: "waitlisted"}
    assert "now registered for Pitch night" in messages_to(session, people[2].phone)[-1]
    note = session.scalar(select(CommunityNotification.body).where(CommunityNotification.account_id == people[2].id)
                        .order_by(CommunityNotification.id.desc()).limit(1))
    assert "place opened up" in note
    view = events.get_event(session, ACTOR, org.id, event.id)
    assert (view.registered, view.waitlisted, view.fill_rate) == (2, 1, 1.0)


def test_check_in_by_name_or_phone(session, org):
    people = make_members(session, org.id, 3)
    event = make_event(session, org.id, capacity=2)
    for p in people:
        events.register(session, ACTOR, org.id, event.id, p.id, now=NOW)
    found = events.list_registrations(session, ACTOR, org.id, event.id, search="member 1")
    assert [r.account_id for r in found] == [people[1].id]
    by_phone = events.list_registrations(session, ACTOR, org.id, event.id, search=people[0].phone[-6:])
    assert [r.account_id for r in by_phone] == [people[0].id]
    assert events.check_in(session, ACTOR, org.id, found[0].id, now=NOW).status == "attended"
    assert events.check_in(session, ACTOR, org.id, found[0].id, now=NOW).status == "attended"
    waiting = events.list_registrations(session, ACTOR, org.id, event.id, status="waitlisted")[0]
    with pytest.raises(Conflict, match="admit them from the waitlist"):
        events.check_in(session, ACTOR, org.id, waiting.id, now=NOW)
    # At the door the waitlisted person is let in: the event is full, so it grows by one for them.
    admitted, raised = events.admit(session, ACTOR, org.id, waiting.id, now=NOW)
    assert admitted.status == "attended" and raised
    view = events.get_event(session, ACTOR, org.id, event.id)
    assert (view.capacity, view.registered, view.waitlisted, view.attended) == (3, 3, 0, 2)
    weeks = events.activity_by_week(session, ACTOR, org.id, now=NOW)
    assert weeks[-1].registrations == 3 and weeks[-1].attended == 2


def test_reminders_24h_before_once(session, org, database):
    people = make_members(session, org.id, 2)
    event = make_event(session, org.id, capacity=5, starts_in=timedelta(hours=30))
    for p in people:
        events.register(session, ACTOR, org.id, event.id, p.id, now=NOW)
    events.plan_reminders(session, NOW)
    assert session.scalar(select(func.count()).select_from(Job).where(Job.key == events.reminder_key(event.id))) == 0
    later = NOW + timedelta(hours=7)
    for _ in range(2):
        events.plan_reminders(session, later)
    job = session.scalar(select(Job).where(Job.key == events.reminder_key(event.id)))
    assert job.due_at == event.starts_at - timedelta(hours=24)
    due = jobs.DueJob(job.id, job.org_id, job.kind, job.key, job.payload, job.due_at)
    events.send_reminders(session, due)
    events.send_reminders(session, due)  # a replay queues no second SMS
    for p in people:
        assert len([m for m in messages_to(session, p.phone) if "a reminder" in m]) == 1


def test_connections_notifications(session, org):
    a, b = make_members(session, org.id, 2)
    with pytest.raises(InvalidInput, match="itself"):
        social.request_connection(session, ACTOR, org.id, a.primary.id, a.primary.id)
    c = social.request_connection(session, ACTOR, org.id, a.primary.id, b.primary.id)
    with pytest.raises(Conflict, match="already"):
        social.request_connection(session, ACTOR, org.id, b.primary.id, a.primary.id)
    assert social.list_notifications(session, ACTOR, org.id, b.id)[0].kind == "connection_request"
    social.respond_connection(session, ACTOR, org.id, c.id, "accepted")
    assert social.list_notifications(session, ACTOR, org.id, a.id)[0].kind == "connection_accepted"
    assert social.mark_read(session, ACTOR, org.id, a.id) == 1


def test_moderation_queue_hide_restore(session, org):
    (a,) = make_members(session, org.id, 1)
    post = social.create_post(session, ACTOR, org.id, a.primary.id, title="Offer", body="Cheap loans, DM me")
    comment = social.add_comment(session, ACTOR, org.id, post.id, a.primary.id, "me too")
    social.report_content(session, ACTOR, org.id, "post", post.id, "spam", reporter_account_id=a.id)
    report2 = social.report_content(session, ACTOR, org.id, "comment", comment, "rude")
    queue = social.moderation_queue(session, ACTOR, org.id)
    assert [(r.target, r.reason) for r in queue] == [("post", "spam"), ("comment", "rude")]
    with pytest.raises(InvalidInput, match="reason"):
        social.hide(session, ACTOR, org.id, "post", post.id, " ")
    social.hide(session, ACTOR, org.id, "post", post.id, "Spam", now=NOW)
    social.dismiss_report(session, ACTOR, org.id, report2, now=NOW)
    assert social.moderation_queue(session, ACTOR, org.id) == []
    assert search.search(session, ACTOR, org.id, "cheap", kind="post")[0].detail == "hidden"
    social.restore(session, ACTOR, org.id, "post", post.id)
    with pytest.raises(Conflict):
        social.restore(session, ACTOR, org.id, "post", post.id)


def test_listings_bookmarks_and_search(session, org):
    a, b = make_members(session, org.id, 2)
    listing = social.create_listing(session, ACTOR, org.id, a.primary.id, kind="service", title="Solar dryer design",
                                    price_minor=500_000)
    assert social.set_listing_status(session, ACTOR, org.id, listing.id, "sold").status == "sold"
    assert social.bookmark(session, ACTOR, org.id, b.id, "listing", listing.id)
    assert not social.bookmark(session, ACTOR, org.id, b.id, "listing", listing.id)
    assert social.bookmarks_of(session, ACTOR, org.id, b.id) == [("listing", listing.id)]
    make_event(session, org.id, title="Solar hack day")
    everything = search.search_all(session, ACTOR, org.id, "SOLAR")
    assert [h.title for h in everything["listing"]] == ["Solar dryer design"]
    assert [h.title for h in everything["event"]] == ["Solar hack day"]
    page1 = search.search(session, ACTOR, org.id, "member", limit=1)
    page2 = search.search(session, ACTOR, org.id, "member", before_id=page1[0].id, limit=1)
    assert [h.title for h in page1 + page2] == ["Member 1", "Member 0"]


def test_staff_of_another_org_see_nothing(session, org, make_org):
    from core.actors import Actor
    from core.users import add_user

    other = make_org(session, "community")
    user = add_user(session, ACTOR, "mod@other.example", org_id=other.id, role="moderator", name="Mod",
                    password="a-long-password-1")
    (a,) = make_members(session, org.id, 1)
    staff = Actor.staff(user.id, "mod@other.example")
    with pytest.raises(NotFound):
        accounts.get_account(session, staff, org.id, a.id)
    with pytest.raises(NotFound):
        accounts.get_account(session, staff, other.id, a.id)
    from core.errors import PermissionDenied
    with pytest.raises(PermissionDenied):
        events.create_event(session, staff, other.id, title="x", starts_at=NOW, ends_at=NOW + timedelta(hours=1),
                            capacity=1, venue="v")


def test_the_demo_community_has_something_to_show(session, org):
    from core.demo import _community

    people = [(f"Person {i}", phone(900 + i), 0) for i in range(12)]
    _community(session, ACTOR, org.id, people)
    upcoming = events.upcoming_events(session, ACTOR, org.id, now=NOW.replace(year=2020))
    pitch = next(e for e in upcoming if e.title == "Pitch night")
    assert (pitch.registered, pitch.waitlisted, pitch.fill_rate) == (8, 3, 1.0)
    assert len(social.moderation_queue(session, ACTOR, org.id)) == 1
    assert sum(w.attended for w in events.activity_by_week(session, ACTOR, org.id)) == 6


def test_the_indian_demo_greets_and_schedules_on_its_own_clock(session):
    from zoneinfo import ZoneInfo

    from core.demo import seed_demo
    from db.models import Message, Org
    from db.models_community import CommunityEvent

    seed_demo(session, ACTOR)
    pune = session.scalar(select(Org).where(Org.slug == "makers-community"))
    greetings = session.scalars(select(Message.body).where(Message.org_id == pune.id,
                                                           Message.idempotency_key.like("demo-welcome-%"))).all()
    assert greetings and all(g.startswith("Namaste ") for g in greetings)
    nairobi = session.scalar(select(Org.id).where(Org.slug == "glow-salon"))
    assert session.scalar(select(Message.body).where(Message.org_id == nairobi,
                                                     Message.idempotency_key.like("demo-welcome-%"))).startswith("Karibu")
    hours = {e.title: e.starts_at.astimezone(ZoneInfo("Asia/Kolkata")).strftime("%H:%M")
             for e in session.scalars(select(CommunityEvent).where(CommunityEvent.org_id == pune.id))}
    assert hours["Pitch night"] == "18:00" and hours["Investor office hours"] == "11:00"
    assert hours["Hardware meetup"] == "18:00"


def test_search_shows_event_times_on_the_communitys_clock(session, org):
    make_event(session, org.id, title="Solar hack day")
    (hit,) = search.search(session, ACTOR, org.id, "solar", kind="event")
    assert hit.detail.startswith((NOW + timedelta(days=3)).astimezone(ZoneInfo("Africa/Nairobi")).strftime("%Y-%m-%d %H:%M"))


def test_the_code_rate_limit_says_when_on_the_communitys_clock(session, org):
    for minute in range(3):
        otp.request_code(session, ACTOR, org.id, "0712000777", now=NOW + timedelta(minutes=minute))
    with pytest.raises(otp.TooManyCodes, match=r"after 13:00 \(Africa/Nairobi\)"):
        otp.request_code(session, ACTOR, org.id, "0712000777", now=NOW + timedelta(minutes=3))


def test_an_event_changes_and_everyone_concerned_is_told(session, org):
    people = make_members(session, org.id, 4)
    event = make_event(session, org.id, capacity=3)
    for person in people:
        events.register(session, ACTOR, org.id, event.id, person.id, now=NOW)
    assert "you are registered for Pitch night" in messages_to(session, people[0].phone)[-1]  # staff's register
    assert "is full; you are on the waitlist" in messages_to(session, people[3].phone)[-1]
    change = events.update_event(session, ACTOR, org.id, event.id, capacity=1, now=NOW)
    assert (change.moved_to_waitlist, change.event.registered, change.event.waitlisted) == (2, 1, 3)
    for moved in people[1:3]:
        assert "you are first on the waitlist" in messages_to(session, moved.phone)[-1]
    queue = [r.account_id for r in events.list_registrations(session, ACTOR, org.id, event.id, status="waitlisted")]
    bigger = events.update_event(session, ACTOR, org.id, event.id, capacity=2, now=NOW)
    assert bigger.promoted == 1
    promoted = [r.account_id for r in events.list_registrations(session, ACTOR, org.id, event.id, status="registered")]
    assert people[1].id in promoted and set(queue) >= {people[1].id, people[2].id}  # they came back first
    moved = events.update_event(session, ACTOR, org.id, event.id, venue="Nailab, Kilimani", now=NOW)
    assert moved.told == 4 and "now" in messages_to(session, people[3].phone)[-1]
    with pytest.raises(InvalidInput, match="has passed"):
        events.update_event(session, ACTOR, org.id, event.id, starts_at=NOW - timedelta(days=1), now=NOW)
    cancelled = events.cancel_event(session, ACTOR, org.id, event.id, reason="Venue flooded", now=NOW)
    assert cancelled.told == 4 and "is cancelled: Venue flooded" in messages_to(session, people[2].phone)[-1]
    assert [e.id for e in events.past_events(session, ACTOR, org.id, now=NOW)] == [event.id]
    with pytest.raises(Conflict, match="cancelled"):
        events.register(session, ACTOR, org.id, event.id, people[0].id, now=NOW)


def test_nobody_leaves_an_event_that_has_started(session, org):
    a, b = make_members(session, org.id, 2)
    event = make_event(session, org.id, capacity=1)
    events.register(session, ACTOR, org.id, event.id, a.id, now=NOW)
    events.register(session, ACTOR, org.id, event.id, b.id, now=NOW)
    started = NOW + timedelta(days=3, minutes=5)
    with pytest.raises(Conflict, match="already started"):
        events.cancel_registration(session, ACTOR, org.id, event.id, a.id, now=started)
    assert not any("place opened up" in m for m in messages_to(session, b.phone))
