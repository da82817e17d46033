"""The salon's figures from real appointments and leads: weekly bookings and revenue,
service popularity, no-show rate, 90-day retention, lead conversion and first response by source."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from core.salon.analytics import retention, salon_analytics, week_start
from core.salon.bookings import book, cancel, complete, mark_no_show
from core.salon.leads import LeadDetails, add_lead, convert_lead, log_call
from core.salon.services import add_service
from tests.salon_support import SYSTEM, add_client, make_salon

UTC = timezone.utc
NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)  # Friday


def test_retention_counts_returns_within_90_days():
    t = datetime(2026, 1, 1, tzinfo=UTC)
    visits = {1: [t, t + timedelta(days=30)],        # came back: retained
              2: [t - timedelta(days=200), t],       # came back after 200 days: not retained
              3: [t],                                # first visit 0 days before now: too early to say
              4: [t - timedelta(days=100)]}          # never came back: not retained
    assert retention(visits, t + timedelta(days=31)) == (1, 3)


def test_figures_from_bookings_and_leads(session):
    salon = make_salon(session, price="1000")
    nails = add_service(session, SYSTEM, salon.org.id, name="Nails", minutes=30, price="500")
    other = add_client(session, salon, "Joy", "+254711000777")
    booked_at = datetime(2026, 2, 1, tzinfo=UTC)

    def appointment(day: date, hh: str, service=None, client=None):
        return book(session, SYSTEM, salon.org.id, professional_id=salon.pro.id,
                    service_id=(service or salon.service).id, contact_id=(client or salon.client).id,
                    start=salon.at(day, hh), now=booked_at).id

    done = [appointment(date(2026, 3, 3), "10:00"), appointment(date(2026, 3, 10), "10:00"),
            appointment(date(2026, 3, 10), "12:00", nails, other)]
    missed = appointment(date(2026, 3, 17), "10:00", nails, other)
    dropped = appointment(date(2026, 3, 18), "10:00")
    for appointment_id in done:
        complete(session, SYSTEM, salon.org.id, appointment_id, now=NOW)
    mark_no_show(session, SYSTEM, salon.org.id, missed, now=NOW)
    cancel(session, SYSTEM, salon.org.id, dropped, reason="ill", now=booked_at)

    first = add_lead(session, SYSTEM, salon.org.id, LeadDetails(phone="0711000101", name="A"), source="console",
                     now=NOW - timedelta(hours=3))
    log_call(session, SYSTEM, salon.org.id, first.id, now=NOW - timedelta(hours=2))
    convert_lead(session, SYSTEM, salon.org.id, first.id, now=NOW)
    second = add_lead(session, SYSTEM, salon.org.id, LeadDetails(phone="0711000102"), source="console",
                      now=NOW - timedelta(hours=3))
    log_call(session, SYSTEM, salon.org.id, second.id, now=NOW)
    add_lead(session, SYSTEM, salon.org.id, LeadDetails(phone="0711000103"), source="import", now=NOW)

    figures = salon_analytics(session, SYSTEM, salon.org.id, weeks=4, now=NOW)
    assert [w.week_start for w in figures.weeks] == [date(2026, 2, 23), date(2026, 3, 2), date(2026, 3, 9),
                                                     date(2026, 3, 16)]
    assert [(w.bookings, w.revenue_minor) for w in figures.weeks] == [(0, 0), (1, 100000), (2, 150000), (1, 0)]
    assert figures.services == [("Braids", 2), ("Nails", 2)]
    assert figures.no_show_rate == 1 / 4
    # Wanjiku came back within 90 days; Joy's only visit is ten days old: not counted yet.
    assert (figures.retained_clients, figures.eligible_clients, figures.retention_rate) == (1, 1, 1.0)
    [console, imported] = figures.lead_sources
    assert (console.source, console.leads, console.converted, console.conversion_rate) == ("console", 2, 1, 0.5)
    assert console.median_first_response_minutes == 120.0  # 60 and 180 minutes
    assert (imported.leads, imported.median_first_response_minutes) == (1, None)
    assert figures.lead_conversion_rate == 1 / 3
    assert week_start(datetime(2026, 3, 22, 22, 0, tzinfo=UTC), salon.tz) == date(2026, 3, 23)  # Monday in Nairobi
