"""What the payments area holds about a person, for :mod:`core.people`: the M-Pesa requests sent to their
phone and the results Daraja sent back for them.

Erasing keeps each request's amount, status, dates and receipt number (the
org's books), and drops the phone and the raw callbacks (which name the
payer); a request not yet sent is cancelled.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.people import ERASED, Erasure, Person, Piece, Section, blank, ids, register, rows
from db.models_payments import PaymentCallback, PaymentRequest


def _requests(session: Session, person: Person) -> list[int]:
    if not person.phone:
        return []
    return ids(session, PaymentRequest.id, PaymentRequest.org_id == person.org.id,
               PaymentRequest.phone == person.phone)


def export(session: Session, person: Person) -> Section:
    requests = _requests(session, person)
    section = Section({
        "mpesa_requests": rows(session, PaymentRequest, PaymentRequest.id.in_(requests)),
        "mpesa_results": rows(session, PaymentCallback, PaymentCallback.payment_request_id.in_(requests)),
    })
    section.about = [("payment_request", i) for i in requests]
    return section


def erase(session: Session, person: Person, erasure: Erasure) -> None:
    requests = _requests(session, person)
    blank(session, erasure, "M-Pesa requests", PaymentRequest, {"status": "cancelled"},
          PaymentRequest.id.in_(requests), PaymentRequest.status == "pending")
    blank(session, erasure, "M-Pesa requests", PaymentRequest, {"phone": ERASED.lower(), "payload": {}},
          PaymentRequest.id.in_(requests))
    blank(session, erasure, "M-Pesa results", PaymentCallback, {"raw": {}},
          PaymentCallback.payment_request_id.in_(requests))


TABLES = ("payment_requests", "payment_callbacks")

register(Piece("core.payments", export, erase, covers=TABLES))
