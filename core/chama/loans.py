"""Loans: request within the limit, approval by officials, disbursement from the pool, repayment.

* **Limit.** A member may owe up to ``loan_limit_percent`` of their free
  savings (savings not pledged behind someone else's loan), less what they
  already owe or have asked for. Guarantors lift the limit by what they
  pledge; a pledge is at most the guarantor's own free savings.
* **Interest** is monthly at the rate in force when the loan was asked for.
  Flat: ``principal × rate × months``, charged in full at disbursement.
  Reducing balance: each month on the instalment date, due work charges
  ``rate × principal still owed`` (so paying early pays less), and keeps
  doing so after the last instalment while principal is owed.
* **Schedule.** Equal principal each month (the remainder in the first
  months), first instalment one month after disbursement; for reducing
  loans the schedule shows the interest if every instalment is paid on time.
* **Repayments** pay the member's fines first, then the loan's interest,
  then its principal; what is paid beyond all of that is split off to the
  member's savings (or refunded, as the chama's ``overpayment`` says) and
  the member is told.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit
from core.actors import Actor
from core.chama.approvals import (
    ApprovalView,
    approvals_needed,
    approvals_of,
    decide_and_notify,
    pay_from_pool,
    requester_key,
)
from core.chama.base import (
    add_months,
    chama_org,
    contact_of,
    first_name,
    hold_cycle,
    largest_remainder,
    local_moment,
    local_today,
    lock_chama,
    locked,
    member_row,
    money,
    notify_member,
    org_zone,
    percent_of,
    settings_row,
)
from core.chama.ledger import (
    Balances,
    EntryView,
    check_amount,
    check_money_in,
    check_when,
    announce,
    effect,
    finish,
    payment_key,
    post,
    record_once,
    recorded,
    sums,
    unreversed,
    views,
)
from core.errors import Conflict, InvalidInput, NotFound
from db.models import Org
from db.models_chama import ChamaGuarantor, ChamaLedgerEntry, ChamaLoan, ChamaMember, ChamaSettings
from db.types import utcnow

MAX_MONTHS = 60
PENDING = ("requested", "approved")
LENT = ("disbursed", "defaulted")  # paid out: repayments, interest and instalments apply


@dataclass(frozen=True)
class GuarantorView:
    member_id: int
    name: str
    amount_minor: int
    status: str = "accepted"  # asked, accepted or declined


@dataclass(frozen=True)
class Installment:
    number: int
    due_on: date
    principal_minor: int
    interest_minor: int
    total_minor: int
    balance_after_minor: int


@dataclass(frozen=True)
class LoanView:
    id: int
    org_id: int
    member_id: int
    member_name: str
    member_number: str
    currency: str
    principal_minor: int
    months: int
    interest_kind: str
    interest_rate_bp: int
    purpose: str
    status: str
    approvals_required: int
    approvals: list[ApprovalView]
    guarantors: list[GuarantorView]
    requested_by: str
    requested_at: datetime
    disbursed_at: datetime | None
    first_due_on: date | None
    principal_outstanding_minor: int
    interest_owed_minor: int
    rejection_reason: str | None

    @property
    def what(self) -> str:
        return f"{self.member_name.split()[0]}'s loan"


@dataclass(frozen=True)
class LoanLimit:
    member_id: int
    savings_minor: int
    pledged_for_others_minor: int
    limit_percent: int
    limit_minor: int
    owed_or_asked_minor: int
    available_minor: int


def _what(session: Session, loan: ChamaLoan) -> str:
    return f"{first_name(session, member_row(session, loan.org_id, loan.member_id))}'s loan"


def _view(session: Session, org: Org, loan: ChamaLoan) -> LoanView:
    member = member_row(session, org.id, loan.member_id)
    contact = contact_of(session, member)
    owed = sums(session, org.id, loan_id=loan.id)
    status = loan.status
    if status in LENT and owed.principal == 0 and owed.interest == 0:
        status = "repaid" if status == "disbursed" else "recovered"
    elif status == "disbursed" and standing_of(session, org, loan).missed:
        status = "overdue"
    guarantors = [
        GuarantorView(g.member_id, contact_of(session, member_row(session, org.id, g.member_id)).name, g.amount_minor,
                      g.status)
        for g in session.scalars(select(ChamaGuarantor).where(ChamaGuarantor.loan_id == loan.id)
                                 .order_by(ChamaGuarantor.id))
    ]
    return LoanView(
        loan.id, org.id, member.id, contact.name, member.member_number, org.currency, loan.principal_minor,
        loan.months, loan.interest_kind, loan.interest_rate_bp, loan.purpose, status, loan.approvals_required,
        approvals_of(session, loan), guarantors, loan.requested_by, loan.requested_at, loan.disbursed_at,
        loan.first_due_on, owed.principal, owed.interest, loan.rejection_reason,
    )


def _is_open(session: Session, loan: ChamaLoan) -> bool:
    """Asked for, approved, or disbursed and not yet repaid."""
    if loan.status in PENDING:
        return True
    return loan.status in LENT and sums(session, loan.org_id, loan_id=loan.id).loan > 0


def _pledged(session: Session, org_id: int, member_id: int) -> int:
    rows = session.execute(
        select(ChamaGuarantor.amount_minor, ChamaLoan)
        .join(ChamaLoan, ChamaLoan.id == ChamaGuarantor.loan_id)
        .where(ChamaGuarantor.org_id == org_id, ChamaGuarantor.member_id == member_id,
               ChamaGuarantor.status != "declined", ChamaLoan.status.in_((*PENDING, *LENT)))
    )
    return sum(amount for amount, loan in rows if _is_open(session, loan))


def guaranteeing(session: Session, org_id: int, member_id: int) -> list[int]:
    """The open loans (asked for, approved, or owing) that this member backs as a guarantor."""
    loans = session.scalars(
        select(ChamaLoan).join(ChamaGuarantor, ChamaGuarantor.loan_id == ChamaLoan.id)
        .where(ChamaGuarantor.org_id == org_id, ChamaGuarantor.member_id == member_id,
               ChamaGuarantor.status != "declined", ChamaLoan.status.in_((*PENDING, *LENT)))
        .order_by(ChamaLoan.id))
    return [loan.id for loan in loans if _is_open(session, loan)]


def _limit(session: Session, org: Org, settings: ChamaSettings, member: ChamaMember) -> LoanLimit:
    savings = sums(session, org.id, member_id=member.id).savings
    pledged = _pledged(session, org.id, member.id)
    free = max(0, savings - pledged)
    limit = free * settings.loan_limit_percent // 100
    asked = session.scalars(select(ChamaLoan.principal_minor).where(
        ChamaLoan.org_id == org.id, ChamaLoan.member_id == member.id, ChamaLoan.status.in_(PENDING)))
    committed = sums(session, org.id, member_id=member.id).principal + sum(asked)
    return LoanLimit(member.id, savings, pledged, settings.loan_limit_percent, limit, committed,
                     max(0, limit - committed))


def loan_limit(session: Session, actor: Actor, org_id: int, member_id: int) -> LoanLimit:
    """How much more a member may borrow on their own savings (USSD "request within the limit")."""
    org = chama_org(session, actor, org_id, "chama.read")
    return _limit(session, org, settings_row(session, org.id), member_row(session, org.id, member_id))


def request_loan(
    session: Session,
    actor: Actor,
    org_id: int,
    member_id: int,
    amount_minor: int,
    *,
    months: int,
    purpose: str = "",
    guarantors: Sequence[tuple[int, int]] = (),
    by_member_id: int | None = None,
) -> LoanView:
    """Ask for a loan for a member; ``guarantors`` are (member id, amount pledged).

    From a staff login the official asking is the maker; from a system front
    end (USSD, the CLI) the member named by ``by_member_id`` is, by default
    the applicant. Either way the maker cannot approve it.
    """
    org = chama_org(session, actor, org_id, "chama.request")
    settings = lock_chama(session, org.id)
    member = member_row(session, org.id, member_id, lock=True)
    name = first_name(session, member)
    if member.status != "active":
        raise Conflict(f"{name} is {member.status}; only an active member can borrow.")
    check_amount(amount_minor, "A loan")
    if not isinstance(months, int) or not 1 <= months <= MAX_MONTHS:
        raise InvalidInput(f"A loan runs for 1 to {MAX_MONTHS} months, not {months!r}.")
    pledges = _check_guarantors(session, org, member, guarantors)
    limit = _limit(session, org, settings, member)
    pledged = sum(amount for _m, amount in pledges)
    if amount_minor > limit.available_minor + pledged:
        short = amount_minor - limit.available_minor - pledged
        raise Conflict(
            f"{name} can borrow up to {money(org, limit.available_minor)} "
            f"({settings.loan_limit_percent / 100:g} × free savings of "
            f"{money(org, limit.savings_minor - limit.pledged_for_others_minor)}, less "
            f"{money(org, limit.owed_or_asked_minor)} owed or asked for)"
            + (f" plus {money(org, pledged)} pledged by guarantors" if pledged else "")
            + f"; {money(org, amount_minor)} needs guarantors for {money(org, short)} more."
        )
    maker = requester_key(session, actor, org, by_member_id=by_member_id or member.id)
    loan = ChamaLoan(
        org_id=org.id, member_id=member.id, principal_minor=amount_minor, months=months,
        interest_kind=settings.interest_kind, interest_rate_bp=settings.interest_rate_bp,
        approvals_required=approvals_needed(session, org, required=settings.approvals_required,
                                            beneficiary_id=member.id, requester=maker, what=f"{name}'s loan"),
        purpose=purpose.strip(), requester_key=maker, requested_by=actor.label, requested_at=utcnow(),
    )
    session.add(loan)
    session.flush()
    for guarantor, amount in pledges:
        session.add(ChamaGuarantor(org_id=org.id, loan_id=loan.id, member_id=guarantor.id, amount_minor=amount,
                                   status="asked"))
        notify_member(session, org, guarantor,
                      f"{name} asks you to guarantee loan {loan.id} of {money(org, amount_minor)} with "
                      f"{money(org, amount)} of your savings. Reply YES {loan.id} or NO {loan.id}, or dial USSD "
                      "and choose 7.", f"{org.id}:chama_loan:{loan.id}:guarantor:{guarantor.id}:ask",
                      purpose="transactional")
    audit.record(session, actor, "chama.loan.request", "chama_loan", loan.id, org_id=org.id,
                 after={"member_id": member.id, "principal_minor": amount_minor, "months": months,
                        "interest": f"{loan.interest_kind} {loan.interest_rate_bp}bp",
                        "guarantors": [[g.id, a] for g, a in pledges]})
    notify_member(session, org, member,
                  f"your loan request of {money(org, amount_minor)} for {months} months is received; "
                  f"it needs {loan.approvals_required} approvals. Loan no. {loan.id}.",
                  f"{org.id}:chama_loan:{loan.id}:requested", purpose="transactional")
    session.commit()
    return _view(session, org, loan)


def _check_guarantors(session: Session, org: Org, member: ChamaMember,
                      guarantors: Sequence[tuple[int, int]]) -> list[tuple[ChamaMember, int]]:
    pledges: list[tuple[ChamaMember, int]] = []
    seen: set[int] = set()
    for guarantor_id, amount in guarantors:
        guarantor = member_row(session, org.id, guarantor_id, lock=True)
        gname = first_name(session, guarantor)
        if guarantor.id == member.id:
            raise InvalidInput("A member cannot guarantee their own loan.")
        if guarantor.id in seen:
            raise InvalidInput(f"{gname} is named as a guarantor twice.")
        seen.add(guarantor.id)
        if guarantor.status != "active":
            raise Conflict(f"{gname} is {guarantor.status} and cannot guarantee a loan.")
        check_amount(amount, f"{gname}'s pledge")
        free = sums(session, org.id, member_id=guarantor.id).savings - _pledged(session, org.id, guarantor.id)
        if amount > free:
            raise Conflict(f"{gname} can pledge up to {money(org, max(0, free))} (free savings); "
                           f"{money(org, amount)} is more.")
        pledges.append((guarantor, amount))
    return pledges


def _decide(session: Session, actor: Actor, org_id: int, loan_id: int, *, approve: bool,
            by_member_id: int | None, reason: str) -> LoanView:
    org = chama_org(session, actor, org_id, "chama.approve")
    loan = _loan(session, org, loan_id, lock=True)
    decide_and_notify(session, actor, org, loan, what=_what(session, loan),
                      beneficiary=member_row(session, org.id, loan.member_id), approve=approve,
                      by_member_id=by_member_id, reason=reason)
    session.commit()
    return _view(session, org, loan)


def approve_loan(session: Session, actor: Actor, org_id: int, loan_id: int, *,
                 by_member_id: int | None = None) -> LoanView:
    """One official's approval; the loan is approved when it has as many as it needs."""
    return _decide(session, actor, org_id, loan_id, approve=True, by_member_id=by_member_id, reason="")


def reject_loan(session: Session, actor: Actor, org_id: int, loan_id: int, *, reason: str,
                by_member_id: int | None = None) -> LoanView:
    return _decide(session, actor, org_id, loan_id, approve=False, by_member_id=by_member_id, reason=reason)


def disburse_loan(session: Session, actor: Actor, org_id: int, loan_id: int, *, source: str = "cash",
                  reference: str | None = None, occurred_at: datetime | None = None) -> LoanView:
    """Pay an approved loan out of the pool; the pool never goes below zero.

    Two disbursements at once queue on the chama's lock, so the second sees
    the pool the first left.
    """
    org = chama_org(session, actor, org_id, "chama.money")
    when = check_when(source, occurred_at)
    lock_chama(session, org.id)
    # The lock order of base.py: chama, then member, then loan (a repayment takes member, then loan).
    member = member_row(session, org.id, _loan(session, org, loan_id).member_id, lock=True)
    loan = _loan(session, org, loan_id, lock=True)
    what = _what(session, loan)
    if loan.status == "approved" and member.status != "active":
        raise Conflict(f"{first_name(session, member)} is {member.status}; the loan cannot be paid out.")
    if loan.status == "approved":
        _refuse_without_consent(session, org, loan, what)
    entry = pay_from_pool(session, actor, org, loan, what=what, kind="loan_disbursement",
                          change=effect("loan_disbursement", loan.principal_minor), source=source,
                          reference=reference, occurred_at=when, memo=loan.purpose)
    day = when.astimezone(org_zone(org)).date()
    loan.status, loan.disbursed_at, loan.first_due_on = "disbursed", when, add_months(day, 1)
    if loan.interest_kind == "flat":
        total = percent_of(loan.principal_minor * loan.months, loan.interest_rate_bp)
        if total:
            post(session, org, actor, kind="interest", amount=total, change=effect("interest", total),
                 member_id=member.id, loan_id=loan.id, memo=f"flat interest for {loan.months} months",
                 occurred_at=when)
    first = schedule_of(loan, day)[0]
    finish(session, actor, org, entry,
           receipt=f"your loan of {money(org, loan.principal_minor)} has been paid out. First instalment "
                   f"{money(org, first.total_minor)} is due on {first.due_on:%d %b %Y}.")
    return _view(session, org, loan)


def check_guarantors_agreed(session: Session, actor: Actor, org_id: int, loan_id: int) -> None:
    """Refuse, before any money leaves, a loan whose guarantors have not all agreed (M-Pesa pay-outs ask)."""
    org = chama_org(session, actor, org_id, "chama.read")
    loan = _loan(session, org, loan_id)
    _refuse_without_consent(session, org, loan, _what(session, loan))


def _refuse_without_consent(session: Session, org: Org, loan: ChamaLoan, what: str) -> None:
    waiting = [(first_name(session, member_row(session, org.id, g.member_id)), g.status)
               for g in session.scalars(select(ChamaGuarantor).where(ChamaGuarantor.loan_id == loan.id))
               if g.status != "accepted"]
    if waiting:
        said = ", ".join(f"{n} ({'declined' if st == 'declined' else 'not answered yet'})" for n, st in waiting)
        raise Conflict(f"{what} is paid out only when every guarantor has agreed: {said}.")


def answer_guarantee(session: Session, actor: Actor, org_id: int, loan_id: int, guarantor_id: int, *,
                     accept: bool) -> LoanView:
    """A guarantor's yes or no to backing a loan (USSD option 7, an SMS reply, or the CLI for her); the
    borrower is told. A yes is final once the loan is paid out; a no stops the pay-out."""
    org = chama_org(session, actor, org_id, "chama.request")
    loan = _loan(session, org, loan_id, lock=True)
    pledge = session.scalar(select(ChamaGuarantor).where(ChamaGuarantor.loan_id == loan.id,
                                                         ChamaGuarantor.member_id == guarantor_id)
                            .with_for_update())
    if pledge is None:
        raise NotFound(f"You are not asked to guarantee loan {loan_id}.")
    if loan.status not in PENDING:
        raise Conflict(f"Loan {loan.id} is {loan.status}; guarantees are given before it is paid out.")
    status = "accepted" if accept else "declined"
    before, pledge.status = pledge.status, status
    guarantor = member_row(session, org.id, guarantor_id)
    borrower = member_row(session, org.id, loan.member_id)
    audit.record(session, actor, "chama.loan.guarantee", "chama_loan", loan.id, org_id=org.id,
                 before={"guarantor": guarantor_id, "status": before}, after={"guarantor": guarantor_id,
                                                                             "status": status})
    if before != status:
        notify_member(session, org, borrower,
                      f"{first_name(session, guarantor)} has {status} to guarantee your loan {loan.id} "
                      f"({money(org, pledge.amount_minor)}).",
                      f"{org.id}:chama_loan:{loan.id}:guarantor:{guarantor_id}:{status}", purpose="transactional")
    session.commit()
    return _view(session, org, loan)


def guarantee_requests(session: Session, actor: Actor, org_id: int, member_id: int) -> list[LoanView]:
    """Loans waiting for this member's answer as a guarantor (USSD option 7)."""
    org = chama_org(session, actor, org_id, "chama.read")
    loans = session.scalars(select(ChamaLoan).join(ChamaGuarantor, ChamaGuarantor.loan_id == ChamaLoan.id).where(
        ChamaGuarantor.org_id == org.id, ChamaGuarantor.member_id == member_id, ChamaGuarantor.status == "asked",
        ChamaLoan.status.in_(PENDING)).order_by(ChamaLoan.id))
    return [_view(session, org, loan) for loan in loans]


@dataclass(frozen=True)
class Standing:
    """Where a paid-out loan stands against its schedule on a day."""

    paid_minor: int  # principal and interest repaid so far
    owed_minor: int  # principal and interest still owed
    missed: int  # instalments past their grace days and not fully paid
    due_by: dict[int, int]  # instalment number -> what is due by its date, less what was paid

    def due_for(self, number: int) -> int:
        return self.due_by.get(number, self.owed_minor)


def standing_of(session: Session, org: Org, loan: ChamaLoan, today: date | None = None) -> Standing:
    """Instalments due by each date, less repayments (interest first, as repayments pay it): what an
    instalment reminder quotes, and how many are missed (after ``loan_grace_days``)."""
    owed = sums(session, org.id, loan_id=loan.id)
    charged = int(session.scalar(select(func.coalesce(func.sum(ChamaLedgerEntry.interest_minor), 0)).where(
        ChamaLedgerEntry.loan_id == loan.id, ChamaLedgerEntry.kind == "interest")) or 0)
    paid = loan.principal_minor + charged - owed.loan
    if loan.status not in LENT or loan.first_due_on is None:
        return Standing(paid, owed.loan, 0, {})
    today = today or local_today(org)
    grace = settings_row(session, org.id).loan_grace_days
    plan = schedule_of(loan, today)
    due_by, missed, scheduled = {}, 0, 0
    for inst in plan:
        scheduled += inst.principal_minor + (inst.interest_minor if loan.interest_kind == "flat" else 0)
        # Reducing-balance interest is what was actually charged by then (charged on the instalment dates).
        through = scheduled + (0 if loan.interest_kind == "flat" else _charged_by(session, loan, inst.due_on, org))
        short = max(0, min(owed.loan, through - paid))
        due_by[inst.number] = short
        if short > 0 and inst.due_on + timedelta(days=grace) < today:
            missed += 1
    return Standing(paid, owed.loan, missed, due_by)


def _charged_by(session: Session, loan: ChamaLoan, day: date, org: Org) -> int:
    until = local_moment(org, day + timedelta(days=1))
    return int(session.scalar(select(func.coalesce(func.sum(ChamaLedgerEntry.interest_minor), 0)).where(
        ChamaLedgerEntry.loan_id == loan.id, ChamaLedgerEntry.kind == "interest",
        ChamaLedgerEntry.occurred_at < until)) or 0)


def recover_default(session: Session, actor: Actor, org_id: int, loan_id: int) -> LoanView:
    """Charge a defaulted loan's remainder to its guarantors, pro rata to their pledges (each at most her
    pledge and her savings): for each, a guarantor charge on her savings and a repayment of the loan from
    it, so the ledger shows where the money came from. Each guarantor and the borrower are told."""
    org = chama_org(session, actor, org_id, "chama.money")
    lock_chama(session, org.id)
    loan = _loan(session, org, loan_id, lock=True)
    what = _what(session, loan)
    if loan.status != "defaulted":
        raise Conflict(f"{what} is {loan.status}; only a loan in default is recovered from its guarantors.")
    owed = sums(session, org.id, loan_id=loan.id)
    if owed.loan <= 0:
        raise Conflict(f"{what} has nothing left owed.")
    pledges = list(session.scalars(select(ChamaGuarantor).where(ChamaGuarantor.loan_id == loan.id,
                                                                ChamaGuarantor.status == "accepted")
                                   .order_by(ChamaGuarantor.id)))
    if not pledges:
        raise Conflict(f"{what} has no guarantors to recover it from.")
    total = min(owed.loan, sum(p.amount_minor for p in pledges))
    shares = largest_remainder(total, [p.amount_minor for p in pledges])
    borrower = member_row(session, org.id, loan.member_id, lock=True)
    first = None
    for pledge, share in zip(pledges, shares):
        guarantor = member_row(session, org.id, pledge.member_id, lock=True)
        share = min(share, pledge.amount_minor, sums(session, org.id, member_id=guarantor.id).savings)
        if share <= 0:
            continue
        charge, _ = post(session, org, actor, kind="guarantor_charge", amount=share,
                         change=effect("guarantor_charge", share), member_id=guarantor.id, loan_id=loan.id,
                         key=f"recovery:{loan.id}:{guarantor.id}:{owed.loan}", memo=f"default of {what}")
        left = sums(session, org.id, loan_id=loan.id)
        repaid, _ = post(session, org, actor, kind="loan_repayment", amount=share,
                         change=split_repayment(share, 0, left), member_id=borrower.id, loan_id=loan.id,
                         key=f"recovery:{loan.id}:{guarantor.id}:{owed.loan}:loan",
                         memo=f"recovered from guarantor {first_name(session, guarantor)} (entry {charge.id})")
        announce(session, actor, org, charge, always=True,
                 receipt=f"{money(org, share)} of your savings has paid {what} {loan.id}, which you guaranteed "
                         "and which is in default.")
        announce(session, actor, org, repaid, receipt=None)
        first = first or charge
    if first is None:
        raise Conflict(f"{what}'s guarantors have no savings left to recover it from.")
    left = sums(session, org.id, loan_id=loan.id).loan
    notify_member(session, org, borrower,
                  f"your guarantors have paid {money(org, owed.loan - left)} of your loan {loan.id} in default. "
                  f"Loan balance {money(org, left)}; you owe them.",
                  f"{org.id}:chama_loan:{loan.id}:recovered:{owed.loan}", purpose="transactional")
    session.commit()
    return _view(session, org, loan)


def mark_overdue(session: Session, org: Org, actor: Actor, loan: ChamaLoan, number: int,
                 disbursement_id: int, today: date) -> None:
    """After instalment ``number``'s grace days (due work, no commit): the penalty on what is still due,
    the borrower and the guarantors told, and the loan in default after ``default_after_missed``."""
    settings = settings_row(session, org.id)
    standing = standing_of(session, org, loan, today)
    short = standing.due_for(number)
    if short <= 0 or standing.owed_minor <= 0:
        return
    borrower = member_row(session, org.id, loan.member_id)
    what = _what(session, loan)
    penalty = percent_of(short, settings.loan_penalty_bp)
    if penalty > 0:
        entry, created = post(session, org, actor, kind="fine", amount=penalty, change=effect("fine", penalty),
                              member_id=borrower.id, loan_id=loan.id,
                              key=f"loan-penalty:{loan.id}:{disbursement_id}:{number}",
                              memo=f"late repayment of loan {loan.id}, instalment {number}")
        if created:
            announce(session, actor, org, entry, receipt=None)
    notify_member(session, org, borrower,
                  f"loan {loan.id} instalment {number} is overdue: {money(org, short)} is due now"
                  + (f", and a penalty of {money(org, penalty)} is charged" if penalty else "") + ".",
                  f"{org.id}:loan:{loan.id}:{disbursement_id}:overdue:{number}", purpose="service")
    defaulted = loan.status == "disbursed" and standing.missed >= settings.default_after_missed
    if defaulted:
        loan.status, loan.defaulted_at = "defaulted", utcnow()
        audit.record(session, actor, "chama.loan.default", "chama_loan", loan.id, org_id=org.id,
                     after={"missed": standing.missed, "owed_minor": standing.owed_minor})
        notify_member(session, org, borrower,
                      f"loan {loan.id} is in default after {standing.missed} missed instalments; "
                      f"{money(org, standing.owed_minor)} is owed. Your guarantors may be charged.",
                      f"{org.id}:loan:{loan.id}:{disbursement_id}:default", purpose="service")
    for pledge in session.scalars(select(ChamaGuarantor).where(ChamaGuarantor.loan_id == loan.id,
                                                               ChamaGuarantor.status == "accepted")):
        guarantor = member_row(session, org.id, pledge.member_id)
        text = (f"{what} {loan.id}, which you guarantee with {money(org, pledge.amount_minor)}, "
                + ("is in default" if defaulted else f"is overdue: {money(org, short)} unpaid") + ".")
        notify_member(session, org, guarantor, text,
                      f"{org.id}:loan:{loan.id}:{disbursement_id}:guarantor:{pledge.member_id}:"
                      + ("default" if defaulted else f"overdue:{number}"), purpose="service")


def schedule_of(loan: ChamaLoan, today: date) -> list[Installment]:
    """The repayment plan from the loan's terms (projected when interest reduces with the balance);
    a loan not yet paid out is shown as if paid out ``today``."""
    principal_parts = largest_remainder(loan.principal_minor, [1] * loan.months)
    if loan.interest_kind == "flat":
        total = percent_of(loan.principal_minor * loan.months, loan.interest_rate_bp)
        interest_parts = largest_remainder(total, [1] * loan.months)
    else:
        interest_parts, balance = [], loan.principal_minor
        for part in principal_parts:
            interest_parts.append(percent_of(balance, loan.interest_rate_bp))
            balance -= part
    first = loan.first_due_on or add_months(today, 1)
    plan, balance = [], loan.principal_minor
    for n, (principal, interest) in enumerate(zip(principal_parts, interest_parts), start=1):
        balance -= principal
        plan.append(Installment(n, add_months(first, n - 1), principal, interest, principal + interest, balance))
    return plan


def loan_schedule(session: Session, actor: Actor, org_id: int, loan_id: int) -> list[Installment]:
    org = chama_org(session, actor, org_id, "chama.read")
    return schedule_of(_loan(session, org, loan_id), local_today(org))


def _loan(session: Session, org: Org, loan_id: int, *, lock: bool = False) -> ChamaLoan:
    missing = f"There is no loan {loan_id} in {org.name}."
    if lock:
        return locked(session, ChamaLoan, org.id, loan_id, missing)
    loan = session.get(ChamaLoan, loan_id)
    if loan is None or loan.org_id != org.id:
        raise NotFound(missing)
    return loan


def get_loan(session: Session, actor: Actor, org_id: int, loan_id: int) -> LoanView:
    org = chama_org(session, actor, org_id, "chama.read")
    return _view(session, org, _loan(session, org, loan_id))


def list_loans(session: Session, actor: Actor, org_id: int, *, status: str | None = None,
               member_id: int | None = None, after_id: int | None = None, limit: int = 100) -> list[LoanView]:
    """Loans oldest first (keyset on id); ``status="requested"`` is the approvals queue."""
    org = chama_org(session, actor, org_id, "chama.read")
    query = select(ChamaLoan).where(ChamaLoan.org_id == org.id)
    if status:
        query = query.where(ChamaLoan.status == status)
    if member_id is not None:
        query = query.where(ChamaLoan.member_id == member_id)
    if after_id is not None:
        query = query.where(ChamaLoan.id > after_id)
    return [_view(session, org, loan) for loan in session.scalars(query.order_by(ChamaLoan.id).limit(limit))]


def _repayable_loan(session: Session, org: Org, member: ChamaMember, loan_id: int | None) -> ChamaLoan | None:
    """The loan a repayment goes to: the one named, else the member's oldest with money owed."""
    if loan_id is not None:
        loan = _loan(session, org, loan_id, lock=True)
        if loan.member_id != member.id:
            raise Conflict(f"Loan {loan.id} is not {first_name(session, member)}'s.")
        return loan
    for candidate in session.scalars(select(ChamaLoan.id).where(
            ChamaLoan.org_id == org.id, ChamaLoan.member_id == member.id, ChamaLoan.status.in_(LENT))
            .order_by(ChamaLoan.id)):
        if sums(session, org.id, loan_id=candidate).loan > 0:
            return _loan(session, org, candidate, lock=True)
    return None


def record_repayment(
    session: Session,
    actor: Actor,
    org_id: int,
    member_id: int,
    amount_minor: int,
    *,
    loan_id: int | None = None,
    source: str = "cash",
    reference: str | None = None,
    idempotency_key: str | None = None,
    occurred_at: datetime | None = None,
) -> EntryView:
    """A loan repayment: fines first, then interest, then principal; keyed like contributions."""
    org = chama_org(session, actor, org_id, "chama.money")
    when = check_money_in(amount_minor, source, occurred_at)
    hold_cycle(session, org.id)
    member = member_row(session, org.id, member_id, lock=True)
    name = first_name(session, member)
    loan = _repayable_loan(session, org, member, loan_id)

    key = payment_key(source, reference, idempotency_key)

    def owed_now() -> tuple[int, Balances]:
        assert loan is not None
        return sums(session, org.id, member_id=member.id).fines, sums(session, org.id, loan_id=loan.id)

    def rules() -> Balances:
        if loan is None:
            raise Conflict(f"{name} has no loan to repay; record the money as a contribution or a fine payment.")
        fines, owed = owed_now()
        if loan.status not in LENT or owed.loan <= 0:
            raise Conflict(f"Loan {loan.id} has nothing owed on it.")
        return split_repayment(min(amount_minor, fines + owed.loan), fines, owed)

    def receipt() -> str:
        assert loan is not None
        left = sums(session, org.id, loan_id=loan.id).loan
        return (f"received {money(org, amount_minor)} for loan {loan.id}. "
                + ("The loan is fully repaid, thank you." if left == 0 else f"Loan balance {money(org, left)}."))

    earlier = recorded(session, org.id, key=key, kind="loan_repayment", source=source, reference=reference)
    if earlier is not None and earlier.amount_minor < amount_minor:
        split = _split_replay(session, org, earlier, member.id, amount_minor)
        if split is not None:
            return split
    if loan is not None and loan.status in LENT and earlier is None:
        fines, owed = owed_now()
        total = fines + owed.loan
        if 0 < total < amount_minor:
            return _overpaid(session, actor, org, member, loan, amount_minor, total, key=key, source=source,
                             reference=reference, occurred_at=when, change=split_repayment(total, fines, owed))
    return record_once(session, actor, org, member, kind="loan_repayment", amount=amount_minor,
                       key=key, rules=rules, receipt=receipt,
                       loan_id=loan.id if loan else None, source=source, reference=reference, occurred_at=when)


def _split_replay(session: Session, org: Org, earlier: ChamaLedgerEntry, member_id: int,
                  amount: int) -> EntryView | None:
    """The first delivery of an overpaid receipt, when this is it again (its two parts add up to it)."""
    if earlier.kind != "loan_repayment" or earlier.member_id != member_id:
        return None
    rest = session.scalar(select(ChamaLedgerEntry).where(
        ChamaLedgerEntry.org_id == org.id, ChamaLedgerEntry.member_id == member_id, ChamaLedgerEntry.part == 1,
        ChamaLedgerEntry.kind == "contribution", ChamaLedgerEntry.source == earlier.source,
        ChamaLedgerEntry.reference == earlier.reference if earlier.reference else
        ChamaLedgerEntry.idempotency_key == f"{earlier.idempotency_key}:rest"))
    if rest is None or earlier.amount_minor + rest.amount_minor != amount:
        return None
    return views(session, [earlier], replayed=True)[0]


def split_repayment(amount: int, fines: int, owed: Balances) -> Balances:
    """A repayment's effect: the member's fines first, then the loan's interest, then its principal."""
    to_fines = min(amount, fines)
    to_interest = min(amount - to_fines, owed.interest)
    return effect("loan_repayment", amount, fines=to_fines, interest=to_interest,
                  principal=amount - to_fines - to_interest)


def _overpaid(session: Session, actor: Actor, org: Org, member: ChamaMember, loan: ChamaLoan, amount: int,
              owed: int, *, key: str | None, source: str, reference: str | None, occurred_at: datetime,
              change: Balances) -> EntryView:
    """A payment larger than everything owed: what is owed repays the loan (part 0 of the receipt), the rest
    becomes savings (part 1), and with the chama's ``overpayment = "refund"`` a refund of it is asked for
    through the approvals. The member is told how the money was split."""
    from core.chama.payouts import create_payout  # payouts import the approvals, as loans do; no cycle at load

    rest = amount - owed
    entry, _ = post(session, org, actor, kind="loan_repayment", amount=owed, change=change, member_id=member.id,
                    loan_id=loan.id, key=key, source=source, reference=reference, occurred_at=occurred_at)
    extra, _ = post(session, org, actor, kind="contribution", amount=rest, change=effect("contribution", rest),
                    member_id=member.id, key=f"{key}:rest" if key else None, source=source, reference=reference,
                    occurred_at=occurred_at, part=1, memo=f"paid beyond loan {loan.id}")
    refund = settings_row(session, org.id).overpayment == "refund"
    if refund:
        create_payout(session, actor, org, rest, member_id=member.id, payee=None, kind="refund",
                      purpose=f"refund of {money(org, rest)} paid beyond loan {loan.id}", by_member_id=member.id)
    announce(session, actor, org, extra, receipt=None, audit_extra={"split_of": entry.id})
    left = sums(session, org.id, loan_id=loan.id).loan
    rest_text = (f"{money(org, rest)} more than you owed will be refunded to you once officials approve it."
                 if refund else f"{money(org, rest)} more than you owed is added to your savings.")
    view = finish(session, actor, org, entry, always=True, audit_extra={"overpaid_minor": rest},
                  receipt=f"received {money(org, amount)}: {money(org, owed)} for loan {loan.id}"
                          + (" (fully repaid, thank you)" if left == 0 else f" (balance {money(org, left)})")
                          + f"; {rest_text}")
    return view


def disbursement_of(session: Session, loan: ChamaLoan) -> ChamaLedgerEntry | None:
    """The loan's standing (unreversed) disbursement entry."""
    entries = unreversed(session, loan.org_id, ChamaLedgerEntry.loan_id == loan.id,
                         ChamaLedgerEntry.kind == "loan_disbursement")
    return entries[-1] if entries else None


def charge_instalment_interest(session: Session, org: Org, actor: Actor, loan: ChamaLoan, number: int,
                               disbursement_id: int) -> ChamaLedgerEntry | None:
    """Reducing-balance interest for instalment ``number``, once per disbursement (for due work, no commit)."""
    principal = sums(session, org.id, loan_id=loan.id).principal
    amount = percent_of(principal, loan.interest_rate_bp) if principal > 0 else 0
    if amount <= 0:
        return None
    entry, created = post(session, org, actor, kind="interest", amount=amount, change=effect("interest", amount),
                          member_id=loan.member_id, loan_id=loan.id, memo=f"interest for instalment {number}",
                          key=f"loan:{loan.id}:{disbursement_id}:interest:{number}")
    return entry if created else None


def opening_loan_key(member_id: int, as_at: date, loan_no: str) -> str:
    return f"opening-loan:{member_id}:{as_at.isoformat()}:{loan_no.strip().upper()}"[:200]


def record_opening_loan(session: Session, actor: Actor, org_id: int, member_id: int, outstanding_minor: int, *,
                        as_at: date, months_left: int, first_due_on: date, interest_kind: str = "flat",
                        interest_rate_bp: int = 0, loan_no: str = "") -> tuple[LoanView, bool]:
    """A loan brought over from before Ofisi, owing ``outstanding_minor`` as at ``as_at``: a loan paid out on
    that day (from the pool the opening savings brought in) with ``months_left`` instalments, the first on
    ``first_due_on``, so its schedule, arrears, reminders and repayments follow like any other.

    What is outstanding is principal from here on: a flat loan's outstanding already holds its interest, so it
    is brought over at 0%; a reducing loan keeps its rate and is charged on what it still owes. Once per member,
    date and the books' ``loan_no``: (the loan, False) when it is already there.
    """
    org = chama_org(session, actor, org_id, "chama.money")
    if interest_kind not in ("flat", "reducing"):
        raise InvalidInput(f"Interest is 'flat' or 'reducing', not {interest_kind!r}.")
    if not 1 <= months_left <= MAX_MONTHS:
        raise InvalidInput(f"An open loan has 1 to {MAX_MONTHS} instalments left, not {months_left}.")
    check_amount(outstanding_minor, "A loan outstanding")
    lock_chama(session, org.id)
    member = member_row(session, org.id, member_id, lock=True)
    key = opening_loan_key(member.id, as_at, loan_no)
    earlier = recorded(session, org.id, key=key, kind="loan_disbursement")
    if earlier is not None:
        return _view(session, org, _loan(session, org, earlier.loan_id)), False
    when = local_moment(org, as_at)
    rate = interest_rate_bp if interest_kind == "reducing" else 0
    loan = ChamaLoan(org_id=org.id, member_id=member.id, principal_minor=outstanding_minor, months=months_left,
                     interest_kind=interest_kind, interest_rate_bp=rate, approvals_required=0,
                     purpose=f"opening loan balance as at {as_at}", status="disbursed",
                     requested_by=actor.label, requested_at=when, decided_at=when, disbursed_at=when,
                     first_due_on=first_due_on)
    session.add(loan)
    session.flush()
    entry, _ = post(session, org, actor, kind="loan_disbursement", amount=outstanding_minor,
                    change=effect("loan_disbursement", outstanding_minor), member_id=member.id, loan_id=loan.id,
                    key=key, memo=loan.purpose, occurred_at=when)
    finish(session, actor, org, entry, receipt=None,
           audit_extra={"opening_loan": True, "months_left": months_left, "interest_kind": interest_kind,
                        "interest_rate_bp": interest_rate_bp})
    return _view(session, org, loan), True
