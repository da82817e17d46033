"""What a chama member can text: ``BAL`` for their balance, ``YES 12`` / ``NO 12`` to answer a request to
guarantee loan 12; anything else gets the list of words.

``STOP`` and ``START`` are the core's (:mod:`core.inbound`): they turn the
chama's reminders off and on, which the outbox honours (receipts still go).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.actors import Actor
from config.errors import OfisiError
from core.chama.ledger import member_balances
from core.chama.loans import answer_guarantee, guarantee_requests
from core.inbound import InboundSms, fallback, keyword
from core.money import format_money
from db.models_chama import ChamaMember

SMS = Actor.system_actor("sms")
HELP = ("Reply BAL for your balance, YES or NO and the loan number to answer a guarantee request, "
        "STOP to stop reminders, START to get them again.")


def _member_id(session: Session, sms: InboundSms) -> int | None:
    if sms.contact_id is None:
        return None
    return session.scalar(select(ChamaMember.id).where(
        ChamaMember.org_id == sms.org_id, ChamaMember.contact_id == sms.contact_id,
        ChamaMember.status != "exited"))


@keyword("BAL", "BALANCE", kinds=("chama",))
def balance(session: Session, sms: InboundSms) -> str | None:
    member_id = _member_id(session, sms)
    if member_id is None:
        return None  # a contact who is not (or no longer) a member gets no figures
    b = member_balances(session, SMS, sms.org_id, member_id)
    money = lambda minor: format_money(minor, b.currency)  # noqa: E731
    return (f"{sms.org_name}: savings {money(b.savings_minor)}, loan {money(b.loan_outstanding_minor)}, "
            f"fines {money(b.fines_owed_minor)}.")


@keyword("YES", "NO", kinds=("chama",))
def guarantee(session: Session, sms: InboundSms) -> str | None:
    member_id = _member_id(session, sms)
    if member_id is None:
        return None
    asks = guarantee_requests(session, SMS, sms.org_id, member_id)
    number = sms.rest.strip().split()[0] if sms.rest.strip() else ""
    if not number.isdigit():
        if len(asks) != 1:
            waiting = ", ".join(str(loan.id) for loan in asks) or "none"
            return f"{sms.org_name}: reply {sms.keyword} and the loan number (waiting for you: {waiting})."
        number = str(asks[0].id)
    try:
        loan = answer_guarantee(session, SMS, sms.org_id, int(number), member_id, accept=sms.keyword == "YES")
    except OfisiError as exc:
        return f"{sms.org_name}: {exc}"
    said = "you guarantee" if sms.keyword == "YES" else "you declined to guarantee"
    return f"{sms.org_name}: thank you, {said} {loan.member_name.split()[0]}'s loan {loan.id}."


@fallback("chama")
def help_text(session: Session, sms: InboundSms) -> str | None:
    return f"{sms.org_name}: {HELP}" if _member_id(session, sms) is not None else None
