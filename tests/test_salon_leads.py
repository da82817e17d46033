"""Leads: the scoring table, capture and merge, follow-up tasks, the pipeline,
conversion with a first booking, form checks and limits, the leads import,
and conversations."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from core.errors import Conflict, InvalidInput, NotFound
from core.importing import read_rows
from core.salon.availability import Unavailable
from core.salon.bookings import appointments_on
from core.salon.conversations import inbox, record_inbound, reply, thread
from core.salon.forms import FormInvalid, RateLimited, create_form, submit_form
from core.salon.importing import COLUMNS, import_leads
from core.salon.leads import (
    LeadDetails,
    add_lead,
    complete_task,
    convert_lead,
    get_lead,
    lead_activities,
    list_leads,
    list_tasks,
    log_call,
    set_lead_status,
)
from core.salon.scoring import FOLLOW_UP, THRESHOLDS, WEIGHTS, LeadSignals, follow_up_due, score_lead
from db.models import Contact, Message
from db.models_salon import SalonAppointment, SalonLead
from tests.salon_support import SYSTEM, add_staff, make_salon

UTC = timezone.utc
NOW = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # Monday 10:00 in Nairobi
TODAY = date(2026, 3, 2)
TUESDAY = date(2026, 3, 3)


@pytest.fixture
def salon(session):
    return make_salon(session)


# ---------------------------------------------------------------- scoring

def test_weights_and_thresholds_are_one_table():
    assert sum(WEIGHTS.values()) >= 100
    assert [name for name, _ in THRESHOLDS] == ["hot", "warm", "cold"] and THRESHOLDS[-1][1] == 0
    assert FOLLOW_UP == {"hot": (timedelta(0), 1), "warm": (timedelta(hours=24), 2), "cold": (timedelta(days=3), 3)}


@pytest.mark.parametrize("signals, points, temperature", [
    (LeadSignals(), 0, "cold"),
    (LeadSignals(name="Amina"), 10, "cold"),
    (LeadSignals(name="Amina", service_wanted="Braids"), 30, "warm"),
    (LeadSignals(name="Amina", email="a@example.com", message="Box braids, shoulder length please"), 50, "warm"),
    (LeadSignals(name="Amina", service_wanted="Braids", preferred_date=date(2026, 3, 5)), 60, "hot"),
    (LeadSignals(name="Amina", service_wanted="Braids", preferred_date=date(2026, 4, 30)), 45, "warm"),
    (LeadSignals(message="hi"), 0, "cold"),
    (LeadSignals(message="x" * 70), 20, "cold"),
    (LeadSignals(name="A", previous_contacts=1, service_wanted="Nails"), 50, "warm"),
    (LeadSignals(name="A", email="a@b.co", message="y" * 80, service_wanted="S", preferred_date=TODAY,
                 previous_contacts=2), 100, "hot"),
])
def test_score_of_each_signal(signals, points, temperature):
    score = score_lead(signals, TODAY)
    assert (score.points, score.temperature) == (points, temperature)
    assert sum(WEIGHTS[s] for s in score.signals) >= score.points


def test_a_past_date_is_not_within_the_week():
    assert "date_within_week" not in score_lead(LeadSignals(preferred_date=TODAY - timedelta(days=1)), TODAY).signals


def test_follow_up_due_by_temperature():
    assert follow_up_due("hot", NOW) == (NOW, 1)
    assert follow_up_due("warm", NOW) == (NOW + timedelta(hours=24), 2)
    assert follow_up_due("cold", NOW) == (NOW + timedelta(days=3), 3)


# ---------------------------------------------------------------- capture, tasks, pipeline

HOT = LeadDetails(phone="0711000001", name="Amina", service_wanted="Braids", preferred_date=date(2026, 3, 4))


def test_new_lead_is_scored_with_a_task_and_logged(session, salon):
    lead = add_lead(session, SYSTEM, salon.org.id, HOT, now=NOW)
    assert (lead.phone, lead.temperature, lead.status, lead.source) == ("+254711000001", "hot", "new", "console")
    [task] = list_tasks(session, SYSTEM, salon.org.id)
    assert (task.lead_id, task.due_at, task.priority, task.temperature) == (lead.id, NOW, 1, "hot")
    assert [a.kind for a in lead_activities(session, SYSTEM, salon.org.id, lead.id)] == ["created"]


def test_repeat_contact_merges_warms_and_brings_the_task_forward(session, salon):
    first = add_lead(session, SYSTEM, salon.org.id, LeadDetails(phone="+254711000002", name="Beth"), now=NOW)
    assert first.temperature == "cold"
    [task] = list_tasks(session, SYSTEM, salon.org.id)
    assert task.due_at == NOW + timedelta(days=3)
    later = NOW + timedelta(days=1)
    again = add_lead(session, SYSTEM, salon.org.id,
                     LeadDetails(phone="0711000002", service_wanted="Nails", message="ok"),
                     now=later)
    assert again.id == first.id and again.contacts_count == 2
    assert (again.temperature, again.service_wanted, again.name) == ("warm", "Nails", "Beth")
    [task] = list_tasks(session, SYSTEM, salon.org.id)
    assert (task.due_at, task.priority) == (later + timedelta(hours=24), 2)
    assert session.scalar(select(func.count()).select_from(SalonLead)) == 1
    # Writing again the same day is not another contact: spam does not warm a lead.
    for minutes in (5, 10, 15):
        same_day = add_lead(session, SYSTEM, salon.org.id, LeadDetails(phone="0711000002", message="hello??"),
                            now=later + timedelta(minutes=minutes))
    assert (same_day.contacts_count, same_day.score) == (2, again.score)
    assert [a.kind for a in lead_activities(session, SYSTEM, salon.org.id, first.id)] == [
        "created", "contacted_again", "repeated", "repeated", "repeated"]


def test_pipeline_moves_forward_and_lost_needs_a_reason(session, salon):
    lead = add_lead(session, SYSTEM, salon.org.id, HOT, now=NOW)
    called = log_call(session, SYSTEM, salon.org.id, lead.id, note="wants Thursday", now=NOW + timedelta(minutes=5))
    assert (called.status, called.first_response_at) == ("contacted", NOW + timedelta(minutes=5))
    assert set_lead_status(session, SYSTEM, salon.org.id, lead.id, "qualified").status == "qualified"
    with pytest.raises(InvalidInput, match="moves forward"):
        set_lead_status(session, SYSTEM, salon.org.id, lead.id, "contacted")
    with pytest.raises(InvalidInput, match="Say why"):
        set_lead_status(session, SYSTEM, salon.org.id, lead.id, "lost", reason="  ")
    lost = set_lead_status(session, SYSTEM, salon.org.id, lead.id, "lost", reason="price")
    assert (lost.status, lost.lost_reason) == ("lost", "price")
    assert list_tasks(session, SYSTEM, salon.org.id) == []  # closing the lead closes its tasks
    with pytest.raises(Conflict):
        set_lead_status(session, SYSTEM, salon.org.id, lead.id, "qualified")
    kinds = [a.kind for a in lead_activities(session, SYSTEM, salon.org.id, lead.id)]
    assert kinds == ["created", "called", "status_changed", "status_changed", "status_changed"]
    # A lost lead who writes again is open again.
    back = add_lead(session, SYSTEM, salon.org.id, LeadDetails(phone=HOT.phone, message="Still want braids"), now=NOW)
    assert (back.status, back.lost_reason) == ("new", None)


def test_convert_books_the_first_appointment_in_the_same_step(session, salon):
    lead = add_lead(session, SYSTEM, salon.org.id, HOT, now=NOW)
    converted, appointment = convert_lead(session, SYSTEM, salon.org.id, lead.id, professional_id=salon.pro.id,
                                          service_id=salon.service.id, start=salon.at(TUESDAY, "10:00"), now=NOW)
    assert converted.status == "converted" and converted.contact_id is not None
    assert appointment is not None and appointment.contact_id == converted.contact_id
    contact = session.get(Contact, converted.contact_id)
    assert (contact.name, contact.phone) == ("Amina", "+254711000001")
    assert [a.kind for a in lead_activities(session, SYSTEM, salon.org.id, lead.id)][-2:] == ["booked", "status_changed"]


def test_convert_that_cannot_book_changes_nothing(session, salon):
    taken = add_lead(session, SYSTEM, salon.org.id, LeadDetails(phone="0711000005", name="Chao"), now=NOW)
    convert_lead(session, SYSTEM, salon.org.id, taken.id, professional_id=salon.pro.id, service_id=salon.service.id,
                 start=salon.at(TUESDAY, "10:00"), now=NOW)
    lead = add_lead(session, SYSTEM, salon.org.id, HOT, now=NOW)
    with pytest.raises(Unavailable):
        convert_lead(session, SYSTEM, salon.org.id, lead.id, professional_id=salon.pro.id,
                     service_id=salon.service.id, start=salon.at(TUESDAY, "10:30"), now=NOW)
    assert get_lead(session, SYSTEM, salon.org.id, lead.id).status == "new"
    assert session.scalar(select(func.count()).select_from(Contact).where(Contact.phone == "+254711000001")) == 0
    assert session.scalar(select(func.count()).select_from(SalonAppointment)) == 1


def test_tasks_are_done_once_and_leads_are_tenant_bound(session, salon):
    lead = add_lead(session, SYSTEM, salon.org.id, HOT, now=NOW)
    [task] = list_tasks(session, SYSTEM, salon.org.id, due_before=NOW + timedelta(hours=1))
    done = complete_task(session, SYSTEM, salon.org.id, task.id, now=NOW)
    assert done.done_at == NOW and list_tasks(session, SYSTEM, salon.org.id) == []
    other = make_salon(session)
    stranger = add_staff(session, other, "receptionist", "Zed")
    with pytest.raises(NotFound):  # another salon's staff are not told it exists
        get_lead(session, stranger, salon.org.id, lead.id)
    with pytest.raises(NotFound):
        get_lead(session, SYSTEM, other.org.id, lead.id)
    assert [v.id for v in list_leads(session, SYSTEM, salon.org.id, status="new")] == [lead.id]


# ---------------------------------------------------------------- forms

@pytest.fixture
def form(session, salon):
    return create_form(session, SYSTEM, salon.org.id, slug=f"book-{salon.org.slug}", title="Book with us",
                       fields=[{"name": "hair_length", "required": True}], max_per_ip_hour=4,
                       max_per_phone_hour=2)


def test_form_reports_every_field_problem(session, form):
    with pytest.raises(FormInvalid) as caught:
        submit_form(session, form.slug, {"phone": "12", "email": "nope", "preferred_date": "2026-02-01"},
                    ip="10.0.0.1", now=NOW)
    assert set(caught.value.errors) == {"name", "phone", "email", "preferred_date", "hair_length"}
    assert "has passed" in caught.value.errors["preferred_date"]


def test_form_creates_a_scored_lead_with_custom_fields(session, salon, form):
    sent = submit_form(session, form.slug, {"name": "Dora", "phone": "0711000009", "service": "Braids",
                                            "preferred_date": "04/03/2026", "hair_length": "long",
                                            "ignored": "x"}, ip="10.0.0.1", now=NOW)
    assert (sent.created, sent.temperature) == (True, "hot")
    lead = get_lead(session, SYSTEM, salon.org.id, sent.lead_id)
    assert (lead.source, lead.custom, lead.preferred_date) == ("form", {"hair_length": "long"}, date(2026, 3, 4))


def test_form_limits_by_address_and_by_phone(session, form):
    good = {"name": "E", "phone": "0711000010", "hair_length": "short"}
    for _ in range(2):
        submit_form(session, form.slug, good, ip="10.0.0.2", now=NOW)
    with pytest.raises(RateLimited, match="phone"):
        submit_form(session, form.slug, good, ip="10.0.0.3", now=NOW)
    with pytest.raises(FormInvalid):
        submit_form(session, form.slug, {"name": "F"}, ip="10.0.0.2", now=NOW)  # counts against the address
    with pytest.raises(FormInvalid):
        submit_form(session, form.slug, {"name": "F"}, ip="10.0.0.2", now=NOW)
    with pytest.raises(RateLimited, match="address") as caught:
        submit_form(session, form.slug, {**good, "phone": "0711000011"}, ip="10.0.0.2", now=NOW)
    assert 0 < caught.value.retry_after <= 3601
    # An hour later the window has moved on.
    assert submit_form(session, form.slug, good, ip="10.0.0.2", now=NOW + timedelta(hours=1, seconds=1)).created is False


def test_closed_or_unknown_form_is_not_found(session, form):
    with pytest.raises(NotFound):
        submit_form(session, "no-such-form", {}, ip="10.0.0.1")


def test_form_setup_is_checked(session, salon, form):
    with pytest.raises(Conflict):
        create_form(session, SYSTEM, salon.org.id, slug=form.slug, title="x")
    with pytest.raises(InvalidInput):
        create_form(session, SYSTEM, salon.org.id, slug="Bad Slug!", title="x")
    with pytest.raises(InvalidInput):
        create_form(session, SYSTEM, salon.org.id, slug="other-form", title="x", fields=[{"name": "phone"}])


# ---------------------------------------------------------------- import

def test_import_leads_checks_every_row_and_is_idempotent(session, salon, tmp_path):
    path = tmp_path / "leads.csv"
    path.write_text("Phone,Full name,Service wanted,Preferred date,Notes\n"
                    "0711000020,Gina,Braids,05/03/2026,met at the market\n"
                    "0711000021,Hawa,,,\n"
                    "not a phone,Ida,,,\n"
                    "0711000020,Gina again,,,\n")
    rows = read_rows(path, COLUMNS, ("phone",))
    refused = import_leads(session, SYSTEM, salon.org.id, rows, file="leads.csv")
    assert (refused.created, refused.invalid, refused.written) == (2, 2, False)
    assert [e.line for e in refused.errors] == [4, 5]
    assert session.scalar(select(func.count()).select_from(SalonLead)) == 0
    written = import_leads(session, SYSTEM, salon.org.id, rows, file="leads.csv", skip_invalid=True)
    assert (written.created, written.written) == (2, True)
    again = import_leads(session, SYSTEM, salon.org.id, rows, file="leads.csv", skip_invalid=True)
    assert (again.created, again.unchanged) == (0, 2)
    assert {v.source for v in list_leads(session, SYSTEM, salon.org.id)} == {"import"}
    assert len(list_tasks(session, SYSTEM, salon.org.id)) == 2


# ---------------------------------------------------------------- conversations

def test_inbound_sms_lands_in_the_thread_and_unknown_senders_become_leads(session, salon):
    record_inbound(session, salon.org.id, "0711000030", "Hi, do you do dreadlocks?", now=NOW)
    record_inbound(session, salon.org.id, salon.client.phone, "Running 10 minutes late", now=NOW)
    session.commit()
    [lead] = list_leads(session, SYSTEM, salon.org.id)
    assert (lead.phone, lead.source, lead.message) == ("+254711000030", "sms", "Hi, do you do dreadlocks?")
    sent = reply(session, SYSTEM, salon.org.id, "+254711000030", "Yes! Tuesday at 10?", now=NOW + timedelta(minutes=3))
    assert sent.status == "queued"
    conversation = thread(session, SYSTEM, salon.org.id, "0711000030")
    assert [(m.direction, m.status) for m in conversation] == [("out", "queued"), ("in", None)]
    message = session.scalar(select(Message).where(Message.to_address == "+254711000030"))
    message.status = "delivered"
    session.commit()
    assert thread(session, SYSTEM, salon.org.id, "0711000030")[0].status == "delivered"
    after = get_lead(session, SYSTEM, salon.org.id, lead.id)
    assert (after.status, after.first_response_at) == ("contacted", NOW + timedelta(minutes=3))
    threads = inbox(session, SYSTEM, salon.org.id)
    assert [(t.name, t.last_direction) for t in threads] == [("+254711000030", "out"), ("Wanjiku Kamau", "in")]
    assert threads[1].lead_id is None and threads[1].contact_id == salon.client.id
    # A known lead writing again is a repeat contact (counted once a day), not a second lead.
    record_inbound(session, salon.org.id, "+254711000030", "Tuesday works", now=NOW + timedelta(minutes=9))
    record_inbound(session, salon.org.id, "+254711000030", "Or Wednesday", now=NOW + timedelta(days=1))
    session.commit()
    assert get_lead(session, SYSTEM, salon.org.id, lead.id).contacts_count == 2
    assert [a.kind for a in lead_activities(session, SYSTEM, salon.org.id, lead.id)] == [
        "created", "messaged", "status_changed", "repeated", "contacted_again"]
    assert appointments_on(session, SYSTEM, salon.org.id, TUESDAY) == []


# ---------------------------------------------------------------- through the core's inbound SMS

def _sms(session, sender: str, to: str, text: str, message_id: str):
    from core import inbound

    return inbound.receive(session, provider="africastalking", provider_message_id=message_id,
                           from_phone=sender, to=to, text=text)


def test_sms_to_the_salons_number_reaches_the_thread_once(session, salon):
    from core.orgs import set_sms_number

    set_sms_number(session, SYSTEM, salon.org.id, "+254711555000")
    first = _sms(session, "0711000040", "+254711555000", "Do you braid on Sundays?", "AT-s1")
    assert (first.status, first.org_ids, first.replies) == ("handled", [salon.org.id], [])
    _sms(session, "0711000040", "+254711555000", "Do you braid on Sundays?", "AT-s1")  # redelivered
    [lead] = list_leads(session, SYSTEM, salon.org.id)
    assert (lead.source, lead.contacts_count) == ("sms", 1)
    assert [m.body for m in thread(session, SYSTEM, salon.org.id, "0711000040")] == ["Do you braid on Sundays?"]
    # On a shared code a lead is still known to the salon; a client's text joins their thread.
    assert _sms(session, "0711000040", "22384", "Sunday then?", "AT-s2").org_ids == [salon.org.id]
    _sms(session, salon.client.phone, "22384", "On my way", "AT-s3")
    assert len(thread(session, SYSTEM, salon.org.id, "0711000040")) == 2
    assert [m.body for m in thread(session, SYSTEM, salon.org.id, salon.client.phone)] == ["On my way"]
    assert len(list_leads(session, SYSTEM, salon.org.id)) == 1
