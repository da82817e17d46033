"""Before and around a launch: preview and count, schedules (no past times, quiet hours, the
31st, an end date), the auto-pause after a resume, replies credited to the right campaign,
and rendering that never shows ``None``."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, insert, select, update

import core.campaigns  # noqa: F401  (permissions, jobs, the outbox hook)
from core import templates
from core.campaigns import service
from core.errors import Conflict, InvalidInput
from db.models import Contact, Message
from db.types import utcnow
from tests.campaigns_support import ACTOR, add_contacts, dlt_template, mark_sent, message_states, reply
from tests.fakes import phone

UTC = timezone.utc


@pytest.fixture
def org(session, make_org):
    return make_org(session, "chama", name="Umoja Chama")  # Africa/Nairobi, UTC+3


def test_preview_shows_each_recipients_text_with_segments_and_count_says_who_is_left_out(session, org):
    add_contacts(session, org.id, 4)
    now = utcnow()
    session.execute(insert(Contact), [{"org_id": org.id, "name": "No Phone", "phone": "", "notes": "",
                                       "created_at": now, "updated_at": now}])
    session.commit()
    from core.optouts import opt_out
    opt_out(session, org.id, "sms", phone(3), source="sms")
    session.commit()
    c = service.create_campaign(session, ACTOR, org.id, name="x", text="Habari {{ name }} ₹ " + "a" * 60)
    check = service.check_launch(session, ACTOR, org.id, c.id, show=2)
    assert (check.recipients, check.skipped) == (3, {"opted_out": 1, "no_address": 1})
    first = check.lines[0]
    assert (first.address, first.who, first.text) == (phone(0), "Member 0 Test", "Habari Member 0 Test ₹ " + "a" * 60)
    assert (first.segments, first.encoding) == (2, "UCS-2")  # 82 characters, one of them outside GSM-7
    assert len(check.lines) == 2 and check.segments == 6
    assert check.estimated_cost is None  # the provider has priced nothing for this org yet
    assert message_states(session, c.id) == {}  # nothing written
    assert service.get_campaign(session, ACTOR, org.id, c.id).status == "draft"


def test_the_cost_estimate_uses_the_prices_the_provider_reported(session, org):
    from db.models_campaigns import MessageCost

    add_contacts(session, org.id, 2)
    old = service.create_campaign(session, ACTOR, org.id, name="old", text="Hi")
    service.launch_campaign(session, ACTOR, org.id, old.id)
    for m in session.scalars(select(Message).where(Message.campaign_id == old.id)):
        m.status = "sent"
        session.add(MessageCost(message_id=m.id, amount_minor=80, currency="KES"))  # KES 0.80 a part
    session.commit()
    c = service.create_campaign(session, ACTOR, org.id, name="x", text="a" * 200)  # two parts each
    assert service.check_launch(session, ACTOR, org.id, c.id).estimated_cost == "KES 3.20"


def test_a_past_start_is_refused_and_a_draft_can_be_scheduled_edited_and_test_sent(session, org):
    add_contacts(session, org.id, 2)
    with pytest.raises(InvalidInput, match="has passed"):
        service.create_campaign(session, ACTOR, org.id, name="x", text="Hi", at=datetime(2020, 1, 6, 9, tzinfo=UTC))
    c = service.create_campaign(session, ACTOR, org.id, name="x", text="Hi {{ first_name }}")
    with pytest.raises(InvalidInput, match="has passed"):
        service.schedule_campaign(session, ACTOR, org.id, c.id, at=utcnow() - timedelta(days=1))
    at = utcnow() + timedelta(days=2)
    scheduled = service.schedule_campaign(session, ACTOR, org.id, c.id, at=at)
    assert (scheduled.status, scheduled.next_run_at) == ("scheduled", at)
    edited = service.edit_campaign(session, ACTOR, org.id, c.id, text="Karibu {{ first_name }}")
    assert edited.text == "Karibu {{ first_name }}"
    with pytest.raises(InvalidInput, match="frist_name"):
        service.edit_campaign(session, ACTOR, org.id, c.id, text="Karibu {{ frist_name }}")
    session.rollback()
    message_id = service.test_send(session, ACTOR, org.id, c.id, to="0722000111")
    test = session.get(Message, message_id)
    assert (test.to_address, test.body, test.campaign_id) == ("+254722000111", "Karibu Member", None)
    service.launch_campaign(session, ACTOR, org.id, c.id)
    with pytest.raises(Conflict, match="only a draft or scheduled one can be edited"):
        service.edit_campaign(session, ACTOR, org.id, c.id, name="y")


def test_quiet_hours_hold_a_night_launch_until_eight_in_the_morning_local(session, org):
    add_contacts(session, org.id, 2)
    assert service.campaign_settings(session, ACTOR, org.id, quiet_from="21:00", quiet_until="08:00").quiet_from == \
        "21:00"
    night = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)  # 03:00 in Nairobi
    c = service.create_campaign(session, ACTOR, org.id, name="Weekly", text="Contribute", at=night + timedelta(hours=1))
    c_row = session.get(core.campaigns.service.Campaign, c.id)
    assert service.start_run(session, ACTOR, c_row, night).held_until == datetime(2026, 12, 7, 5, 0, tzinfo=UTC)
    session.commit()
    due = set(session.scalars(select(Message.next_attempt_at).where(Message.campaign_id == c.id)))
    assert due == {datetime(2026, 12, 7, 5, 0, tzinfo=UTC)}  # 08:00 in Nairobi
    from core.outbox import claim_due
    assert claim_due(session, "w", ["sms"], 10, night + timedelta(hours=4, minutes=59)) == []
    assert len(claim_due(session, "w", ["sms"], 10, datetime(2026, 12, 7, 5, 0, tzinfo=UTC))) == 2
    # Evening: held until the next morning; daytime: at once.
    settings = service._settings(session, org.id)
    org_row = session.get(core.campaigns.service.Org, org.id)
    assert service._after_quiet_hours(org_row, settings, datetime(2026, 12, 7, 19, 30, tzinfo=UTC)) == \
        datetime(2026, 12, 8, 5, 0, tzinfo=UTC)
    noon = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    assert service._after_quiet_hours(org_row, settings, noon) == noon


def test_a_run_still_sending_when_quiet_hours_begin_waits_for_the_morning(session, org):
    add_contacts(session, org.id, 3)
    service.campaign_settings(session, ACTOR, org.id, quiet_from="21:00", quiet_until="08:00")
    c = service.create_campaign(session, ACTOR, org.id, name="x", text="Hi")
    c_row = session.get(core.campaigns.service.Campaign, c.id)
    evening = datetime(2026, 12, 7, 17, 50, tzinfo=UTC)  # 20:50 in Nairobi
    service.start_run(session, ACTOR, c_row, evening)
    session.commit()
    first = session.scalars(select(Message).where(Message.campaign_id == c.id).order_by(Message.id)).first()
    first.status, first.sent_at = "sent", evening
    session.commit()
    service.watch_campaigns(session, {c.id}, now=evening + timedelta(minutes=5))  # still 20:55: nothing held
    assert set(session.scalars(select(Message.next_attempt_at).where(Message.status == "queued"))) == {evening}
    service.watch_campaigns(session, {c.id}, now=evening + timedelta(minutes=15))  # 21:05
    session.commit()
    assert set(session.scalars(select(Message.next_attempt_at).where(Message.status == "queued"))) == \
        {datetime(2026, 12, 8, 5, 0, tzinfo=UTC)}


def test_quiet_hours_default_to_nine_at_night_until_eight(session, org, monkeypatch):
    from config.settings import get_settings

    monkeypatch.setenv("OFISI_CAMPAIGN_QUIET_HOURS", "21:00-08:00")
    get_settings.cache_clear()
    view = service.campaign_settings(session, ACTOR, org.id)
    assert (view.quiet_from, view.quiet_until) == ("21:00", "08:00")
    with pytest.raises(InvalidInput, match="not a time of day"):
        service.campaign_settings(session, ACTOR, org.id, quiet_from="9pm")


def test_settings_change_all_or_nothing_when_one_value_is_refused(session, org):
    from db.models import AuditEntry

    service.campaign_settings(session, ACTOR, org.id, quiet_from="21:00", quiet_until="08:00")
    audits = session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.org_id == org.id))
    with pytest.raises(InvalidInput, match=r"The end of the quiet hours '25:00' is not a time of day.*entity ID '\[/\]'"):
        service.campaign_settings(session, ACTOR, org.id, quiet_from="22:00", quiet_until="25:00",
                                  dlt_entity_id="[/]", dlt_templates={"opt-out": "1107160000000000001"})
    session.rollback()
    view = service.campaign_settings(session, ACTOR, org.id)
    assert (view.quiet_from, view.quiet_until, view.dlt_entity_id, view.dlt_templates) == ("21:00", "08:00", None, {})
    assert session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.org_id == org.id)) == audits
    view = service.campaign_settings(session, ACTOR, org.id, quiet_from="22:00", dlt_entity_id="1101000000000000001",
                                     dlt_templates={"opt-out": "1107160000000000001"})
    assert (view.quiet_from, view.dlt_entity_id, view.dlt_templates) == \
        ("22:00", "1101000000000000001", {"opt-out": "1107160000000000001"})
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.org_id == org.id)
                              .order_by(AuditEntry.id.desc()).limit(2)).all()
    assert sorted(actions) == ["campaign.dlt_templates", "campaign.settings"]


def test_a_monthly_campaign_on_the_31st_stays_at_month_end_and_stops_after_until(session, org):
    start = datetime(2027, 1, 31, 7, 0, tzinfo=UTC)  # 10:00 in Nairobi on the 31st
    c = service.create_campaign(session, ACTOR, org.id, name="Month end", text="Statement", at=start, every="month",
                                until=datetime(2027, 6, 1, tzinfo=UTC))
    row = session.get(core.campaigns.service.Campaign, c.id)
    seen = []
    while row.next_run_at is not None:
        seen.append(row.next_run_at.astimezone(UTC).strftime("%m-%d %H:%M"))
        service._advance(session, row)
    assert seen == ["01-31 07:00", "02-28 07:00", "03-31 07:00", "04-30 07:00", "05-31 07:00"]
    with pytest.raises(InvalidInput, match="Only a recurring campaign"):
        service.create_campaign(session, ACTOR, org.id, name="x", text="a", at=start, until=start + timedelta(days=9))


def test_after_resume_the_old_failures_do_not_pause_it_again(session, org):
    add_contacts(session, org.id, 40)
    c = service.create_campaign(session, ACTOR, org.id, name="x", text="Hi", failure_threshold_pct=20,
                                failure_min_sample=10)
    service.launch_campaign(session, ACTOR, org.id, c.id)
    rows = session.scalars(select(Message).where(Message.campaign_id == c.id).order_by(Message.id)).all()
    for m in rows[:10]:
        m.status, m.last_error = "failed", "Africa's Talking 406 UserInBlacklist"
    for m in rows[10:28]:
        m.status = "sent"
    session.commit()
    service.watch_campaigns(session, {c.id})
    session.commit()
    assert service.get_campaign(session, ACTOR, org.id, c.id).status == "paused"
    service.resume_campaign(session, ACTOR, org.id, c.id)
    # The next batch goes well: twelve more sent, none failed.
    session.execute(update(Message).where(Message.id.in_([m.id for m in rows[28:40]]))
                    .values(status="sent", updated_at=utcnow() + timedelta(seconds=1)))
    session.commit()
    service.watch_campaigns(session, {c.id})
    session.commit()
    assert service.get_campaign(session, ACTOR, org.id, c.id).status == "completed"


def test_the_survey_answer_goes_to_the_survey_not_the_later_notice_and_stop_is_no_response(session, org):
    add_contacts(session, org.id, 2)
    survey = service.create_campaign(session, ACTOR, org.id, name="Survey", text="Useful?", survey=["Yes", "No"])
    service.launch_campaign(session, ACTOR, org.id, survey.id)
    mark_sent(session, survey.id, 30)
    notice = service.create_campaign(session, ACTOR, org.id, name="Notice", text="Meeting on Friday")
    service.launch_campaign(session, ACTOR, org.id, notice.id)
    mark_sent(session, notice.id, 5)
    reply(session, "a", phone(0), "1")
    reply(session, "b", phone(1), "STOP")
    reply(session, "c", phone(1), "help")
    assert service.survey_tally(session, ACTOR, org.id, survey.id) == {"Yes": 1, "No": 0}
    assert service.campaign_replies(session, ACTOR, org.id, notice.id) == []
    replies = service.campaign_replies(session, ACTOR, org.id, survey.id)
    assert [(r.phone, r.who, r.text, r.answer) for r in replies] == [(phone(0), "Member 0 Test", "1", "Yes")]
    from core.campaigns.reports import campaign_report
    rates = {r.id: r.responses for r in campaign_report(session, ACTOR, org.id)}
    assert rates == {survey.id: 1, notice.id: 0}
    # The STOP is shown apart, as an opt-out after the campaigns that reached that number.
    overview = service.replies_overview(session, ACTOR, org.id, survey.id)
    assert (overview.responses, overview.tally) == (1, {"Yes": 1, "No": 0})
    assert [(o.address, o.who, o.how) for o in overview.opt_outs] == [(phone(1), "Member 1 Test", "sms")]


def test_free_text_replies_are_listed_with_who_sent_them(session, org):
    add_contacts(session, org.id, 1)
    c = service.create_campaign(session, ACTOR, org.id, name="Notice", text="Any questions?")
    service.launch_campaign(session, ACTOR, org.id, c.id)
    mark_sent(session, c.id, 5)
    reply(session, "q", phone(0), "Where is the meeting?")
    [answer] = service.campaign_replies(session, ACTOR, org.id, c.id)
    assert (answer.who, answer.text, answer.answer) == ("Member 0 Test", "Where is the meeting?", None)


def test_per_place_counts_count_each_response_once(session, make_org):
    from core.campaigns.reports import campaign_report, reach_by_place
    from core.vendors import add_vendor

    org = make_org(session, "campaigns", country="IN")
    for i in range(8):
        add_vendor(session, ACTOR, org.id, business_name=f"B{i}", owner_name=f"O{i}", phone=f"90000000{i:02d}",
                   district="Pune", state="Maharashtra")
    name = dlt_template(session, org.id, "q", "Did you apply?")
    campaigns = []
    for n in range(3):
        c = service.create_campaign(session, ACTOR, org.id, name=f"C{n}", template=name)
        service.launch_campaign(session, ACTOR, org.id, c.id)
        mark_sent(session, c.id, 10 - n)
        campaigns.append(c)
    for i in range(8):  # each vendor answers once, to the latest campaign
        service.record_response(session, org.id, phone=f"+9190000000{i:02d}", text="yes", received_at=utcnow(),
                                inbound_id=100 + i)
    [pune] = reach_by_place(session, ACTOR, org.id)
    total = sum(r.responses for r in campaign_report(session, ACTOR, org.id))
    assert (pune.place, pune.recipients, pune.responses, total) == ("Pune", 24, 8, 8)


def test_empty_fields_never_render_as_none_and_take_defaults(session, make_org):
    from core.vendors import add_vendor

    org = make_org(session, "campaigns", country="IN")
    add_vendor(session, ACTOR, org.id, business_name="No Owner Ltd", phone="9000000001", district="Pune")
    name = dlt_template(session, org.id, "greet",
                        "Namaste {{ owner_name | default('there') }}! {{ first_name }}|scheme?g={{ gstin }}")
    c = service.create_campaign(session, ACTOR, org.id, name="x", template=name)
    [line] = service.check_launch(session, ACTOR, org.id, c.id).lines
    assert line.text == "Namaste there! |scheme?g="
    assert line.who == "No Owner Ltd"
    assert "None" not in templates.render("{{ a }}{{ b }}", templates.context_for(org_name="O", name="",
                                                                                   record={"a": None, "b": " "}))


def test_an_indian_number_needs_the_templates_dlt_id_and_the_refusal_says_so(session, make_org, monkeypatch):
    from config.settings import get_settings
    from core.vendors import add_vendor

    monkeypatch.setenv("OFISI_EXOTEL_ACCOUNT_SID", "ofisi1")  # SMS to India go through Exotel here
    get_settings.cache_clear()
    org = make_org(session, "campaigns", country="IN")
    add_vendor(session, ACTOR, org.id, business_name="Sai", owner_name="Priya", phone="9876543210")
    templates.save_template(session, ACTOR, org.id, name="plain", channel="sms", body="Hi {{ first_name }}")
    c = service.create_campaign(session, ACTOR, org.id, name="x", template="plain")
    with pytest.raises(InvalidInput, match="its template 'plain' has no DLT template ID"):
        service.launch_campaign(session, ACTOR, org.id, c.id)
    session.rollback()
    templates.save_template(session, ACTOR, org.id, name="plain", channel="sms", body="Hi {{ first_name }}",
                            dlt_template_id="1107000000000000009")
    with pytest.raises(InvalidInput, match="no DLT entity ID"):
        service.launch_campaign(session, ACTOR, org.id, c.id)
    session.rollback()
    service.campaign_settings(session, ACTOR, org.id, dlt_entity_id="1101000000000000001")
    assert service.launch_campaign(session, ACTOR, org.id, c.id).queued == 1
    row = session.scalar(select(Message).where(Message.campaign_id == c.id))
    assert (row.body, row.subject) == ("Hi Priya", "dlt:1101000000000000001:1107000000000000009")
