"""Payments in the core: asking for money, and what each Daraja result does to a request."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core import payments
from core.actors import Actor
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from core.users import add_user
from db.models import AuditEntry
from db.models_payments import PaymentCallback, PaymentRequest
from tests.fakes.daraja import callback_payload
from tests.payments_support import (
    BROKEN,
    COMMITTING,
    CREDIT,
    ask,
    awaiting,
    credits,
    failure,
    status,
    success,
    verdicts,
)


@pytest.fixture
def org(session, make_org):
    return make_org(session, "chama")


# ---------------------------------------------------------------- asking


def test_a_request_is_pending_in_the_callers_unit_of_work(session, org):
    request_id = ask(session, org.id, payload={"member_id": 42})
    row = session.get(PaymentRequest, request_id)
    assert (row.status, row.phone, row.amount_minor, row.currency, row.account_reference, row.attempts) == (
        "pending", "+254712345678", 150_000, "KES", "M0042", 0)
    assert row.payload == {"member_id": 42} and row.checkout_request_id is None


def test_the_same_idempotency_key_asks_once(session, org):
    first = ask(session, org.id, idempotency_key="ussd:abc:2")
    assert ask(session, org.id, idempotency_key="ussd:abc:2") == first
    assert ask(session, org.id, idempotency_key="ussd:abc:3") != first


@pytest.mark.parametrize(("changes", "match"), [
    ({"amount_minor": 150_050}, "whole shillings"),
    ({"amount_minor": 0}, "between KES 1"),
    ({"amount_minor": 25_000_100}, "between KES 1"),
    ({"phone": "+91 98765 43210"}, "not a Kenyan number"),
    ({"phone": "12"}, "not a valid phone number"),
    ({"account_reference": "M0042-CONTRIBUTION"}, "account reference"),
    ({"description": "   "}, "description"),
])
def test_what_mpesa_cannot_take_is_refused_before_it_is_stored(session, org, changes, match):
    with pytest.raises(InvalidInput, match=match):
        ask(session, org.id, **changes)


def test_only_shilling_orgs_and_known_purposes(session, make_org, org):
    uganda = make_org(session, "chama", country="UG")
    with pytest.raises(InvalidInput, match="keeps its books in UGX"):
        ask(session, uganda.id)
    with pytest.raises(ValueError, match="no on_success hook"):
        ask(session, org.id, purpose="nobody.handles.this")


# ---------------------------------------------------------------- callbacks


@pytest.mark.parametrize("purpose", [CREDIT, COMMITTING])
def test_success_credits_once_and_a_replay_changes_nothing(session, org, purpose):
    request_id = awaiting(session, org.id, purpose=purpose)
    first = payments.record_stk_callback(session, success(), token_ok=True)
    assert (first.verdict, first.payment_request_id) == ("applied", request_id)
    row = session.get(PaymentRequest, request_id)
    assert (row.status, row.receipt_number, row.result_code) == ("succeeded", "SKL1ABC2DE", "0")
    assert row.paid_at.isoformat() == "2026-11-21T07:30:00+00:00"  # 10:30 in Nairobi
    again = payments.record_stk_callback(session, success(), token_ok=True)
    assert again.verdict == "duplicate"
    assert credits(session, request_id) == 1
    assert verdicts(session) == [("applied", None), ("duplicate", None)]
    audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "payment.succeeded")).all()
    assert [(a.actor, a.after["receipt_number"]) for a in audit] == [("mpesa", "SKL1ABC2DE")]


def test_unknown_checkout_is_kept_for_review(session, org):
    request_id = awaiting(session, org.id)
    result = payments.record_stk_callback(session, success("ws_CO_nobody"), token_ok=True)
    assert (result.verdict, result.problem, result.payment_request_id) == ("review", "unknown_request", None)
    assert status(session, request_id) == "awaiting" and credits(session, request_id) == 0
    kept = session.get(PaymentCallback, result.callback_id)
    assert kept.raw == success("ws_CO_nobody") and kept.receipt_number == "SKL1ABC2DE"


def test_a_callback_without_the_token_credits_nothing(session, org):
    request_id = awaiting(session, org.id)
    result = payments.record_stk_callback(session, success(), token_ok=False)
    assert (result.verdict, result.problem) == ("review", "bad_token")
    assert status(session, request_id) == "awaiting" and credits(session, request_id) == 0


def test_an_amount_that_differs_is_kept_for_review(session, org):
    request_id = awaiting(session, org.id)
    result = payments.record_stk_callback(session, success(amount=15.00), token_ok=True)
    assert (result.verdict, result.problem) == ("review", "amount_mismatch")
    row = session.get(PaymentRequest, request_id)
    assert row.status == "review" and "KES 15 paid for a request of KES 1,500" in row.last_error
    assert row.receipt_number is None and credits(session, request_id) == 0
    # Whatever comes later for it waits for a person too.
    assert payments.record_stk_callback(session, success(), token_ok=True).verdict == "review"
    assert credits(session, request_id) == 0


@pytest.mark.parametrize(("code", "final"), [(1032, "cancelled"), (1037, "expired"), (1, "failed"),
                                             (2001, "failed")])
def test_failure_codes_settle_the_request(session, org, code, final):
    request_id = awaiting(session, org.id)
    assert payments.record_stk_callback(session, failure(code), token_ok=True).verdict == "applied"
    row = session.get(PaymentRequest, request_id)
    assert (row.status, row.result_code) == (final, str(code)) and row.result_desc
    assert payments.record_stk_callback(session, failure(code), token_ok=True).verdict == "duplicate"
    late = payments.record_stk_callback(session, success(), token_ok=True)
    assert (late.verdict, late.problem) == ("review", "conflict")
    assert status(session, request_id) == "review" and credits(session, request_id) == 0


def test_a_failing_ledger_credits_nothing_and_asks_for_review(session, org):
    request_id = awaiting(session, org.id, purpose=BROKEN)
    result = payments.record_stk_callback(session, success(), token_ok=True)
    assert (result.verdict, result.problem) == ("review", "not_applied")
    row = session.get(PaymentRequest, request_id)
    assert row.status == "review" and "the ledger is closed" in row.last_error and row.receipt_number is None
    assert credits(session, request_id) == 0  # the hook's own write went with it
    assert session.get(PaymentCallback, result.callback_id).raw == success()


@pytest.mark.parametrize("area_has_it", [True, False])
def test_the_areas_are_loaded_before_a_purpose_is_found_wanting(session, org, monkeypatch, area_has_it):
    from core import registry
    from core.payments.request import HOOKS

    request_id = awaiting(session, org.id)
    session.get(PaymentRequest, request_id).purpose = "test.late"
    session.commit()
    loaded = []

    def load_areas() -> None:  # what importing an area that registers "test.late" does
        loaded.append(True)
        if area_has_it:
            monkeypatch.setitem(HOOKS, "test.late", HOOKS[CREDIT])

    monkeypatch.setattr(registry, "load_areas", load_areas)
    result = payments.record_stk_callback(session, success(), token_ok=True)
    assert loaded == [True]
    if area_has_it:
        assert result.verdict == "applied" and credits(session, request_id) == 1
    else:
        assert (result.verdict, result.problem) == ("review", "no_hook") and credits(session, request_id) == 0
        assert status(session, request_id) == "review"


def test_one_receipt_credits_one_request(session, org):
    first = awaiting(session, org.id, checkout="ws_CO_1")
    second = awaiting(session, org.id, checkout="ws_CO_2")
    payments.record_stk_callback(session, success("ws_CO_1"), token_ok=True)
    reused = payments.record_stk_callback(session, success("ws_CO_2"), token_ok=True)
    assert (reused.verdict, reused.problem) == ("review", "receipt_reused")
    assert (credits(session, first), credits(session, second)) == (1, 0)
    assert status(session, second) == "review"


@pytest.mark.parametrize("payload", [
    "not json at all", [], {}, {"Body": {}}, {"Body": {"stkCallback": {"ResultCode": 0}}},
    {"Body": {"stkCallback": {"CheckoutRequestID": "ws_CO_1", "ResultCode": "zero"}}},
    callback_payload("m-ws_CO_1", "ws_CO_1", 0, amount=1500, receipt=None),
], ids=["text", "list", "empty", "no-callback", "no-checkout", "odd-code", "no-receipt"])
def test_malformed_callbacks_are_kept_and_credit_nothing(session, org, payload):
    request_id = awaiting(session, org.id)
    result = payments.record_stk_callback(session, payload, token_ok=True)
    assert (result.verdict, result.problem) == ("review", "malformed")
    assert status(session, request_id) == "awaiting" and credits(session, request_id) == 0


# ---------------------------------------------------------------- staff


@pytest.fixture
def staff(session, org, make_org, cli_actor):
    def member(email: str, role: str, org_id: int = org.id) -> Actor:
        user = add_user(session, cli_actor, email, org_id=org_id, role=role, password="long-enough-1")
        return Actor.staff(user.id, user.email)

    salon = make_org(session, "salon")
    return {"treasurer": member("t@chama.example", "treasurer"), "secretary": member("s@chama.example", "secretary"),
            "stranger": member("o@salon.example", "owner", salon.id)}


def test_officials_read_their_own_orgs_payments(session, org, staff):
    request_id = ask(session, org.id)
    session.commit()
    for who in ("treasurer", "secretary"):
        assert [p.id for p in payments.list_payments(session, staff[who], org.id)] == [request_id]
    assert payments.list_payments(session, staff["treasurer"], org.id, status="review") == []
    assert payments.get_payment(session, staff["treasurer"], org.id, request_id).amount == "KES 1,500"
    with pytest.raises(NotFound):
        payments.list_payments(session, staff["stranger"], org.id)
    with pytest.raises(PermissionDenied):  # reading is not settling
        payments.settle_payment(session, staff["secretary"], org.id, request_id, paid=False)


def test_results_that_match_no_org_are_for_the_operator(session, org, staff, cli_actor):
    payments.record_stk_callback(session, success("ws_CO_nobody"), token_ok=True)
    assert [c.problem for c in payments.list_callbacks(session, cli_actor, verdict="review")] == ["unknown_request"]
    assert payments.list_callbacks(session, staff["treasurer"], org_id=org.id) == []
    with pytest.raises(PermissionDenied):
        payments.list_callbacks(session, staff["treasurer"])


def test_an_official_settles_a_payment_of_unknown_fate(session, org, staff):
    request_id = ask(session, org.id)
    session.get(PaymentRequest, request_id).status = "unknown"
    session.commit()
    with pytest.raises(InvalidInput, match="receipt number"):
        payments.settle_payment(session, staff["treasurer"], org.id, request_id, paid=True)
    view = payments.settle_payment(session, staff["treasurer"], org.id, request_id, paid=True,
                                   receipt_number=" skl9xyz ")
    assert (view.status, view.receipt_number) == ("succeeded", "SKL9XYZ") and credits(session, request_id) == 1
    with pytest.raises(InvalidInput, match="is succeeded"):
        payments.settle_payment(session, staff["treasurer"], org.id, request_id, paid=True, receipt_number="X")
    other = ask(session, org.id)
    session.get(PaymentRequest, other).status = "review"
    session.commit()
    with pytest.raises(Conflict, match="already credited payment"):
        payments.settle_payment(session, staff["treasurer"], org.id, other, paid=True, receipt_number="SKL9XYZ")
    assert payments.settle_payment(session, staff["treasurer"], org.id, other, paid=False).status == "failed"
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "payment_request")
                              .order_by(AuditEntry.id)).all()
    assert actions == ["payment.settle", "payment.succeeded", "payment.settle"]


# ---------------------------------------------------------------- schema


def test_the_payments_branch_goes_down_and_up_on_its_own(fresh_database_url):
    from sqlalchemy import inspect

    from db.engine import make_engine, schema_state
    from db.migrate import downgrade, upgrade

    engine = make_engine(fresh_database_url)
    try:
        upgrade(engine)
        downgrade(engine, "payments@0001")
        tables = set(inspect(engine).get_table_names())
        assert "orgs" in tables and not {"payment_requests", "payment_callbacks"} & tables
        assert schema_state(engine)[0] == "behind"
        upgrade(engine)
        assert {"payment_requests", "payment_callbacks"} <= set(inspect(engine).get_table_names())
        assert schema_state(engine)[0] == "current"
    finally:
        engine.dispose()
