"""Email over SMTP and the WhatsApp Cloud API against fakes on loopback, and the
WhatsApp status webhook on the real gateway."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

import core.campaigns  # noqa: F401
from core import outbox
from core.campaigns import service
from core.errors import InvalidInput
from core.providers import OutgoingMessage, PermanentSendError, ThrottledSendError, TransientSendError
from core.providers.smtp import SMTPEmail
from db.models import Message
from tests.campaigns_support import ACTOR, add_contacts, message_states
from tests.fakes import phone
from tests.fakes.smtp import fake_smtp  # noqa: F401  (fixture)
from tests.fakes.whatsapp import Answer, fake_whatsapp  # noqa: F401  (fixture)
from tests.live_gateway import running_gateway


@pytest.fixture
def org_id(committed_db, make_org) -> int:
    with committed_db.session() as s:
        return make_org(s, "chama", name="Umoja").id


def test_campaign_email_is_rendered_html_with_a_text_part_and_one_click_unsubscribe_and_550s_are_suppressed(
        committed_db, org_id, fake_smtp):
    from urllib.parse import urlsplit

    from core import templates

    with committed_db.session() as s:
        add_contacts(s, org_id, 3, email=True)
        templates.save_template(s, ACTOR, org_id, name="News", channel="email",
                                subject="{{ org_name }} news for {{ first_name }}",
                                body="<h1>Hello {{ first_name }}</h1><p>The <b>scheme</b> opens Monday.</p>")
        c = service.create_campaign(s, ACTOR, org_id, name="News", channel="email", template="News")
        service.launch_campaign(s, ACTOR, org_id, c.id)
    provider = SMTPEmail(fake_smtp.url, sender="office@umoja.example")
    fake_smtp.refuse("member2@example.org", 550)
    summary = outbox.send_due(committed_db, {"email": provider}, parallel=2)
    assert (summary.sent, summary.failed, summary.retried) == (2, 1, 0)
    got = {m.recipients[0]: m.message for m in fake_smtp.messages}
    assert set(got) == {"member0@example.org", "member1@example.org"}
    mail = got["member0@example.org"]
    with committed_db.session() as s:
        row = s.scalar(select(Message).where(Message.to_address == "member0@example.org"))
    assert mail["Message-ID"] == f"<ofisi-{row.id}@umoja.example>" == row.provider_message_id
    assert mail["Subject"] == "Umoja news for Member"
    plain, html = [part.get_payload(decode=True).decode().replace("\r\n", "\n") for part in mail.walk()
                   if part.get_content_type() in ("text/plain", "text/html")]
    assert "<h1>Hello Member</h1><p>The <b>scheme</b> opens Monday.</p>" in html  # the saved HTML, not escaped
    assert plain.startswith("Hello Member\n\nThe scheme opens Monday.")
    link = mail["List-Unsubscribe"].strip("<>")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f'href="{link}"' in html and f"Unsubscribe ({link})" in plain
    # The link, over real HTTP: the page asks, the one click opts the address out.
    with running_gateway(committed_db) as base:
        page = httpx.get(base + urlsplit(link).path, timeout=10)
        assert page.status_code == 200 and "<form method=\"post\">" in page.text
        done = httpx.post(base + urlsplit(link).path, data={"List-Unsubscribe": "One-Click"}, timeout=10)
        assert done.status_code == 200 and "no more campaign email" in done.text
        forged = httpx.post(base + urlsplit(link).path[:-3] + "xyz", timeout=10)
        assert forged.status_code == 404
    with committed_db.session() as s:
        assert message_states(s, c.id) == {"sent": 2, "failed": 1}
        again = service.create_campaign(s, ACTOR, org_id, name="News 2", channel="email", template="News")
        result = service.launch_campaign(s, ACTOR, org_id, again.id)
    # member0 unsubscribed by the link, member2 refused with 550: only member1 is written to.
    assert (result.queued, result.skipped) == (1, {"opted_out": 2})
    provider.close()


def test_a_soft_smtp_refusal_is_retried(committed_db, org_id, fake_smtp):
    with committed_db.session() as s:
        add_contacts(s, org_id, 1, email=True)
        c = service.create_campaign(s, ACTOR, org_id, name="N", channel="email", subject="Hi", text="<p>Hi</p>")
        service.launch_campaign(s, ACTOR, org_id, c.id)
    fake_smtp.refuse("member0@example.org", 451)
    provider = SMTPEmail(fake_smtp.url)
    assert outbox.send_due(committed_db, {"email": provider}).retried == 1
    with committed_db.session() as s:
        assert message_states(s, c.id) == {"queued": 1}
        assert not service.create_campaign(s, ACTOR, org_id, name="N2", channel="email", subject="x",
                                           text="y").status == "opted_out"
        from core.optouts import is_opted_out
        assert not is_opted_out(s, org_id, "email", "member0@example.org")
    provider.close()


def test_an_email_campaign_needs_a_subject_and_checks_its_variables_and_plain_text_keeps_its_paragraphs(
        session, make_org):
    org = make_org(session, "chama")
    add_contacts(session, org.id, 1, email=True)
    plain = service.create_campaign(session, ACTOR, org.id, name="N", channel="email", subject="News",
                                    text="Dear {{ first_name }},\n\nWe meet <Friday> & Saturday.\nBring a friend.")
    [line] = service.check_launch(session, ACTOR, org.id, plain.id).lines
    assert line.text.startswith("Dear Member,\n\nWe meet <Friday> & Saturday.\nBring a friend.")
    with pytest.raises(InvalidInput, match="needs a subject"):
        service.create_campaign(session, ACTOR, org.id, name="N", channel="email", text="<p>Hi</p>")
    with pytest.raises(InvalidInput, match=r"The subject cannot be used: \{\{ busines_name \}\}"):
        service.create_campaign(session, ACTOR, org.id, name="N", channel="email", subject="{{ busines_name }}",
                                text="<p>Hi</p>")


def test_smtp_refusals_are_transient_or_permanent_by_code(fake_smtp):
    provider = SMTPEmail(fake_smtp.url)
    fake_smtp.refuse("busy@example.org", 451)
    fake_smtp.refuse("gone@example.org", 550)
    with pytest.raises(TransientSendError, match="451"):
        provider.send(OutgoingMessage(1, 1, "email", "busy@example.org", "s", "b"))
    with pytest.raises(PermanentSendError, match="550"):
        provider.send(OutgoingMessage(2, 1, "email", "gone@example.org", "s", "b"))
    assert provider.send(OutgoingMessage(3, 1, "email", "ok@example.org", "s", "b")).provider_message_id
    provider.close()


def test_whatsapp_templates_text_and_refusals(fake_whatsapp):
    provider = fake_whatsapp.provider()
    sent = provider.send(OutgoingMessage(1, 1, "whatsapp", phone(1), "template:scheme_notice/en", "Habari"))
    assert sent.provider_message_id.startswith("wamid.")
    body = fake_whatsapp.requests[-1].body
    assert body["type"] == "template" and body["template"]["name"] == "scheme_notice"
    assert body["template"]["components"][0]["parameters"] == [{"type": "text", "text": "Habari"}]
    assert body["to"] == phone(1).lstrip("+")
    provider.send(OutgoingMessage(2, 1, "whatsapp", phone(2), None, "Hi"))
    assert fake_whatsapp.requests[-1].body["text"] == {"body": "Hi"}
    fake_whatsapp.on_number(phone(3), Answer(400, 131047))
    with pytest.raises(PermanentSendError, match="24-hour window"):
        provider.send(OutgoingMessage(3, 1, "whatsapp", phone(3), None, "Hi"))
    fake_whatsapp.on_number(phone(4), Answer(429, 130429, retry_after="2"))
    with pytest.raises(ThrottledSendError) as throttled:
        provider.send(OutgoingMessage(4, 1, "whatsapp", phone(4), None, "Hi"))
    assert throttled.value.retry_after == 2.0
    fake_whatsapp.on_number(phone(5), Answer(503))
    with pytest.raises(TransientSendError):
        provider.send(OutgoingMessage(5, 1, "whatsapp", phone(5), None, "Hi"))
    provider.close()


def test_a_whatsapp_campaign_is_sent_and_its_statuses_come_back_through_the_webhook(
        committed_db, org_id, fake_whatsapp):
    with committed_db.session() as s:
        add_contacts(s, org_id, 3)
        c = service.create_campaign(s, ACTOR, org_id, name="WA", channel="whatsapp", subject="scheme_notice/sw",
                                    text="Habari {{ first_name }}")
        service.launch_campaign(s, ACTOR, org_id, c.id)
    summary = outbox.send_due(committed_db, {"whatsapp": fake_whatsapp.provider()}, parallel=2,
                              rate_limits={"whatsapp": 80})
    assert summary.sent == 3
    # The campaign's own text goes as the named template's one parameter, filled, in the language named.
    assert all(r.body["type"] == "template" and r.body["template"]["name"] == "scheme_notice"
               and r.body["template"]["language"] == {"code": "sw"} for r in fake_whatsapp.requests)
    assert fake_whatsapp.requests[0].body["template"]["components"] == [{"type": "body", "parameters": [
        {"type": "text", "text": "Habari Member"}]}]
    with committed_db.session() as s:
        ids = s.scalars(select(Message.provider_message_id).where(Message.campaign_id == c.id)
                        .order_by(Message.id)).all()
    hook = {"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": {
        "statuses": [{"id": ids[0], "status": "delivered"}, {"id": ids[1], "status": "read"},
                     {"id": ids[2], "status": "failed", "errors": [{"code": 131026, "title": "Undeliverable"}]},
                     {"id": "wamid.unknown", "status": "delivered"}]}}]}]}
    with running_gateway(committed_db) as base:
        verify = httpx.get(f"{base}/whatsapp/webhook", params={"hub.mode": "subscribe", "hub.challenge": "42",
                                                               "hub.verify_token": "x"})
        assert verify.text == "42"
        reply = httpx.post(f"{base}/whatsapp/webhook", json=hook, timeout=10)
        assert reply.status_code == 200 and reply.text == "ok: 3 of 4 known"
        again = httpx.post(f"{base}/whatsapp/webhook", json=hook, timeout=10)  # a replay changes nothing
        assert again.status_code == 200
    with committed_db.session() as s:
        rows = s.execute(select(Message.status, Message.last_error).where(Message.campaign_id == c.id)
                         .order_by(Message.id)).all()
    assert [r.status for r in rows] == ["delivered", "delivered", "failed"]
    assert "Undeliverable" in rows[2].last_error


def _whatsapp_message(message_id: str, sender: str, text: str) -> dict:
    return {"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": {
        "metadata": {"display_phone_number": "254700000999"},
        "messages": [{"id": message_id, "from": sender.lstrip("+"), "type": "text", "text": {"body": text}}]}}]}]}


def test_an_approved_whatsapp_template_goes_with_its_parameters_in_order_and_replies_and_stop_come_back(
        committed_db, org_id, fake_whatsapp):
    from core import templates
    from core.optouts import is_opted_out

    with committed_db.session() as s:
        add_contacts(s, org_id, 3)
        templates.save_template(s, ACTOR, org_id, name="Reminder", channel="whatsapp",
                                whatsapp_template_name="contribution_reminder", whatsapp_language="sw",
                                whatsapp_params=["{{ first_name }}", "{{ org_name }}"])
        c = service.create_campaign(s, ACTOR, org_id, name="WA", channel="whatsapp", template="Reminder")
        preview = service.check_launch(s, ACTOR, org_id, c.id).lines[0]
        assert preview.text == "[contribution_reminder/sw] Member | Umoja"
        assert service.launch_campaign(s, ACTOR, org_id, c.id).queued == 3
    summary = outbox.send_due(committed_db, {"whatsapp": fake_whatsapp.provider()}, parallel=2)
    assert (summary.sent, summary.failed) == (3, 0)
    body = fake_whatsapp.requests[0].body
    assert body["type"] == "template" and body["template"]["name"] == "contribution_reminder"
    assert body["template"]["language"] == {"code": "sw"}
    assert body["template"]["components"] == [{"type": "body", "parameters": [
        {"type": "text", "text": "Member"}, {"type": "text", "text": "Umoja"}]}]
    with running_gateway(committed_db) as base:
        stop = httpx.post(f"{base}/whatsapp/webhook", json=_whatsapp_message("wamid.in1", phone(0), "STOP"), timeout=10)
        assert stop.status_code == 200 and "handled" in stop.text
        asked = httpx.post(f"{base}/whatsapp/webhook", json=_whatsapp_message("wamid.in2", phone(1), "Lini mkutano?"),
                           timeout=10)
        assert asked.status_code == 200
    with committed_db.session() as s:
        assert is_opted_out(s, org_id, "whatsapp", phone(0))
        replies = service.campaign_replies(s, ACTOR, org_id, c.id)
        assert [(r.phone, r.who, r.text) for r in replies] == [(phone(1), "Member 1 Test", "Lini mkutano?")]
        stop_reply = s.scalar(select(Message).where(Message.to_address == phone(0), Message.campaign_id.is_(None)))
        assert stop_reply.channel == "whatsapp" and "no more WhatsApp messages" in stop_reply.body
        again = service.create_campaign(s, ACTOR, org_id, name="WA 2", channel="whatsapp", template="Reminder")
        result = service.launch_campaign(s, ACTOR, org_id, again.id)
    assert (result.queued, result.skipped) == (2, {"opted_out": 1})


def test_a_whatsapp_template_whose_parameter_comes_out_empty_is_not_sent_blank(session, make_org):
    from core import templates

    org = make_org(session, "chama", name="Umoja")
    add_contacts(session, org.id, 1)
    templates.save_template(session, ACTOR, org.id, name="R", channel="whatsapp", whatsapp_template_name="r",
                            whatsapp_params=["{{ email }}"])
    c = service.create_campaign(session, ACTOR, org.id, name="WA", channel="whatsapp", template="R")
    with pytest.raises(InvalidInput, match=r"Nobody would get campaign \d+: .* \(1 template\)"):
        service.launch_campaign(session, ACTOR, org.id, c.id)
    assert service.get_campaign(session, ACTOR, org.id, c.id).status == "draft"


def _dsn(message_id: str, recipient: str, status: str, action: str) -> bytes:
    """A delivery status notification (RFC 3464) as an MTA mails it back."""
    return (
        "From: MAILER-DAEMON@mx.example.org\r\nTo: office@umoja.example\r\nSubject: Undelivered Mail\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.org\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: {action}\r\nStatus: {status}\r\n"
        f"Diagnostic-Code: smtp; 550 {status} mailbox unknown\r\n\r\n"
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: {message_id}\r\nTo: {recipient}\r\nSubject: News\r\n\r\n"
        "--B--\r\n").encode()


def test_a_bounce_that_comes_back_later_fails_the_email_and_suppresses_the_address(
        committed_db, org_id, fake_smtp, tmp_path):
    import mailbox

    from core.campaigns.bounces import read_bounces
    from core.optouts import is_opted_out

    with committed_db.session() as s:
        add_contacts(s, org_id, 3, email=True)
        c = service.create_campaign(s, ACTOR, org_id, name="N", channel="email", subject="News", text="Hello")
        service.launch_campaign(s, ACTOR, org_id, c.id)
    provider = SMTPEmail(fake_smtp.url, sender="office@umoja.example")
    assert outbox.send_due(committed_db, {"email": provider}).sent == 3  # the server took them all
    provider.close()
    ids = {m.recipients[0]: m.message_id for m in fake_smtp.messages}
    box = mailbox.Maildir(str(tmp_path / "bounces"), create=True)
    box.add(_dsn(ids["member1@example.org"], "member1@example.org", "5.1.1", "failed"))
    box.add(_dsn(ids["member2@example.org"], "member2@example.org", "4.2.2", "delayed"))  # still trying
    box.add(_dsn("<someone-else@example.org>", "x@example.org", "5.1.1", "failed"))
    with committed_db.session() as s:
        summary = read_bounces(s, tmp_path / "bounces")
        assert (summary.read, summary.bounced, summary.suppressed, summary.unknown) == (3, 1, 1, 1)
        assert read_bounces(s, tmp_path / "bounces").read == 0  # read once
        assert message_states(s, c.id) == {"sent": 2, "failed": 1}
        failed = s.scalar(select(Message).where(Message.campaign_id == c.id, Message.status == "failed"))
        assert failed.to_address == "member1@example.org" and "5.1.1" in failed.last_error
        assert is_opted_out(s, org_id, "email", "member1@example.org")
        assert not is_opted_out(s, org_id, "email", "member2@example.org")
        with pytest.raises(InvalidInput, match="is not a maildir"):
            read_bounces(s, tmp_path)
