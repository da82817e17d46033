"""The salon's figures: bookings and revenue per week, service popularity,
no-show rate, client retention, and leads' conversion and first response by source.

Weeks start on Monday in the salon's time zone. Bookings count every
appointment that was not cancelled, by its start; revenue counts what
completed appointments were charged (the price less any discount; tips are
the professional's) and what no-shows were charged (the fee, or the deposit kept). A client is retained when they came back
(another completed visit) within 90 days of their first; clients whose first
visit is less than 90 days old and who have not come back yet are not
counted either way.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import median
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.actors import Actor
from core.salon.common import require_salon
from db.models_salon import SalonAppointment, SalonLead, SalonService
from db.types import utcnow

RETENTION_DAYS = 90


@dataclass(frozen=True)
class WeekFigures:
    week_start: date
    bookings: int
    revenue_minor: int


@dataclass(frozen=True)
class SourceFigures:
    source: str
    leads: int
    converted: int
    median_first_response_minutes: float | None

    @property
    def conversion_rate(self) -> float | None:
        return self.converted / self.leads if self.leads else None


@dataclass(frozen=True)
class SalonAnalytics:
    currency: str
    weeks: list[WeekFigures]
    services: list[tuple[str, int]]  # (service, bookings), most booked first
    no_show_rate: float | None  # no-shows among closed appointments (completed or no-show)
    retention_rate: float | None
    retained_clients: int
    eligible_clients: int
    lead_sources: list[SourceFigures]

    @property
    def lead_conversion_rate(self) -> float | None:
        leads = sum(s.leads for s in self.lead_sources)
        return sum(s.converted for s in self.lead_sources) / leads if leads else None


def week_start(moment: datetime, tz: ZoneInfo) -> date:
    day = moment.astimezone(tz).date()
    return day - timedelta(days=day.weekday())


def retention(first_and_returns: dict[int, list[datetime]], now: datetime) -> tuple[int, int]:
    """(retained, eligible) from each client's completed visit times."""
    retained = eligible = 0
    for visits in first_and_returns.values():
        visits = sorted(visits)
        came_back = len(visits) > 1 and visits[1] - visits[0] <= timedelta(days=RETENTION_DAYS)
        if came_back:
            retained += 1
            eligible += 1
        elif now - visits[0] >= timedelta(days=RETENTION_DAYS):
            eligible += 1
    return retained, eligible


def salon_analytics(session: Session, actor: Actor, org_id: int, *, weeks: int = 12,
                    now: datetime | None = None) -> SalonAnalytics:
    """The figures for the last ``weeks`` weeks (this one included); retention looks at all history."""
    now = now or utcnow()
    org = require_salon(session, actor, org_id, "salon.bookings.read")
    tz = ZoneInfo(org.timezone)
    first_week = week_start(now, tz) - timedelta(weeks=weeks - 1)
    since = datetime.combine(first_week, datetime.min.time(), tzinfo=tz)

    rows = session.execute(
        select(SalonAppointment.starts_at, SalonAppointment.status, SalonAppointment.price_minor,
               SalonAppointment.charged_minor, SalonAppointment.tip_minor, SalonService.name)
        .join(SalonService, SalonService.id == SalonAppointment.service_id)
        .where(SalonAppointment.org_id == org.id, SalonAppointment.starts_at >= since,
               SalonAppointment.starts_at < now + timedelta(days=7 * 52))).all()
    bookings: Counter[date] = Counter()
    revenue: Counter[date] = Counter()
    popularity: Counter[str] = Counter()
    closed = no_shows = 0
    for starts_at, status, price, charged, tip, service in rows:
        if status == "cancelled":
            continue
        week = week_start(starts_at, tz)
        if week <= week_start(now, tz):
            bookings[week] += 1
        popularity[service] += 1
        if status == "completed":
            revenue[week] += price if charged is None else charged - tip
            closed += 1
        elif status == "no_show":
            revenue[week] += charged or 0
            no_shows += 1
            closed += 1
    week_list = [first_week + timedelta(weeks=i) for i in range(weeks)]

    visits: dict[int, list[datetime]] = defaultdict(list)
    for contact_id, starts_at in session.execute(
            select(SalonAppointment.contact_id, SalonAppointment.starts_at)
            .where(SalonAppointment.org_id == org.id, SalonAppointment.status == "completed",
                   SalonAppointment.contact_id.is_not(None))):
        visits[contact_id].append(starts_at)
    retained, eligible = retention(visits, now)

    by_source: dict[str, list[tuple[str, datetime, datetime | None]]] = defaultdict(list)
    for source, status, created, responded in session.execute(
            select(SalonLead.source, SalonLead.status, SalonLead.created_at, SalonLead.first_response_at)
            .where(SalonLead.org_id == org.id, SalonLead.created_at >= since)):
        by_source[source].append((status, created, responded))
    sources = []
    for source, leads in sorted(by_source.items()):
        waits = [(r - c).total_seconds() / 60 for _, c, r in leads if r is not None]
        sources.append(SourceFigures(source, len(leads), sum(1 for s, _, _ in leads if s == "converted"),
                                     median(waits) if waits else None))

    return SalonAnalytics(
        currency=org.currency,
        weeks=[WeekFigures(w, bookings[w], revenue[w]) for w in week_list],
        services=sorted(popularity.items(), key=lambda kv: (-kv[1], kv[0])),
        no_show_rate=no_shows / closed if closed else None,
        retention_rate=retained / eligible if eligible else None,
        retained_clients=retained,
        eligible_clients=eligible,
        lead_sources=sources,
    )
