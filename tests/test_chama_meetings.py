"""Meetings, the merry-go-round and the end-of-cycle share-out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.chama import fines, ledger, loans, meetings, payouts, rotation, shareout
from core.chama.base import largest_remainder
from core.errors import Conflict, InvalidInput
from db.models import Message
from db.types import utcnow
from tests.chama_support import ACTOR, disbursed_loan, make_chama, recount


@pytest.fixture
def chama(session, make_org):
    return make_chama(session, make_org)


def test_a_meeting_is_announced_attended_and_minuted(session, chama):
    when = utcnow() + timedelta(days=3)
    meeting = meetings.schedule_meeting(session, ACTOR, chama.id, starts_at=when, venue="Mama Pima's hall",
                                        agenda="1. Loans\n2. AOB")
    sent = session.scalar(select(func.count()).select_from(Message).where(Message.body.like("%Mama Pima's hall%")))
    assert sent == len(chama.everyone)
    assert meetings.next_meeting(session, ACTOR, chama.id).id == meeting.id
    marks = {m.id: "present" for m in chama.officials} | {chama.members[0].id: "apology",
                                                          chama.members[1].id: "absent"}
    # Attendance for a meeting still to come is refused: it stays scheduled, and the next meeting.
    with pytest.raises(Conflict, match="attendance is taken on or after that day"):
        meetings.record_attendance(session, ACTOR, chama.id, meeting.id, marks)
    with pytest.raises(Conflict, match="minutes are written on or after that day"):
        meetings.record_minutes(session, ACTOR, chama.id, meeting.id, "early")
    assert meetings.next_meeting(session, ACTOR, chama.id).id == meeting.id
    # A meeting that already happened is entered afterwards, without inviting anyone to it.
    before = session.scalar(select(func.count()).select_from(Message))
    meeting = meetings.schedule_meeting(session, ACTOR, chama.id, starts_at=utcnow() - timedelta(days=1),
                                        venue="Mama Pima's hall", agenda="1. Loans")
    assert session.scalar(select(func.count()).select_from(Message)) == before
    held = meetings.record_attendance(session, ACTOR, chama.id, meeting.id, marks)
    assert [(a.name, a.status) for a in held.attendance][-2:] == [("Fatuma Hassan", "apology"),
                                                                  ("Mercy Chebet", "absent")]
    held = meetings.record_attendance(session, ACTOR, chama.id, meeting.id, {chama.members[1].id: "late"})
    assert held.attendance[-1].status == "late" and len(held.attendance) == 5
    done = meetings.record_minutes(session, ACTOR, chama.id, meeting.id, "Agreed to raise contributions.")
    assert (done.status, done.minutes) == ("held", "Agreed to raise contributions.")
    shown = meetings.get_meeting(session, ACTOR, chama.id, meeting.id)
    assert shown.minutes == "Agreed to raise contributions." and shown.tally() == {
        "present": 3, "late": 1, "apology": 1, "absent": 0}
    with pytest.raises(InvalidInput, match="not an attendance mark"):
        meetings.record_attendance(session, ACTOR, chama.id, meeting.id, {chama.chair.id: "asleep"})
    later = meetings.schedule_meeting(session, ACTOR, chama.id, starts_at=when + timedelta(days=7), venue="Hall",
                                      notify=False)
    meetings.cancel_meeting(session, ACTOR, chama.id, later.id, reason="rain")
    assert meetings.next_meeting(session, ACTOR, chama.id).starts_at == when  # the one to come, not cancelled


def test_the_merry_go_round_pays_each_member_in_turn_through_approved_payouts(session, chama):
    order = [chama.members[1].id, chama.members[0].id, chama.secretary.id]
    view = rotation.set_rotation(session, ACTOR, chama.id, order)
    assert [t.member_id for t in view.turns] == order and view.next_member_id == order[0]
    for m in chama.everyone:
        ledger.record_contribution(session, ACTOR, chama.id, m.id, 100_000)
    payout = rotation.request_turn_payout(session, ACTOR, chama.id, 500_000)
    assert (payout.member_id, payout.purpose) == (order[0], "merry-go-round round 1, turn 1")
    with pytest.raises(Conflict, match="turn already has payout"):
        rotation.request_turn_payout(session, ACTOR, chama.id, 500_000)
    with pytest.raises(Conflict, match="under way"):
        rotation.set_rotation(session, ACTOR, chama.id, order[::-1])
    for official in chama.officials[:2]:
        payouts.approve_payout(session, ACTOR, chama.id, payout.id, by_member_id=official.id)
    payouts.pay_payout(session, ACTOR, chama.id, payout.id)
    view = rotation.rotation(session, ACTOR, chama.id)
    assert [t.state for t in view.turns] == ["received", "next", "waiting"]


def test_largest_remainder_adds_up_exactly():
    assert largest_remainder(100, [1, 1, 1]) == [34, 33, 33]
    assert largest_remainder(10, [5, 3, 2]) == [5, 3, 2]
    assert largest_remainder(7, [3, 3, 1]) == [3, 3, 1]
    assert largest_remainder(-100, [1, 1, 1]) == [-34, -33, -33]
    assert sum(largest_remainder(1_000_003, [7, 13, 29, 51])) == 1_000_003


def test_share_out_gives_back_savings_plus_earnings_pro_rata_and_empties_the_pool(session, chama):
    savings = [300_000, 200_000, 100_000, 0, 0]
    for member, amount in zip(chama.everyone, savings):
        if amount:
            ledger.record_contribution(session, ACTOR, chama.id, member.id, amount)
    fatuma = chama.members[0]
    fines.charge_fine(session, ACTOR, chama.id, fatuma.id, 1_001, reason="late")
    loan = disbursed_loan(session, chama, chama.chair, 100_000, months=1)  # reducing: no interest yet
    plan = shareout.preview_shareout(session, ACTOR, chama.id)
    assert any("still owe" in b for b in plan.blockers) and any("in fines" in b for b in plan.blockers)
    with pytest.raises(Conflict, match="loans must be repaid first"):
        shareout.commit_shareout(session, ACTOR, chama.id, code=plan.code)
    loans.record_repayment(session, ACTOR, chama.id, chama.chair.id, 100_000, loan_id=loan.id)
    fines.record_fine_payment(session, ACTOR, chama.id, fatuma.id, 1_001)
    plan = shareout.preview_shareout(session, ACTOR, chama.id)
    assert plan.blockers == [] and plan.pool_minor == 600_000 + 1_001
    assert [(ln.savings_minor, ln.earnings_share_minor, ln.payout_minor) for ln in plan.lines] == [
        (300_000, 500, 300_500), (200_000, 334, 200_334), (100_000, 167, 100_167)]
    assert sum(ln.payout_minor for ln in plan.lines) == plan.pool_minor
    ledger.record_contribution(session, ACTOR, chama.id, chama.secretary.id, 1)  # the books move on
    with pytest.raises(Conflict, match="changed since that preview"):
        shareout.commit_shareout(session, ACTOR, chama.id, code=plan.code)
    plan = shareout.preview_shareout(session, ACTOR, chama.id)
    done = shareout.commit_shareout(session, ACTOR, chama.id, code=plan.code)
    assert done.members == 3
    totals = ledger.sums(session, chama.id)
    assert totals == recount(session, chama.id)
    assert (totals.pool, totals.savings, totals.earnings) == (0, 0, 0)
    receipt = session.scalar(select(Message.body).where(Message.body.like("%share-out: KES 2,003.34%")))
    assert receipt and "savings KES 2,000, earnings KES 3.34" in receipt
    assert shareout.preview_shareout(session, ACTOR, chama.id).blockers == ["The pool is empty; there is nothing to share."]


def test_share_out_waits_for_approved_payouts(session, chama):
    ledger.record_contribution(session, ACTOR, chama.id, chama.members[0].id, 100_000)
    payout = payouts.request_payout(session, ACTOR, chama.id, 10_000, purpose="tent", payee="Tents Ltd")
    for official in chama.officials[:2]:
        payouts.approve_payout(session, ACTOR, chama.id, payout.id, by_member_id=official.id)
    assert any(f"Payout(s) {payout.id}" in b for b in shareout.preview_shareout(session, ACTOR, chama.id).blockers)
    payouts.pay_payout(session, ACTOR, chama.id, payout.id)
    plan = shareout.preview_shareout(session, ACTOR, chama.id)
    assert [(ln.savings_minor, ln.earnings_share_minor, ln.payout_minor) for ln in plan.lines] == [
        (100_000, -10_000, 90_000)]


def test_the_gateway_finds_a_phones_chamas_but_staff_cannot_look_across(session, make_org, chama):
    from core.actors import Actor
    from core.chama.members import chamas_of_phone
    from core.errors import PermissionDenied

    other = make_chama(session, make_org, first_phone=100)  # the same people in a second chama
    found = chamas_of_phone(session, Actor.system_actor("ussd"), chama.chair.phone)
    assert sorted(o.id for o, _m in found) == sorted([chama.id, other.id])
    assert {m.role for _o, m in found} == {"chair"}
    with pytest.raises(PermissionDenied):
        chamas_of_phone(session, Actor.staff(1, "x@y.example"), chama.chair.phone)
