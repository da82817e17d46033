"""Approvals that always can finish, and approvals that must not count.

Officials are people known by their member record: a staff login is linked
to its member explicitly, never by phone. The approvals a request needs are
capped by the officials eligible for it, and a rule no chama could meet is
refused at settings time with the reason.
"""

from __future__ import annotations

import pytest

from core.actors import Actor
from core.chama import ledger, loans, members, payouts, settings
from core.errors import InvalidInput, PermissionDenied
from core.users import add_user
from tests.chama_support import ACTOR, make_chama


def login(session, chama, email: str, role: str, *, phone: str | None = None) -> Actor:
    user = add_user(session, ACTOR, email, org_id=chama.id, role=role, phone=phone, password="long-enough-1")
    return Actor.staff(user.id, user.email)


def test_a_loan_for_the_chair_asked_for_by_the_treasurer_can_finish(session, make_org):
    chama = make_chama(session, make_org)
    ledger.record_contribution(session, ACTOR, chama.id, chama.chair.id, 1_000_000)
    loan = loans.request_loan(session, ACTOR, chama.id, chama.chair.id, 500_000, months=2,
                              by_member_id=chama.treasurer.id)
    # Three officials, two approvals: only the secretary is left, so one approval is what it needs.
    assert loan.approvals_required == 1
    with pytest.raises(PermissionDenied, match="asked for"):
        loans.approve_loan(session, ACTOR, chama.id, loan.id, by_member_id=chama.treasurer.id)
    with pytest.raises(PermissionDenied, match="the money would go to them"):
        loans.approve_loan(session, ACTOR, chama.id, loan.id, by_member_id=chama.chair.id)
    assert loans.approve_loan(session, ACTOR, chama.id, loan.id, by_member_id=chama.secretary.id).status == "approved"
    # A merry-go-round payout to the chair, asked for by the treasurer, finishes the same way.
    payout = payouts.request_payout(session, ACTOR, chama.id, 100_000, purpose="merry-go-round",
                                    member_id=chama.chair.id, by_member_id=chama.treasurer.id)
    assert payouts.approve_payout(session, ACTOR, chama.id, payout.id,
                                  by_member_id=chama.secretary.id).status == "approved"


def test_with_a_fourth_official_the_secretary_and_one_more_approve(session, make_org):
    chama = make_chama(session, make_org)
    vice = members.add_member(session, ACTOR, chama.id, name="Zawadi Njoroge", phone="+254719999001",
                              role="secretary")
    ledger.record_contribution(session, ACTOR, chama.id, chama.chair.id, 1_000_000)
    loan = loans.request_loan(session, ACTOR, chama.id, chama.chair.id, 500_000, months=2,
                              by_member_id=chama.treasurer.id)
    assert loan.approvals_required == 2
    assert loans.approve_loan(session, ACTOR, chama.id, loan.id, by_member_id=chama.secretary.id).status == "requested"
    assert loans.approve_loan(session, ACTOR, chama.id, loan.id, by_member_id=vice.id).status == "approved"


def test_settings_refuse_a_rule_that_could_never_be_met_and_say_why(session, make_org):
    chama = make_chama(session, make_org)
    with pytest.raises(InvalidInput, match="3 active officials; a loan to one of them leaves 2 to approve it"):
        settings.update_settings(session, ACTOR, chama.id, approvals_required=3)
    assert settings.update_settings(session, ACTOR, chama.id, approvals_required=2).approvals_required == 2


def test_every_rule_is_set_from_what_a_treasurer_types_and_a_wrong_answer_says_what_to_write(session, make_org):
    """What the console's rule forms send: every line of the rules, each of its values as typed."""
    chama = make_chama(session, make_org)
    typed = {"contribution": {"contribution": "1,500", "frequency": "weekly", "due_day": "Fri"},
             "invoices from": {"invoices_from": "2026-01-05"}, "reminder": {"reminder_days": "4"},
             "late fine": {"late_fine": "KES 250", "grace_days": "2"},
             "loan interest": {"interest_rate": "1.25%", "interest_kind": "Reducing"},
             "loan limit": {"loan_limit": "2.5"}, "approvals": {"approvals_required": "1"},
             "overpayment": {"overpayment": "refund"},
             "late loan": {"loan_penalty": "2", "loan_grace_days": "10", "default_after_missed": "6"},
             "SMS receipts": {"sms_receipts": "off"}}
    assert set(typed) == set(settings.RULES) == {label for label, _ in settings.describe_settings(
        settings.get_settings(session, ACTOR, chama.id))}
    for label, answers in typed.items():
        now = settings.get_settings(session, ACTOR, chama.id)
        settings.update_settings(session, ACTOR, chama.id, **settings.rule_changes(now, label, answers))
    now = settings.get_settings(session, ACTOR, chama.id)
    assert (now.contribution_minor, now.frequency, now.due_day, str(now.contributions_start)) == (
        150_000, "weekly", 4, "2026-01-05")
    assert (now.reminder_days, now.fine_kind, now.fine_flat_minor, now.grace_days) == (4, "flat", 25_000, 2)
    assert (now.interest_rate_bp, now.interest_kind, now.loan_limit_percent, now.approvals_required) == (
        125, "reducing", 250, 1)
    assert (now.overpayment, now.loan_penalty_bp, now.loan_grace_days, now.default_after_missed,
            now.sms_receipts) == ("refund", 200, 10, 6, False)
    # An empty answer keeps the value; the form's own text reads back as the same rule.
    shown = {f.key: f.now(now) for f in settings.RULES["late fine"]}
    assert settings.rule_changes(now, "late fine", {**shown, "grace_days": ""}) == {
        "fine_kind": "flat", "fine_flat_minor": 25_000, "grace_days": 2}
    for label, answers, said in (("contribution", {"frequency": "monthly", "due_day": "Fri"}, "not a due day"),
                                 ("loan interest", {"interest_rate": "1.125"}, "more than two decimals"),
                                 ("invoices from", {"invoices_from": "5/1/2026"}, "write it like 2026-03-31"),
                                 ("SMS receipts", {"sms_receipts": "yes"}, "SMS receipts is on or off")):
        with pytest.raises(InvalidInput, match=said):
            settings.rule_changes(now, label, answers)
    with pytest.raises(InvalidInput, match="due day of a monthly contribution"):
        settings.update_settings(session, ACTOR, chama.id, **settings.rule_changes(
            now, "contribution", {"frequency": "monthly", "due_day": "32"}))


def test_a_login_without_a_phone_cannot_approve_its_own_members_loan(session, make_org):
    chama = make_chama(session, make_org)
    ledger.record_contribution(session, ACTOR, chama.id, chama.chair.id, 1_000_000)
    chair_login = login(session, chama, "chair@umoja.example", "chair")  # no phone
    other_chair = login(session, chama, "chair2@umoja.example", "chair")  # nobody's login
    members.link_login(session, ACTOR, chama.id, chama.chair.id, email="chair@umoja.example")
    loan = loans.request_loan(session, ACTOR, chama.id, chama.chair.id, 300_000, months=1,
                              by_member_id=chama.chair.id)
    with pytest.raises(PermissionDenied, match="the money would go to them"):
        loans.approve_loan(session, chair_login, chama.id, loan.id)
    with pytest.raises(PermissionDenied, match="not linked to a member"):
        loans.approve_loan(session, other_chair, chama.id, loan.id)
    assert loans.get_loan(session, ACTOR, chama.id, loan.id).approvals == []
    # A phone that matches a member is not a link either.
    phone_twin = login(session, chama, "sec@umoja.example", "secretary", phone=chama.secretary.phone)
    with pytest.raises(PermissionDenied, match="not linked to a member"):
        loans.approve_loan(session, phone_twin, chama.id, loan.id)
    members.link_login(session, ACTOR, chama.id, chama.secretary.id, email="sec@umoja.example")
    loans.approve_loan(session, phone_twin, chama.id, loan.id)
    assert [a.name for a in loans.get_loan(session, ACTOR, chama.id, loan.id).approvals] == [chama.secretary.name]


def test_a_request_nobody_may_approve_is_refused_with_the_reason(session, make_org):
    chama = make_chama(session, make_org)
    members.update_member(session, ACTOR, chama.id, chama.secretary.id, role="member")
    ledger.record_contribution(session, ACTOR, chama.id, chama.chair.id, 1_000_000)
    from core.errors import Conflict
    with pytest.raises(Conflict, match="No official may approve"):
        loans.request_loan(session, ACTOR, chama.id, chama.chair.id, 300_000, months=1,
                           by_member_id=chama.treasurer.id)
