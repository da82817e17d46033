"""Takings: the money a salon took on one day, or from one day to another (its own calendar),
from ``salon_payments``.

Every sum taken is one payment row (a deposit, the visit's balance, a
no-show's fee, or a refund owed back, negative), so the day's total is their
sum, and it equals what the completed and no-show appointments were paid.
The report splits it by professional, by service and by payment method
(cash, M-Pesa, card), with the tips taken that day beside. Front ends write
it as a table, CSV, XLSX or JSON.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.actors import Actor
from core.errors import InvalidInput
from core.money import format_money
from core.salon.common import require_salon
from core.salon.schedule import local_instant
from db.models import Contact, User
from db.models_salon import SalonAppointment, SalonPayment, SalonService

COLUMNS = ["at", "appointment", "client", "professional", "service", "kind", "method", "amount", "reference"]


@dataclass(frozen=True)
class TakingLine:
    at: datetime
    appointment_id: int
    client: str
    professional: str
    service: str
    kind: str
    method: str
    amount_minor: int
    reference: str | None


@dataclass
class Takings:
    first: date
    last: date
    currency: str
    lines: list[TakingLine] = field(default_factory=list)
    tips_minor: int = 0  # tips on the appointments completed that day

    @property
    def day(self) -> date:
        return self.first

    @property
    def total_minor(self) -> int:
        return sum(line.amount_minor for line in self.lines)

    def by(self, what: str) -> dict[str, int]:
        """Totals by ``professional``, ``service`` or ``method``, largest first."""
        totals: dict[str, int] = defaultdict(int)
        for line in self.lines:
            totals[getattr(line, what)] += line.amount_minor
        return dict(sorted(totals.items(), key=lambda kv: (-kv[1], kv[0])))

    def money(self, minor: int) -> str:
        return format_money(minor, self.currency)

    def rows(self, tz: ZoneInfo) -> list[list]:
        """The lines as table rows (amounts in minor units for files, formatted elsewhere)."""
        return [[line.at.astimezone(tz).isoformat(timespec="minutes"), line.appointment_id, line.client,
                 line.professional, line.service, line.kind, line.method, line.amount_minor, line.reference or ""]
                for line in self.lines]

    def summary(self) -> dict:
        span = {"day": self.day.isoformat()} if self.first == self.last else {
            "first": self.first.isoformat(), "last": self.last.isoformat()}
        return {**span, "currency": self.currency, "total_minor": self.total_minor,
                "tips_minor": self.tips_minor, "by_professional": self.by("professional"),
                "by_service": self.by("service"), "by_method": self.by("method")}


def daily_takings(session: Session, actor: Actor, org_id: int, day: date) -> Takings:
    """What was taken on ``day`` (the salon's calendar), line by line."""
    return takings(session, actor, org_id, day, day)


def takings(session: Session, actor: Actor, org_id: int, first: date, last: date) -> Takings:
    """What was taken from ``first`` to ``last``, both days whole (the salon's calendar), line by line."""
    org = require_salon(session, actor, org_id, "salon.takings.read")
    if last < first:
        raise InvalidInput(f"{last:%d %b %Y} is before {first:%d %b %Y}: give the first day first.")
    tz = ZoneInfo(org.timezone)
    start, end = local_instant(first, 0, tz), local_instant(last + timedelta(days=1), 0, tz)
    rows = session.execute(
        select(SalonPayment, SalonAppointment.tip_minor, SalonAppointment.status, Contact.name, User.name,
               SalonService.name)
        .join(SalonAppointment, SalonAppointment.id == SalonPayment.appointment_id)
        .join(User, User.id == SalonAppointment.professional_id)
        .join(SalonService, SalonService.id == SalonAppointment.service_id)
        .outerjoin(Contact, Contact.id == SalonAppointment.contact_id)
        .where(SalonPayment.org_id == org.id, SalonPayment.at >= start, SalonPayment.at < end)
        .order_by(SalonPayment.at, SalonPayment.id))
    taken = Takings(first, last, org.currency)
    tipped: dict[int, int] = {}
    for p, tip, status, client, professional, service in rows:
        taken.lines.append(TakingLine(p.at, p.appointment_id, client or "", professional, service, p.kind,
                                        p.method, p.amount_minor, p.reference))
        if p.kind == "visit" and status == "completed":
            tipped[p.appointment_id] = tip
    taken.tips_minor = sum(tipped.values())
    return taken
