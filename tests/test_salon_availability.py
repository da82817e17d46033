"""free_slots against hours, breaks, exceptions, blocks, buffers, notice, the
booking horizon, existing appointments and daylight-saving changes; then a
property test that what is offered can be booked and what is booked is not offered."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from core.salon.availability import Unavailable, free_slots, free_slots_on
from core.salon.bookings import book
from core.salon.schedule import add_time_block, set_date_exception, set_weekly_hours
from db.models_salon import SalonAppointment
from tests.salon_support import SYSTEM, hhmm, make_salon

UTC = timezone.utc
TUESDAY = date(2026, 3, 3)
BEFORE = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)  # the Sunday before, well ahead of any notice


def quarter_hours(first: str, last: str) -> list[str]:
    start, end = datetime.strptime(first, "%H:%M"), datetime.strptime(last, "%H:%M")
    out = []
    while start <= end:
        out.append(f"{start:%H:%M}")
        start += timedelta(minutes=15)
    return out


def slots(session, salon, day, now=BEFORE):
    return free_slots_on(session, SYSTEM, salon.org.id, salon.pro.id, salon.service.id, day, now=now)


def test_a_new_salon_opens_monday_to_saturday_nine_to_six(session):
    salon = make_salon(session)
    tuesday = slots(session, salon, TUESDAY)
    assert hhmm(tuesday) == quarter_hours("09:00", "17:00")
    assert all(s.tzinfo == ZoneInfo("Africa/Nairobi") for s in tuesday)
    assert tuesday[0].isoformat() == "2026-03-03T09:00:00+03:00"
    assert hhmm(slots(session, salon, date(2026, 3, 7))) == quarter_hours("09:00", "17:00")  # Saturday
    assert slots(session, salon, date(2026, 3, 8)) == []  # Sunday


def test_weekly_hours_with_a_break(session):
    salon = make_salon(session)
    set_weekly_hours(session, SYSTEM, salon.org.id, salon.pro.id,
                     work={1: [(time(10), time(16))], 6: [(time(12), time(14))]},
                     breaks={1: [(time(13), time(14))]})
    assert hhmm(slots(session, salon, TUESDAY)) == quarter_hours("10:00", "12:00") + quarter_hours("14:00", "15:00")
    assert slots(session, salon, date(2026, 3, 2)) == []  # Monday is no longer a working day
    assert hhmm(slots(session, salon, date(2026, 3, 8))) == ["12:00", "12:15", "12:30", "12:45", "13:00"]


def test_date_exceptions_replace_the_week_and_a_professionals_own_wins(session):
    salon = make_salon(session)
    wednesday, thursday = date(2026, 3, 4), date(2026, 3, 5)
    set_date_exception(session, SYSTEM, salon.org.id, wednesday, hours=None, note="Public holiday")
    set_date_exception(session, SYSTEM, salon.org.id, thursday, hours=None, note="Salon closed")
    set_date_exception(session, SYSTEM, salon.org.id, thursday, hours=(time(10), time(12)),
                       professional_id=salon.pro.id, note="Aisha opens for a wedding")
    assert slots(session, salon, wednesday) == []
    assert hhmm(slots(session, salon, thursday)) == quarter_hours("10:00", "11:00")
    # Setting the same date again replaces it.
    set_date_exception(session, SYSTEM, salon.org.id, thursday, hours=(time(15), time(16)),
                       professional_id=salon.pro.id)
    assert hhmm(slots(session, salon, thursday)) == ["15:00"]


def test_time_blocks_take_out_leave_and_training(session):
    salon = make_salon(session)
    add_time_block(session, SYSTEM, salon.org.id, salon.pro.id, start=salon.at(TUESDAY, "11:00"),
                   end=salon.at(TUESDAY, "15:30"), reason="training", note="Colour course")
    add_time_block(session, SYSTEM, salon.org.id, salon.pro.id, start=salon.at(date(2026, 3, 5), "00:00"),
                   end=salon.at(date(2026, 3, 7), "00:00"), reason="leave")
    assert hhmm(slots(session, salon, TUESDAY)) == quarter_hours("09:00", "10:00") + quarter_hours("15:30", "17:00")
    assert slots(session, salon, date(2026, 3, 5)) == slots(session, salon, date(2026, 3, 6)) == []


def test_buffers_keep_the_professional_free_before_and_after(session):
    salon = make_salon(session, minutes=60, buffer_before=15, buffer_after=30)
    free = slots(session, salon, TUESDAY)
    # 15 minutes to prepare from 09:00; done with clearing up by 18:00.
    assert hhmm(free) == quarter_hours("09:15", "16:30")
    book(session, SYSTEM, salon.org.id, professional_id=salon.pro.id, service_id=salon.service.id,
         contact_id=salon.client.id, start=salon.at(TUESDAY, "12:00"), now=BEFORE)
    # The booking holds 11:45–13:30; another one needs 15 minutes before and 30 after.
    assert hhmm(slots(session, salon, TUESDAY)) == quarter_hours("09:15", "10:15") + quarter_hours("13:45", "16:30")


def test_existing_appointments_are_not_offered_and_cancelled_ones_are(session):
    from core.salon.bookings import cancel

    salon = make_salon(session, minutes=45)
    booked = book(session, SYSTEM, salon.org.id, professional_id=salon.pro.id, service_id=salon.service.id,
                  contact_id=salon.client.id, start=salon.at(TUESDAY, "10:00"), now=BEFORE)
    free = hhmm(slots(session, salon, TUESDAY))
    assert "09:15" in free and "09:30" not in free and "10:30" not in free and "10:45" in free
    cancel(session, SYSTEM, salon.org.id, booked.id, reason="client asked", now=BEFORE)
    assert hhmm(slots(session, salon, TUESDAY)) == quarter_hours("09:00", "17:15")


def test_minimum_notice_and_how_far_ahead(session):
    salon = make_salon(session, min_notice_minutes=60, max_advance_days=10)
    now = salon.at(TUESDAY, "10:07")
    assert slots(session, salon, TUESDAY, now)[0] == salon.at(TUESDAY, "11:15")
    last_day = slots(session, salon, date(2026, 3, 13), now)
    assert hhmm(last_day) == quarter_hours("09:00", "10:00")  # up to now + 10 days
    assert slots(session, salon, date(2026, 3, 14), now) == []
    assert slots(session, salon, date(2026, 3, 2), now) == []  # yesterday


def test_slot_step_counts_on_the_salons_clock(session):
    salon = make_salon(session, timezone="Asia/Kolkata", country="IN", slot_step_minutes=30, minutes=90)
    free = slots(session, salon, TUESDAY)
    assert hhmm(free)[:3] == ["09:00", "09:30", "10:00"] and hhmm(free)[-1] == "16:30"
    assert free[0].utcoffset() == timedelta(hours=5, minutes=30)


def test_a_window_across_days(session):
    salon = make_salon(session)
    start = salon.at(TUESDAY, "16:30")
    found = free_slots(session, SYSTEM, salon.org.id, salon.pro.id, salon.service.id, start,
                       start + timedelta(days=1), now=BEFORE)
    assert [f"{s:%a %H:%M}" for s in found] == ["Tue 16:30", "Tue 16:45", "Tue 17:00"] + [
        f"Wed {t}" for t in quarter_hours("09:00", "16:15")]


class TestLondonAcrossDaylightSaving:
    """Wall-clock hours stay put when the clocks move; the UTC instants move instead."""

    @pytest.fixture
    def salon(self, session):
        salon = make_salon(session, timezone="Europe/London", country="GB", slot_step_minutes=60)
        set_weekly_hours(session, SYSTEM, salon.org.id, salon.pro.id,
                         work={d: [(time(9), time(18))] for d in range(6)} | {6: [(time(0), time(4))]})
        return salon

    def test_nine_oclock_is_nine_oclock_on_both_sides_of_the_spring_change(self, session, salon):
        now = datetime(2026, 3, 20, tzinfo=UTC)
        saturday, monday = slots(session, salon, date(2026, 3, 28), now), slots(session, salon, date(2026, 3, 30), now)
        assert hhmm(saturday) == hhmm(monday) == [f"{h:02d}:00" for h in range(9, 18)]
        assert saturday[0].astimezone(UTC).hour == 9 and monday[0].astimezone(UTC).hour == 8

    def test_the_short_night_in_march(self, session, salon):
        # 29 March 2026: 01:00 GMT becomes 02:00 BST, so 00:00–04:00 is three hours long.
        sunday = slots(session, salon, date(2026, 3, 29), datetime(2026, 3, 20, tzinfo=UTC))
        assert hhmm(sunday) == ["00:00", "02:00", "03:00"]
        assert [s.astimezone(UTC).hour for s in sunday] == [0, 1, 2]

    def test_the_long_night_in_october(self, session, salon):
        # 25 October 2026: 02:00 BST becomes 01:00 GMT, so 00:00–04:00 is five hours long.
        sunday = slots(session, salon, date(2026, 10, 25), datetime(2026, 10, 20, tzinfo=UTC))
        assert hhmm(sunday) == ["00:00", "01:00", "01:00", "02:00", "03:00"]
        assert [s.astimezone(UTC).isoformat() for s in sunday][:3] == [
            "2026-10-24T23:00:00+00:00", "2026-10-25T00:00:00+00:00", "2026-10-25T01:00:00+00:00"]
        assert [s.utcoffset() for s in sunday[1:3]] == [timedelta(hours=1), timedelta(0)]


def test_nairobi_has_no_daylight_saving(session):
    salon = make_salon(session, slot_step_minutes=60)
    for day in (date(2026, 3, 28), date(2026, 3, 30), date(2026, 10, 24), date(2026, 10, 26)):
        free = slots(session, salon, day, datetime(day.year, day.month, 20, tzinfo=UTC))
        assert free[0].astimezone(UTC).hour == 6 and free[0].isoformat().endswith("+03:00")


# ---------------------------------------------------------------- the property

ZONES = ("Africa/Nairobi", "Europe/London", "Asia/Kolkata")
DAYS = (date(2026, 3, 29), date(2026, 10, 25), date(2026, 3, 3), date(2026, 6, 14))


@st.composite
def scenarios(draw):
    hours = sorted(draw(st.lists(st.integers(0, 24 * 4), min_size=2, max_size=4, unique=True)))
    return {
        "zone": draw(st.sampled_from(ZONES)),
        "day": draw(st.sampled_from(DAYS)),
        "work": (hours[0] * 15, hours[-1] * 15),
        "break": draw(st.none() | st.tuples(st.integers(0, 95), st.integers(1, 8)).map(
            lambda t: (t[0] * 15, min(24 * 60, t[0] * 15 + t[1] * 15)))),
        "block": draw(st.none() | st.tuples(st.integers(-8, 100), st.integers(1, 24)).map(
            lambda t: (t[0] * 15, t[1] * 15))),
        "minutes": draw(st.sampled_from([15, 30, 45, 60, 90])),
        "buffers": (draw(st.sampled_from([0, 5, 10, 15])), draw(st.sampled_from([0, 10, 15, 30]))),
        "step": draw(st.sampled_from([5, 10, 15, 30, 60])),
        "notice": draw(st.sampled_from([0, 30, 60, 240])),
        "now_offset": draw(st.integers(-36, 20)),  # hours from the day's local midnight
        "picks": draw(st.lists(st.integers(0, 10_000), min_size=1, max_size=4)),
        "probes": draw(st.lists(st.integers(-6, 24 * 12 + 6), min_size=1, max_size=4)),
    }


def _minutes_to_time(m: int) -> time:
    return time(0) if m >= 24 * 60 else time(m // 60, m % 60)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                    HealthCheck.too_slow])
@given(case=scenarios())
def test_what_is_offered_can_be_booked_and_what_is_booked_is_not_offered(session, case):
    salon = make_salon(session, timezone=case["zone"], country="KE", minutes=case["minutes"],
                       buffer_before=case["buffers"][0], buffer_after=case["buffers"][1],
                       slot_step_minutes=case["step"], min_notice_minutes=case["notice"], max_advance_days=30)
    day, tz = case["day"], ZoneInfo(case["zone"])
    start_m, end_m = case["work"]
    week = {d: [(_minutes_to_time(start_m), _minutes_to_time(end_m))] for d in range(7)}
    breaks = {}
    if case["break"]:  # a break lies inside the working hours (the schedule refuses any other)
        pause = (max(case["break"][0], start_m), min(case["break"][1], end_m))
        if pause[0] < pause[1]:
            breaks = {d: [(_minutes_to_time(pause[0]), _minutes_to_time(pause[1]))] for d in range(7)}
    set_weekly_hours(session, SYSTEM, salon.org.id, salon.pro.id, work=week, breaks=breaks)
    # Arithmetic in UTC: adding to a zoned datetime moves its wall clock, not the instant.
    midnight = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    if case["block"]:
        begin = midnight + timedelta(minutes=case["block"][0])
        add_time_block(session, SYSTEM, salon.org.id, salon.pro.id, start=begin,
                       end=begin + timedelta(minutes=case["block"][1]))
    now = midnight + timedelta(hours=case["now_offset"])

    def offered() -> list[datetime]:
        # In UTC: two aware times in one zone compare by wall clock, so 01:00 BST would equal 01:00 GMT.
        found = free_slots_on(session, SYSTEM, salon.org.id, salon.pro.id, salon.service.id, day, now=now)
        return [s.astimezone(UTC) for s in found]

    def attempt(start: datetime) -> bool:
        try:
            # As a client books (a form): held to the notice and horizon that free_slots offers clients.
            book(session, SYSTEM, salon.org.id, professional_id=salon.pro.id, service_id=salon.service.id,
                 contact_id=salon.client.id, start=start, now=now, source="form")
            return True
        except Unavailable:
            return False

    # Book some of what is offered: each must succeed, and must then no longer be offered.
    for pick in case["picks"]:
        free = offered()
        if not free:
            break
        chosen = free[pick % len(free)]
        assert attempt(chosen), f"{chosen} was offered but could not be booked"
        assert chosen not in offered()
    # Times on the step grid: bookable exactly when offered.
    free = offered()
    for probe in case["probes"]:
        candidate = midnight + timedelta(minutes=probe * case["step"])
        if candidate.astimezone(tz).date() != day:
            continue
        assert attempt(candidate) == (candidate in free), candidate
        free = offered()
    # Nothing offered overlaps what is booked (buffers included).
    before, after = timedelta(minutes=case["buffers"][0]), timedelta(minutes=case["buffers"][1])
    length = timedelta(minutes=case["minutes"])
    held = session.execute(select(SalonAppointment.blocked_start, SalonAppointment.blocked_end).where(
        SalonAppointment.org_id == salon.org.id, SalonAppointment.status != "cancelled")).all()
    for slot in free:
        for a, b in held:
            assert not (slot - before < b and a < slot + length + after), (slot, a, b)
    for a, b in held:
        for c, d in held:
            assert (a, b) == (c, d) or b <= c or d <= a
