"""The chama ledger: contributions, fines, reversals, balances as sums, and who may write."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, select, text
from sqlalchemy.exc import DBAPIError

from core import audit
from core.actors import Actor
from core.chama import fines, ledger, members, settings
from core.chama.ledger import Balances
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from core.users import add_user
from db.models import Message, Org
from db.models_chama import ChamaLedgerEntry, ChamaMember
from db.types import utcnow
from tests.chama_support import ACTOR, sms_to, make_chama, recount, snapshot
from tests.fakes import phone


@pytest.fixture
def chama(session, make_org):
    return make_chama(session, make_org)


def test_a_contribution_credits_savings_and_the_pool_and_sends_a_receipt(session, chama):
    wanjiku = chama.members[0]
    entry = ledger.record_contribution(session, ACTOR, chama.id, wanjiku.id, 150_000, source="mpesa",
                                       reference="QK12AB34CD")
    assert (entry.kind, entry.amount_minor, entry.replayed) == ("contribution", 150_000, False)
    assert entry.change == Balances(savings=150_000, pool=150_000)
    balance = ledger.member_balances(session, ACTOR, chama.id, wanjiku.id)
    assert (balance.savings_minor, balance.loan_outstanding_minor, balance.fines_owed_minor) == (150_000, 0, 0)
    assert ledger.sums(session, chama.id) == recount(session, chama.id) == Balances(savings=150_000, pool=150_000)
    [receipt] = sms_to(session, wanjiku)
    assert "received your contribution of KES 1,500. Savings now KES 1,500." in receipt
    assert receipt.startswith(f"{chama.org.name}: ") and f"Ref {entry.id}." in receipt
    [row] = [a for a in audit.list_entries(session, ACTOR, chama.id) if a.action == "chama.contribution"]
    assert row.after["amount_minor"] == 150_000 and row.actor == "cli:test"


def test_a_replayed_payment_writes_nothing_new(session, chama):
    wanjiku = chama.members[0]
    first = ledger.record_contribution(session, ACTOR, chama.id, wanjiku.id, 50_000, source="mpesa",
                                       idempotency_key="ws_CO_123", reference="QK1")
    again = ledger.record_contribution(session, ACTOR, chama.id, wanjiku.id, 50_000, source="mpesa",
                                       idempotency_key="ws_CO_123", reference="QK1")
    assert again.id == first.id and again.replayed
    # Without a key, source + reference is the key: a cash receipt is recorded once.
    cash = ledger.record_contribution(session, ACTOR, chama.id, wanjiku.id, 20_000, reference="R-001")
    assert ledger.record_contribution(session, ACTOR, chama.id, wanjiku.id, 20_000, reference="R-001").id == cash.id
    assert ledger.sums(session, chama.id).savings == 70_000
    assert len(sms_to(session, wanjiku)) == 2
    with pytest.raises(Conflict, match="already has this key or reference .* different payment"):
        ledger.record_contribution(session, ACTOR, chama.id, chama.members[1].id, 20_000, reference="R-001")
    # An M-Pesa receipt is one payment, whether the callback (keyed by its CheckoutRequestID) or the
    # treasurer (by the receipt) records it first; and it pays for one thing only.
    typed = ledger.record_contribution(session, ACTOR, chama.id, wanjiku.id, 30_000, source="mpesa",
                                       reference="QK9")
    assert ledger.record_contribution(session, ACTOR, chama.id, wanjiku.id, 30_000, source="mpesa",
                                      reference="QK9", idempotency_key="ws_CO_999").id == typed.id
    with pytest.raises(Conflict, match="different payment"):
        fines.record_fine_payment(session, ACTOR, chama.id, wanjiku.id, 30_000, source="mpesa", reference="QK9")
    assert ledger.sums(session, chama.id).savings == 100_000


def test_money_in_is_checked(session, chama):
    m = chama.members[0].id
    with pytest.raises(InvalidInput, match="positive whole number"):
        ledger.record_contribution(session, ACTOR, chama.id, m, 0)
    with pytest.raises(InvalidInput, match="positive whole number"):
        ledger.record_contribution(session, ACTOR, chama.id, m, 10.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="cash, mpesa, bank"):
        ledger.record_contribution(session, ACTOR, chama.id, m, 100, source="cheque")
    with pytest.raises(InvalidInput, match="future"):
        ledger.record_contribution(session, ACTOR, chama.id, m, 100, occurred_at=utcnow() + timedelta(hours=1))
    members.update_member(session, ACTOR, chama.id, m, status="exited")
    with pytest.raises(Conflict, match="exited the chama"):
        ledger.record_contribution(session, ACTOR, chama.id, m, 100)


def test_fines_are_owed_then_paid_and_paying_more_is_refused(session, chama):
    achieng = chama.members[1]
    fines.charge_fine(session, ACTOR, chama.id, achieng.id, 20_000, reason="late to the meeting")
    with pytest.raises(Conflict, match="owes KES 200 in fines; KES 250 is more"):
        fines.record_fine_payment(session, ACTOR, chama.id, achieng.id, 25_000)
    fines.record_fine_payment(session, ACTOR, chama.id, achieng.id, 15_000, source="mpesa", reference="QF1")
    b = ledger.member_balances(session, ACTOR, chama.id, achieng.id)
    assert (b.fines_owed_minor, b.savings_minor) == (5_000, 0)
    assert ledger.sums(session, chama.id) == recount(session, chama.id) == Balances(fines=5_000, pool=15_000,
                                                                                     earnings=15_000)
    texts = sms_to(session, achieng)
    assert "fined KES 200: late to the meeting. Fines owed: KES 200." in texts[0]
    assert "received KES 150 for fines. Fines owed now KES 50." in texts[1]
    with pytest.raises(InvalidInput, match="what the fine is for"):
        fines.charge_fine(session, ACTOR, chama.id, achieng.id, 100, reason=" ")


def test_a_reversal_points_back_restores_balances_and_cannot_be_repeated(session, chama):
    wanjiku = chama.members[0]
    keep = ledger.record_contribution(session, ACTOR, chama.id, wanjiku.id, 10_000)
    before = ledger.sums(session, chama.id, member_id=wanjiku.id)
    wrong = ledger.record_contribution(session, ACTOR, chama.id, wanjiku.id, 99_900)
    reversal = ledger.reverse_entry(session, ACTOR, chama.id, wrong.id, reason="typed 999 for 1")
    assert (reversal.kind, reversal.reverses_id, reversal.amount_minor) == ("reversal", wrong.id, 99_900)
    assert reversal.change == -wrong.change and reversal.memo == "typed 999 for 1"
    assert ledger.sums(session, chama.id, member_id=wanjiku.id) == before
    assert ledger.get_entry(session, ACTOR, chama.id, wrong.id).reversed_by_id == reversal.id
    with pytest.raises(Conflict, match=f"already reversed by entry {reversal.id}"):
        ledger.reverse_entry(session, ACTOR, chama.id, wrong.id, reason="again")
    with pytest.raises(Conflict, match="itself the reversal .* cannot be reversed"):
        ledger.reverse_entry(session, ACTOR, chama.id, reversal.id, reason="undo the undo")
    with pytest.raises(InvalidInput, match="why"):
        ledger.reverse_entry(session, ACTOR, chama.id, keep.id, reason="")
    assert "was reversed: typed 999 for 1." in sms_to(session, wanjiku)[-1]
    # A replay of the reversed payment still changes nothing; a corrected one needs its own key.
    assert ledger.record_contribution(session, ACTOR, chama.id, wanjiku.id, 10_000).replayed is False


def test_a_reversal_that_would_empty_the_pool_below_zero_is_refused(session, chama):
    from tests.chama_support import paid_payout

    first = ledger.record_contribution(session, ACTOR, chama.id, chama.members[0].id, 10_000)
    paid_payout(session, chama, 8_000)
    before = snapshot(session, chama.id)
    with pytest.raises(Conflict, match="the pool at KES -80 .*nothing was recorded"):
        ledger.reverse_entry(session, ACTOR, chama.id, first.id, reason="bounced")
    assert snapshot(session, chama.id) == before


def test_the_ledger_is_append_only_in_the_database(session, chama):
    ledger.record_contribution(session, ACTOR, chama.id, chama.members[0].id, 10_000)
    for statement in ("UPDATE chama_ledger SET amount_minor = 1", "DELETE FROM chama_ledger"):
        with pytest.raises(DBAPIError, match="append-only"):
            with session.begin_nested():
                session.execute(text(statement))
    # Nor can a member with history be deleted from under it.
    with pytest.raises(DBAPIError, match="append-only"):
        with session.begin_nested():
            session.execute(delete(ChamaMember).where(ChamaMember.id == chama.members[0].id))
    # Deleting the whole org (ofisi demo --reset) still takes its ledger with it.
    session.execute(delete(Org).where(Org.id == chama.id))
    assert session.scalar(select(ChamaLedgerEntry.id).where(ChamaLedgerEntry.org_id == chama.id)) is None


def test_only_officials_with_the_right_role_write_and_other_chamas_are_out_of_reach(session, make_org, chama):
    other = make_chama(session, make_org, first_phone=200)
    users = {role: add_user(session, ACTOR, f"{role}@umoja.example", org_id=chama.id, role=role,
                            password="long-enough-1")
             for role in ("chair", "treasurer", "secretary")}
    staff = {role: Actor.staff(u.id, u.email) for role, u in users.items()}
    m = chama.members[0].id
    ledger.record_contribution(session, staff["treasurer"], chama.id, m, 5_000)
    with pytest.raises(PermissionDenied, match="secretary .* may not do this \\(chama.money\\)"):
        ledger.record_contribution(session, staff["secretary"], chama.id, m, 5_000)
    assert ledger.member_balances(session, staff["secretary"], chama.id, m).savings_minor == 5_000
    with pytest.raises(NotFound):
        ledger.record_contribution(session, staff["chair"], other.id, other.members[0].id, 5_000)
    with pytest.raises(NotFound, match="does not exist in this chama"):
        ledger.record_contribution(session, staff["chair"], chama.id, other.members[0].id, 5_000)
    with pytest.raises(NotFound):
        ledger.reverse_entry(session, ACTOR, other.id, ledger.list_entries(session, ACTOR, chama.id)[0].id,
                             reason="not ours")
    with pytest.raises(PermissionDenied, match=r"secretary .* may not do this \(chama.settings\)"):
        settings.update_settings(session, staff["secretary"], chama.id, grace_days=5)


def test_a_salon_is_not_a_chama(session, make_org):
    salon = make_org(session, "salon")
    with pytest.raises(InvalidInput, match="not a chama"):
        members.add_member(session, ACTOR, salon.id, name="X", phone=phone(1))


def test_mini_statement_is_the_last_five_newest_first(session, chama):
    m = chama.members[0].id
    ids = [ledger.record_contribution(session, ACTOR, chama.id, m, 100 * (i + 1)).id for i in range(7)]
    page = ledger.list_entries(session, ACTOR, chama.id, member_id=m, limit=5)
    assert [e.id for e in page] == ids[::-1][:5]
    assert [e.id for e in ledger.list_entries(session, ACTOR, chama.id, member_id=m, before_id=page[-1].id)] == \
        ids[:2][::-1]


def test_members_set_to_no_sms_become_core_opt_outs_and_back(fresh_database_url, make_org):
    """c002: the member column moves into the core opt-outs, and a downgrade puts it back."""
    from sqlalchemy import text

    from core.chama.members import add_member, get_member
    from db.engine import open_database
    from db.migrate import downgrade, upgrade

    db = open_database(fresh_database_url)
    try:
        with db.session() as session:
            org = make_org(session, "chama")
            quiet = add_member(session, ACTOR, org.id, name="Quiet One", phone="0712000001")
            loud = add_member(session, ACTOR, org.id, name="Loud One", phone="0712000002")
            session.commit()
        downgrade(db.engine, "c001")
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE chama_members SET sms_opt_out = :yes WHERE id = :id"),
                         {"yes": True, "id": quiet.id})
        upgrade(db.engine)
        with db.session() as session:
            assert get_member(session, ACTOR, org.id, quiet.id).sms_opt_out is True
            assert get_member(session, ACTOR, org.id, loud.id).sms_opt_out is False
            assert session.execute(text("SELECT channel, address, source FROM opt_outs")).all() == [
                ("sms", quiet.phone, "member setting")]
        downgrade(db.engine, "c001")
        with db.engine.connect() as conn:
            assert dict(conn.execute(text("SELECT id, sms_opt_out FROM chama_members")).all()) == {
                quiet.id: True, loud.id: False}
        upgrade(db.engine)  # again: the opt-out is there once
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM opt_outs")).scalar() == 1
    finally:
        db.dispose()


def test_the_chama_branch_migrates_down_and_up_alone(fresh_database_url):
    from sqlalchemy import inspect

    from db.engine import make_engine, schema_state
    from db.migrate import downgrade, upgrade

    engine = make_engine(fresh_database_url)
    try:
        upgrade(engine)
        downgrade(engine, "c001")
        downgrade(engine, "chama@-1")  # c001, the chama tables; not the core revisions c002 needs
        tables = set(inspect(engine).get_table_names())
        assert not {t for t in tables if t.startswith("chama_")} and "orgs" in tables
        assert schema_state(engine)[0] == "behind"
        upgrade(engine)
        assert "chama_ledger" in inspect(engine).get_table_names()
        assert schema_state(engine)[0] == "current"
    finally:
        engine.dispose()


def test_a_page_of_members_balances_comes_in_one_go_and_agrees(session, chama):
    fatuma, mercy = chama.members
    ledger.record_contribution(session, ACTOR, chama.id, fatuma.id, 10_000)
    fines.charge_fine(session, ACTOR, chama.id, mercy.id, 500, reason="late")
    ids = [m.id for m in chama.everyone]
    many = ledger.balances_of_members(session, ACTOR, chama.id, ids)
    assert many == {m: ledger.member_balances(session, ACTOR, chama.id, m) for m in ids}
    assert (many[fatuma.id].savings_minor, many[mercy.id].fines_owed_minor, many[chama.chair.id].savings_minor) \
        == (10_000, 500, 0)
