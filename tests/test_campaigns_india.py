"""SMS to India: an Indian vendor campaign goes through Exotel's HTTP API (the real client,
``httpx``, against a fake of the API on loopback) with the DLT entity and template IDs on every
message, while other numbers keep their provider; each message is recorded under the provider
that carried it, and Exotel's delivery reports come back through the gateway over real HTTP."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

import core.campaigns  # noqa: F401
from core import outbox
from core.campaigns import service
from core.providers import OutgoingMessage, PermanentSendError, build_providers
from db.models import Message
from tests.campaigns_support import ACTOR, DLT_ENTITY, DLT_TEMPLATE, dlt_template, message_states
from tests.fakes.exotel import SENDER_ID, fake_exotel, india  # noqa: F401  (fixtures)
from tests.live_gateway import running_gateway

TOKEN = "exo-t0ken"


def test_an_indian_vendor_campaign_goes_through_exotel_with_the_dlt_ids_and_its_delivery_reports_come_back(
        committed_db, make_org, india, fake_exotel, monkeypatch):
    from config import get_settings, load_settings
    from core.vendors import add_vendor

    with committed_db.session() as s:
        org = make_org(s, "campaigns", country="IN", name="Udyam Mitra")
        for i, (name, number) in enumerate([("Priya", "9876543210"), ("Ravi", "9123456789"),
                                            ("Wanjiku", "+254712000001")]):
            add_vendor(s, ACTOR, org.id, business_name=f"Shop {i}", owner_name=name, phone=number)
        c = service.create_campaign(s, ACTOR, org.id, name="Scheme", template=dlt_template(
            s, org.id, "scheme", "Namaste {{ first_name }}, the MSME scheme closes Friday. -Udyam Mitra"))
        assert service.launch_campaign(s, ACTOR, org.id, c.id).queued == 3
    with running_gateway(committed_db, load_settings({"OFISI_CALLBACK_TOKEN": TOKEN})) as base:
        monkeypatch.setenv("OFISI_PUBLIC_URL", base)
        monkeypatch.setenv("OFISI_CALLBACK_TOKEN", TOKEN)
        get_settings.cache_clear()
        providers = build_providers(get_settings())
        summary = outbox.send_due(committed_db, providers, parallel=2)
        providers["sms"].close()
        assert (summary.sent, summary.failed) == (3, 0)
        got = sorted(fake_exotel.messages, key=lambda m: m["To"])
        assert [m["To"] for m in got] == ["+919123456789", "+919876543210"]  # the Kenyan number went its own way
        assert all((m["DltEntityId"], m["DltTemplateId"], m["From"]) == (DLT_ENTITY, DLT_TEMPLATE, SENDER_ID)
                   for m in got)
        assert got[1]["Body"] == "Namaste Priya, the MSME scheme closes Friday. -Udyam Mitra"
        assert "EncodingType" not in got[1]
        assert {m["StatusCallback"] for m in got} == {f"{base}/sms/exotel/delivery?token={TOKEN}"}
        with committed_db.session() as s:
            assert message_states(s, c.id) == {"sent": 3}
            carried = dict(s.execute(select(Message.to_address, Message.provider)
                                     .where(Message.campaign_id == c.id)).all())
        assert carried == {"+919123456789": "exotel", "+919876543210": "exotel", "+254712000001": "log"}

        # Exotel's reports, over HTTP: Priya's reached her handset, Ravi's number is on DND.
        assert fake_exotel.report(got[1], "sent", "DELIVERED_TO_HANDSET", "20005").text == "ok"
        dnd = fake_exotel.report(got[0], "failed-dnd", "DND_FAILURE", "30007")
        assert (dnd.status_code, dnd.text) == (200, "ok")
        assert fake_exotel.report(got[1], "queued").text == "ok"  # late and out of order: changes nothing
        assert fake_exotel.report({**got[0], "Sid": "not-ours"}, "sent").text == "ignored: unknown message"
        forged = httpx.post(f"{base}/sms/exotel/delivery", data={"SmsSid": got[0]["Sid"], "Status": "sent"})
        assert forged.status_code == 403  # without the token
    with committed_db.session() as s:
        rows = dict(s.execute(select(Message.to_address, Message.status).where(Message.campaign_id == c.id)).all())
        ravi = s.scalar(select(Message.last_error).where(Message.to_address == "+919123456789"))
    assert rows == {"+919876543210": "delivered", "+919123456789": "failed", "+254712000001": "sent"}
    assert "Do Not Disturb" in ravi and "DND_FAILURE (30007)" in ravi


def test_the_exotel_client_refuses_an_sms_to_india_without_dlt_ids_and_says_why(india, fake_exotel):
    from core.providers.exotel import ExotelSMS

    provider = ExotelSMS.from_settings(india)
    with pytest.raises(PermanentSendError, match="needs the DLT entity ID and the DLT template ID"):
        provider.send(OutgoingMessage(1, 1, "sms", "+919876543210", None, "Hi"))
    sent = provider.send(OutgoingMessage(2, 1, "sms", "+919876543210", f"dlt:{DLT_ENTITY}:{DLT_TEMPLATE}", "नमस्ते"))
    assert sent.provider_message_id and fake_exotel.messages[-1]["EncodingType"] == "unicode"
    provider.close()


def test_a_campaign_refused_for_india_names_the_missing_registration(session, make_org, india):
    from core import templates
    from core.vendors import add_vendor

    org = make_org(session, "campaigns", country="IN")
    add_vendor(session, ACTOR, org.id, business_name="Sai", owner_name="Priya", phone="9876543210")
    c = service.create_campaign(session, ACTOR, org.id, name="x", text="Hi {{ first_name }}")
    from core.errors import InvalidInput
    with pytest.raises(InvalidInput, match="its own text has no DLT template ID"):
        service.check_launch(session, ACTOR, org.id, c.id)
    templates.save_template(session, ACTOR, org.id, name="t", channel="sms", body="Hi")
    with pytest.raises(InvalidInput, match="--dlt-template-id"):
        service.test_send(session, ACTOR, org.id, service.create_campaign(
            session, ACTOR, org.id, name="y", template="t").id, to="+919876543210")
