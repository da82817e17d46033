"""Vendors one at a time: checked fields, clashes refused by name, audited changes, opt-outs, tenancy."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.actors import Actor
from core.errors import Conflict, InvalidInput, NotFound
from core.users import add_user
from core.vendors import add_vendor, get_vendor, list_vendors, set_opt_out, update_vendor
from db.models import AuditEntry
from tests.vendors_support import ACTOR


@pytest.fixture
def org(session, make_org):
    return make_org(session, "campaigns", country="IN")


def test_add_update_and_opt_out_are_checked_and_audited(session, org):
    sai = add_vendor(session, ACTOR, org.id, business_name="  Sai   Textiles ", gstin="27aapfu0939f1zv",
                     phone="098765 43210", tags="Women Led; export", size="Micro")
    assert (sai.business_name, sai.gstin, sai.pan, sai.phone, sai.tags, sai.size, sai.status) == (
        "Sai Textiles", "27AAPFU0939F1ZV", "AAPFU0939F", "+919876543210", ("export", "women-led"), "micro", "active")
    with pytest.raises(InvalidInput) as refused:
        add_vendor(session, ACTOR, org.id, business_name="", gstin="27AAPFU0939F1ZW", email="nope")
    text = str(refused.value)
    assert "gstin: '27AAPFU0939F1ZW' is not a valid GSTIN" in text and "email: 'nope' is not an email" in text
    assert "business name: the business name is empty" in text
    with pytest.raises(Conflict, match="Sai Textiles already has the phone \\+919876543210"):
        add_vendor(session, ACTOR, org.id, business_name="Copy", phone="9876543210")

    changed = update_vendor(session, ACTOR, org.id, sai.id, district="Pune", tags="", email="Priya@Example.IN")
    assert (changed.district, changed.tags, changed.email) == ("Pune", (), "Priya@example.in")
    with pytest.raises(InvalidInput, match="business name cannot be blank"):
        update_vendor(session, ACTOR, org.id, sai.id, business_name=" ")
    with pytest.raises(InvalidInput, match="needs a phone, a GSTIN or an Udyam number"):
        update_vendor(session, ACTOR, org.id, sai.id, phone="", gstin="")
    assert set_opt_out(session, ACTOR, org.id, sai.id, "sms").opted_out("sms") is True
    assert get_vendor(session, ACTOR, org.id, sai.id).address("whatsapp") == "+919876543210"
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "vendor")
                              .order_by(AuditEntry.id)).all()
    assert actions == ["vendors.add", "vendors.update", "vendors.opt_out"]
    update = session.scalar(select(AuditEntry).where(AuditEntry.action == "vendors.update"))
    assert update.before == {"email": None, "district": "", "tags": ["export", "women-led"]}


def test_lists_are_keyset_pages_and_other_orgs_see_nothing(session, org, make_org):
    for i in range(7):
        add_vendor(session, ACTOR, org.id, business_name=f"Shop {6 - i}", phone=f"98765{i:05d}")
    first = list_vendors(session, ACTOR, org.id, limit=3)
    second = list_vendors(session, ACTOR, org.id, limit=3, after=first.after)
    third = list_vendors(session, ACTOR, org.id, limit=3, after=second.after)
    assert [v.business_name for v in first.vendors + second.vendors + third.vendors] == [f"Shop {i}" for i in range(7)]
    assert third.after is None
    assert [v.business_name for v in list_vendors(session, ACTOR, org.id, search="98765 00000").vendors] == ["Shop 6"]

    other = make_org(session, "campaigns", country="IN")
    user = add_user(session, ACTOR, "o@example.in", org_id=other.id, role="admin", name="O", password="pw-123456789")
    stranger = Actor.staff(user.id, user.email)
    with pytest.raises(NotFound):
        list_vendors(session, stranger, org.id)
    with pytest.raises(NotFound, match="That vendor does not exist"):
        get_vendor(session, stranger, other.id, first.vendors[0].id)


def test_a_vendors_opt_outs_are_the_cores_record_of_its_addresses(session, org):
    """The registry's switch, a STOP by SMS and every send read one record, by address."""
    from core import inbound
    from core.optouts import is_opted_out
    from core.orgs import set_sms_number

    asha = add_vendor(session, ACTOR, org.id, business_name="Asha Foods", phone="098765 43211",
                      email="Asha.K@Example.IN")
    set_opt_out(session, ACTOR, org.id, asha.id, "email")
    assert is_opted_out(session, org.id, "email", "asha.k@example.in")  # as the outbox sends to it
    with pytest.raises(InvalidInput, match="No Phone has no whatsapp address"):
        set_opt_out(session, ACTOR, org.id, add_vendor(session, ACTOR, org.id, business_name="No Phone",
                                                       gstin="27AAPFU0939F1ZV").id, "whatsapp")
    set_sms_number(session, ACTOR, org.id, "56789")  # the programme's own short code
    inbound.receive(session, provider="africastalking", provider_message_id="ATX-stop-1", from_phone=asha.phone,
                    to="56789", text="STOP")
    seen = get_vendor(session, ACTOR, org.id, asha.id)
    assert (seen.sms_opt_out, seen.email_opt_out, seen.whatsapp_opt_out) == (True, True, False)
    assert [v.sms_opt_out for v in list_vendors(session, ACTOR, org.id, search="Asha").vendors] == [True]
    assert set_opt_out(session, ACTOR, org.id, asha.id, "sms", opted_out=False).sms_opt_out is False
    assert not is_opted_out(session, org.id, "sms", asha.phone)


def test_v002_turns_the_vendor_flags_into_opt_outs_and_back(fresh_database_url, make_org):
    from sqlalchemy import text

    from db.engine import open_database
    from db.migrate import downgrade, upgrade

    db = open_database(fresh_database_url)
    try:
        with db.session() as session:
            org = make_org(session, "campaigns", country="IN")
            one = add_vendor(session, ACTOR, org.id, business_name="One", phone="9876543210", email="One@Shop.IN")
            two = add_vendor(session, ACTOR, org.id, business_name="Two", phone="9876543211",
                             whatsapp="9876543299")
            session.commit()
        downgrade(db.engine, "v001")
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE vendors SET email_opt_out = :yes, whatsapp_opt_out = :yes WHERE id = :id"),
                         {"yes": True, "id": one.id})
            conn.execute(text("UPDATE vendors SET whatsapp_opt_out = :yes WHERE id = :id"), {"yes": True, "id": two.id})
        upgrade(db.engine)
        with db.session() as session:
            assert sorted(session.execute(text("SELECT channel, address FROM opt_outs")).all()) == [
                ("email", "one@shop.in"), ("whatsapp", "+919876543210"), ("whatsapp", "+919876543299")]
            assert (get_vendor(session, ACTOR, org.id, one.id).email_opt_out,
                    get_vendor(session, ACTOR, org.id, two.id).sms_opt_out) == (True, False)
        downgrade(db.engine, "v001")
        with db.engine.connect() as conn:
            flags = conn.execute(text("SELECT id, sms_opt_out, email_opt_out, whatsapp_opt_out FROM vendors")).all()
            assert sorted(tuple(map(bool, row[1:])) for row in flags) == [(False, False, True), (False, True, True)]
        upgrade(db.engine)
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM opt_outs")).scalar() == 3
    finally:
        db.dispose()
