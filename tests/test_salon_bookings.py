"""Booking, moving, cancelling and closing appointments; who may; the client
record; and the database refusing double bookings (threads on both backends,
the exclusion constraint itself on PostgreSQL, the migration up and down)."""

from __future__ import annotations

import threading
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from core.actors import Actor
from core.errors import InvalidInput, NotFound, PermissionDenied
from core.salon.availability import Unavailable
from core.salon.bookings import (
    appointment_history,
    appointments_on,
    book,
    cancel,
    complete,
    confirm,
    get_appointment,
    mark_no_show,
    reschedule,
)
from core.salon.clients import get_client, list_clients
from core.salon.common import list_professionals
from core.salon.settings import update_staff_settings
from core.salon.schedule import add_time_block
from core.salon.services import update_service
from db.engine import make_engine
from db.migrate import downgrade, upgrade
from db.models_salon import SalonAppointment
from tests.salon_support import SYSTEM, add_client, add_staff, make_salon

UTC = timezone.utc
TUESDAY = date(2026, 3, 3)
NOW = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)


@pytest.fixture
def salon(session):
    return make_salon(session, minutes=60, buffer_after=15)


def book_at(session, salon, hh_mm, *, day=TUESDAY, actor=SYSTEM, client=None, pro=None, now=NOW, **kw):
    return book(session, actor, salon.org.id, professional_id=pro or salon.pro.id, service_id=salon.service.id,
                contact_id=(client or salon.client).id, start=salon.at(day, hh_mm), now=now, **kw)


def test_a_booking_keeps_the_price_and_times_it_was_made_with(session, salon):
    appointment = book_at(session, salon, "10:00", notes="Long hair")
    assert (appointment.status, appointment.source, appointment.price, appointment.notes) == (
        "confirmed", "console", "KES 1,500", "Long hair")
    assert appointment.starts_at.isoformat() == "2026-03-03T10:00:00+03:00"
    assert (appointment.ends_at, appointment.blocked_end) == (salon.at(TUESDAY, "11:00"), salon.at(TUESDAY, "11:15"))
    assert (appointment.client_name, appointment.professional_name) == ("Wanjiku Kamau", "Aisha Mohamed")
    update_service(session, SYSTEM, salon.org.id, salon.service.id, price="2000")
    assert get_appointment(session, SYSTEM, salon.org.id, appointment.id).price_minor == 150_000
    [event] = appointment_history(session, SYSTEM, salon.org.id, appointment.id)
    assert (event.kind, event.to_start, event.actor) == ("booked", salon.at(TUESDAY, "10:00"), "cli:test")


def test_a_clash_names_the_appointment_in_the_way_and_offers_the_next_free_slots(session, salon):
    first = book_at(session, salon, "10:00")
    other = add_client(session, salon, "Achieng Otieno", "0722000111")
    with pytest.raises(Unavailable) as refused:
        book_at(session, salon, "10:30", client=other)
    assert refused.value.appointment_id == first.id
    assert str(refused.value) == (
        f"Aisha Mohamed is booked from 10:00 to 11:00 on Tue 3 Mar (appointment #{first.id}, Braids); "
        "next free: Tue 3 Mar 11:15, 11:30, 11:45.")
    # The buffer after the first booking counts too: 11:00 would start inside it.
    with pytest.raises(Unavailable, match=f"appointment #{first.id}"):
        book_at(session, salon, "11:00", client=other)
    # Starting exactly where the buffer ends is fine.
    assert book_at(session, salon, "11:15", client=other).starts_at == salon.at(TUESDAY, "11:15")


def test_refusals_outside_hours_on_leave_too_soon_and_too_far(session, salon):
    with pytest.raises(Unavailable, match=r"17:30–18:45 \(buffers included\) is outside Aisha Mohamed's hours "
                                          r"on Tue 3 Mar \(09:00–18:00\); next free: Wed 4 Mar 09:00"):
        book_at(session, salon, "17:30")
    with pytest.raises(Unavailable, match="outside .* on Sun 8 Mar \\(no hours\\)"):
        book_at(session, salon, "10:00", day=date(2026, 3, 8))
    add_time_block(session, SYSTEM, salon.org.id, salon.pro.id, start=salon.at(TUESDAY, "09:00"),
                   end=salon.at(TUESDAY, "13:00"), reason="training", note="Colour course")
    with pytest.raises(Unavailable, match=r"is away \(training: Colour course\) from Tue 3 Mar 09:00 to "
                                          r"Tue 3 Mar 13:00; next free: Tue 3 Mar 13:00"):
        book_at(session, salon, "12:00")
    # Notice and horizon are the clients' rules (SMS, forms); staff book from now on, as far ahead as they like.
    with pytest.raises(Unavailable, match="too soon: bookings need 60 minutes' notice; next free: Tue 3 Mar 15:00"):
        book_at(session, salon, "14:30", now=salon.at(TUESDAY, "13:50"), source="sms")
    with pytest.raises(Unavailable, match="too far ahead: bookings open 60 days ahead"):
        book_at(session, salon, "10:00", day=date(2026, 5, 5), source="form")
    assert book_at(session, salon, "14:30", now=salon.at(TUESDAY, "13:50")).status == "confirmed"
    assert book_at(session, salon, "10:00", day=date(2026, 5, 5)).source == "console"
    with pytest.raises(Unavailable, match="has already passed"):
        book_at(session, salon, "16:00", now=salon.at(TUESDAY, "16:30"))
    with pytest.raises(InvalidInput, match="no time zone"):
        book(session, SYSTEM, salon.org.id, professional_id=salon.pro.id, service_id=salon.service.id,
             contact_id=salon.client.id, start=datetime(2026, 3, 3, 10), now=NOW)


def test_reschedule_moves_the_time_and_keeps_the_history(session, salon):
    appointment = book_at(session, salon, "10:00")
    other = book_at(session, salon, "14:00", client=add_client(session, salon, "Achieng", "0722000111"))
    moved = reschedule(session, SYSTEM, salon.org.id, appointment.id, start=salon.at(TUESDAY, "10:30"),
                       reason="client running late", now=NOW)
    assert (moved.starts_at, moved.revision, moved.price_minor) == (salon.at(TUESDAY, "10:30"), 1, 150_000)
    with pytest.raises(Unavailable, match=f"appointment #{other.id}"):
        reschedule(session, SYSTEM, salon.org.id, appointment.id, start=salon.at(TUESDAY, "13:30"), now=NOW)
    kinds = [(e.kind, e.from_start, e.to_start, e.reason)
             for e in appointment_history(session, SYSTEM, salon.org.id, appointment.id)]
    assert kinds == [("booked", None, salon.at(TUESDAY, "10:00"), None),
                     ("rescheduled", salon.at(TUESDAY, "10:00"), salon.at(TUESDAY, "10:30"), "client running late")]


def test_reschedule_to_another_professional(session, salon):
    appointment = book_at(session, salon, "10:00")
    add_staff(session, salon, "professional", "Zawadi")
    from core.salon.common import list_professionals

    zawadi = next(p for p in list_professionals(session, SYSTEM, salon.org.id) if p.name == "Zawadi")
    moved = reschedule(session, SYSTEM, salon.org.id, appointment.id, professional_id=zawadi.id,
                       start=salon.at(TUESDAY, "10:00"), now=NOW)
    assert moved.professional_name == "Zawadi"
    [_booked, event] = appointment_history(session, SYSTEM, salon.org.id, appointment.id)
    assert event.details == {"professional_from": salon.pro.id, "professional_to": zawadi.id}
    # Aisha's 10:00 is free again.
    assert book_at(session, salon, "10:00").starts_at == salon.at(TUESDAY, "10:00")


def test_cancel_needs_a_reason_and_frees_the_time(session, salon):
    appointment = book_at(session, salon, "10:00")
    with pytest.raises(InvalidInput, match="Say why"):
        cancel(session, SYSTEM, salon.org.id, appointment.id, reason="  ", now=NOW)
    cancelled = cancel(session, SYSTEM, salon.org.id, appointment.id, reason="Client is travelling", now=NOW)
    assert (cancelled.status, cancelled.cancel_reason) == ("cancelled", "Client is travelling")
    with pytest.raises(InvalidInput, match="is cancelled; it cannot be moved"):
        reschedule(session, SYSTEM, salon.org.id, appointment.id, start=salon.at(TUESDAY, "12:00"), now=NOW)
    with pytest.raises(InvalidInput, match="is cancelled; it cannot be cancelled"):
        cancel(session, SYSTEM, salon.org.id, appointment.id, reason="again", now=NOW)
    assert book_at(session, salon, "10:00").id != appointment.id
    assert [e.kind for e in appointment_history(session, SYSTEM, salon.org.id, appointment.id)] == [
        "booked", "cancelled"]


def test_bookings_of_a_professional_who_left_can_still_be_moved_away_or_cancelled(session, salon):
    from core.users import remove_membership

    first = book_at(session, salon, "10:00")
    second = book_at(session, salon, "12:00")
    remove_membership(session, SYSTEM, salon.pro.email, org_id=salon.org.id)
    with pytest.raises(NotFound, match="not staff of this salon"):
        reschedule(session, SYSTEM, salon.org.id, first.id, start=salon.at(TUESDAY, "11:00"), now=NOW)
    zawadi = add_staff(session, salon, "professional", "Zawadi")
    moved = reschedule(session, SYSTEM, salon.org.id, first.id, start=salon.at(TUESDAY, "10:00"),
                       professional_id=zawadi.user_id, now=NOW)
    assert moved.professional_name == "Zawadi"
    cancelled = cancel(session, SYSTEM, salon.org.id, second.id, reason="Aisha left the salon", now=NOW)
    assert (cancelled.status, cancelled.professional_name) == ("cancelled", "Aisha Mohamed")


def test_completing_creates_then_updates_the_client_record(session, salon):
    first = book_at(session, salon, "10:00")
    second = book_at(session, salon, "10:00", day=date(2026, 3, 10))
    third = book_at(session, salon, "10:00", day=date(2026, 3, 17))
    with pytest.raises(InvalidInput, match="cannot be completed before then"):
        complete(session, SYSTEM, salon.org.id, first.id, now=NOW)
    assert get_client(session, SYSTEM, salon.org.id, salon.client.id) is None
    complete(session, SYSTEM, salon.org.id, first.id, now=salon.at(TUESDAY, "11:05"))
    record = get_client(session, SYSTEM, salon.org.id, salon.client.id)
    assert (record.visit_count, record.lifetime_spend, record.first_visit_at) == (1, "KES 1,500", first.starts_at)
    update_service(session, SYSTEM, salon.org.id, salon.service.id, price="2,000")
    fourth = book_at(session, salon, "10:00", day=date(2026, 3, 24))
    complete(session, SYSTEM, salon.org.id, second.id, now=salon.at(date(2026, 3, 10), "11:00"))
    mark_no_show(session, SYSTEM, salon.org.id, third.id, now=salon.at(date(2026, 3, 17), "10:30"))
    complete(session, SYSTEM, salon.org.id, fourth.id, now=salon.at(date(2026, 3, 24), "11:00"))
    record = get_client(session, SYSTEM, salon.org.id, salon.client.id)
    assert (record.visit_count, record.lifetime_spend_minor) == (3, 150_000 + 150_000 + 200_000)
    assert (record.first_visit_at, record.last_visit_at) == (first.starts_at, fourth.starts_at)
    assert [c.contact_id for c in list_clients(session, SYSTEM, salon.org.id)] == [salon.client.id]
    with pytest.raises(InvalidInput, match="is completed; it cannot be completed"):
        complete(session, SYSTEM, salon.org.id, first.id, now=salon.at(date(2026, 3, 24), "11:00"))
    with pytest.raises(InvalidInput, match="is no-show; it cannot be cancelled"):
        cancel(session, SYSTEM, salon.org.id, third.id, reason="late", now=NOW)


def test_requests_from_sms_and_forms_wait_for_confirmation(session, salon):
    pending = book_at(session, salon, "10:00", source="sms")
    assert pending.status == "pending"
    with pytest.raises(Unavailable):  # a request holds the time too
        book_at(session, salon, "10:30", client=add_client(session, salon, "Achieng", "0722000111"))
    assert confirm(session, SYSTEM, salon.org.id, pending.id, now=NOW).status == "confirmed"
    with pytest.raises(InvalidInput, match="not pending"):
        confirm(session, SYSTEM, salon.org.id, pending.id, now=NOW)
    with pytest.raises(InvalidInput, match="not a booking source"):
        book_at(session, salon, "15:00", source="whatsapp")


def test_the_day_list_in_the_salons_time_zone(session, salon):
    late = book_at(session, salon, "16:00")
    early = book_at(session, salon, "09:00")
    book_at(session, salon, "09:00", day=date(2026, 3, 4))
    cancelled = book_at(session, salon, "12:00")
    cancel(session, SYSTEM, salon.org.id, cancelled.id, reason="ill", now=NOW)
    assert [a.id for a in appointments_on(session, SYSTEM, salon.org.id, TUESDAY)] == [early.id, cancelled.id, late.id]
    assert [a.id for a in appointments_on(session, SYSTEM, salon.org.id, TUESDAY, include_cancelled=False)] == [
        early.id, late.id]


def test_who_may_book_for_whom(session, salon):
    owner = add_staff(session, salon, "owner", "Wairimu")
    reception = add_staff(session, salon, "receptionist", "Lucy")
    zawadi = add_staff(session, salon, "professional", "Zawadi")
    aisha = Actor.staff(salon.pro.id, salon.pro.email)
    client = add_client(session, salon, "Achieng", "0722000111")
    # A professional books into her own diary and manages it, not a colleague's.
    own = book_at(session, salon, "09:00", actor=aisha)
    with pytest.raises(PermissionDenied, match="only in your own diary"):
        book_at(session, salon, "11:00", actor=zawadi, client=client)
    with pytest.raises(PermissionDenied, match="only in your own diary"):
        cancel(session, zawadi, salon.org.id, own.id, reason="not mine", now=NOW)
    # Reception and the owner book for anyone; the owner is booked only once she says she takes clients.
    book_at(session, salon, "11:00", actor=reception, client=client)
    with pytest.raises(InvalidInput, match="Wairimu is the owner .* not a professional"):
        book_at(session, salon, "11:00", actor=reception, pro=owner.user_id)
    assert [p.name for p in list_professionals(session, reception, salon.org.id)] == ["Aisha Mohamed", "Zawadi"]
    update_staff_settings(session, owner, salon.org.id, owner.user_id, bookable=True)
    assert [p.name for p in list_professionals(session, reception, salon.org.id)] == [
        "Aisha Mohamed", "Wairimu", "Zawadi"]
    booked_with_owner = book_at(session, salon, "11:00", actor=reception, pro=owner.user_id)
    assert booked_with_owner.professional_name == "Wairimu"
    with pytest.raises(InvalidInput, match="Lucy is the receptionist .* not a professional"):
        book_at(session, salon, "13:00", actor=owner, pro=reception.user_id)
    # Staff of another salon cannot even see this one.
    elsewhere = make_salon(session)
    stranger = Actor.staff(elsewhere.pro.id, elsewhere.pro.email)
    with pytest.raises(NotFound, match="organisation does not exist"):
        book_at(session, salon, "15:00", actor=stranger)
    with pytest.raises(NotFound):
        get_appointment(session, stranger, salon.org.id, own.id)
    with pytest.raises(NotFound, match="no appointment"):
        get_appointment(session, SYSTEM, elsewhere.org.id, own.id)
    # Another salon's client cannot be booked here.
    with pytest.raises(NotFound, match="client does not exist"):
        book_at(session, salon, "15:00", client=elsewhere.client)


def test_names_that_match_nothing_say_what_there_is(session, salon):
    from core.salon.common import find_professional
    from core.salon.services import find_service, update_service

    assert find_service(session, SYSTEM, salon.org.id, "  BRAIDS ").id == salon.service.id
    with pytest.raises(NotFound, match="no service called 'Pedicure'; its services are: Braids"):
        find_service(session, SYSTEM, salon.org.id, "Pedicure")
    update_service(session, SYSTEM, salon.org.id, salon.service.id, active=False)
    with pytest.raises(NotFound, match="add one with `ofisi services add"):
        find_service(session, SYSTEM, salon.org.id, "Braids")
    with pytest.raises(NotFound, match="not staff of .* `ofisi user add nobody@example.com"):
        find_professional(session, SYSTEM, salon.org.id, "nobody@example.com")


def test_bookings_belong_to_salons(session, make_org):
    from core.salon.services import add_service

    chama = make_org(session, "chama")
    with pytest.raises(InvalidInput, match="is a chama, not a salon"):
        add_service(session, SYSTEM, chama.id, name="Haircut", minutes=30, price=500)


# ---------------------------------------------------------------- the database refuses double bookings

def _contacts(db, salon, count):
    with db.session() as s:
        return [add_client(s, salon, f"Client {i}", f"+2547330{i:05d}").id for i in range(count)]


@pytest.fixture
def committed_salon(committed_db):
    with committed_db.session() as s:
        return make_salon(s, minutes=60)


def test_thirty_threads_racing_for_one_slot_one_wins(committed_db, committed_salon, monkeypatch):
    import core.salon.bookings as bookings

    salon, threads_n = committed_salon, 30
    refused_by_constraint: list[bool] = []

    def counted(exc) -> bool:
        refused_by_constraint.append(True)
        return real_is_overlap(exc)

    real_is_overlap = bookings._is_overlap
    monkeypatch.setattr(bookings, "_is_overlap", counted)
    clients = _contacts(committed_db, salon, threads_n)
    engine = make_engine(committed_db.url, pool_size=threads_n + 2, max_overflow=0)
    sessions = sessionmaker(engine, expire_on_commit=False)
    gate = threading.Barrier(threads_n)
    outcomes: list[object] = [None] * threads_n

    def attempt(i: int) -> None:
        # Overlapping, not identical: 10:00, 10:05, … 10:25 for a 60-minute service.
        start = salon.at(TUESDAY, f"10:{(i % 6) * 5:02d}")
        with sessions() as s:
            gate.wait()
            try:
                outcomes[i] = book(s, SYSTEM, salon.org.id, professional_id=salon.pro.id,
                                   service_id=salon.service.id, contact_id=clients[i], start=start, now=NOW)
            except Exception as exc:  # the outcome is the assertion below
                outcomes[i] = exc

    try:
        workers = [threading.Thread(target=attempt, args=(i,)) for i in range(threads_n)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(60)
    finally:
        engine.dispose()
    winners = [o for o in outcomes if not isinstance(o, BaseException)]
    losers = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(winners) == 1, outcomes
    assert all(isinstance(o, Unavailable) and o.appointment_id == winners[0].id for o in losers), losers
    assert all(f"appointment #{winners[0].id}" in str(o) and "next free:" in str(o) for o in losers)
    with committed_db.session() as s:
        assert s.scalar(select(text("count(*)")).select_from(SalonAppointment)) == 1
    # Bookings for one professional queue on the diary (SQLite's write lock, PostgreSQL's advisory
    # lock), so every loser's check sees the winner and names it; no deadlock between inserters.
    # The exclusion constraint is the backstop, proven by the two tests below.
    assert refused_by_constraint == []


@pytest.mark.postgres_only
def test_a_check_that_missed_a_concurrent_booking_is_refused_by_the_constraint(
        committed_db, committed_salon, monkeypatch):
    if committed_db.dialect != "postgresql":
        pytest.skip("the exclusion constraint is PostgreSQL's; SQLite relies on BEGIN IMMEDIATE")
    salon = committed_salon
    [first_client, second_client] = _contacts(committed_db, salon, 2)
    with committed_db.session() as s:
        winner = book(s, SYSTEM, salon.org.id, professional_id=salon.pro.id, service_id=salon.service.id,
                      contact_id=first_client, start=salon.at(TUESDAY, "10:00"), now=NOW)
    _check_blind_once(monkeypatch)
    with committed_db.session() as s, pytest.raises(Unavailable) as refused:
        book(s, SYSTEM, salon.org.id, professional_id=salon.pro.id, service_id=salon.service.id,
             contact_id=second_client, start=salon.at(TUESDAY, "10:30"), now=NOW)
    assert refused.value.appointment_id == winner.id
    assert f"appointment #{winner.id}" in str(refused.value) and "next free: Tue 3 Mar 11:00" in str(refused.value)
    with committed_db.session() as s:
        assert s.scalar(select(text("count(*)")).select_from(SalonAppointment)) == 1
        # Nothing of the refused booking stayed: no event, no message for the second client.
        assert s.scalar(text("SELECT count(*) FROM messages WHERE contact_id = :c"), {"c": second_client}) == 0


def _check_blind_once(monkeypatch) -> None:
    """The next booking's overlap check runs as if the appointment in the way had not committed yet."""
    import core.salon.availability as availability

    real_busy, calls = availability.busy_between, []

    def blind_once(*args, **kw):
        calls.append(args)
        return [] if len(calls) == 1 else real_busy(*args, **kw)

    monkeypatch.setattr(availability, "busy_between", blind_once)


def test_a_writer_chosen_as_a_deadlock_victim_is_refused_by_name(committed_db, committed_salon, monkeypatch):
    """Two writers that bypassed the diary lock can deadlock on each other's rows (PostgreSQL
    then fails one with 40P01); the victim hears who has the time, as after any lost race."""
    from sqlalchemy.exc import OperationalError

    class DeadlockDetected(Exception):
        sqlstate = "40P01"

    salon = committed_salon
    [first_client, second_client] = _contacts(committed_db, salon, 2)
    with committed_db.session() as s:
        winner = book(s, SYSTEM, salon.org.id, professional_id=salon.pro.id, service_id=salon.service.id,
                      contact_id=first_client, start=salon.at(TUESDAY, "10:00"), now=NOW)
    _check_blind_once(monkeypatch)
    with committed_db.session() as s, pytest.raises(Unavailable) as refused:
        real_flush = s.flush

        def flush(*args, **kw):
            if any(isinstance(o, SalonAppointment) for o in s.new):
                raise OperationalError("INSERT INTO salon_appointments …", {}, DeadlockDetected("deadlock detected"))
            return real_flush(*args, **kw)

        monkeypatch.setattr(s, "flush", flush)
        book(s, SYSTEM, salon.org.id, professional_id=salon.pro.id, service_id=salon.service.id,
             contact_id=second_client, start=salon.at(TUESDAY, "10:30"), now=NOW)
    assert refused.value.appointment_id == winner.id


@pytest.mark.postgres_only
def test_the_exclusion_constraint_refuses_overlaps_written_by_hand(committed_db, committed_salon):
    if committed_db.dialect != "postgresql":
        pytest.skip("the exclusion constraint is PostgreSQL's; SQLite relies on BEGIN IMMEDIATE")
    salon = committed_salon

    def insert(conn, start_hh_mm: str, end_hh_mm: str, status: str = "confirmed", pro: int | None = None) -> None:
        start, end = salon.at(TUESDAY, start_hh_mm), salon.at(TUESDAY, end_hh_mm)
        conn.execute(SalonAppointment.__table__.insert().values(
            org_id=salon.org.id, professional_id=pro or salon.pro.id, service_id=salon.service.id,
            contact_id=salon.client.id, starts_at=start, ends_at=end, blocked_start=start, blocked_end=end,
            price_minor=1, currency="KES", status=status, source="console", notes="", revision=0,
            created_by="test", created_at=NOW, updated_at=NOW))

    with committed_db.engine.begin() as conn:
        insert(conn, "10:00", "11:00")
        insert(conn, "11:00", "12:00")  # touching is not overlapping: ranges are [start, end)
        insert(conn, "10:30", "11:30", status="cancelled")  # cancelled appointments hold nothing
    with pytest.raises(IntegrityError) as refused:
        with committed_db.engine.begin() as conn:
            insert(conn, "10:59", "11:01")
    assert refused.value.orig.sqlstate == "23P01"
    assert "ex_salon_appointments_no_overlap" in str(refused.value.orig)
    with committed_db.session() as s:
        other = add_staff(s, salon, "professional", "Zawadi")
    with committed_db.engine.begin() as conn:
        insert(conn, "10:00", "11:00", pro=other.user_id)  # another professional's diary


def test_salon_migration_down_and_up(fresh_database_url):
    engine = make_engine(fresh_database_url)
    try:
        upgrade(engine)
        tables = set(inspect(engine).get_table_names())
        assert {"salon_services", "salon_appointments", "salon_clients", "salon_time_blocks"} <= tables
        if engine.dialect.name == "postgresql":
            with engine.connect() as conn:
                kinds = conn.execute(text(
                    "SELECT contype FROM pg_constraint WHERE conname = 'ex_salon_appointments_no_overlap'")).all()
            assert kinds == [("x",)]
        downgrade(engine, "s001")  # the leads revision alone
        tables = set(inspect(engine).get_table_names())
        assert "salon_appointments" in tables and not {"salon_leads", "salon_tasks"} & tables
        downgrade(engine, "salon@base")  # the salon branch only; other areas keep their tables
        assert not {t for t in inspect(engine).get_table_names() if t.startswith("salon_")}
        upgrade(engine)
        assert "salon_appointments" in inspect(engine).get_table_names()
    finally:
        engine.dispose()

