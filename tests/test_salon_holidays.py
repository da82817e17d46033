"""Holidays, closures and time blocks kept up: added, listed and removed, honoured by what clients
and staff can book, said as the reason a time is refused, and a closure over booked appointments
handled as a block's are (listed, kept or cancelled). The core on both backends; then the same from
the command line as an owner runs it."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone

import pytest
from sqlalchemy import select

from core.errors import NotFound
from core.salon.availability import Unavailable, free_slots_on
from core.salon.bookings import book, get_appointment
from core.salon.schedule import (
    BookedInTheWay,
    clear_date_exception,
    list_date_exceptions,
    set_date_exception,
)
from db.models import AuditEntry
from db.types import utcnow
from tests.cli_support import InProcessCli
from tests.salon_support import SYSTEM, add_client, hhmm, make_salon

UTC = timezone.utc
TUESDAY, WEDNESDAY = date(2026, 3, 3), date(2026, 3, 4)
NOW = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)


def slots(session, salon, day, *, client=True):
    return free_slots_on(session, SYSTEM, salon.org.id, salon.pro.id, salon.service.id, day, now=NOW,
                         client=client)


def book_at(session, salon, day, hh_mm, *, source="console", client=None):
    return book(session, SYSTEM, salon.org.id, professional_id=salon.pro.id, service_id=salon.service.id,
                contact_id=(client or salon.client).id, start=salon.at(day, hh_mm), now=NOW, source=source)


def test_a_holiday_closes_the_diary_to_clients_and_staff_and_says_why(session):
    salon = make_salon(session)
    set_date_exception(session, SYSTEM, salon.org.id, WEDNESDAY, hours=None, note="Madaraka Day")
    assert [(d.day, d.hours, d.note) for d in list_date_exceptions(session, SYSTEM, salon.org.id, TUESDAY,
                                                                    WEDNESDAY)] == [(WEDNESDAY, None, "Madaraka Day")]
    assert slots(session, salon, WEDNESDAY) == [] and slots(session, salon, WEDNESDAY, client=False) == []
    for source in ("sms", "console"):  # a client by SMS, and staff at the desk
        with pytest.raises(Unavailable, match="outside Aisha Mohamed's hours on Wed 4 Mar "
                                              r"\(the salon is closed: Madaraka Day\)"):
            book_at(session, salon, WEDNESDAY, "10:00", source=source)
    # Shorter hours that day: only those are offered, and the refusal says whose hours they are.
    set_date_exception(session, SYSTEM, salon.org.id, TUESDAY, hours=(time(10), time(12)), note="half day")
    assert hhmm(slots(session, salon, TUESDAY)) == ["10:00", "10:15", "10:30", "10:45", "11:00"]
    with pytest.raises(Unavailable, match=r"\(10:00–12:00, the salon hours that day: half day\)"):
        book_at(session, salon, TUESDAY, "14:00")

    clear_date_exception(session, SYSTEM, salon.org.id, WEDNESDAY)
    assert hhmm(slots(session, salon, WEDNESDAY))[:2] == ["09:00", "09:15"]
    assert book_at(session, salon, WEDNESDAY, "10:00").status == "confirmed"
    with pytest.raises(NotFound, match="2026-03-04 has no holiday, closure or other hours for the salon"):
        clear_date_exception(session, SYSTEM, salon.org.id, WEDNESDAY)
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.org_id == salon.org.id,
                                                              AuditEntry.action.like("salon.holiday.%")))
    assert sorted(actions) == ["salon.holiday.remove", "salon.holiday.set", "salon.holiday.set"]


def test_a_closure_over_booked_appointments_lists_them_and_asks_what_to_do(session):
    salon = make_salon(session)
    other = add_client(session, salon, "Achieng Otieno", "0722000111")
    morning = book_at(session, salon, WEDNESDAY, "10:00")
    afternoon = book_at(session, salon, WEDNESDAY, "15:00", client=other)
    with pytest.raises(BookedInTheWay, match=f"2 appointments are booked then: #{morning.id} Wed 4 Mar 10:00 "
                                             f"Wanjiku Kamau \\(Braids\\); #{afternoon.id} Wed 4 Mar 15:00"):
        set_date_exception(session, SYSTEM, salon.org.id, WEDNESDAY, hours=None, note="Madaraka Day")
    assert list_date_exceptions(session, SYSTEM, salon.org.id, WEDNESDAY, WEDNESDAY) == []  # nothing was set
    # Open 09:00-13:00 only: the morning appointment fits, the afternoon one is in the way.
    with pytest.raises(BookedInTheWay) as refused:
        set_date_exception(session, SYSTEM, salon.org.id, WEDNESDAY, hours=(time(9), time(13)))
    assert [a[0] for a in refused.value.appointments] == [afternoon.id]
    set_date_exception(session, SYSTEM, salon.org.id, WEDNESDAY, hours=(time(9), time(13)), booked="cancel",
                       note="half day", now=NOW)
    gone = get_appointment(session, SYSTEM, salon.org.id, afternoon.id)
    assert (gone.status, gone.cancel_reason) == ("cancelled", "the salon is open 09:00–13:00 only that day (half day)")
    assert get_appointment(session, SYSTEM, salon.org.id, morning.id).status == "confirmed"
    # A professional's own hours that day stand: the salon's closure is not in her way.
    set_date_exception(session, SYSTEM, salon.org.id, TUESDAY, hours=(time(9), time(18)),
                       professional_id=salon.pro.id, note="works the holiday")
    kept = book_at(session, salon, TUESDAY, "11:00")
    set_date_exception(session, SYSTEM, salon.org.id, TUESDAY, hours=None, note="staff training")
    assert get_appointment(session, SYSTEM, salon.org.id, kept.id).status == "confirmed"
    assert hhmm(slots(session, salon, TUESDAY, client=False))[:1] == ["09:00"]
    # Keep: the closure is set and the appointment stays for someone to move by hand.
    set_date_exception(session, SYSTEM, salon.org.id, TUESDAY, hours=None, professional_id=salon.pro.id,
                       booked="keep")
    assert get_appointment(session, SYSTEM, salon.org.id, kept.id).status == "confirmed"
    assert slots(session, salon, TUESDAY, client=False) == []


def test_holidays_and_blocks_from_the_command_line(committed_db, monkeypatch):
    with committed_db.session() as s:
        salon = make_salon(s)
    cli = InProcessCli(committed_db.url, monkeypatch)
    slug, pro = salon.org.slug, salon.pro.email
    day = utcnow().astimezone(salon.tz).date() + timedelta(days=3)
    day += timedelta(days=1) if day.weekday() == 6 else timedelta(0)
    booked = cli("bookings", "add", "--org", slug, "--pro", pro, "--service", "Braids", "--client", "0712 345 678",
                 "--at", f"{day.isoformat()}T10:00", "--json")
    assert booked.returncode == 0, booked.stderr
    appointment = json.loads(booked.stdout)["id"]

    refused = cli("salon", "holiday", "add", "--org", slug, "--date", day.isoformat(), "--note", "Madaraka Day")
    assert refused.returncode == 1 and f"1 appointment is booked then: #{appointment}" in refused.stderr
    added = cli("salon", "holiday", "add", "--org", slug, "--date", day.isoformat(), "--note", "Madaraka Day",
                "--booked", "cancel")
    assert added.returncode == 0 and f"{salon.org.name}: closed." in added.stderr, added.stderr
    own = cli("salon", "holiday", "add", "--org", slug, "--date", (day + timedelta(days=1)).isoformat(),
              "--pro", pro, "--hours", "12:00-16:00", "--note", "late start")
    assert own.returncode == 0 and "Aisha Mohamed: open 12:00-16:00 only." in own.stderr, own.stderr
    listed = cli("salon", "holiday", "list", "--org", slug, "--json")
    assert listed.returncode == 0, listed.stderr
    assert [(h["day"], h["professional_id"], h["hours"], h["note"]) for h in json.loads(listed.stdout)] == [
        (day.isoformat(), None, None, "Madaraka Day"),
        ((day + timedelta(days=1)).isoformat(), salon.pro.id, ["12:00:00", "16:00:00"], "late start")]
    table = cli("salon", "holiday", "list", "--org", slug)
    assert "the salon" in table.stdout and "Aisha Mohamed" in table.stdout and "12:00-16:00" in table.stdout

    # Nobody can book it: a client's slots are gone, and staff are told why.
    client_slots = cli("bookings", "slots", "--org", slug, "--pro", pro, "--service", "Braids", "--date",
                       day.isoformat(), "--json")
    assert json.loads(client_slots.stdout) == []
    closed = f"{day:%a} {day.day} {day:%b}: the salon is closed (Madaraka Day)."
    staff_slots = cli("bookings", "slots", "--org", slug, "--pro", pro, "--service", "Braids", "--date",
                      day.isoformat(), "--staff")
    assert closed in staff_slots.stderr and "No free time" in staff_slots.stderr, staff_slots.stderr
    desk = cli("bookings", "add", "--org", slug, "--pro", pro, "--service", "Braids", "--client", "0712 345 678",
               "--at", f"{day.isoformat()}T11:00")
    assert desk.returncode == 1 and "(the salon is closed: Madaraka Day)" in desk.stderr, desk.stderr
    agenda = cli("bookings", "list", "--org", slug, "--date", day.isoformat())
    assert closed in agenda.stderr and "cancelled" in agenda.stdout, agenda.stderr

    removed = cli("salon", "holiday", "remove", "--org", slug, "--date", day.isoformat())
    assert removed.returncode == 0, removed.stderr
    assert cli("salon", "holiday", "remove", "--org", slug, "--date", day.isoformat()).returncode == 1
    assert [h["note"] for h in json.loads(cli("salon", "holiday", "list", "--org", slug, "--json").stdout)] == [
        "late start"]
    assert json.loads(cli("bookings", "slots", "--org", slug, "--pro", pro, "--service", "Braids", "--date",
                          day.isoformat(), "--json").stdout)[0]["start"] == f"{day.isoformat()}T09:00:00+03:00"

    # Blocks: added, listed, removed.
    block = cli("salon", "block", "add", "--org", slug, "--pro", pro, "--from", f"{day.isoformat()}T09:00",
                "--to", f"{day.isoformat()}T13:00", "--reason", "training", "--note", "colour course")
    assert block.returncode == 0, block.stderr
    [shown] = json.loads(cli("salon", "block", "list", "--org", slug, "--json").stdout)
    assert (shown["reason"], shown["note"], shown["starts_at"]) == (
        "training", "colour course", f"{day.isoformat()}T06:00:00+00:00")
    assert json.loads(cli("bookings", "slots", "--org", slug, "--pro", pro, "--service", "Braids", "--date",
                          day.isoformat(), "--json").stdout)[0]["start"] == f"{day.isoformat()}T13:00:00+03:00"
    assert cli("salon", "block", "remove", str(shown["id"]), "--org", slug).returncode == 0
    assert json.loads(cli("salon", "block", "list", "--org", slug, "--json").stdout) == []
    gone = cli("salon", "block", "remove", str(shown["id"]), "--org", slug)
    assert gone.returncode == 1 and "does not exist" in gone.stderr


def test_a_client_texting_for_a_closed_day_is_told_the_salon_is_closed(session):
    from core import inbound
    from core.orgs import set_sms_number
    from db.models import Message

    salon = make_salon(session)
    set_sms_number(session, SYSTEM, salon.org.id, "22384")
    set_date_exception(session, SYSTEM, salon.org.id, WEDNESDAY, hours=None, note="Madaraka Day")
    inbound.receive(session, provider="africastalking", provider_message_id="ATXid_closed_1",
                    from_phone="+254799000333", to="22384", text="BOOK braids 2026-03-04 10:00", received_at=NOW)
    [reply] = session.scalars(select(Message.body).where(Message.to_address == "+254799000333"))
    assert "we are closed on Wed 4 Mar (Madaraka Day); next free: Thu 5 Mar 09:00, 09:15, 09:30." in reply, reply
    assert "Aisha" not in reply
