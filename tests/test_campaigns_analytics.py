"""Campaign analytics beyond the counts: what the provider said the messages cost, sends per
day on the org's clock, and each vendor's engagement across campaigns (paged in the core)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select

import core.campaigns  # noqa: F401
from core import outbox
from core.campaigns import service
from core.campaigns.reports import campaign_report, sends_by_day, vendor_engagement
from core.money import parse_provider_cost
from db.models import Message
from db.models_campaigns import MessageCost
from tests.campaigns_support import ACTOR, add_contacts
from tests.fakes import phone
from tests.fakes.africastalking import Script, fake_at  # noqa: F401  (fixture)


def test_a_providers_price_is_read_in_minor_units_rounded_half_up():
    assert parse_provider_cost("KES 0.8000") == (80, "KES")
    assert parse_provider_cost("KES 0.4350") == (44, "KES")
    assert parse_provider_cost("UGX 25.0000") == (25, "UGX")
    assert parse_provider_cost("usd 0.0070") == (1, "USD")
    for nothing in ("0", "", None, "KES", "KES abc", "KES -1", "KES NaN"):
        assert parse_provider_cost(nothing) is None


def test_the_cost_africas_talking_reports_is_kept_per_message_and_totalled_per_campaign(
        committed_db, make_org, fake_at):
    with committed_db.session() as s:
        org_id = make_org(s, "chama", name="Umoja").id
        add_contacts(s, org_id, 6)
        personal = service.create_campaign(s, ACTOR, org_id, name="Personal", text="Habari {{ first_name }}")
        service.launch_campaign(s, ACTOR, org_id, personal.id)
        long_text = "Mkutano " + "x" * 170  # two segments: twice the price
        bulk = service.create_campaign(s, ACTOR, org_id, name="Bulk", text=long_text)
        service.launch_campaign(s, ACTOR, org_id, bulk.id)
    fake_at.on_number(phone(0), cost="KES 1.2000")
    fake_at.on_number(phone(5), status_code=406)  # not sent: the API says "0", nothing is kept
    for limit in (6, None):  # one campaign, then the other: each number once per batch, so the text goes in bulk
        outbox.send_due(committed_db, {"sms": fake_at.provider()}, parallel=4, batch_size=20, limit=limit)
    assert any(len(r.to) > 1 for r in fake_at.requests), "the identical text went in one bulk request"

    with committed_db.session() as s:
        costs = dict(s.execute(select(Message.to_address, MessageCost.amount_minor)
                               .join(MessageCost, MessageCost.message_id == Message.id)
                               .where(Message.campaign_id == personal.id)).all())
        assert costs == {phone(0): 120, **{phone(i): 80 for i in range(1, 5)}}
        report = {r.name: r for r in campaign_report(s, ACTOR, org_id)}
    p, b = report["Personal"], report["Bulk"]
    assert (p.sent, p.failed, p.priced, p.cost_minor, p.cost_per_message_minor, p.cost_currency) == \
        (5, 1, 5, 440, 88, "KES")
    assert (b.sent, b.priced, b.cost_minor, b.cost_per_message_minor, b.cost_currency) == \
        (5, 5, 4 * 160 + 120, 152, "KES")  # two segments each; the scripted price of phone(0) holds here too


def test_sends_per_day_are_counted_on_the_orgs_clock(session, make_org):
    org = make_org(session, "chama", timezone="Africa/Nairobi")  # UTC+3
    add_contacts(session, org.id, 6)
    c = service.create_campaign(session, ACTOR, org.id, name="Days", text="Hi {{ first_name }}")
    service.launch_campaign(session, ACTOR, org.id, c.id)
    rows = session.scalars(select(Message).where(Message.campaign_id == c.id).order_by(Message.id)).all()
    late_evening = datetime(2026, 11, 1, 20, 30, tzinfo=timezone.utc)  # 23:30 in Nairobi: still the 1st
    after_midnight = datetime(2026, 11, 1, 21, 30, tzinfo=timezone.utc)  # 00:30 on the 2nd in Nairobi
    for m, status, at in zip(rows, ["sent", "delivered", "sent", "failed", "unknown", "queued"],
                             [late_evening, late_evening, after_midnight, after_midnight, after_midnight, None]):
        m.status = status
        if status in ("sent", "delivered"):
            m.sent_at = at
        elif at is not None:
            m.updated_at = at
    session.flush()
    session.execute(Message.__table__.update().where(Message.id.in_([rows[3].id, rows[4].id]))
                    .values(updated_at=after_midnight))
    session.commit()
    days = sends_by_day(session, ACTOR, org.id, c.id)
    assert [(d.day, d.sent, d.delivered, d.failed, d.unknown) for d in days] == [
        (date(2026, 11, 1), 2, 1, 0, 0), (date(2026, 11, 2), 1, 0, 1, 1)]


def test_vendor_engagement_across_campaigns_is_paged_by_vendor(session, make_org):
    from core.vendors import add_vendor

    org = make_org(session, "campaigns", country="IN")
    vendors = [add_vendor(session, ACTOR, org.id, business_name=f"Shop {i}", owner_name=f"O{i}",
                          phone=f"90000000{i:02d}", district="Pune", state="Maharashtra") for i in range(3)]
    sent_at = datetime.now(timezone.utc) - timedelta(minutes=30)
    campaigns = []
    for name in ("First", "Second"):
        c = service.create_campaign(session, ACTOR, org.id, name=name, text="Hi {{ business_name }}")
        service.launch_campaign(session, ACTOR, org.id, c.id)
        campaigns.append(c)
        for m in session.scalars(select(Message).where(Message.campaign_id == c.id)):
            is_first = m.to_address == vendors[0].phone
            m.status, m.sent_at = ("delivered" if is_first else "sent"), sent_at
            if name == "Second" and m.to_address == vendors[2].phone:
                m.status, m.sent_at, m.last_error = "failed", None, "Africa's Talking 406 UserInBlacklist"
        session.commit()
        sent_at += timedelta(minutes=10)
    # Shop 0 answers the second campaign twice; Shop 1 once; Shop 2 never.
    for inbound_id, (who, minutes) in enumerate([(0, 1), (0, 2), (1, 3)], 1):
        assert service.record_response(session, org.id, phone=vendors[who].phone, text="1",
                                       received_at=sent_at + timedelta(minutes=minutes), inbound_id=inbound_id)
    session.commit()

    first_page = vendor_engagement(session, ACTOR, org.id, limit=2)
    second_page = vendor_engagement(session, ACTOR, org.id, after_id=first_page[-1].vendor_id, limit=2)
    assert [len(first_page), len(second_page)] == [2, 1]
    got = {v.business_name: v for v in first_page + second_page}
    assert [(v.campaigns, v.received, v.delivered, v.responses, v.response_rate)
            for v in (got["Shop 0"], got["Shop 1"], got["Shop 2"])] == [
        (2, 2, 2, 2, 1.0), (2, 2, 0, 1, 0.5), (2, 1, 0, 0, 0.0)]
    assert got["Shop 0"].last_response_at == sent_at + timedelta(minutes=2)
    assert got["Shop 2"].last_response_at is None
    assert vendor_engagement(session, ACTOR, org.id, after_id=second_page[-1].vendor_id) == []


def test_a_message_sent_again_after_an_operators_verdict_adds_its_second_price(committed_db, make_org, fake_at):
    with committed_db.session() as s:
        org_id = make_org(s, "chama").id
        message_id = outbox.send_message(s, ACTOR, org_id, to=phone(1), body="Habari").id
    outbox.send_due(committed_db, {"sms": fake_at.provider()})
    with committed_db.session() as s:
        s.execute(Message.__table__.update().where(Message.id == message_id).values(status="unknown"))
        s.commit()
        outbox.settle_unknown(s, ACTOR, org_id, message_id, sent=False)  # "it did not go: send it again"
    outbox.send_due(committed_db, {"sms": fake_at.provider()}, parallel=2)
    with committed_db.session() as s:
        cost = s.get(MessageCost, message_id)
        assert (cost.amount_minor, cost.currency) == (160, "KES")
    assert len(fake_at.received_for(phone(1))) == 2
