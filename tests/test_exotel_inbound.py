"""SMS from Indian vendors: Exotel passes each SMS sent to the programme's ExoPhone to the gateway's
``/sms/exotel/inbound`` (a HEAD, then a GET with its fields; or a POST), over real HTTP, into the
same inbound pipeline as Africa's Talking's: STOP opts the vendor out, a survey answer is credited
to the survey, free text is kept as a reply, a replay is recorded once, a forged call is refused.
The org's own answers to India (STOP's confirmation) carry the DLT template it registered for their
kind, or are recorded failed with what to register, never sent to Exotel to be refused."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx
from sqlalchemy import func, select

import core.campaigns  # noqa: F401
from core.campaigns import service
from core.providers.exotel import incoming_sms
from db.models import InboundMessage, Message
from tests.campaigns_support import ACTOR, DLT_ENTITY, dlt_template, mark_sent
from tests.fakes.exotel import SENDER_ID, fake_exotel, india  # noqa: F401  (fixtures)
from tests.live_gateway import running_gateway

TOKEN = "exo-in-t0ken"
EXOPHONE = "08039591234"  # as Exotel writes the number the SMS was sent to
OPT_OUT_DLT, OPT_IN_DLT = "1107160000000000101", "1107160000000000102"


def exotel_count(s) -> int:
    return s.scalar(select(func.count()).select_from(InboundMessage).where(InboundMessage.provider == "exotel"))


def test_indian_vendors_answer_stop_and_a_survey_by_exotel_sms_and_each_counts_once(
        committed_db, make_org, india, fake_exotel):
    from config import load_settings
    from core.orgs import set_sms_number
    from core.vendors import add_vendor

    with committed_db.session() as s:
        org = make_org(s, "campaigns", country="IN", name="Udyam Mitra")
        set_sms_number(s, ACTOR, org.id, EXOPHONE)
        for i, (name, number) in enumerate([("Priya", "9876543210"), ("Ravi", "9123456789"),
                                            ("Sunita", "9988776655")]):
            add_vendor(s, ACTOR, org.id, business_name=f"Shop {i}", owner_name=name, phone=number)
        survey = service.create_campaign(s, ACTOR, org.id, name="Scheme survey", survey=["Yes", "No"],
                                         template=dlt_template(s, org.id, "asked", "Did the MSME scheme help?"))
        assert service.launch_campaign(s, ACTOR, org.id, survey.id).queued == 3
        mark_sent(s, survey.id, 30)

    with running_gateway(committed_db, load_settings({"OFISI_CALLBACK_TOKEN": TOKEN})) as base:
        url = f"{base}/sms/exotel/inbound?token={TOKEN}"
        # Priya answers by Exotel's SMS app (HEAD, then GET); Exotel writes her number with a 0.
        answer = fake_exotel.incoming(url, "09876543210", EXOPHONE, "1", sid="exo-in-1")
        assert (answer.status_code, answer.headers["X-Ofisi-Inbound"], answer.text) == (200, "handled", "")
        assert answer.headers["content-type"] == "text/plain"  # an empty body: Exotel texts nothing back
        replayed = fake_exotel.incoming(url, "09876543210", EXOPHONE, "1", sid="exo-in-1")
        assert replayed.headers["X-Ofisi-Inbound"] == "duplicate"
        # Ravi's STOP comes by the dashboard's webhook, as a POST; Sunita writes free text.
        stop = fake_exotel.incoming(url, "09123456789", EXOPHONE, "Stop.", sid="exo-in-2", method="POST")
        assert stop.headers["X-Ofisi-Inbound"] == "handled"
        asked = fake_exotel.incoming(url, "9988776655", EXOPHONE, "Kab tak <b>apply</b> karein?", sid="exo-in-3")
        assert asked.headers["X-Ofisi-Inbound"] == "handled"
        # Without the token, or with a guessed one, nothing is read.
        forged = fake_exotel.incoming(f"{base}/sms/exotel/inbound", "09876543210", EXOPHONE, "2", sid="exo-f1")
        assert forged.status_code == 403
        guessed = fake_exotel.incoming(f"{url}x", "09123456789", EXOPHONE, "START", sid="exo-f2", method="POST")
        assert guessed.status_code == 403
        assert httpx.get(f"{base}/health").json()["refused_callbacks"] == 2

    with committed_db.session() as s:
        assert exotel_count(s) == 3
        assert service.survey_tally(s, ACTOR, org.id, survey.id) == {"Yes": 1, "No": 0}
        replies = service.campaign_replies(s, ACTOR, org.id, survey.id)
        assert sorted((r.phone, r.text, r.answer) for r in replies) == [
            ("+919876543210", "1", "Yes"), ("+919988776655", "Kab tak <b>apply</b> karein?", None)]
        overview = service.replies_overview(s, ACTOR, org.id, survey.id)
        assert [(o.address, o.how) for o in overview.opt_outs] == [("+919123456789", "sms")]
        # The next campaign skips Ravi.
        notice = service.create_campaign(s, ACTOR, org.id, name="Deadline",
                                         template=dlt_template(s, org.id, "deadline", "The scheme closes Friday."))
        launched = service.launch_campaign(s, ACTOR, org.id, notice.id)
        assert (launched.queued, launched.skipped.get("opted_out")) == (2, 1)


def test_exotels_fields_read_as_the_inbound_pipeline_takes_them():
    sms = incoming_sms({"SmsSid": " abc ", "From": "09876543210", "To": EXOPHONE, "Date": "2026-01-15 09:30:00",
                        "Body": "STOP"})
    assert (sms.sid, sms.sender, sms.to, sms.text) == ("abc", "+919876543210", EXOPHONE, "STOP")
    assert sms.received_at == datetime(2026, 1, 15, 4, 0, tzinfo=timezone.utc)  # Exotel's clock is IST
    ahead = incoming_sms({"SmsSid": "x", "From": "919876543210", "Date": "2999-01-01 00:00:00"})
    assert ahead.sender == "+919876543210"
    assert datetime.now(timezone.utc) - ahead.received_at < timedelta(minutes=1)  # a wrong clock is not believed
    assert incoming_sms({"SmsSid": "y", "From": "not a phone", "Date": "yesterday"}).received_at is None


def test_the_orgs_answers_to_india_carry_its_registered_dlt_templates_or_fail_saying_what_to_register(
        committed_db, make_org, india, fake_exotel, monkeypatch):
    from typer.testing import CliRunner

    from commands.main import app
    from config import get_settings, load_settings
    from core.outbox import send_due
    from core.orgs import set_sms_number
    from core.providers import build_providers
    from core.vendors import add_vendor

    with committed_db.session() as s:
        org = make_org(s, "campaigns", country="IN", name="Udyam Mitra")
        set_sms_number(s, ACTOR, org.id, EXOPHONE)
        for i, (name, number) in enumerate([("Priya", "9876543210"), ("Ravi", "9123456789"),
                                            ("Wanjiku", "+254712000001")]):
            add_vendor(s, ACTOR, org.id, business_name=f"Shop {i}", owner_name=name, phone=number)
        # The programme registered STOP's confirmation on DLT, not yet START's.
        service.campaign_settings(s, ACTOR, org.id, dlt_entity_id=DLT_ENTITY, dlt_templates={"opt-out": OPT_OUT_DLT})

    def replies(s) -> dict[str, tuple]:
        return {to: (status, subject, error) for to, status, subject, error in s.execute(
            select(Message.to_address, Message.status, Message.subject, Message.last_error)
            .where(Message.org_id == org.id).order_by(Message.id)).all()}

    def send() -> list[dict[str, str]]:
        get_settings.cache_clear()
        providers = build_providers(get_settings())
        try:
            send_due(committed_db, providers)
        finally:
            providers["sms"].close()
        return fake_exotel.messages

    with running_gateway(committed_db, load_settings({"OFISI_CALLBACK_TOKEN": TOKEN})) as base:
        monkeypatch.setenv("OFISI_PUBLIC_URL", base)
        monkeypatch.setenv("OFISI_CALLBACK_TOKEN", TOKEN)
        url = f"{base}/sms/exotel/inbound?token={TOKEN}"
        assert fake_exotel.incoming(url, "09876543210", EXOPHONE, "STOP", sid="r-1").headers["X-Ofisi-Inbound"] == "handled"
        assert fake_exotel.incoming(url, "09123456789", EXOPHONE, "START", sid="r-2",
                                    method="POST").headers["X-Ofisi-Inbound"] == "handled"
        assert fake_exotel.incoming(url, "+254712000001", EXOPHONE, "STOP", sid="r-3").headers["X-Ofisi-Inbound"] == "handled"
        sent = send()

        # Priya's confirmation went through Exotel with the registered template, its text as sent.
        assert [(m["To"], m["DltEntityId"], m["DltTemplateId"], m["From"]) for m in sent] == [
            ("+919876543210", DLT_ENTITY, OPT_OUT_DLT, SENDER_ID)]
        assert sent[0]["Body"] == ("Udyam Mitra: you will get no more SMS from us, except codes and receipts you "
                                   "ask for. Reply START to get them again.")
        with committed_db.session() as s:
            rows = replies(s)
        assert rows["+919876543210"][:2] == ("sent", f"dlt:{DLT_ENTITY}:{OPT_OUT_DLT}")
        # Ravi's has no registered template: failed, saying what to do, and Exotel never saw it.
        status, subject, error = rows["+919123456789"]
        assert (status, subject) == ("failed", None)
        assert error == ("not sent: no DLT template registered for opt-in confirmations (the answer to START), and "
                         "Indian operators drop SMS without one; register its text on DLT, then "
                         f"`ofisi campaigns settings --org {org.slug} --dlt-template opt-in=ID` to set it")
        # A Kenyan number's answer is none of DLT's business.
        assert rows["+254712000001"] == ("sent", None, None)

        # The programme registers START's template as the reason says: the confirmation held back for
        # it goes now, without Ravi having to send START again.
        monkeypatch.setenv("OFISI_DATABASE_URL", committed_db.url)
        get_settings.cache_clear()
        runner = CliRunner()
        done = runner.invoke(app, ["campaigns", "settings", "--org", org.slug, "--dlt-template", f"opt-in={OPT_IN_DLT}"])
        assert done.exit_code == 0, done.output
        assert f"opt-out {OPT_OUT_DLT}; opt-in {OPT_IN_DLT}; reply not set" in done.stderr
        assert "1 SMS to India held back for want of a DLT ID is queued again." in done.stderr
        wrong = runner.invoke(app, ["campaigns", "settings", "--org", org.slug, "--dlt-template", "optin=1107"])
        assert wrong.exit_code != 0 and "'optin' is not a kind of SMS; use one of opt-out, opt-in" in str(wrong.exception)
        sent = send()
        assert [(m["To"], m["DltTemplateId"]) for m in sent[1:]] == [("+919123456789", OPT_IN_DLT)]
        assert sent[1]["Body"].startswith("Udyam Mitra: welcome back")
        # And a START sent meanwhile is answered as any is.
        assert fake_exotel.incoming(url, "09123456789", EXOPHONE, "START", sid="r-4").headers["X-Ofisi-Inbound"] == "handled"
        sent = send()
    assert [(m["To"], m["DltTemplateId"]) for m in sent[2:]] == [("+919123456789", OPT_IN_DLT)]

    # A notice staff write is a service SMS: its own kind's template, and the entity ID, or it fails saying so.
    from core.outbox import send_message

    with committed_db.session() as s:
        notice = send_message(s, ACTOR, org.id, to="9123456789", body="The scheme office opens at 10.")
        assert (notice.status, notice.last_error.split(";")[0]) == (
            "failed", "not sent: no DLT template registered for service SMS (reminders, statements, notices), and "
                      "Indian operators drop SMS without one")
        service.campaign_settings(s, ACTOR, org.id, dlt_entity_id="", dlt_templates={"service": "1107160000000000103"})
        notice = send_message(s, ACTOR, org.id, to="9123456789", body="The scheme office opens at 10.")
        assert (notice.status, notice.last_error) == ("failed", (
            "not sent: the organisation has no DLT entity ID, and Indian operators drop SMS without one; "
            f"`ofisi campaigns settings --org {org.slug} --dlt-entity-id ID` to set it"))
        assert send_message(s, ACTOR, org.id, to="+254712000002", body="Karibu.").status == "queued"
        # Registering the entity ID lets both held notices go, as it says; a code held back stays
        # (stale by now), and so does an SMS held back more than a day ago.
        from core.outbox import enqueue

        code = enqueue(s, org.id, to="9123456789", body="Your code is 4321", purpose="transactional", secret=True)
        assert s.get(Message, code).status == "failed"
        old = s.get(Message, send_message(s, ACTOR, org.id, to="9123456789", body="Yesterday's notice.").id)
        old.created_at -= timedelta(days=2)
        s.commit()
        saved = service.campaign_settings(s, ACTOR, org.id, dlt_entity_id=DLT_ENTITY,
                                          dlt_templates={"transactional": "1107160000000000104"})
        assert saved.released == 2 and saved.released_note() == (
            "2 SMS to India held back for want of a DLT ID are queued again.")
        held = {m.body: (m.status, m.subject) for m in s.query(Message).filter(Message.to_address == "+919123456789",
                                                                              Message.campaign_id.is_(None))
                if m.purpose == "service"}
        assert held["The scheme office opens at 10."] == ("queued", f"dlt:{DLT_ENTITY}:1107160000000000103")
        assert held["Yesterday's notice."][0] == "failed"
        assert s.get(Message, code).status == "failed"
