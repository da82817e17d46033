"""Salon bookings: ``free_slots`` over 30 days among 5,000 appointments, and booking
latency and throughput, each beside a floor measured in the same run.

    python bench/salon_bookings.py [--appointments N] [--bookings B] [--repeat R] [--database-url URL]

The database is a fresh SQLite file in a temporary directory unless
``--database-url`` (or ``OFISI_TEST_DATABASE_URL``) names a PostgreSQL server;
then a scratch database is created beside it and dropped afterwards.

The diary. Ten professionals, three appointments each per working day
(09:00, 12:00, 15:00, Monday to Saturday), going back from the end of the
window until there are ``--appointments`` of them: 5,000 rows reach about
five months back, so most of them are history the window must not pay for.
They are written untimed with one bulk INSERT.

It prints two JSON lines on stdout::

    {"bench": "salon_free_slots", "backend": ..., "appointments": 5000, "in_window": ..., "slots": ...,
     "free_slots_ms": ..., "floor_ms": ..., "ratio": ..., "target_ms": 50}
    {"bench": "salon_book", "backend": ..., "bookings": ..., "book_per_s": ..., "book_p50_ms": ...,
     "book_p99_ms": ..., "floor_per_s": ..., "floor_p99_ms": ..., "ratio_p99": ..., "target_p99_ms": 20}

``free_slots_ms`` is the median of ``--repeat`` calls of
``core.salon.availability.free_slots`` for one professional's next 30 days,
each in a new session as a signed-in owner (permission check, settings,
service, hours, exceptions, blocks, appointments, then the slot arithmetic).
Its floor is what no implementation can skip: one indexed SELECT of the
same professional's appointments in the same window, through the bare driver
on the same connection settings (median of as many runs).

``book_*`` times ``core.salon.bookings.book`` one booking after another, each
its own unit of work: the checks, the appointment, its history row, and the
confirmation and two reminders in the outbox, committed (and on PostgreSQL
checked by the exclusion constraint). Its floor is a bare INSERT of one
appointment row and a commit per booking, through the driver (on SQLite in
``BEGIN IMMEDIATE``, as Ofisi's own transactions). ``ratio_p99`` is
book_p99_ms / floor_p99_ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from datetime import datetime, time as clock_time, timedelta, timezone
from zoneinfo import ZoneInfo


from scratch import bench_database

UTC = timezone.utc
NOW = datetime(2026, 3, 2, 5, 0, tzinfo=UTC)  # a Monday, 08:00 in Nairobi
WINDOW = timedelta(days=30)
PROFESSIONALS = 10
SERVICE_MINUTES, BUFFER_AFTER = 45, 15


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]


def _setup(db, appointments: int, bookers: int):
    """The salon, its staff, a service, clients, and the diary; returns what the timings need."""
    from sqlalchemy import insert

    from core.actors import Actor
    from core.contacts import upsert_contact
    from core.orgs import create_org
    from core.salon.services import add_service
    from core.users import add_user
    from db.models_salon import SalonAppointment

    system = Actor.system_actor("bench")
    with db.session() as s:
        org = create_org(s, system, f"bench-{uuid.uuid4().hex[:8]}", kind="salon", name="Bench Salon")
        owner = add_user(s, system, f"owner@{org.slug}.example", org_id=org.id, role="owner", name="Owner")
        pros = [add_user(s, system, f"pro{i}@{org.slug}.example", org_id=org.id, role="professional",
                         name=f"Pro {i}").id for i in range(PROFESSIONALS + bookers)]
        service = add_service(s, system, org.id, name="Braids", minutes=SERVICE_MINUTES, price="1500",
                              buffer_after=BUFFER_AFTER)
        clients = [upsert_contact(s, system, org.id, name=f"Client {i}", phone=f"+2547200{i:05d}").id
                   for i in range(200)]
        tz = ZoneInfo(org.timezone)
        rows, day = [], (NOW + WINDOW).astimezone(tz).date()
        while len(rows) < appointments:
            day -= timedelta(days=1)
            if day.weekday() == 6:
                continue
            for hour in (9, 12, 15):
                start = datetime.combine(day, clock_time(hour), tzinfo=tz).astimezone(UTC)
                end = start + timedelta(minutes=SERVICE_MINUTES)
                for p in range(PROFESSIONALS):
                    rows.append(dict(
                        org_id=org.id, professional_id=pros[p], service_id=service.id,
                        contact_id=clients[len(rows) % len(clients)], starts_at=start, ends_at=end,
                        blocked_start=start, blocked_end=end + timedelta(minutes=BUFFER_AFTER),
                        price_minor=150_000, currency=org.currency, status="completed" if start < NOW else "confirmed",
                        source="console", notes="", revision=0, created_by="bench", created_at=NOW, updated_at=NOW))
        s.execute(insert(SalonAppointment), rows[:appointments])
        s.commit()
    return org, Actor.staff(owner.id, owner.email), pros, service, clients


def _time_free_slots(db, org, actor, pro: int, service, repeat: int) -> tuple[list[float], int]:
    from core.salon.availability import free_slots

    times, count = [], 0
    for _ in range(repeat):
        with db.session() as s:
            start = time.perf_counter()
            slots = free_slots(s, actor, org.id, pro, service.id, NOW, NOW + WINDOW, now=NOW)
            times.append(time.perf_counter() - start)
            count = len(slots)
    return times, count


def _raw(db):
    """A driver connection made the engine's way (on SQLite: WAL, busy timeout), and its parameter marker."""
    raw = db.engine.raw_connection()
    return raw, ("?" if db.dialect == "sqlite" else "%s")


def _stamp(db, moment: datetime):
    return moment.astimezone(UTC).replace(tzinfo=None) if db.dialect == "sqlite" else moment


def _time_floor_select(db, org, pro: int, repeat: int) -> tuple[list[float], int]:
    raw, p = _raw(db)
    try:
        cur = raw.cursor()
        query = ("SELECT blocked_start, blocked_end FROM salon_appointments WHERE org_id = {p} AND "
                 "professional_id = {p} AND blocked_start < {p} AND blocked_start > {p} AND blocked_end > {p} "
                 "AND status <> 'cancelled' ORDER BY blocked_start").format(p=p)
        params = (org.id, pro, _stamp(db, NOW + WINDOW), _stamp(db, NOW - timedelta(hours=12)), _stamp(db, NOW))
        times, found = [], 0
        for _ in range(repeat):
            start = time.perf_counter()
            if db.dialect == "sqlite":
                cur.execute("BEGIN")
            cur.execute(query, params)
            found = len(cur.fetchall())
            raw.commit()
            times.append(time.perf_counter() - start)
        cur.close()
        return times, found
    finally:
        raw.close()


def _booking_times(db, org, bookings: int) -> list[datetime]:
    """Free starts for the bookers, nine a day each, from the window's second day on."""
    tz = ZoneInfo(org.timezone)
    starts, day = [], NOW.astimezone(tz).date() + timedelta(days=1)
    while len(starts) < bookings:
        if day.weekday() != 6:
            starts.extend(datetime.combine(day, clock_time(h), tzinfo=tz) for h in range(9, 18))
        day += timedelta(days=1)
    return starts


def _time_book(db, org, actor, pros: list[int], service, clients: list[int], bookings: int) -> list[float]:
    from core.salon.bookings import book

    bookers = pros[PROFESSIONALS:]
    starts = _booking_times(db, org, (bookings + len(bookers) - 1) // len(bookers))
    times = []
    for i in range(bookings):
        pro, start = bookers[i % len(bookers)], starts[i // len(bookers)]
        with db.session() as s:
            began = time.perf_counter()
            book(s, actor, org.id, professional_id=pro, service_id=service.id, contact_id=clients[i % len(clients)],
                 start=start, now=NOW)
            times.append(time.perf_counter() - began)
    return times


def _time_floor_insert(db, org, pros: list[int], service, clients: list[int], bookings: int,
                       offset: int = 0) -> list[float]:
    raw, p = _raw(db)
    try:
        cur = raw.cursor()
        query = ("INSERT INTO salon_appointments (org_id, professional_id, service_id, contact_id, starts_at, "
                 "ends_at, blocked_start, blocked_end, price_minor, currency, status, source, notes, revision, "
                 "created_by, created_at, updated_at) VALUES "
                 f"({', '.join([p] * 9)}, 'KES', 'confirmed', 'console', '', 0, 'floor', {p}, {p})")
        # The floor's rows go a year ahead, clear of everything else (and of the exclusion constraint).
        first = NOW + timedelta(days=365)
        times = []
        for i in range(bookings):
            start = first + timedelta(hours=offset + i)
            end = start + timedelta(minutes=SERVICE_MINUTES)
            params = (org.id, pros[0], service.id, clients[i % len(clients)], _stamp(db, start), _stamp(db, end),
                      _stamp(db, start), _stamp(db, end + timedelta(minutes=BUFFER_AFTER)), 150_000,
                      _stamp(db, NOW), _stamp(db, NOW))
            began = time.perf_counter()
            if db.dialect == "sqlite":
                cur.execute("BEGIN IMMEDIATE")
            cur.execute(query, params)
            raw.commit()
            times.append(time.perf_counter() - began)
        cur.close()
        return times
    finally:
        raw.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--appointments", type=int, default=5000)
    parser.add_argument("--bookings", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--database-url", default=os.environ.get("OFISI_TEST_DATABASE_URL"))
    args = parser.parse_args(argv)

    bookers = 10
    with bench_database(args.database_url) as db:
        org, actor, pros, service, clients = _setup(db, args.appointments, bookers)
        target = pros[0]
        _time_free_slots(db, org, actor, target, service, 3)  # warm the caches both sides use
        _time_floor_select(db, org, target, 3)
        slots_t, slots = _time_free_slots(db, org, actor, target, service, args.repeat)
        floor_t, in_window = _time_floor_select(db, org, target, args.repeat)
        _time_floor_insert(db, org, pros, service, clients, 5)
        book_t = _time_book(db, org, actor, pros, service, clients, args.bookings)
        insert_t = _time_floor_insert(db, org, pros, service, clients, args.bookings, offset=5)
    slots_ms, floor_ms = statistics.median(slots_t), statistics.median(floor_t)
    print(json.dumps({
        "bench": "salon_free_slots", "backend": db.dialect, "appointments": args.appointments,
        "in_window": in_window, "window_days": WINDOW.days, "slots": slots,
        "free_slots_ms": _ms(slots_ms), "free_slots_p99_ms": _ms(_p99(slots_t)), "floor_ms": _ms(floor_ms),
        "ratio": round(slots_ms / floor_ms, 1), "target_ms": 50,
    }))
    print(json.dumps({
        "bench": "salon_book", "backend": db.dialect, "bookings": args.bookings,
        "book_per_s": round(len(book_t) / sum(book_t), 1), "book_p50_ms": _ms(statistics.median(book_t)),
        "book_p99_ms": _ms(_p99(book_t)),
        "floor_per_s": round(len(insert_t) / sum(insert_t), 1), "floor_p50_ms": _ms(statistics.median(insert_t)),
        "floor_p99_ms": _ms(_p99(insert_t)),
        "ratio_per_s": round((len(book_t) / sum(book_t)) / (len(insert_t) / sum(insert_t)), 3),
        "ratio_p99": round(_p99(book_t) / _p99(insert_t), 1), "target_p99_ms": 20,
    }))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
