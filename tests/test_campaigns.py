"""Campaigns in the core: create, launch (one message per recipient, skips counted),
pause/resume/cancel, progress, responses and surveys, scheduled and recurring runs."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select

import core.campaigns  # noqa: F401  (permissions, jobs, the outbox hook)
from core import jobs
from core.campaigns import service
from core.errors import Conflict, InvalidInput, NotFound
from db.models import Contact, Message
from db.models_campaigns import Campaign
from db.types import utcnow
from tests.campaigns_support import ACTOR, add_contacts, dlt_template, message_states
from tests.fakes import phone


@pytest.fixture
def org(session, make_org):
    return make_org(session, "chama", name="Umoja Chama")


def test_launch_writes_one_personalised_message_per_recipient_with_its_key(session, org):
    add_contacts(session, org.id, 5)
    c = service.create_campaign(session, ACTOR, org.id, name="Reminder", text="Hi {{ first_name }}, {{ org_name }}")
    assert c.status == "draft"
    result = service.launch_campaign(session, ACTOR, org.id, c.id)
    assert (result.run, result.queued, result.skipped) == (1, 5, {})
    rows = session.execute(select(Message.to_address, Message.body, Message.idempotency_key)
                           .where(Message.campaign_id == c.id).order_by(Message.id)).all()
    assert [r.body for r in rows] == ["Hi Member, Umoja Chama"] * 5
    assert [r.to_address for r in rows] == [phone(i) for i in range(5)]
    assert len({r.idempotency_key for r in rows}) == 5
    assert all(r.idempotency_key.startswith(f"campaign:{c.id}:run:1:contact:") for r in rows)
    progress = service.campaign_progress(session, ACTOR, org.id, c.id)
    assert progress.as_status() == {"id": c.id, "status": "running", "total": 5, "queued": 5, "sent": 0,
                                    "delivered": 0, "failed": 0, "unknown": 0, "opted_out": 0}
    with pytest.raises(Conflict, match="only a draft or scheduled"):
        service.launch_campaign(session, ACTOR, org.id, c.id)
    assert message_states(session, c.id) == {"queued": 5}


def test_unreachable_recipients_are_skipped_with_a_counted_reason(session, org):
    add_contacts(session, org.id, 3)
    now = utcnow()
    session.execute(insert(Contact), [
        {"org_id": org.id, "name": "Bad Number", "phone": "12", "notes": "", "created_at": now, "updated_at": now},
        {"org_id": org.id, "name": "Mail Only", "phone": phone(50), "email": "a@example.org", "notes": "",
         "created_at": now, "updated_at": now},
    ])
    session.commit()
    c = service.create_campaign(session, ACTOR, org.id, name="Mail", channel="email", text="Dear {{ name }}",
                                subject="News")
    result = service.launch_campaign(session, ACTOR, org.id, c.id)
    assert result.queued == 1
    assert result.skipped == {"no_address": 4}
    sms = service.create_campaign(session, ACTOR, org.id, name="Sms", text="Hello")
    result = service.launch_campaign(session, ACTOR, org.id, sms.id)
    assert (result.queued, result.skipped) == (4, {"invalid": 1})


def test_a_text_with_an_unknown_variable_or_bad_syntax_is_refused_naming_it(session, org):
    with pytest.raises(InvalidInput, match="sector"):
        service.create_campaign(session, ACTOR, org.id, name="x", text="Hi {{ sector }}")
    with pytest.raises(InvalidInput, match="line 1: unexpected end of template"):
        service.create_campaign(session, ACTOR, org.id, name="x", text="Hi {{ name ")
    with pytest.raises(InvalidInput, match="either a text"):
        service.create_campaign(session, ACTOR, org.id, name="x")
    with pytest.raises(InvalidInput, match="every week or every month"):
        service.create_campaign(session, ACTOR, org.id, name="x", text="a", every="day")
    assert session.scalar(select(Campaign.id)) is None


def test_unsafe_templates_are_refused_when_saved_not_at_send(session, org):
    add_contacts(session, org.id, 1)
    with pytest.raises(InvalidInput, match="'__class__' is not something a template may read"):
        service.create_campaign(session, ACTOR, org.id, name="x", text="{{ name.__class__.__mro__ }}")
    with pytest.raises(InvalidInput, match="'__globals__'"):
        service.create_campaign(session, ACTOR, org.id, name="x", text="{{ name['__globals__'] }}")
    assert session.scalar(select(Campaign.id)) is None


def test_pause_holds_the_messages_and_resume_lets_them_go_without_copies(session, org):
    add_contacts(session, org.id, 4)
    c = service.create_campaign(session, ACTOR, org.id, name="x", text="Hi")
    service.launch_campaign(session, ACTOR, org.id, c.id)
    # One message is claimed by a sender when the pause comes: the claim is handed back.
    claimed = session.scalars(select(Message).where(Message.campaign_id == c.id).order_by(Message.id)).first()
    claimed.status, claimed.claimed_by = "claimed", "someone"
    session.commit()
    paused = service.pause_campaign(session, ACTOR, org.id, c.id)
    assert paused.status == "paused" and "paused by" in paused.pause_reason
    assert message_states(session, c.id) == {"queued": 4}
    from core.outbox import claim_due
    assert claim_due(session, "w", ["sms"], 10, utcnow()) == []
    with pytest.raises(Conflict):
        service.pause_campaign(session, ACTOR, org.id, c.id)
    service.resume_campaign(session, ACTOR, org.id, c.id)
    assert len(claim_due(session, "w", ["sms"], 10, utcnow())) == 4
    assert session.scalar(select(func.count()).where(Message.campaign_id == c.id)) == 4


def test_cancel_stops_what_was_not_sent(session, org):
    add_contacts(session, org.id, 3)
    c = service.create_campaign(session, ACTOR, org.id, name="x", text="Hi")
    service.launch_campaign(session, ACTOR, org.id, c.id)
    first = session.scalars(select(Message).where(Message.campaign_id == c.id).order_by(Message.id)).first()
    first.status = "sent"
    session.commit()
    assert service.cancel_campaign(session, ACTOR, org.id, c.id).status == "cancelled"
    assert message_states(session, c.id) == {"sent": 1, "cancelled": 2}
    with pytest.raises(Conflict, match="cancelled already"):
        service.cancel_campaign(session, ACTOR, org.id, c.id)


def test_another_orgs_campaign_is_not_found(session, org, make_org):
    other = make_org(session, "chama")
    c = service.create_campaign(session, ACTOR, org.id, name="x", text="Hi")
    with pytest.raises(NotFound):
        service.launch_campaign(session, ACTOR, other.id, c.id)


def test_the_batch_hook_pauses_a_failing_campaign_with_its_reason_and_completes_a_finished_one(session, org):
    add_contacts(session, org.id, 30)
    bad = service.create_campaign(session, ACTOR, org.id, name="bad", text="Hi", failure_threshold_pct=20,
                                  failure_min_sample=10)
    good = service.create_campaign(session, ACTOR, org.id, name="good", text="Hello")
    service.launch_campaign(session, ACTOR, org.id, bad.id)
    service.launch_campaign(session, ACTOR, org.id, good.id)
    rows = session.scalars(select(Message).where(Message.campaign_id == bad.id).order_by(Message.id)).all()
    for m in rows[:10]:
        m.status, m.last_error = "failed", "Africa's Talking 406 UserInBlacklist"
    for m in rows[10:15]:
        m.status = "sent"
    for m in session.scalars(select(Message).where(Message.campaign_id == good.id)):
        m.status = "sent"
    session.commit()
    service.watch_campaigns(session, {bad.id, good.id})
    session.commit()
    bad_now = service.get_campaign(session, ACTOR, org.id, bad.id)
    assert bad_now.status == "paused"
    assert "10 of 15 messages failed" in bad_now.pause_reason and "UserInBlacklist" in bad_now.pause_reason
    assert service.get_campaign(session, ACTOR, org.id, good.id).status == "completed"


def test_replies_within_the_window_are_responses_and_survey_answers_are_tallied(session, org):
    add_contacts(session, org.id, 3)
    c = service.create_campaign(session, ACTOR, org.id, name="Survey", text="Did the training help?",
                                survey=["Yes", "No", "Not sure"])
    service.launch_campaign(session, ACTOR, org.id, c.id)
    assert service.preview(session, ACTOR, org.id, c.id, count=1)[0][1] == \
        "Did the training help?\nReply 1 Yes, 2 No, 3 Not sure"
    sent_at = utcnow() - timedelta(hours=1)
    for m in session.scalars(select(Message).where(Message.campaign_id == c.id)):
        m.status, m.sent_at = "sent", sent_at
    session.commit()
    now = utcnow()
    assert service.record_response(session, org.id, phone=phone(0), text="1", received_at=now, inbound_id=1)
    assert service.record_response(session, org.id, phone=phone(1), text="2 no time", received_at=now,
                                   inbound_id=2).answer == 2
    again = service.record_response(session, org.id, phone=phone(1), text="2 no time", received_at=now,
                                    inbound_id=2)
    assert again is None  # the same inbound message twice
    assert service.record_response(session, org.id, phone=phone(2), text="7", received_at=now,
                                   inbound_id=3).answer is None
    assert service.record_response(session, org.id, phone=phone(9), text="1", received_at=now) is None
    late = now + timedelta(hours=80)
    assert service.record_response(session, org.id, phone=phone(0), text="1", received_at=late, inbound_id=4) is None
    assert service.survey_tally(session, ACTOR, org.id, c.id) == {"Yes": 1, "No": 1, "Not sure": 0}


def test_scheduled_and_recurring_campaigns_start_from_run_due_with_new_keys_each_run(committed_db, make_org):
    with committed_db.session() as s:
        org = make_org(s, "chama")
        add_contacts(s, org.id, 3)
        start = utcnow() + timedelta(hours=1)
        weekly = service.create_campaign(s, ACTOR, org.id, name="Weekly", text="Contribute", at=start, every="week")
        once = service.create_campaign(s, ACTOR, org.id, name="Once", text="Meeting", at=start)
        assert weekly.status == once.status == "scheduled"
    assert jobs.run_due(committed_db, now=start - timedelta(minutes=1)).ran == 0
    assert jobs.run_due(committed_db, now=start).ran == 2
    assert jobs.run_due(committed_db, now=start + timedelta(days=1)).ran == 0  # nothing twice
    assert jobs.run_due(committed_db, now=start + timedelta(days=7)).ran == 1
    with committed_db.session() as s:
        keys = Counter(k.split(":")[3] for k in s.scalars(
            select(Message.idempotency_key).where(Message.campaign_id == weekly.id)))
        assert keys == {"1": 3, "2": 3}
        assert s.scalar(select(func.count()).where(Message.campaign_id == once.id)) == 3
        w = service.get_campaign(s, ACTOR, org.id, weekly.id)
        assert w.runs == 2 and w.next_run_at == start + timedelta(days=14)
        assert service.get_campaign(s, ACTOR, org.id, once.id).next_run_at is None


def test_a_vendor_audience_filters_the_registry_skips_opt_outs_and_fills_vendor_fields(session, make_org):
    from core import templates
    from core.vendors import add_vendor, set_opt_out

    org = make_org(session, "campaigns", country="IN", name="Udyam Mitra")
    made = [add_vendor(session, ACTOR, org.id, business_name=b, owner_name=o, phone=p, sector=sec, district=d,
                       state="Maharashtra")
            for b, o, p, sec, d in [("Sai Textiles", "Priya Sharma", "9876543210", "Textiles", "Pune"),
                                    ("Om Prints", "Ravi Iyer", "9123456789", "Printing", "Pune"),
                                    ("Lata Weaves", "Lata Rao", "9000000001", "Textiles", "Pune"),
                                    ("Nashik Silk", "Anu Patil", "9000000002", "Textiles", "Nashik")]]
    set_opt_out(session, ACTOR, org.id, made[2].id, "sms")
    dlt_template(session, org.id, "namaste", "Namaste {{ first_name }} of {{ business_name }} ({{ district }})")
    c = service.create_campaign(session, ACTOR, org.id, name="Textiles Pune", audience="sector=Textiles,district=Pune",
                                template="namaste")
    with pytest.raises(InvalidInput, match="not an audience filter"):
        service.create_campaign(session, ACTOR, org.id, name="x", text="Hi", audience="colour=red")
    result = service.launch_campaign(session, ACTOR, org.id, c.id)
    assert (result.queued, result.skipped) == (1, {"opted_out": 1})
    message = session.scalar(select(Message).where(Message.campaign_id == c.id))
    assert message.body == "Namaste Priya of Sai Textiles (Pune)"
    assert message.idempotency_key == f"campaign:{c.id}:run:1:vendor:{made[0].id}"
    assert service.campaign_progress(session, ACTOR, org.id, c.id).opted_out == 1
    # A saved template by name.
    templates.save_template(session, ACTOR, org.id, name="scheme", channel="sms", body="{{ owner_name }}: scheme open",
                            dlt_template_id="1107000000000000001")
    t = service.create_campaign(session, ACTOR, org.id, name="T", template="scheme", audience="district=Nashik")
    assert service.preview(session, ACTOR, org.id, t.id) == [("+919000000002", "Anu Patil: scheme open")]


def test_the_demo_programme_has_a_draft_and_a_launched_survey(session, make_org):
    import random

    from core.demo import _campaign_vendors, _campaigns

    org = make_org(session, "campaigns", name="Biashara Boost")
    _campaign_vendors(session, ACTOR, org.id, random.Random(1), "KE")
    _campaigns(session, ACTOR, org.id)
    made = {c.name: c for c in service.list_campaigns(session, ACTOR, org.id)}
    assert len(made) >= 5  # a campaigns list with rows enough to fill the home's main list
    draft, survey = made["Grant deadline reminder"], made["Training feedback"]
    assert (draft.status, draft.template_name) == ("draft", "Scheme reminder")
    assert made["Youth enterprise fund"].status == "scheduled"
    progress = service.campaign_progress(session, ACTOR, org.id, survey.id)
    assert (progress.status, progress.total) == ("running", 30)


def test_reach_and_responses_per_district(session, make_org):
    from core.campaigns.reports import campaign_report, reach_by_place
    from core.vendors import add_vendor

    org = make_org(session, "campaigns", country="IN")
    for i, district in enumerate(["Pune", "Pune", "Nashik"]):
        add_vendor(session, ACTOR, org.id, business_name=f"B{i}", owner_name=f"O{i}", phone=f"90000000{i:02d}",
                   sector="Textiles", district=district, state="Maharashtra")
    c = service.create_campaign(session, ACTOR, org.id, name="All", template=dlt_template(session, org.id, "hi", "Hi"),
                                survey=["Yes", "No"])
    service.launch_campaign(session, ACTOR, org.id, c.id)
    rows = session.scalars(select(Message).where(Message.campaign_id == c.id).order_by(Message.id)).all()
    rows[0].status, rows[0].sent_at = "sent", utcnow()
    rows[1].status, rows[1].last_error = "failed", "Africa's Talking 406 UserInBlacklist"
    rows[2].status, rows[2].sent_at = "delivered", utcnow()
    session.commit()
    service.record_response(session, org.id, phone=rows[2].to_address, text="1", received_at=utcnow(), inbound_id=9)
    assert [(r.place, r.recipients, r.reached, r.responses) for r in reach_by_place(session, ACTOR, org.id)] == \
        [("Nashik", 1, 1, 1), ("Pune", 2, 1, 0)]
    report = campaign_report(session, ACTOR, org.id)[0]
    assert (report.sent, report.delivered, report.failed, report.responses) == (2, 1, 1, 1)
    assert report.response_rate == 0.5
    assert report.failed_by_reason == {"Africa's Talking 406 UserInBlacklist": 1}


def test_inbound_replies_become_responses_and_stop_opts_out_of_the_next_campaign(session, org):
    from core import inbound

    add_contacts(session, org.id, 3)
    c = service.create_campaign(session, ACTOR, org.id, name="Survey", text="Was the meeting useful?",
                                survey=["Yes", "No"])
    service.launch_campaign(session, ACTOR, org.id, c.id)
    for m in session.scalars(select(Message).where(Message.campaign_id == c.id)):
        m.status, m.sent_at = "sent", utcnow() - timedelta(minutes=5)
    session.commit()
    assert inbound.receive(session, provider="africastalking", provider_message_id="in-1", from_phone=phone(0),
                           to="40404", text="2").status == "handled"
    inbound.receive(session, provider="africastalking", provider_message_id="in-1", from_phone=phone(0),
                    to="40404", text="2")  # delivered twice by the provider
    inbound.receive(session, provider="africastalking", provider_message_id="in-2", from_phone=phone(1),
                    to="40404", text="STOP")
    assert service.survey_tally(session, ACTOR, org.id, c.id) == {"Yes": 0, "No": 1}
    again = service.create_campaign(session, ACTOR, org.id, name="Next", text="Next meeting Friday")
    result = service.launch_campaign(session, ACTOR, org.id, again.id)
    assert (result.queued, result.skipped) == (2, {"opted_out": 1})
