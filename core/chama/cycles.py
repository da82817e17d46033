"""Cycles: a chama saves from one share-out to the next.

The first cycle starts with the chama; each committed share-out ends one and
starts the next. Invoices, arrears and late fines look only at the current
cycle: an invoice counts when it falls due after the day the cycle began, and
a contribution pays invoices only when it was recorded after the share-out
that began the cycle. Money handed back at share-out, and opening balances
brought in from before Ofisi, never pay an invoice.

A contribution belongs to the cycle whose savings it is in, and that is
decided by when it was posted, not by the time written on it: the share-out
hands back every entry posted before it (it holds the chama lock, so the
ledger's ids are in posting order). Cash handed over at the AGM's morning and
entered after the afternoon's share-out is this cycle's money, and so is a
contribution between two share-outs on the same day: the second one handed
it back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.chama.base import org_zone
from db.models import Org
from db.models_chama import ChamaLedgerEntry, ChamaShareout


@dataclass(frozen=True)
class Cycle:
    number: int
    started_at: datetime | None  # the share-out that began it; None for the first cycle
    started_on: date | None  # that day on the org's clock
    after_entry: int = 0  # the last ledger entry that share-out posted: the cycle's entries come after it

    def text(self) -> str:
        return f"cycle {self.number}" + (f" since {self.started_on:%d %b %Y}" if self.started_on else "")


def shareouts_so_far(org_id: int):
    """How many share-outs the chama has committed and the last one's id, as two columns (so a
    query that reads something else can read them too: :func:`cycle_of` makes the cycle)."""
    shareouts = ChamaShareout.__table__  # the table's columns: the USSD preload carries these (ledger.member_sums)
    where = shareouts.c.org_id == org_id
    # Correlated to whatever encloses them for org_id (a chama_members column, in that preload).
    return (select(func.count(shareouts.c.id)).where(where).scalar_subquery().correlate_except(shareouts),
            select(func.max(shareouts.c.id)).where(where).scalar_subquery().correlate_except(shareouts))


def current_cycle(session: Session, org_id: int) -> Cycle:
    count, latest = session.execute(select(*shareouts_so_far(org_id))).one()
    return cycle_of(session, org_id, count, latest)


def cycle_of(session: Session, org_id: int, count: int, latest: int | None) -> Cycle:
    """The cycle after ``count`` share-outs, the last of them ``latest`` (its id)."""
    if not count:
        return Cycle(1, None, None)
    org, last = session.get(Org, org_id), session.get(ChamaShareout, latest)
    assert org is not None and last is not None
    after = session.scalar(select(func.max(ChamaLedgerEntry.id)).where(ChamaLedgerEntry.shareout_id == last.id))
    if after is None:  # a share-out that paid nobody: what was posted before it
        after = session.scalar(select(func.max(ChamaLedgerEntry.id)).where(
            ChamaLedgerEntry.org_id == org_id, ChamaLedgerEntry.created_at <= last.committed_at))
    return Cycle(count + 1, last.committed_at, last.committed_at.astimezone(org_zone(org)).date(), after or 0)
