"""What a chama member can text: ``BAL`` for their balance; anything else gets the list of words.

``STOP`` and ``START`` are the core's (:mod:`core.inbound`): they turn the
chama's reminders off and on, which the outbox honours (receipts still go).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.actors import Actor
from core.chama.ledger import member_balances
from core.inbound import InboundSms, fallback, keyword
from core.money import format_money
from db.models_chama import ChamaMember

SMS = Actor.system_actor("sms")
HELP = "Reply BAL for your balance, STOP to stop reminders, START to get them again."


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


@fallback("chama")
def help_text(session: Session, sms: InboundSms) -> str | None:
    return f"{sms.org_name}: {HELP}" if _member_id(session, sms) is not None else None
