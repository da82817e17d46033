"""What a chama holds about a person, for :mod:`core.people`: their membership, every ledger entry of
theirs, loans, guarantees, payouts, approvals they gave, invoices, attendance and merry-go-round turns.

Erasing keeps the money history whole, so every balance and the pool add up
as before: ledger rows (append-only) keep their amounts and dates, and the
member stays as "Erased member N" (their contact loses its name, phone and
email; their loans, payouts and approvals lose their free text), exited. A
member who still owes loans or fines is refused, as at exit: settle first.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.chama.base import local_today, money
from core.chama.ledger import sums
from core.errors import Conflict
from core.people import Erasure, Person, Piece, Section, blank, keep_contact, register, rows
from db.models import Contact, Org
from db.models_chama import (
    ChamaApproval,
    ChamaAttendance,
    ChamaGuarantor,
    ChamaInvoice,
    ChamaLedgerEntry,
    ChamaLoan,
    ChamaMember,
    ChamaPayout,
    ChamaRotationSlot,
)


def _members(session: Session, person: Person) -> list[ChamaMember]:
    return list(session.scalars(select(ChamaMember).where(ChamaMember.org_id == person.org.id,
                                                          ChamaMember.contact_id.in_(person.contact_ids))))


def export(session: Session, person: Person) -> Section:
    members = [m.id for m in _members(session, person)]
    loans = ChamaLoan.member_id.in_(members)
    section = Section({
        "members": rows(session, ChamaMember, ChamaMember.id.in_(members)),
        "ledger": rows(session, ChamaLedgerEntry, ChamaLedgerEntry.member_id.in_(members)),
        "loans": rows(session, ChamaLoan, loans),
        "guarantees": rows(session, ChamaGuarantor, ChamaGuarantor.member_id.in_(members)),
        "payouts": rows(session, ChamaPayout, ChamaPayout.member_id.in_(members)),
        "approvals_given": rows(session, ChamaApproval, ChamaApproval.approver_member_id.in_(members)),
        "invoices": rows(session, ChamaInvoice, ChamaInvoice.member_id.in_(members)),
        "attendance": rows(session, ChamaAttendance, ChamaAttendance.member_id.in_(members)),
        "merry_go_round": rows(session, ChamaRotationSlot, ChamaRotationSlot.member_id.in_(members)),
    })
    section.about = [("chama_member", i) for i in members]
    section.about += [("chama_loan", r["id"]) for r in section.rows["loans"]]
    section.about += [("chama_payout", r["id"]) for r in section.rows["payouts"]]
    section.about += [("chama_ledger", r["id"]) for r in section.rows["ledger"]]
    return section


def erase(session: Session, person: Person, erasure: Erasure) -> None:
    org = session.get(Org, person.org.id)
    for member in _members(session, person):
        owed = sums(session, org.id, member_id=member.id)
        if owed.loan or owed.fines:
            name = session.get(Contact, member.contact_id).name
            raise Conflict(f"{name} still owes {money(org, owed.loan + owed.fines)} (loans and fines): settle it "
                           "before their data is erased; nothing was changed.")
        label = f"Erased member {member.member_number}"
        keep_contact(session, erasure, member.contact_id, label)
        if member.status != "exited":
            member.status, member.exited_on = "exited", local_today(org)
        erasure.count("chama members", anonymised=1)
        blank(session, erasure, "chama loans", ChamaLoan, {"purpose": "", "rejection_reason": None},
              ChamaLoan.member_id == member.id)
        blank(session, erasure, "chama payouts", ChamaPayout, {"payee": label, "purpose": ""},
              ChamaPayout.member_id == member.id)
        blank(session, erasure, "chama approvals", ChamaApproval,
              {"approver_name": label, "approver_label": label, "reason": ""},
              ChamaApproval.approver_member_id == member.id)
    session.flush()


TABLES = (
    "chama_members",
    "chama_ledger",
    "chama_loans",
    "chama_guarantors",
    "chama_payouts",
    "chama_approvals",
    "chama_invoices",
    "chama_attendance",
    "chama_rotation",
)

register(Piece("core.chama", export, erase, covers=TABLES))
