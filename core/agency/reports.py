"""``ofisi report agency``: placements, fees earned, received and owed, commission,
and time to placement, by the month each worker was placed (org's clock).

Every placement that was ever placed, or has money in the book, belongs to
exactly one month (its ``placed_at``; "undated" for imported ones the old data
gave no date), and its entries count in that same month. Every figure comes
from :func:`core.agency.books.sums`, so for every row and the total
``fee + commission − waived = received − refunded + owed``, and the months add
up to the total.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.actors import Actor
from core.agency import books
from core.agency.base import agency_org
from db.models_agency import AgencyPlacement


@dataclass
class MonthRow:
    month: str  # "2026-03", or "undated"
    placed: int = 0
    ended: int = 0
    disputed: int = 0
    fee_minor: int = 0
    commission_minor: int = 0
    fee_received_minor: int = 0
    commission_received_minor: int = 0
    refunded_minor: int = 0
    waived_minor: int = 0
    owed_minor: int = 0
    days_to_placement_total: int = 0
    dated_placements: int = 0

    @property
    def average_days_to_placement(self) -> float | None:
        return round(self.days_to_placement_total / self.dated_placements, 1) if self.dated_placements else None

    def add(self, other: MonthRow) -> None:
        for name in ("placed", "ended", "disputed", "fee_minor", "commission_minor", "fee_received_minor",
                     "commission_received_minor", "refunded_minor", "waived_minor", "owed_minor", "days_to_placement_total", "dated_placements"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class AgencyReport:
    org: str
    currency: str
    months: list[MonthRow]
    total: MonthRow
    proposed_open: int
    by_status: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        def row(r: MonthRow) -> dict:
            return {"month": r.month, "placed": r.placed, "ended": r.ended, "disputed": r.disputed,
                    "fee_minor": r.fee_minor, "commission_minor": r.commission_minor,
                    "fee_received_minor": r.fee_received_minor,
                    "commission_received_minor": r.commission_received_minor,
                    "received_minor": r.fee_received_minor + r.commission_received_minor,
                    "refunded_minor": r.refunded_minor, "waived_minor": r.waived_minor, "owed_minor": r.owed_minor,
                    "average_days_to_placement": r.average_days_to_placement}
        return {"org": self.org, "currency": self.currency, "months": [row(m) for m in self.months],
                "total": row(self.total), "proposed_open": self.proposed_open, "by_status": self.by_status}


def agency_report(session: Session, actor: Actor, org_id: int) -> AgencyReport:
    org = agency_org(session, actor, org_id, "agency.read")
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(org.timezone)
    book = books.sums(session, org_id)
    months: dict[str, MonthRow] = {}
    by_status: dict[str, int] = {}
    proposed = 0
    for p in session.scalars(select(AgencyPlacement).where(AgencyPlacement.org_id == org_id)
                             .order_by(AgencyPlacement.id)):
        by_status[p.status] = by_status.get(p.status, 0) + 1
        money = book.get(p.id)
        if p.status == "proposed":
            proposed += 1
            if money is None:
                continue
        key = p.placed_at.astimezone(zone).strftime("%Y-%m") if p.placed_at else "undated"
        row = months.setdefault(key, MonthRow(key))
        money = money or books.Sums()
        row.placed += p.status != "proposed"
        row.ended += p.status == "ended"
        row.disputed += p.status == "disputed"
        row.fee_minor += money.item("fee", "charge")
        row.commission_minor += money.item("commission", "charge")
        row.fee_received_minor += money.item("fee", "payment")
        row.commission_received_minor += money.item("commission", "payment")
        row.refunded_minor += money.refunded
        row.waived_minor += money.waived
        row.owed_minor += money.owed
        if p.placed_at and p.proposed_at:
            row.days_to_placement_total += max((p.placed_at - p.proposed_at).days, 0)
            row.dated_placements += 1
    ordered = [months[k] for k in sorted(months, key=lambda k: (k == "undated", k))]
    total = MonthRow("total")
    for row in ordered:
        total.add(row)
    return AgencyReport(org.slug, org.currency, ordered, total, proposed, by_status)
