"""M-Pesa money in by the chama's paybill and out by B2C, through the services treasurers use.

Paybill (C2B): the account a member types names them by member number or
phone (case and spaces ignored), optionally with a purpose: ``M012`` or
``0712 345 678`` is a contribution, ``M012-LOAN`` a loan repayment (fines
first, then interest, then principal, as ``record_repayment`` splits it),
``M012-FINE`` a fine payment (each of these two only while something is
owed). Each is recorded by the same function the
console and USSD call, with the M-Pesa receipt as its reference, so the
member gets the usual SMS receipt and one receipt is one entry.

B2C: an approved loan or payout is paid out by ``disburse_loan`` /
``pay_payout`` only when Daraja reports that the money left.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.actors import Actor
from core.chama.approvals import LOAN_BY_MPESA, PAYOUT_BY_MPESA, refuse_short_pool
from core.chama.base import chama_org, money
from core.chama.fines import record_fine_payment
from core.chama.ledger import member_balances, record_contribution
from core.chama.loans import check_guarantors_agreed, disburse_loan, get_loan, list_loans, record_repayment
from core.chama.members import find_member, get_member
from core.chama.payouts import get_payout, pay_payout
from core.errors import Conflict, InvalidInput, NotFound
from core.payments.b2c import DisbursementView, Payee, disburses
from core.payments.c2b import Account, paybill_area
from db.models import Org
from db.models_chama import ChamaMember

MPESA = Actor.system_actor("mpesa")
PURPOSES = {"": "contribution", "LOAN": "loan", "FINE": "fine"}
LOAN, PAYOUT = LOAN_BY_MPESA, PAYOUT_BY_MPESA


@paybill_area("chama")
class ChamaPaybill:
    def account(self, session: Session, org: Org, text: str) -> Account | None:
        cleaned = "".join((text or "").split()).upper()
        who, _, suffix = cleaned.rpartition("-") if cleaned.rpartition("-")[2] in PURPOSES else ("", "", "")
        if not who:
            who, suffix = cleaned, ""
        member = _member(session, org, who)
        if member is None or member.status == "exited":
            return None
        purpose = PURPOSES[suffix]
        if not _owes(session, org, member.id, purpose):
            return None  # money for a loan or fines the member does not owe would only wait for review
        return Account(member.id, purpose, f"{member.name} (no. {member.member_number}), {purpose}")

    def credit(self, session: Session, org_id: int, account: Account, amount_minor: int, *, receipt: str,
               paid_at: datetime) -> str:
        record = {"contribution": record_contribution, "loan": record_repayment,
                  "fine": record_fine_payment}[account.purpose]
        entry = record(session, MPESA, org_id, account.member_id, amount_minor, source="mpesa", reference=receipt,
                       occurred_at=paid_at)
        return f"entry {entry.id}"


def _member(session: Session, org: Org, who: str):
    if not who:
        return None
    number = session.scalar(select(ChamaMember.id).where(ChamaMember.org_id == org.id,
                                                         func.upper(ChamaMember.member_number) == who))
    try:
        if number is not None:
            return get_member(session, MPESA, org.id, number)
        return find_member(session, MPESA, org.id, who)
    except (NotFound, InvalidInput):
        return None


def _owes(session: Session, org: Org, member_id: int, purpose: str) -> bool:
    if purpose == "loan":
        return any(loan.principal_outstanding_minor + loan.interest_owed_minor > 0
                   for loan in list_loans(session, MPESA, org.id, member_id=member_id))
    if purpose == "fine":
        return member_balances(session, MPESA, org.id, member_id).fines_owed_minor > 0
    return True


class _FromPool:
    """What a loan and a payout share: the member's phone, and a pool that must hold the money."""

    def check_pool(self, session: Session, org: Org, amount: int, what: str) -> None:
        refuse_short_pool(session, org, amount, what)


@disburses(LOAN)
class LoanByMpesa(_FromPool):
    def payee(self, session: Session, actor: Actor, org_id: int, loan_id: int, phone: str | None) -> Payee:
        org = chama_org(session, actor, org_id, "chama.money")
        loan = get_loan(session, actor, org.id, loan_id)
        if loan.status != "approved":
            raise Conflict(f"{loan.what} is {loan.status}; only an approved loan is paid out.")
        member = get_member(session, actor, org.id, loan.member_id)
        if member.status != "active":
            raise Conflict(f"{member.name} is {member.status}; the loan cannot be paid out.")
        check_guarantors_agreed(session, actor, org.id, loan.id)
        self.check_pool(session, org, loan.principal_minor, loan.what)
        return Payee(member.id, phone or member.phone, loan.principal_minor, f"Loan {loan.id} {member.member_number}")

    def paid(self, session: Session, view: DisbursementView) -> None:
        disburse_loan(session, MPESA, view.org_id, view.subject_id, source="mpesa", reference=view.receipt_number,
                      occurred_at=view.completed_at)


@disburses(PAYOUT)
class PayoutByMpesa(_FromPool):
    def payee(self, session: Session, actor: Actor, org_id: int, payout_id: int, phone: str | None) -> Payee:
        org = chama_org(session, actor, org_id, "chama.money")
        payout = get_payout(session, actor, org.id, payout_id)
        if payout.status != "approved":
            raise Conflict(f"Payout {payout.id} is {payout.status}; only an approved payout is paid.")
        number = phone or (get_member(session, actor, org.id, payout.member_id).phone if payout.member_id else None)
        if not number:
            raise InvalidInput(f"Payout {payout.id} goes to {payout.payee}, who is not a member: give --phone.")
        self.check_pool(session, org, payout.amount_minor, f"payout {payout.id}")
        return Payee(payout.member_id, number, payout.amount_minor, f"Payout {payout.id} {payout.purpose}")

    def paid(self, session: Session, view: DisbursementView) -> None:
        pay_payout(session, MPESA, view.org_id, view.subject_id, source="mpesa", reference=view.receipt_number,
                   occurred_at=view.completed_at)
