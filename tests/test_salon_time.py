"""Time as people read it around a clock change (a London salon): the two 01:00s of the
fall-back day shown apart (by the CLI, the texts and the console), a time the clocks skip
refused with the reason, slot end times counted in UTC in `bookings slots --json`; country
defaults from CLDR and phone examples of the salon's own country."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from core.errors import InvalidInput
from core.orgs import create_org
from core.phones import normalize_phone
from core.salon.bookings import book
from core.salon.common import clock, wall_clock, when
from core.salon.schedule import set_weekly_hours
from tests.cli_support import InProcessCli
from tests.salon_support import SYSTEM, make_salon

LONDON = ZoneInfo("Europe/London")
# Days ahead of the real clock the CLI runs on: 02:00 BST becomes 01:00 GMT; 01:00 GMT becomes 02:00 BST.
FALL_BACK = date(2027, 10, 31)
SPRING_FORWARD = date(2027, 3, 28)
NOW = datetime(2026, 3, 1, tzinfo=ZoneInfo("UTC"))


def test_the_two_one_oclocks_of_the_fall_back_day_are_shown_apart():
    first = datetime(2026, 10, 25, 1, 30, tzinfo=LONDON, fold=0)
    second = datetime(2026, 10, 25, 1, 30, tzinfo=LONDON, fold=1)
    assert (clock(first, LONDON), clock(second, LONDON)) == ("01:30 (+01:00)", "01:30 (+00:00)")
    assert when(second, LONDON) == "Sun 25 Oct 01:30 (+00:00)"
    assert clock(datetime(2026, 10, 25, 3, 0, tzinfo=LONDON), LONDON) == "03:00"  # no offset where it is clear
    with pytest.raises(InvalidInput, match=r"happens twice .* write 2026-10-25T01:30\+01:00 for the first or "
                                           r"2026-10-25T01:30\+00:00 for the second"):
        wall_clock(datetime(2026, 10, 25, 1, 30), LONDON)


def test_the_console_shows_the_two_one_oclocks_apart_too():
    from console.salon.common import SalonPresenter

    present = SalonPresenter("GBP", LONDON, False)
    first = datetime(2026, 10, 25, 1, 30, tzinfo=LONDON, fold=0)
    second = datetime(2026, 10, 25, 1, 30, tzinfo=LONDON, fold=1)
    assert (present.time(first, "%H:%M"), present.time(second, "%a %d %b %H:%M")) == (
        "01:30 (+01:00)", "Sun 25 Oct 01:30 (+00:00)")
    assert present.time(datetime(2026, 10, 25, 3, 0, tzinfo=LONDON), "%H:%M") == "03:00"
    assert present.time(second, "%d %b %Y") == "25 Oct 2026"  # a date alone is not ambiguous


def test_a_time_the_clocks_skip_is_refused_with_the_reason(session):
    salon = make_salon(session, timezone="Europe/London", country="GB")
    set_weekly_hours(session, SYSTEM, salon.org.id, salon.pro.id, work={d: [(time(0), time(0))] for d in range(7)})
    with pytest.raises(InvalidInput, match="01:30 on Sun 29 Mar 2026 does not exist in Europe/London: the clocks "
                                           "go forward over it"):
        wall_clock(datetime(2026, 3, 29, 1, 30), LONDON)
    with pytest.raises(InvalidInput, match="does not exist"):
        book(session, SYSTEM, salon.org.id, professional_id=salon.pro.id, service_id=salon.service.id,
             contact_id=salon.client.id, start=datetime(2026, 3, 29, 1, 30, tzinfo=LONDON), now=NOW)
    booked = book(session, SYSTEM, salon.org.id, professional_id=salon.pro.id, service_id=salon.service.id,
                  contact_id=salon.client.id, start=datetime(2026, 3, 29, 2, 0, tzinfo=LONDON), now=NOW)
    assert booked.starts_at.isoformat() == "2026-03-29T02:00:00+01:00"


def test_slot_end_times_are_counted_in_utc(committed_db, monkeypatch):
    with committed_db.session() as s:
        salon = make_salon(s, timezone="Europe/London", country="GB", minutes=60, slot_step_minutes=30)
        set_weekly_hours(s, SYSTEM, salon.org.id, salon.pro.id, work={d: [(time(0), time(4))] for d in range(7)})
    cli = InProcessCli(committed_db.url, monkeypatch)
    out = cli("bookings", "slots", "--org", salon.org.slug, "--pro", salon.pro.email, "--service", "Braids",
              "--date", FALL_BACK.isoformat(), "--staff", "--json")
    assert out.returncode == 0, out.stderr
    slots = [(s["start"][11:], s["end"][11:]) for s in json.loads(out.stdout)]
    # 00:00 to 04:00 on the wall clock is five hours that day; each slot ends an hour after it starts.
    assert slots[:4] == [("00:00:00+01:00", "01:00:00+01:00"), ("00:30:00+01:00", "01:30:00+01:00"),
                         ("01:00:00+01:00", "01:00:00+00:00"), ("01:30:00+01:00", "01:30:00+00:00")]
    assert len(slots) == 9 and all(
        datetime.fromisoformat(s["end"]) > datetime.fromisoformat(s["start"]) for s in json.loads(out.stdout))
    text = cli("bookings", "slots", "--org", salon.org.slug, "--pro", salon.pro.email, "--service", "Braids",
               "--date", FALL_BACK.isoformat(), "--staff")
    assert "01:00 (+01:00) 01:30 (+01:00) 01:00 (+00:00) 01:30 (+00:00)" in text.stdout
    gap = cli("bookings", "add", "--org", salon.org.slug, "--pro", salon.pro.email, "--service", "Braids",
              "--client", "07911 123456", "--at", f"{SPRING_FORWARD.isoformat()}T01:30")
    assert gap.returncode == 1 and "does not exist in Europe/London" in gap.stderr


def test_country_defaults_come_from_cldr_and_refuse_when_ambiguous(session):
    london = create_org(session, SYSTEM, "gb-salon", kind="salon", name="Mayfair Hair", country="GB")
    assert (london.timezone, london.currency) == ("Europe/London", "GBP")
    with pytest.raises(InvalidInput, match="US has several time zones; say which with --timezone"):
        create_org(session, SYSTEM, "us-salon", kind="salon", name="Brooklyn Braids", country="US")
    assert create_org(session, SYSTEM, "us-salon", kind="salon", name="Brooklyn Braids", country="US",
                      timezone="America/New_York").currency == "USD"
    with pytest.raises(InvalidInput, match=r"'12345' is not a valid phone number for GB; write it like "
                                           r"07400 123456 or \+44 7400 123456"):
        normalize_phone("12345", "GB")
