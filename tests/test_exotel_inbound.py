"""SMS from Indian vendors: Exotel passes each SMS sent to the programme's ExoPhone to the gateway's
``/sms/exotel/inbound`` (a HEAD, then a GET with its fields; or a POST), over real HTTP, into the
same inbound pipeline as Africa's Talking's: STOP opts the vendor out, a survey answer is credited
to the survey, free text is kept as a reply, a replay is recorded once, a forged call is refused."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx
from sqlalchemy import func, select

import core.campaigns  # noqa: F401
from core.campaigns import service
from core.providers.exotel import incoming_sms
from db.models import InboundMessage
from tests.campaigns_support import ACTOR, dlt_template, mark_sent
from tests.fakes.exotel import fake_exotel, india  # noqa: F401  (fixtures)
from tests.live_gateway import running_gateway

TOKEN = "exo-in-t0ken"
EXOPHONE = "08039591234"  # as Exotel writes the number the SMS was sent to


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
