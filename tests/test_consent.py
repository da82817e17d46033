"""Consent in one place: the STOP/START words, the outbox's opt-out rule for each purpose
(queued messages included), and codes that nobody but the sender reads."""

from __future__ import annotations

import itertools
import logging
import re
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import event, select

from core import inbound, otp, outbox
from core.actors import Actor
from core.campaigns import service as campaigns
from core.errors import InvalidInput
from core.optouts import consent_word, is_opted_out, opt_out
from core.orgs import set_sms_number
from core.permissions import ROLES
from core.providers.log import LogProvider
from core.users import add_user, set_second_factor
from db.models import Message, StaffOtp
from db.types import utcnow
from tests.campaigns_support import add_contacts
from tests.fakes import phone
from tests.live_gateway import running_gateway

_ids = itertools.count(1)
FAR = utcnow() + timedelta(days=3650)
CODE = re.compile(r"\b\d{6}\b")


def text(session, sender: str, body: str, to: str = "22384"):
    return inbound.receive(session, provider="africastalking", provider_message_id=f"C-{next(_ids)}",
                           from_phone=sender, to=to, text=body)


def claim_all(session) -> list:
    """What the sender would take now and for years ahead (every channel)."""
    return outbox.claim_due(session, "test", list(outbox.CHANNELS), 10_000, FAR)


# ---------------------------------------------------------------- the words

@pytest.mark.parametrize("said, word", [
    ("STOP", "STOP"), ("stop", "STOP"), ("Stop.", "STOP"), ("stop please", "STOP"), ("STOP ALL", "STOP"),
    ("StopAll", "STOP"), ("STOP-ALL", "STOP"), (" stop! ", "STOP"), ("UNSUBSCRIBE", "STOP"),
    ("Unsubscribe me", "STOP"), ("END", "STOP"), ("quit.", "STOP"), ("opt out", "STOP"), ("ACHA", "STOP"),
    ("Acha!", "STOP"), ("ＳＴＯＰ", "STOP"), ("Stop promotions", "STOP"),
    ("START", "START"), ("start again", "START"), ("Unstop", "START"), ("ANZA", "START"),
    # What people say about other things stays theirs.
    ("End of month payment?", None), ("Acha nikupigie", None), ("cancel", None), ("Cancel my booking", None),
    ("stopped by yesterday", None), ("yes", None), ("BAL", None), ("", None), ("...", None),
    ("anza lini?", None),
])
def test_one_reading_of_stop_and_start(said, word):
    assert consent_word(said) == word


# ---------------------------------------------------------------- the outbox's rule

def test_an_opt_out_holds_back_service_and_marketing_but_not_transactional(session, make_org):
    org = make_org(session, "chama")
    to = phone(1)
    opt_out(session, org.id, "sms", to, source="sms")
    ids = {purpose: outbox.enqueue(session, org.id, to=to, body=f"a {purpose} message", purpose=purpose)
           for purpose in outbox.PURPOSES}
    rows = {purpose: session.get(Message, i) for purpose, i in ids.items()}
    assert {p: m.status for p, m in rows.items()} == {
        "transactional": "queued", "service": "opted_out", "marketing": "opted_out"}
    assert "opted out" in rows["service"].last_error
    # Another channel of the same number is its own consent.
    assert session.get(Message, outbox.enqueue(session, org.id, to=to, body="x", purpose="service",
                                               channel="whatsapp")).status == "queued"
    assert outbox.enqueue_many(session, org.id, [{"channel": "sms", "to_address": to, "body": "buy"},
                                                 {"channel": "sms", "to_address": phone(2), "body": "buy"}],
                               purpose="marketing") == 1
    with pytest.raises(ValueError, match="purpose"):
        outbox.enqueue(session, org.id, to=to, body="x", purpose="promotional")


def test_opt_outs_take_effect_for_messages_already_queued(session, make_org):
    org = make_org(session, "chama")
    to = phone(3)
    queued = {p: outbox.enqueue(session, org.id, to=to, body=f"{p}", purpose=p) for p in outbox.PURPOSES}
    opt_out(session, org.id, "sms", to, source="sms")
    session.commit()
    assert [m.body for m in claim_all(session)] == ["transactional"]
    for purpose in ("service", "marketing"):
        withdrawn = session.get(Message, queued[purpose])
        session.refresh(withdrawn)
        assert withdrawn.status == "opted_out" and "opted out" in withdrawn.last_error


def test_a_batch_that_was_all_withdrawn_does_not_end_the_run(committed_db, make_org, caplog):
    with committed_db.session() as s:
        org = make_org(s, "chama")
        for i in range(3):
            outbox.enqueue(s, org.id, to=phone(10), body=f"reminder {i}", purpose="service")
        outbox.enqueue(s, org.id, to=phone(11), body="your receipt", purpose="transactional")
        opt_out(s, org.id, "sms", phone(10), source="sms")
        s.commit()
    with caplog.at_level(logging.INFO, logger="ofisi.outbox.log"):
        summary = outbox.send_due(committed_db, {"sms": LogProvider()}, batch_size=2)
    assert summary.sent == 1 and [r.getMessage() for r in caplog.records] == [f"SMS to {phone(11)}: your receipt"]
    with committed_db.session() as s:
        assert sorted(s.scalars(select(Message.status))) == ["opted_out"] * 3 + ["sent"]


def test_a_campaign_reads_the_opt_outs_once_per_run(session, make_org):
    org = make_org(session, "campaigns")
    phones = add_contacts(session, org.id, 40)
    for number in phones[:5]:
        opt_out(session, org.id, "sms", number, source="sms")
    c = campaigns.create_campaign(session, Actor.system_actor("cli:test"), org.id, name="Week", text="Hi",
                                  audience="contacts")
    reads = []

    def count(conn, cursor, statement, *args) -> None:
        if "opt_outs" in statement:
            reads.append(statement)

    engine = session.connection().engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        result = campaigns.launch_campaign(session, Actor.system_actor("cli:test"), org.id, c.id)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert (result.queued, result.skipped) == (35, {"opted_out": 5})
    assert len(reads) == 1


# ---------------------------------------------------------------- codes

def _staff(session, cli_actor, org, role: str, i: int, *, phone_number: str | None = None):
    user = add_user(session, cli_actor, f"{role}{i}@{org.slug}.example", org_id=org.id, role=role,
                    password="a-long-password", phone=phone_number)
    return user, Actor.staff(user.id, user.email)


@pytest.mark.parametrize("kind, role", [("salon", "professional"), ("agency", "agent"), ("campaigns", "viewer"),
                                        ("chama", "secretary"), ("community", "moderator")])
def test_no_role_can_read_a_code_from_the_outbox(session, make_org, cli_actor, kind, role):
    from console.data import home_data

    org = make_org(session, kind)
    admin, _ = _staff(session, cli_actor, org, ROLES[kind][0], 1, phone_number=phone(700))
    sent = set_second_factor(session, cli_actor, admin.email, on=True)  # a code to confirm the phone
    assert sent.code_sent_to
    if kind == "community":
        from core.community.otp import request_code

        request_code(session, cli_actor, org.id, phone(701))
    outbox.enqueue(session, org.id, to=phone(702), body="Your receipt 123456789", purpose="transactional")
    session.commit()
    codes = list(session.scalars(select(Message.body).where(Message.org_id == org.id, Message.secret.is_(True))))
    assert codes and all(CODE.search(body) for body in codes)  # the sender's copy is whole until it goes
    _, actor = _staff(session, cli_actor, org, role, 2)
    seen = outbox.list_messages(session, actor, org.id) + home_data(session, actor, org.id).recent_messages
    assert len([m for m in seen if m.secret]) == 2 * len(codes)
    for message in seen:
        assert not CODE.search(message.body) or not message.secret, message
        assert message.body == outbox.REDACTED if message.secret else "receipt" in message.body


def test_a_code_is_redacted_once_sent_and_never_logged(committed_db, make_org, cli_actor, caplog):
    with committed_db.session() as s:
        org = make_org(s, "salon")
        admin, _ = _staff(s, cli_actor, org, "owner", 1, phone_number=phone(710))
        set_second_factor(s, cli_actor, admin.email, on=True)
        code = CODE.search(s.scalar(select(Message.body).where(Message.secret.is_(True)))).group()
    with caplog.at_level(logging.INFO):
        assert outbox.send_due(committed_db, {"sms": LogProvider()}).sent == 1
    assert caplog.records and not any(code in r.getMessage() for r in caplog.records)
    with committed_db.session() as s:
        row = s.scalar(select(Message).where(Message.secret.is_(True)))
        assert (row.status, row.body) == ("sent", outbox.REDACTED)


def test_a_code_of_unknown_fate_is_redacted_and_not_sent_again(session, make_org, cli_actor):
    org = make_org(session, "salon")
    owner, _ = _staff(session, cli_actor, org, "owner", 1)
    sent = otp.send_code(session, StaffOtp, {"user_id": owner.id}, org_id=org.id, channel="sms",
                         address=phone(720), sender="Ofisi", key="staff:otp", now=utcnow())
    other = outbox.enqueue(session, org.id, to=phone(721), body="Karibu", purpose="service")
    session.commit()
    claim_all(session)
    session.execute(Message.__table__.update().values(status="sending", claimed_at=utcnow() - timedelta(hours=1)))
    session.commit()
    assert outbox.recover_stale(session, utcnow(), timedelta(minutes=5)) == (0, 2)
    code, plain = session.get(Message, sent.message_id), session.get(Message, other)
    session.refresh(code), session.refresh(plain)
    assert (code.status, code.body) == ("unknown", outbox.REDACTED) and plain.body == "Karibu"
    with pytest.raises(InvalidInput, match="not sent twice"):
        outbox.settle_unknown(session, cli_actor, org.id, code.id, sent=False)
    assert outbox.settle_unknown(session, cli_actor, org.id, other, sent=False).status == "queued"


def test_a_delivery_report_before_the_sender_records_the_send_redacts_the_code(session, make_org):
    org = make_org(session, "community")
    message_id = outbox.enqueue(session, org.id, to=phone(730), body="111222 is your code", purpose="transactional",
                                secret=True)
    row = session.get(Message, message_id)
    row.status, row.provider, row.provider_message_id = "sending", "africastalking", "ATX-730"
    session.commit()
    assert outbox.record_delivery_report(session, "africastalking", "ATX-730", "Success").body == outbox.REDACTED
    assert session.get(Message, message_id).body == outbox.REDACTED


def test_the_cli_lists_no_code(backend, tmp_path, monkeypatch):
    if backend != "sqlite":
        pytest.skip("the command calls the same core service on either backend")
    from typer.testing import CliRunner

    from commands.main import app
    from db.engine import open_database

    monkeypatch.setenv("OFISI_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    runner = CliRunner()
    assert runner.invoke(app, ["org", "create", "glow", "--kind", "salon", "--name", "Glow"]).exit_code == 0
    added = runner.invoke(app, ["user", "add", "w@glow.example", "--org", "glow", "--role", "owner", "--phone",
                                "0712345123", "--otp", "--password-stdin"], input="a-long-password\n")
    assert added.exit_code == 0, added.output
    db = open_database(f"sqlite:///{tmp_path / 'cli.db'}")
    try:
        with db.session() as s:  # the sender died mid-send: the code's fate is unknown
            code = CODE.search(s.scalar(select(Message.body))).group()
            s.execute(Message.__table__.update().values(status="unknown"))
            s.commit()
    finally:
        db.dispose()
    listed = runner.invoke(app, ["send", "unknown", "--org", "glow", "--json"])
    assert listed.exit_code == 0 and '"secret": true' in listed.stdout
    assert code not in listed.stdout and outbox.REDACTED in listed.stdout


# ---------------------------------------------------------------- WhatsApp replies

def _whatsapp_hook(sender: str, body: str, message_id: str, *, button: bool = False) -> dict:
    """A message as the WhatsApp Cloud API posts it to the webhook: typed, or a template's quick reply."""
    said = {"type": "button", "button": {"text": body, "payload": "opt-out"}} if button else \
        {"type": "text", "text": {"body": body}}
    return {"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{
        "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
            "contacts": [{"profile": {"name": "Wanjiru"}, "wa_id": sender.lstrip("+")}],
            "messages": [{"from": sender.lstrip("+"), "id": message_id, "timestamp": "1760000000", **said}]}}]}]}


def test_stop_by_whatsapp_opts_the_number_out_of_whatsapp(committed_db, make_org):
    with committed_db.session() as s:
        org = make_org(s, "campaigns")
        numbers = add_contacts(s, org.id, 3)
        org_id = org.id
    with running_gateway(committed_db) as base:
        answer = httpx.post(f"{base}/whatsapp/webhook", json=_whatsapp_hook(numbers[0], "Stop.", "wamid.S1"),
                            timeout=10)
        assert answer.status_code == 200 and answer.text == "ok: 0 of 0 known; messages handled"
        again = httpx.post(f"{base}/whatsapp/webhook", json=_whatsapp_hook(numbers[0], "Stop.", "wamid.S1"),
                           timeout=10)
        assert again.text == "ok: 0 of 0 known; messages duplicate"
        button = httpx.post(f"{base}/whatsapp/webhook", timeout=10,
                            json=_whatsapp_hook(numbers[1], "Stop promotions", "wamid.S2", button=True))
        assert button.text == "ok: 0 of 0 known; messages handled"
    with committed_db.session() as s:
        assert is_opted_out(s, org_id, "whatsapp", numbers[0])
        assert not is_opted_out(s, org_id, "sms", numbers[0])  # WhatsApp's STOP is WhatsApp's
        assert is_opted_out(s, org_id, "whatsapp", numbers[1])
        reply, _ = s.scalars(select(Message).where(Message.idempotency_key.like("inbound:%")).order_by(Message.id))
        assert (reply.channel, reply.to_address, reply.purpose) == ("whatsapp", numbers[0], "transactional")
        assert "no more WhatsApp messages" in reply.body
        c = campaigns.create_campaign(s, Actor.system_actor("cli:test"), org_id, name="WA", channel="whatsapp",
                                      subject="scheme_notice", text="Habari {{ first_name }}", audience="contacts")
        launched = campaigns.launch_campaign(s, Actor.system_actor("cli:test"), org_id, c.id)
        assert (launched.queued, launched.skipped) == (1, {"opted_out": 2})


def test_a_vendor_who_is_nobodys_contact_stops_by_whatsapp_to_the_programmes_number(committed_db, make_org):
    from core.vendors import add_vendor, get_vendor

    actor = Actor.system_actor("cli:test")
    with committed_db.session() as s:
        org = make_org(s, "campaigns", country="IN")
        set_sms_number(s, actor, org.id, "+1 555 078 3881")  # the WhatsApp business number's display number
        vendor = add_vendor(s, actor, org.id, business_name="Sai Textiles", owner_name="Priya", phone="9876543210")
    with running_gateway(committed_db) as base:
        answer = httpx.post(f"{base}/whatsapp/webhook", json=_whatsapp_hook(vendor.phone, "ACHA", "wamid.V1"),
                            timeout=10)
        assert answer.text == "ok: 0 of 0 known; messages handled"
    with committed_db.session() as s:
        assert get_vendor(s, actor, org.id, vendor.id).whatsapp_opt_out is True
        assert get_vendor(s, actor, org.id, vendor.id).sms_opt_out is False


@pytest.mark.parametrize("value", [None, "x", [], {"messages": "x"}, {"messages": [None, "x", {"text": "STOP"}]},
                                   {"messages": [{"id": "w", "from": "254700000001", "text": {"body": ""}}]},
                                   {"metadata": "x", "messages": [{"id": "w", "from": "2547", "image": {}}]}])
def test_whatsapp_bodies_without_a_readable_message_give_none(value):
    from ussd.campaigns import messages

    assert messages({"entry": [{"changes": [{"value": value}]}]}) == []
