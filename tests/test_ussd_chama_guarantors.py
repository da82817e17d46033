"""A guarantor's journey over real HTTP in Africa's Talking's formats: asked by SMS, accepts by USSD (and a
second by an SMS reply), the loan is paid out, instalments are missed, the guarantors are told (their SMS
leave through a fake Africa's Talking), and the default is recovered from them pro rata with a ledger trail."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

import core.chama.sms  # noqa: F401  (YES / NO replies)
import ussd.chama  # noqa: F401  (the chama menu answers dials)
from config import load_settings
from core import jobs, outbox
from core.chama import ledger, loans
from core.chama.base import org_zone
from core.errors import Conflict
from core.ussd_pins import set_pin
from db.models import Org
from db.models_chama import ChamaLedgerEntry
from tests.chama_support import ACTOR, make_chama, recount
from tests.fakes.africastalking import fake_at  # noqa: F401  (fixture)
from tests.live_gateway import running_gateway
from tests.test_ussd_chama import TOKEN, Phone, chama_menu  # noqa: F401  (the menu fixture)

_ids = itertools.count(1)


def text(base: str, sender: str, words: str) -> str:
    form = {"from": sender, "to": "22384", "text": words, "date": "2026-12-05 10:00:00",
            "id": f"ATXid_chama_{next(_ids)}", "linkId": "link-1"}
    answer = httpx.post(f"{base}/sms/inbound?token={TOKEN}", data=form, timeout=10)
    assert answer.status_code == 200
    return answer.text


def at_local(org: Org, day, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=org_zone(org))


def test_guarantors_consent_are_told_and_carry_a_default_pro_rata(committed_db, make_org, fake_at):
    with committed_db.session() as s:
        chama = make_chama(s, make_org, extra_members=3, first_phone=500, interest_kind="flat",
                           interest_rate_bp=0, loan_penalty_bp=1_000, default_after_missed=2, loan_grace_days=3)
        borrower, mercy, grace = chama.members
        for m, saved in ((borrower, 100_000), (mercy, 600_000), (grace, 300_000), (chama.chair, 1_000_000)):
            ledger.record_contribution(s, ACTOR, chama.id, m.id, saved)
        set_pin(s, mercy.phone, "2580")
        s.commit()
        loan = loans.request_loan(s, ACTOR, chama.id, borrower.id, 600_000, months=3,
                                  guarantors=[(mercy.id, 200_000), (grace.id, 100_000)])
        assert [g.status for g in loan.guarantors] == ["asked", "asked"]
        for official in chama.checkers(borrower.id):
            loans.approve_loan(s, ACTOR, chama.id, loan.id, by_member_id=official.id)
        with pytest.raises(Conflict, match=r"every guarantor has agreed: Mercy \(not answered yet\)"):
            loans.disburse_loan(s, ACTOR, chama.id, loan.id)
    with running_gateway(committed_db, load_settings({"OFISI_CALLBACK_TOKEN": TOKEN})) as base:
        handset = Phone(base, mercy.phone, "s-guarantee", TOKEN)
        handset.dial()
        assert "7 Guarantees" in handset.press("2580")
        assert "1 Fatuma KES 6,000" in handset.press("7")
        assert "with KES 2,000 of your savings?" in handset.press("1")
        assert handset.press("1") == "END Thank you: you guarantee the loan."
        assert text(base, grace.phone, f"YES {loan.id}") == "handled"
    with committed_db.session() as s:
        assert [g.status for g in loans.get_loan(s, ACTOR, chama.id, loan.id).guarantors] == ["accepted", "accepted"]
        loan = loans.disburse_loan(s, ACTOR, chama.id, loan.id)
        org = s.get(Org, chama.id)
        plan = loans.loan_schedule(s, ACTOR, chama.id, loan.id)
    # Instalment 1 is paid; 2 and 3 are missed. Due work runs past each grace period.
    with committed_db.session() as s:
        loans.record_repayment(s, ACTOR, chama.id, borrower.id, 200_000, reference="R-1")
    for inst in plan[1:]:
        jobs.run_due(committed_db, now=at_local(org, inst.due_on + timedelta(days=4)))
    with committed_db.session() as s:
        view = loans.get_loan(s, ACTOR, chama.id, loan.id)
        assert view.status == "defaulted"
        penalties = s.scalars(select(ChamaLedgerEntry.amount_minor).where(
            ChamaLedgerEntry.loan_id == loan.id, ChamaLedgerEntry.kind == "fine")).all()
        assert penalties == [20_000, 40_000]  # 10% of what was overdue after each missed instalment
    outbox.send_due(committed_db, {"sms": fake_at.provider()})
    told = [r.message for r in fake_at.received_for(mercy.phone)]
    assert any(f"loan {loan.id}, which you guarantee with KES 2,000, is overdue: KES 2,000 unpaid" in t for t in told)
    assert any("is in default" in t for t in told)
    assert any(f"loan {loan.id} instalment 2 is overdue: KES 2,000 is due now" in r.message
               for r in fake_at.received_for(borrower.phone))
    # The remainder (KES 4,000 of loan) comes from the guarantors in proportion to their pledges: 2:1.
    with committed_db.session() as s:
        recovered = loans.recover_default(s, ACTOR, chama.id, loan.id)
        charges = s.execute(select(ChamaLedgerEntry.member_id, ChamaLedgerEntry.amount_minor).where(
            ChamaLedgerEntry.loan_id == loan.id, ChamaLedgerEntry.kind == "guarantor_charge")
            .order_by(ChamaLedgerEntry.id)).all()
        assert [tuple(c) for c in charges] == [(mercy.id, 200_000), (grace.id, 100_000)]
        assert recovered.principal_outstanding_minor == 100_000  # what they pledged was less than was owed
        assert ledger.sums(s, chama.id, member_id=mercy.id).savings == 400_000
        assert ledger.sums(s, chama.id, member_id=grace.id).savings == 200_000
        trail = s.scalars(select(ChamaLedgerEntry.memo).where(ChamaLedgerEntry.loan_id == loan.id,
                                                              ChamaLedgerEntry.kind == "loan_repayment",
                                                              ChamaLedgerEntry.source == "system")).all()
        assert [m.split(" (")[0] for m in trail] == ["recovered from guarantor Mercy", "recovered from guarantor Grace"]
        assert ledger.sums(s, chama.id) == recount(s, chama.id)
        with pytest.raises(Conflict, match="guarantees loan"):
            from core.chama import exits
            exits.request_exit(s, ACTOR, chama.id, mercy.id, reason="moving")
