"""Helpers for the chama tests: a chama with officials and members, and an
independent reading of the ledger to check the services' balances against."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.actors import Actor
from core.chama import ledger, loans, members, payouts, settings
from core.chama.ledger import Balances
from core.chama.members import MemberView
from core.orgs import OrgView
from core.users import add_user
from db.models import Message
from db.models_chama import ChamaLedgerEntry
from tests.fakes import phone

ACTOR = Actor.system_actor("cli:test")


@dataclass
class Chama:
    org: OrgView
    chair: MemberView
    treasurer: MemberView
    secretary: MemberView
    members: list[MemberView] = field(default_factory=list)

    @property
    def id(self) -> int:
        return self.org.id

    @property
    def officials(self) -> list[MemberView]:
        return [self.chair, self.treasurer, self.secretary]

    @property
    def everyone(self) -> list[MemberView]:
        return [*self.officials, *self.members]

    def checkers(self, applicant_id: int) -> list[MemberView]:
        """Two officials who may approve money for ``applicant_id``."""
        return [o for o in self.officials if o.id != applicant_id][:2]


NAMES = ["Wanjiku Kamau", "Achieng Otieno", "Njeri Mwangi", "Fatuma Hassan", "Mercy Chebet", "Grace Wambui",
         "Halima Abdi", "Joyce Akinyi"]


def make_chama(session: Session, make_org, *, extra_members: int = 2, first_phone: int = 100,
               joined_on: date = date(2025, 1, 1), country: str = "KE", **rules) -> Chama:
    """A chama with a chair, treasurer and secretary and ``extra_members`` plain members."""
    org = make_org(session, "chama", country=country)
    people = []
    for i, role in enumerate(["chair", "treasurer", "secretary"] + ["member"] * extra_members):
        people.append(members.add_member(session, ACTOR, org.id, name=NAMES[i % len(NAMES)],
                                         phone=phone(first_phone + i), role=role, joined_on=joined_on))
    if rules:
        settings.update_settings(session, ACTOR, org.id, **rules)
    return Chama(org, people[0], people[1], people[2], people[3:])


def chama_with_chair_login(session: Session, make_org, *, extra_members: int, saved: int = 100_000,
                           email: str = "chair@example.com", password: str) -> Chama:
    """A chama whose chair signs in as ``email`` with a login linked to the chair member, and where every
    member has ``saved`` in savings (cash, one receipt each)."""
    group = make_chama(session, make_org, extra_members=extra_members)
    add_user(session, ACTOR, email, org_id=group.id, role="chair", name=group.chair.name,
             phone=group.chair.phone, password=password)
    members.link_login(session, ACTOR, group.id, group.chair.id, email=email)
    for i, member in enumerate(group.everyone):
        ledger.record_contribution(session, ACTOR, group.id, member.id, saved, source="cash", reference=f"R-{i}")
    return group


def approved_loan(session: Session, chama: Chama, member: MemberView, amount: int, *, months: int = 3,
                  **kw) -> loans.LoanView:
    loan = loans.request_loan(session, ACTOR, chama.id, member.id, amount, months=months, **kw)
    for official in chama.checkers(member.id):
        loan = loans.approve_loan(session, ACTOR, chama.id, loan.id, by_member_id=official.id)
    return loan


def disbursed_loan(session: Session, chama: Chama, member: MemberView, amount: int, **kw) -> loans.LoanView:
    loan = approved_loan(session, chama, member, amount, **kw)
    return loans.disburse_loan(session, ACTOR, chama.id, loan.id)


def approve_by_checkers(session: Session, chama: Chama, payout: payouts.PayoutView,
                        applicant_id: int) -> payouts.PayoutView:
    for official in chama.checkers(applicant_id):
        payout = payouts.approve_payout(session, ACTOR, chama.id, payout.id, by_member_id=official.id)
    return payout


def paid_payout(session: Session, chama: Chama, amount: int, *, to: MemberView | None = None) -> payouts.PayoutView:
    payout = payouts.request_payout(session, ACTOR, chama.id, amount, purpose="welfare",
                                    member_id=to.id if to else None, payee=None if to else "Mama Mboga")
    for official in chama.checkers(to.id if to else -1):
        payouts.approve_payout(session, ACTOR, chama.id, payout.id, by_member_id=official.id)
    return payouts.pay_payout(session, ACTOR, chama.id, payout.id)


def sms_to(session: Session, member: MemberView) -> list[str]:
    """The SMS bodies queued to a member, oldest first."""
    return list(session.scalars(select(Message.body).where(Message.to_address == member.phone)
                                .order_by(Message.id)))


def entries(session: Session, org_id: int) -> list[ChamaLedgerEntry]:
    return list(session.scalars(select(ChamaLedgerEntry).where(ChamaLedgerEntry.org_id == org_id)
                                .order_by(ChamaLedgerEntry.id)))


def snapshot(session: Session, org_id: int) -> list[tuple]:
    """Every column of every entry, to show that nothing already written ever changes."""
    return [tuple(getattr(e, c.key) for c in ChamaLedgerEntry.__table__.columns) for e in entries(session, org_id)]


def read_effect(entry: ChamaLedgerEntry, by_id: dict[int, ChamaLedgerEntry]) -> Balances:
    """An entry's effect worked out from its kind and amount alone (the repayment and
    share-out splits are read from the entry, after checking they add up)."""
    a = entry.amount_minor
    if entry.kind == "reversal":
        return -read_effect(by_id[entry.reverses_id], by_id)
    if entry.kind == "loan_repayment":
        f, i, p = -entry.fines_minor, -entry.interest_minor, -entry.principal_minor
        assert min(f, i, p) >= 0 and f + i + p == a
        return Balances(fines=-f, interest=-i, principal=-p, pool=a, earnings=f + i)
    if entry.kind == "shareout":
        s = -entry.savings_minor
        return Balances(savings=-s, pool=-a, earnings=-(a - s))
    if entry.kind == "exit_settlement":  # her savings a: fines, interest, principal settled, the rest paid
        f, i, p = -entry.fines_minor, -entry.interest_minor, -entry.principal_minor
        assert min(f, i, p, a - f - i - p) >= 0
        return Balances(savings=-a, fines=-f, interest=-i, principal=-p, pool=-(a - f - i - p), earnings=f + i)
    return {
        "contribution": Balances(savings=a, pool=a),
        "opening_balance": Balances(savings=a, pool=a),
        "refund": Balances(savings=-a, pool=-a),
        "guarantor_charge": Balances(savings=-a, pool=-a),
        "fine": Balances(fines=a),
        "fine_payment": Balances(fines=-a, pool=a, earnings=a),
        "loan_disbursement": Balances(principal=a, pool=-a),
        "interest": Balances(interest=a),
        "payout": Balances(pool=-a, earnings=-a),
        "expense": Balances(pool=-a, earnings=-a),
    }[entry.kind]


def recount(session: Session, org_id: int, *, member_id: int | None = None) -> Balances:
    """Balances summed from the ledger in the test, independently of the stored effect columns."""
    rows = entries(session, org_id)
    by_id = {e.id: e for e in rows}
    total = Balances()
    for e in rows:
        if member_id is None or e.member_id == member_id:
            total = total + read_effect(e, by_id)
    return total


def balances_by_member(session: Session, chama: Chama) -> dict[int, Balances]:
    return {m.id: ledger.sums(session, chama.id, member_id=m.id) for m in chama.everyone}
