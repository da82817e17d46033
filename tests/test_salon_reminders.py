"""What the client hears: confirmation, reminders before, a notice when moved or
cancelled; reminders withdrawn when they no longer apply; and the whole way
out through `ofisi jobs run-due` and `ofisi send due` to a fake Africa's Talking."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone

import pytest
from sqlalchemy import select

from core.salon.bookings import book, cancel, complete, confirm, mark_no_show, reschedule
from core.salon.schedule import set_weekly_hours
from core.salon.settings import update_booking_settings
from db.models import Message
from db.types import utcnow
from tests.cli_support import InProcessCli
from tests.fakes.africastalking import fake_at  # noqa: F401  (fixture)
from tests.salon_support import SYSTEM, add_client, make_salon

UTC = timezone.utc
TUESDAY = date(2026, 3, 3)
NOW = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)


def outbox_rows(session, org_id: int) -> dict[str, Message]:
    query = select(Message).where(Message.org_id == org_id).execution_options(populate_existing=True)
    return {m.idempotency_key: m for m in session.scalars(query)}


def book_at(session, salon, when: datetime, *, client=None, now=NOW, **kw):
    return book(session, SYSTEM, salon.org.id, professional_id=salon.pro.id, service_id=salon.service.id,
                contact_id=(client or salon.client).id, start=when, now=now, **kw)


def test_a_booking_queues_its_confirmation_and_two_reminders(session):
    salon = make_salon(session)
    appointment = book_at(session, salon, salon.at(TUESDAY, "10:00"))
    rows = outbox_rows(session, salon.org.id)
    prefix = f"salon:appt:{appointment.id}"
    assert set(rows) == {f"{prefix}:r0:booked:sms", f"{prefix}:remind:r0:1440:sms", f"{prefix}:remind:r0:120:sms"}
    confirmation = rows[f"{prefix}:r0:booked:sms"]
    assert (confirmation.to_address, confirmation.status, confirmation.next_attempt_at) == (
        "+254712345678", "queued", NOW)
    assert confirmation.body == f"{salon.org.name}: Wanjiku, you are booked for Braids with Aisha on Tue 3 Mar " \
                                "at 10:00. See you then!"
    day_before, two_hours = rows[f"{prefix}:remind:r0:1440:sms"], rows[f"{prefix}:remind:r0:120:sms"]
    assert day_before.next_attempt_at == salon.at(date(2026, 3, 2), "10:00")
    assert two_hours.next_attempt_at == salon.at(TUESDAY, "08:00")
    assert two_hours.body == f"{salon.org.name}: Wanjiku, a reminder of your Braids with Aisha on Tue 3 Mar at 10:00."
    assert {m.contact_id for m in rows.values()} == {salon.client.id}


def test_clients_with_an_email_hear_by_email_too(session):
    salon = make_salon(session)
    client = add_client(session, salon, "Achieng Otieno", "0722000111", email="achieng@example.com")
    appointment = book_at(session, salon, salon.at(TUESDAY, "10:00"), client=client)
    emails = [m for m in outbox_rows(session, salon.org.id).values() if m.channel == "email"]
    assert sorted(m.idempotency_key for m in emails) == sorted(
        f"salon:appt:{appointment.id}:{k}:email" for k in ("r0:booked", "remind:r0:1440", "remind:r0:120"))
    assert {(m.to_address, m.subject) for m in emails} == {
        ("achieng@example.com", f"Your appointment at {salon.org.name}")}


def test_reminders_already_past_are_not_queued_and_the_times_are_configurable(session):
    salon = make_salon(session, min_notice_minutes=30)
    soon = book_at(session, salon, salon.at(TUESDAY, "10:00"), now=salon.at(TUESDAY, "08:30"))
    assert [k for k in outbox_rows(session, salon.org.id)] == [f"salon:appt:{soon.id}:r0:booked:sms"]
    update_booking_settings(session, SYSTEM, salon.org.id, reminder_minutes=[30, 48 * 60])
    later = book_at(session, salon, salon.at(date(2026, 3, 5), "15:00"))
    keys = {k: m.next_attempt_at for k, m in outbox_rows(session, salon.org.id).items()
            if k.startswith(f"salon:appt:{later.id}:remind")}
    assert keys == {f"salon:appt:{later.id}:remind:r0:2880:sms": salon.at(date(2026, 3, 3), "15:00"),
                    f"salon:appt:{later.id}:remind:r0:30:sms": salon.at(date(2026, 3, 5), "14:30")}


def test_moving_withdraws_the_old_reminders_and_queues_new_ones(session):
    salon = make_salon(session)
    appointment = book_at(session, salon, salon.at(TUESDAY, "10:00"))
    reschedule(session, SYSTEM, salon.org.id, appointment.id, start=salon.at(date(2026, 3, 4), "11:00"), now=NOW)
    rows = outbox_rows(session, salon.org.id)
    prefix = f"salon:appt:{appointment.id}"
    assert {k: rows[k].status for k in rows if ":remind:" in k} == {
        f"{prefix}:remind:r0:1440:sms": "cancelled", f"{prefix}:remind:r0:120:sms": "cancelled",
        f"{prefix}:remind:r1:1440:sms": "queued", f"{prefix}:remind:r1:120:sms": "queued"}
    assert rows[f"{prefix}:remind:r1:120:sms"].next_attempt_at == salon.at(date(2026, 3, 4), "09:00")
    assert rows[f"{prefix}:r1:moved:sms"].body.endswith(
        "your Braids with Aisha has moved from Tue 3 Mar 10:00 to Wed 4 Mar 11:00.")
    assert rows[f"{prefix}:r0:booked:sms"].status == "queued"  # what was already said stays said


def test_cancelling_withdraws_reminders_even_claimed_ones_and_tells_the_client(session):
    salon = make_salon(session)
    appointment = book_at(session, salon, salon.at(TUESDAY, "10:00"))
    # A sender claimed the first reminder but has not started the call yet.
    day_before = outbox_rows(session, salon.org.id)[f"salon:appt:{appointment.id}:remind:r0:1440:sms"]
    day_before.status, day_before.claimed_by = "claimed", "host:1:abc"
    session.commit()
    cancel(session, SYSTEM, salon.org.id, appointment.id, reason="Stylist is ill", now=NOW)
    rows = outbox_rows(session, salon.org.id)
    reminders = [m for k, m in rows.items() if ":remind:" in k]
    assert {(m.status, m.claimed_by) for m in reminders} == {("cancelled", None)}
    notice = rows[f"salon:appt:{appointment.id}:r0:cancelled:sms"]
    assert notice.body.endswith("your Braids with Aisha on Tue 3 Mar at 10:00 is cancelled. Reply to book another time.")
    assert notice.next_attempt_at == NOW


def test_a_message_already_on_the_wire_is_left_alone(session):
    salon = make_salon(session)
    appointment = book_at(session, salon, salon.at(TUESDAY, "10:00"))
    two_hours = outbox_rows(session, salon.org.id)[f"salon:appt:{appointment.id}:remind:r0:120:sms"]
    two_hours.status = "sending"
    session.commit()
    cancel(session, SYSTEM, salon.org.id, appointment.id, reason="client asked", now=NOW)
    assert outbox_rows(session, salon.org.id)[f"salon:appt:{appointment.id}:remind:r0:120:sms"].status == "sending"


@pytest.mark.parametrize("close", ["complete", "no_show"])
def test_closing_an_appointment_withdraws_what_is_left(session, close):
    salon = make_salon(session, reminder_minutes=[120, 10])
    appointment = book_at(session, salon, salon.at(TUESDAY, "10:00"))
    closer = complete if close == "complete" else mark_no_show
    # Closed before any sender got to the 10-minute reminder: it is withdrawn, not sent late.
    closer(session, SYSTEM, salon.org.id, appointment.id, now=salon.at(TUESDAY, "10:05"))
    statuses = {k: m.status for k, m in outbox_rows(session, salon.org.id).items() if ":remind:" in k}
    assert set(statuses.values()) == {"cancelled"}


def test_requests_are_acknowledged_then_confirmed(session):
    salon = make_salon(session)
    appointment = book_at(session, salon, salon.at(TUESDAY, "10:00"), source="form")
    confirm(session, SYSTEM, salon.org.id, appointment.id, now=NOW)
    rows = outbox_rows(session, salon.org.id)
    assert "we have your request for Braids with Aisha on Tue 3 Mar at 10:00" in \
        rows[f"salon:appt:{appointment.id}:r0:booked:sms"].body
    assert rows[f"salon:appt:{appointment.id}:r0:confirmed:sms"].body.endswith(
        "your Braids with Aisha on Tue 3 Mar at 10:00 is confirmed. See you then!")


# ---------------------------------------------------------------- end to end, through the real commands

def _quarter_hour_after(moment: datetime, hours: int) -> datetime:
    moment = moment + timedelta(hours=hours)
    return moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0) + timedelta(minutes=15)


def test_reminders_reach_the_client_through_send_due_and_withdrawn_ones_never_do(committed_db, fake_at, monkeypatch):
    """Cron's two commands (the app in this process: test_cli runs them as the real executable), the
    real Africa's Talking provider, a fake server."""
    real_now = utcnow()
    booked_at = real_now - timedelta(days=2)  # booked two days ago: today's reminders are due
    start = _quarter_hour_after(real_now, 1)
    with committed_db.session() as s:
        salon = make_salon(s)
        set_weekly_hours(s, SYSTEM, salon.org.id, salon.pro.id, work={d: [(time(0), time(0))] for d in range(7)})
        kept = book_at(s, salon, start, now=booked_at)
        cancelled_client = add_client(s, salon, "Achieng Otieno", "0722000111")
        to_cancel = book_at(s, salon, start + timedelta(hours=2), client=cancelled_client, now=booked_at)
        moved_client = add_client(s, salon, "Njeri Mwangi", "0733000222", email="njeri@example.com")
        to_move = book_at(s, salon, start + timedelta(hours=4), client=moved_client, now=booked_at)
        # Moved and cancelled now, as the console would (the commands are tested in test_salon_cli).
        cancel(s, SYSTEM, salon.org.id, to_cancel.id, reason="Client is travelling")
        new_start = _quarter_hour_after(real_now, 72).astimezone(salon.tz)
        reschedule(s, SYSTEM, salon.org.id, to_move.id, start=new_start)
    for name, value in (("OFISI_SMS_PROVIDER", "africastalking"), ("OFISI_AT_USERNAME", fake_at.username),
                        ("OFISI_AT_API_KEY", fake_at.api_key), ("OFISI_AT_BASE_URL", fake_at.url)):
        monkeypatch.setenv(name, value)
    cli = InProcessCli(committed_db.url, monkeypatch)
    ran = cli("jobs", "run-due", "--json")
    assert ran.returncode == 0, ran.stderr
    sent = cli("send", "due", "--json")
    assert sent.returncode == 0, sent.stderr
    summary = json.loads(sent.stdout)
    assert (summary["sent"], summary["failed"], summary["unknown"]) == (7, 0, 0)
    assert summary["waiting"] == {"email": 2}  # Njeri's confirmation and notice wait for an email provider

    def heard(phone: str) -> list[str]:
        return [r.message.split(": ", 1)[1] for r in fake_at.received_for(phone)]

    when = f"on {start.astimezone(salon.tz):%a} {start.astimezone(salon.tz).day} {start.astimezone(salon.tz):%b} " \
           f"at {start.astimezone(salon.tz):%H:%M}"
    # The day-before reminder asks for an answer (1 confirms, 2 cancels); the last one only reminds.
    assert heard("+254712345678") == [f"Wanjiku, you are booked for Braids with Aisha {when}. See you then!",
                                      f"Wanjiku, a reminder of your Braids with Aisha {when}. "
                                      "Reply 1 to confirm, 2 to cancel.",
                                      f"Wanjiku, a reminder of your Braids with Aisha {when}."]
    achieng = heard("+254722000111")
    assert len(achieng) == 2 and "you are booked" in achieng[0] and achieng[1].endswith(
        "is cancelled. Reply to book another time.")
    njeri = heard("+254733000222")
    assert len(njeri) == 2 and "you are booked" in njeri[0] and "has moved from" in njeri[1]
    with committed_db.session() as s:
        rows = outbox_rows(s, salon.org.id)
        statuses = {k: m.status for k, m in rows.items() if ":remind:" in k and f":{kept.id}:" not in k}
        assert statuses == {
            f"salon:appt:{to_cancel.id}:remind:r0:1440:sms": "cancelled",
            f"salon:appt:{to_cancel.id}:remind:r0:120:sms": "cancelled",
            **{f"salon:appt:{to_move.id}:remind:r0:{m}:{ch}": "cancelled" for m in (1440, 120) for ch in ("sms", "email")},
            **{f"salon:appt:{to_move.id}:remind:r1:{m}:{ch}": "queued" for m in (1440, 120) for ch in ("sms", "email")},
        }
        assert rows[f"salon:appt:{to_move.id}:remind:r1:120:sms"].next_attempt_at == new_start - timedelta(hours=2)
    # Running again sends nothing twice.
    again = cli("send", "due", "--json")
    assert json.loads(again.stdout)["sent"] == 0 and len(fake_at.requests) == 7
