"""An event's .ics invitation: it opens in a calendar library with the community's own time zone,
and the email confirming a registration carries it (built when the email goes, over real SMTP)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from icalendar import Calendar

from core import outbox
from core.community import accounts, events
from core.providers.smtp import SMTPEmail
from db.types import utcnow
from tests.community_support import ACTOR
from tests.fakes.smtp import fake_smtp  # noqa: F401  (fixture)


def test_the_invitation_round_trips_with_the_communitys_time_zone(session, make_org):
    org = make_org(session, "community", country="IN", name="Pune Makers")
    starts = datetime(2030, 3, 14, 18, 30)  # Pune's clock
    event = events.create_event(session, ACTOR, org.id, title="Demo [day]", starts_at=starts,
                                ends_at=starts + timedelta(hours=2), capacity=10, venue="Makers Hall, Baner")
    calendar = Calendar.from_ical(events.event_ics(session, ACTOR, org.id, event.id))
    (item,) = calendar.walk("VEVENT")
    start = item.decoded("DTSTART")
    assert item["DTSTART"].params["TZID"] == "Asia/Kolkata"
    assert start.tzinfo is not None and start.utcoffset() == timedelta(hours=5, minutes=30)
    assert (start.hour, start.minute) == (18, 30)
    assert start.astimezone(timezone.utc) == datetime(2030, 3, 14, 13, 0, tzinfo=timezone.utc) == event.starts_at
    assert item.decoded("DTEND") - start == timedelta(hours=2)
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Asia/Kolkata"]
    assert str(item["SUMMARY"]) == "Demo [day]" and str(item["LOCATION"]) == "Makers Hall, Baner"
    # Changed and then cancelled: the same UID with a higher SEQUENCE, and STATUS:CANCELLED.
    uid = str(item["UID"])
    events.update_event(session, ACTOR, org.id, event.id, venue="Baner Library")
    events.cancel_event(session, ACTOR, org.id, event.id, reason="Rain")
    (again,) = Calendar.from_ical(events.event_ics(session, ACTOR, org.id, event.id)).walk("VEVENT")
    assert str(again["UID"]) == uid and int(again["SEQUENCE"]) == 2 and str(again["STATUS"]) == "CANCELLED"


def test_an_email_confirmation_carries_the_invitation(committed_db, make_org, fake_smtp):  # noqa: F811
    with committed_db.session() as s:
        org = make_org(s, "community", country="KE", name="Hub Nairobi")
        starts = (utcnow() + timedelta(days=3)).astimezone(ZoneInfo("Africa/Nairobi")).replace(
            hour=18, minute=0, second=0, microsecond=0)
        event = events.create_event(s, ACTOR, org.id, title="Pitch night", starts_at=starts,
                                    ends_at=starts + timedelta(hours=2), capacity=5, venue="iHub")
        member = accounts.create_account(s, ACTOR, org.id, display_name="Brian", email="brian@example.org")
        events.register(s, ACTOR, org.id, event.id, member.id)
    provider = SMTPEmail(fake_smtp.url, sender="hub@example.org")
    summary = outbox.send_due(committed_db, {"email": provider})
    provider.close()
    assert summary.sent == 1
    (mail,) = [m.message for m in fake_smtp.messages]
    (plain,) = [part for part in mail.walk() if part.get_content_type() == "text/plain"]
    assert "you are registered for Pitch night" in plain.get_payload(decode=True).decode()
    (invite,) = [part for part in mail.walk() if part.get_content_type() == "text/calendar"]
    assert invite.get_filename() == f"event-{event.id}.ics"
    (item,) = Calendar.from_ical(invite.get_payload(decode=True)).walk("VEVENT")
    assert item.decoded("DTSTART") == starts and item["DTSTART"].params["TZID"] == "Africa/Nairobi"
