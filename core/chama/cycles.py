"""Cycles: a chama saves from one share-out to the next.

The first cycle starts with the chama; each committed share-out ends one and
starts the next. Invoices, arrears and late fines look only at the current
cycle: an invoice counts when it falls due after the cycle began, and a
contribution pays invoices only when it was made in the cycle. Money handed
back at share-out, and opening balances brought in from before Ofisi, never
pay an invoice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.chama.base import org_zone
from db.models import Org
from db.models_chama import ChamaShareout


@dataclass(frozen=True)
class Cycle:
    number: int
    started_at: datetime | None  # the share-out that began it; None for the first cycle
    started_on: date | None  # that day on the org's clock

    def text(self) -> str:
        return f"cycle {self.number}" + (f" since {self.started_on:%d %b %Y}" if self.started_on else "")


def shareouts_so_far(org_id: int):
    """How many share-outs the chama has committed and when the last was, as two columns (so a
    query that reads something else can read them too: :func:`cycle_of` makes the cycle)."""
    where = ChamaShareout.org_id == org_id
    return (select(func.count(ChamaShareout.id)).where(where).scalar_subquery(),
            select(func.max(ChamaShareout.committed_at)).where(where).scalar_subquery())


def current_cycle(session: Session, org_id: int) -> Cycle:
    count, last = session.execute(select(*shareouts_so_far(org_id))).one()
    return cycle_of(session, org_id, count, last)


def cycle_of(session: Session, org_id: int, count: int, last: datetime | None) -> Cycle:
    if not count:
        return Cycle(1, None, None)
    org = session.get(Org, org_id)
    assert org is not None
    return Cycle(count + 1, last, last.astimezone(org_zone(org)).date())
