"""What the payments area holds about a person, for :mod:`core.people`: the M-Pesa requests sent to their
phone and the results Daraja sent back for them, the paybill payments whose payer or account is their
number, and the B2C disbursements sent to it.

Erasing keeps each request's amount, status, dates and receipt number (the
org's books), and drops the phone and the raw callbacks (which name the
payer); a request not yet sent is cancelled. A paybill payment keeps its
receipt, amount and what it credited, and loses the payer, the account typed
and the raw callback; a disbursement keeps its amount and receipt and loses
the phone. ``mpesa_paybills`` holds an org's short code, nobody's data.
"""

from __future__ import annotations

from sqlalchemy import or_
from sqlalchemy.orm import Session

from core.people import ERASED, Erasure, Person, Piece, Section, blank, ids, register, rows
from core.phones import to_daraja
from db.models_payments import Disbursement, PaybillPayment, PaymentCallback, PaymentRequest


def _requests(session: Session, person: Person) -> list[int]:
    if not person.phone:
        return []
    return ids(session, PaymentRequest.id, PaymentRequest.org_id == person.org.id,
               PaymentRequest.phone == person.phone)


def _paybill(session: Session, person: Person) -> list[int]:
    if not person.phone:
        return []
    forms = {person.phone, to_daraja(person.phone), "0" + to_daraja(person.phone)[3:]}
    return ids(session, PaybillPayment.id, PaybillPayment.org_id == person.org.id,
               or_(PaybillPayment.account.in_(forms), PaybillPayment.payer.contains(to_daraja(person.phone))))


def _disbursements(session: Session, person: Person) -> list[int]:
    if not person.phone:
        return []
    return ids(session, Disbursement.id, Disbursement.org_id == person.org.id, Disbursement.phone == person.phone)


def export(session: Session, person: Person) -> Section:
    requests = _requests(session, person)
    section = Section({
        "mpesa_requests": rows(session, PaymentRequest, PaymentRequest.id.in_(requests)),
        "mpesa_results": rows(session, PaymentCallback, PaymentCallback.payment_request_id.in_(requests)),
        "mpesa_paybill_payments": rows(session, PaybillPayment, PaybillPayment.id.in_(_paybill(session, person))),
        "mpesa_disbursements": rows(session, Disbursement,
                                    Disbursement.id.in_(_disbursements(session, person))),
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
    paybill = _paybill(session, person)
    receipts = ids(session, PaybillPayment.trans_id, PaybillPayment.id.in_(paybill))
    blank(session, erasure, "M-Pesa paybill payments", PaybillPayment,
          {"payer": None, "account": ERASED.lower(), "raw": {}}, PaybillPayment.id.in_(paybill))
    blank(session, erasure, "M-Pesa results", PaymentCallback, {"raw": {}, "result_desc": None},
          PaymentCallback.source == "c2b", PaymentCallback.receipt_number.in_(receipts))
    blank(session, erasure, "M-Pesa disbursements", Disbursement, {"phone": ERASED.lower()},
          Disbursement.id.in_(_disbursements(session, person)))


TABLES = ("payment_requests", "payment_callbacks", "mpesa_paybills", "mpesa_c2b_payments", "mpesa_disbursements")

register(Piece("core.payments", export, erase, covers=TABLES))
