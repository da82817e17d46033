"""Due work for chamas, run by `ofisi jobs run-due`.

The planner looks at every chama and schedules, under keys that name the
org, member or loan, and period, only what is due by now:

* ``chama.invoice`` — ``reminder_days`` before a period's due date, 08:00 on
  the org's clock: the member's invoice and an SMS reminder.
* ``chama.late_fine`` — the day after the grace days end, 00:00: the late
  fine on what is still unpaid of that period (nothing if it was paid).
* ``chama.instalment`` — each loan instalment date, 08:00: for reducing-balance
  loans the month's interest, and an SMS reminder of what is actually due
  (missed instalments included, repayments taken off) while money is owed.
* ``chama.loan_overdue`` — the day after an instalment's ``loan_grace_days``,
  00:00: if it is still not paid, the penalty, SMS to the borrower and her
  guarantors, and default after ``default_after_missed`` missed instalments.

Job keys, the invoice's unique key, the fine's ledger key and the SMS keys
each make a second run on the same day change nothing. Periods more than
``LOOKBACK_DAYS`` old are not planned, so a fresh install does not invoice
the distant past; cron that was down longer than that misses them.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import jobs
from core.actors import Actor
from core.chama.base import (
    add_months,
    hold_cycle,
    local_moment,
    local_today,
    money,
    notify_member,
    settings_row,
)
from core.chama.cycles import current_cycle
from core.chama.dues import periods_due_between, unpaid_for
from core.chama.fines import late_fine_amount, post_late_fine
from core.chama.ledger import announce, sums
from core.chama.loans import (
    LENT,
    charge_instalment_interest,
    disbursement_of,
    mark_overdue,
    schedule_of,
    standing_of,
)
from db.models import Job, Org
from db.models_chama import ChamaInvoice, ChamaLoan, ChamaMember, ChamaSettings

ACTOR = Actor.system_actor("jobs:chama")
LOOKBACK_DAYS = 45
MORNING = time(8, 0)

Planned = tuple[str, str, datetime, int, dict[str, Any]]  # kind, key, due at, org id, payload


def _dues(session: Session, org: Org, settings: ChamaSettings, now: datetime) -> list[Planned]:
    if settings.contribution_minor <= 0 or settings.contributions_start is None:
        return []
    today = local_today(org, now)
    start = max(settings.contributions_start, today - timedelta(days=LOOKBACK_DAYS))
    started_on = current_cycle(session, org.id).started_on
    if started_on is not None:  # periods due before the last share-out belong to a closed cycle
        start = max(start, started_on + timedelta(days=1))
    periods = periods_due_between(settings, start, today + timedelta(days=settings.reminder_days))
    if not periods:
        return []
    members = list(session.scalars(select(ChamaMember).where(ChamaMember.org_id == org.id,
                                                             ChamaMember.status == "active")))
    fines_on = settings.fine_flat_minor > 0 if settings.fine_kind == "flat" else settings.fine_percent_bp > 0
    planned: list[Planned] = []
    for period in periods:
        invoice_at = local_moment(org, period.due_on - timedelta(days=settings.reminder_days), MORNING)
        fine_at = local_moment(org, period.due_on + timedelta(days=settings.grace_days + 1))
        for member in members:
            if member.joined_on > period.due_on:
                continue
            ids = {"member_id": member.id, "period": period.label}
            if invoice_at <= now:
                planned.append(("chama.invoice", f"chama:{org.id}:invoice:{member.id}:{period.label}", invoice_at,
                                org.id, {**ids, "due_on": period.due_on.isoformat(),
                                         "amount_minor": settings.contribution_minor}))
            if fines_on and fine_at <= now:
                planned.append(("chama.late_fine", f"chama:{org.id}:late-fine:{member.id}:{period.label}",
                                fine_at, org.id, ids))
    return planned


def _instalments(session: Session, org: Org, now: datetime) -> list[Planned]:
    today = local_today(org, now)
    planned: list[Planned] = []
    grace = timedelta(days=settings_row(session, org.id).loan_grace_days + 1)
    for loan in session.scalars(select(ChamaLoan).where(ChamaLoan.org_id == org.id,
                                                        ChamaLoan.status.in_(LENT))):
        disbursement = disbursement_of(session, loan)
        if disbursement is None or loan.first_due_on is None or sums(session, org.id, loan_id=loan.id).loan <= 0:
            continue
        number = 1
        while (due := add_months(loan.first_due_on, number - 1)) <= today:
            if due >= today - timedelta(days=LOOKBACK_DAYS) and (
                    number <= loan.months or loan.interest_kind == "reducing"):
                ids = {"loan_id": loan.id, "disbursement_id": disbursement.id, "number": number}
                planned.append(("chama.instalment",
                                f"chama:{org.id}:loan:{loan.id}:{disbursement.id}:instalment:{number}",
                                local_moment(org, due, MORNING), org.id, ids))
                if number <= loan.months and due + grace <= today:
                    planned.append(("chama.loan_overdue",
                                    f"chama:{org.id}:loan:{loan.id}:{disbursement.id}:overdue:{number}",
                                    local_moment(org, due + grace), org.id, ids))
            number += 1
    return planned


def schedule_missing(session: Session, planned: list[Planned]) -> int:
    """Schedule the planned jobs not scheduled yet (one look-up per 500 keys); returns how many were new."""
    added = 0
    for i in range(0, len(planned), 500):
        chunk = planned[i:i + 500]
        existing = set(session.scalars(select(Job.key).where(Job.key.in_([p[1] for p in chunk]))))
        for kind, key, due_at, org_id, payload in chunk:
            if key not in existing:
                added += jobs.schedule(session, kind, key, due_at, org_id=org_id, payload=payload)
    return added


@jobs.planner("chama")
def plan_chama_work(session: Session, now: datetime) -> None:
    for settings, org in session.execute(
            select(ChamaSettings, Org).join(Org, Org.id == ChamaSettings.org_id).where(Org.kind == "chama")):
        schedule_missing(session, _dues(session, org, settings, now) + _instalments(session, org, now))


def _member(session: Session, job: jobs.DueJob) -> tuple[Org, ChamaMember] | None:
    org = session.get(Org, job.org_id)
    member = session.get(ChamaMember, job.payload["member_id"])
    if org is None or member is None or member.org_id != org.id or member.status != "active":
        return None
    return org, member


def _invoice(session: Session, member: ChamaMember, period: str) -> ChamaInvoice | None:
    return session.scalar(select(ChamaInvoice).where(
        ChamaInvoice.org_id == member.org_id, ChamaInvoice.member_id == member.id, ChamaInvoice.period == period))


@jobs.handler("chama.invoice")
def issue_invoice(session: Session, job: jobs.DueJob) -> None:
    found = _member(session, job)
    if found is None:
        return
    org, member = found
    period, due_on, amount = job.payload["period"], date.fromisoformat(job.payload["due_on"]), \
        int(job.payload["amount_minor"])
    if _invoice(session, member, period) is None:
        try:
            with session.begin_nested():
                session.add(ChamaInvoice(org_id=org.id, member_id=member.id, period=period, due_on=due_on,
                                         amount_minor=amount))
        except IntegrityError:
            pass  # already issued by an earlier run
    notify_member(session, org, member,
                  f"your contribution of {money(org, amount)} for {period} is due on {due_on:%d %b %Y}. "
                  f"Member no. {member.member_number}.",
                  f"{org.id}:invoice:{member.id}:{period}", purpose="service")


@jobs.handler("chama.late_fine")
def fine_if_late(session: Session, job: jobs.DueJob) -> None:
    found = _member(session, job)
    if found is None:
        return
    org, member = found
    hold_cycle(session, org.id)  # what is unpaid depends on the cycle: no share-out between reading and fining
    invoice = _invoice(session, member, job.payload["period"])
    if invoice is None:
        return
    amount = late_fine_amount(settings_row(session, org.id), unpaid_for(session, invoice))
    if amount > 0:
        post_late_fine(session, org, ACTOR, member, period=invoice.period, amount=amount)


@jobs.handler("chama.instalment")
def instalment_due(session: Session, job: jobs.DueJob) -> None:
    found = _lent(session, job)
    if found is None:
        return
    org, loan, disbursement, number = found
    if loan.interest_kind == "reducing":
        entry = charge_instalment_interest(session, org, ACTOR, loan, number, disbursement.id)
        if entry is not None:
            announce(session, ACTOR, org, entry, receipt=None)
    owed = sums(session, org.id, loan_id=loan.id).loan
    member = session.get(ChamaMember, loan.member_id)
    if owed <= 0 or member is None:
        return
    if number <= loan.months:
        due = standing_of(session, org, loan, local_today(org, job.due_at)).due_for(number)
        text = (f"loan {loan.id} instalment {number} of {loan.months}: {money(org, due)} is due today"
                + (" (missed instalments included)" if due > schedule_of(loan, local_today(org))[number - 1]
                   .total_minor else "") + f". Loan balance {money(org, owed)}.")
    else:
        text = f"loan {loan.id} is past its last instalment. Loan balance {money(org, owed)}."
    notify_member(session, org, member, text, f"{org.id}:loan:{loan.id}:{disbursement.id}:instalment:{number}",
                  purpose="service")


def _lent(session: Session, job: jobs.DueJob) -> tuple[Org, ChamaLoan, object, int] | None:
    """The org, the paid-out loan, its disbursement and the instalment a loan job is for (None: nothing to do)."""
    org = session.get(Org, job.org_id)
    loan = session.get(ChamaLoan, job.payload["loan_id"])
    if org is None or loan is None or loan.org_id != org.id or loan.status not in LENT:
        return None
    disbursement = disbursement_of(session, loan)
    if disbursement is None or disbursement.id != job.payload["disbursement_id"]:
        return None  # the disbursement this job was planned for has been reversed
    return org, loan, disbursement, int(job.payload["number"])


@jobs.handler("chama.loan_overdue")
def loan_overdue(session: Session, job: jobs.DueJob) -> None:
    found = _lent(session, job)
    if found is None:
        return
    org, loan, disbursement, number = found
    mark_overdue(session, org, ACTOR, loan, number, disbursement.id, local_today(org, job.due_at))
