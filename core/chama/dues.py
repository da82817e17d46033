"""Contribution periods, invoices and arrears.

A period is a month (``2030-03``, due on the settings' day, clamped to the
month's end) or an ISO week (``2030-W10``, due on the settings' weekday).
Invoices start with the first period due on or after ``contributions_start``
and go to members who are active and had joined by the due date.

Arrears are counted first-in first-out within the current cycle (see
``cycles``): what a member has contributed in the cycle (contributions
recorded since its share-out, not reversed) goes against the cycle's invoices from the oldest, so a period is
unpaid only when the total invoiced up to it is more than the total
contributed. Opening balances and money from earlier cycles pay nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.chama.base import add_months
from core.chama.cycles import current_cycle
from db.models_chama import ChamaInvoice, ChamaLedgerEntry, ChamaSettings


@dataclass(frozen=True, order=True)
class Period:
    due_on: date
    label: str


def period_due_on_or_after(settings: ChamaSettings, day: date) -> Period:
    """The first period whose due date is ``day`` or later."""
    if settings.frequency == "weekly":
        due = day + timedelta(days=(settings.due_day - day.weekday()) % 7)
        year, week, _ = due.isocalendar()
        return Period(due, f"{year}-W{week:02d}")
    due = add_months(day.replace(day=1), 0, settings.due_day)
    if due < day:
        due = add_months(day.replace(day=1), 1, settings.due_day)
    return Period(due, f"{due.year}-{due.month:02d}")


def periods_due_between(settings: ChamaSettings, start: date, end: date) -> list[Period]:
    """Every period due in [start, end], oldest first."""
    periods: list[Period] = []
    day = start
    while True:
        period = period_due_on_or_after(settings, day)
        if period.due_on > end:
            return periods
        periods.append(period)
        day = period.due_on + timedelta(days=1)


def contributed_by_member(session: Session, org_id: int, member_id: int | None = None) -> dict[int, int]:
    """Each member's contributions that stand (not reversed), in the current cycle."""
    cycle = current_cycle(session, org_id)
    reversed_ids = select(ChamaLedgerEntry.reverses_id).where(ChamaLedgerEntry.reverses_id.is_not(None))
    query = (select(ChamaLedgerEntry.member_id, func.sum(ChamaLedgerEntry.amount_minor))
             .where(ChamaLedgerEntry.org_id == org_id, ChamaLedgerEntry.kind == "contribution",
                    ChamaLedgerEntry.id.not_in(reversed_ids))
             .group_by(ChamaLedgerEntry.member_id))
    if member_id is not None:
        query = query.where(ChamaLedgerEntry.member_id == member_id)
    if cycle.started_at is not None:
        query = query.where(ChamaLedgerEntry.id > cycle.after_entry)
    return {m: int(total) for m, total in session.execute(query)}


def arrears_by_member(session: Session, org_id: int, *, through: date,
                      member_id: int | None = None) -> dict[int, int]:
    """What each member has left unpaid of the cycle's invoices due on or before ``through`` (only those > 0)."""
    query = (select(ChamaInvoice.member_id, func.sum(ChamaInvoice.amount_minor))
             .where(ChamaInvoice.org_id == org_id, ChamaInvoice.due_on <= through)
             .group_by(ChamaInvoice.member_id))
    started_on = current_cycle(session, org_id).started_on
    if started_on is not None:
        query = query.where(ChamaInvoice.due_on > started_on)
    if member_id is not None:
        query = query.where(ChamaInvoice.member_id == member_id)
    invoiced = {m: int(total) for m, total in session.execute(query)}
    paid = contributed_by_member(session, org_id, member_id)
    return {m: due - paid.get(m, 0) for m, due in invoiced.items() if due > paid.get(m, 0)}


def unpaid_for(session: Session, invoice: ChamaInvoice) -> int:
    """How much of this invoice is still unpaid, counting payments oldest invoice first (nothing for an
    invoice of an earlier cycle: the share-out closed it)."""
    started_on = current_cycle(session, invoice.org_id).started_on
    if started_on is not None and invoice.due_on <= started_on:
        return 0
    short = arrears_by_member(session, invoice.org_id, through=invoice.due_on,
                              member_id=invoice.member_id).get(invoice.member_id, 0)
    return min(short, invoice.amount_minor)
