"""Takings: the money a salon took on one day (its own calendar), from ``salon_payments``.

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
    day: date
    currency: str
    lines: list[TakingLine] = field(default_factory=list)
    tips_minor: int = 0  # tips on the appointments completed that day

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
        return {"day": self.day.isoformat(), "currency": self.currency, "total_minor": self.total_minor,
                "tips_minor": self.tips_minor, "by_professional": self.by("professional"),
                "by_service": self.by("service"), "by_method": self.by("method")}


def daily_takings(session: Session, actor: Actor, org_id: int, day: date) -> Takings:
    """What was taken on ``day`` (the salon's calendar), line by line."""
    org = require_salon(session, actor, org_id, "salon.takings.read")
    tz = ZoneInfo(org.timezone)
    start, end = local_instant(day, 0, tz), local_instant(day + timedelta(days=1), 0, tz)
    rows = session.execute(
        select(SalonPayment, SalonAppointment.tip_minor, SalonAppointment.status, Contact.name, User.name,
               SalonService.name)
        .join(SalonAppointment, SalonAppointment.id == SalonPayment.appointment_id)
        .join(User, User.id == SalonAppointment.professional_id)
        .join(SalonService, SalonService.id == SalonAppointment.service_id)
        .outerjoin(Contact, Contact.id == SalonAppointment.contact_id)
        .where(SalonPayment.org_id == org.id, SalonPayment.at >= start, SalonPayment.at < end)
        .order_by(SalonPayment.at, SalonPayment.id))
    takings = Takings(day, org.currency)
    tipped: dict[int, int] = {}
    for p, tip, status, client, professional, service in rows:
        takings.lines.append(TakingLine(p.at, p.appointment_id, client or "", professional, service, p.kind,
                                        p.method, p.amount_minor, p.reference))
        if p.kind == "visit" and status == "completed":
            tipped[p.appointment_id] = tip
    takings.tips_minor = sum(tipped.values())
    return takings
