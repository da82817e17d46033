"""SMS to a salon (``POST /sms/inbound``, routed by :mod:`core.inbound`).

Whatever no keyword took lands in the sender's conversation: a client's or a
lead's thread, and a stranger who wrote to the salon's own number becomes a
lead (:func:`core.salon.conversations.record_inbound`). Nothing is answered
automatically; staff reply from the console. A lead writing to the shared
number is routed to the salons where they are a lead.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.inbound import InboundSms, fallback, sender_orgs
from core.salon.conversations import record_inbound
from db.models_salon import SalonLead


@fallback("salon")
def into_the_thread(session: Session, sms: InboundSms) -> None:
    record_inbound(session, sms.org_id, sms.phone, sms.text, now=sms.received_at, inbound_id=sms.id)
    session.commit()
    return None


@sender_orgs
def salons_with_this_lead(session: Session, phone: str) -> list[int]:
    return list(session.scalars(select(SalonLead.org_id).where(SalonLead.phone == phone)))
