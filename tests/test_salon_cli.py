"""`ofisi services …` and `ofisi bookings …` as scripts use them (real processes,
exit codes, stdout vs stderr), and 30 processes racing for one professional on PostgreSQL."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from db.types import utcnow
from tests.salon_support import Cli, HoldAppointments, cli_env, make_salon
from tests.test_cli import assert_refused


def a_working_day(salon) -> date:
    """Two days ahead (three when that is a Sunday), on the salon's calendar."""
    day = utcnow().astimezone(salon.tz).date() + timedelta(days=2)
    return day + timedelta(days=1) if day.weekday() == 6 else day


@pytest.fixture
def setup(committed_db, tmp_path):
    with committed_db.session() as s:
        salon = make_salon(s)
    return salon, Cli(cli_env(committed_db.url, tmp_path))


def test_services_add_and_list(setup):
    salon, cli = setup
    slug = salon.org.slug
    added = cli("services", "add", "--org", slug, "--name", "Box braids", "--minutes", "120", "--price", "3,500",
                "--category", "Hair", "--buffer-after", "15")
    assert added.returncode == 0 and added.stdout == "", added.stderr
    assert f"Added Box braids to {salon.org.name}: 120 min, KES 3,500." in added.stderr
    assert_refused(cli("services", "add", "--org", slug, "--name", "Nails", "--minutes", "30", "--price", "lots"),
                   "is not an amount")
    assert cli("services", "add", "--org", slug, "--name", "Nails", "--minutes", "0", "--price", "1").returncode == 2
    listed = cli("services", "list", "--org", slug, "--json")
    assert listed.returncode == 0 and listed.stderr == ""
    rows = {r["name"]: r for r in json.loads(listed.stdout)}
    assert (rows["Box braids"]["price_minor"], rows["Box braids"]["price"], rows["Box braids"]["buffer_after"]) == (
        350_000, "KES 3,500", 15)
    assert set(rows) == {"Box braids", "Braids"}


def test_slots_book_list_move_and_cancel(setup):
    salon, cli = setup
    slug, pro, day = salon.org.slug, salon.pro.email, a_working_day(salon)
    slots = cli("bookings", "slots", "--org", slug, "--pro", pro, "--service", "braids", "--date", day.isoformat(),
                "--json")
    assert slots.returncode == 0, slots.stderr
    starts = [s["start"] for s in json.loads(slots.stdout)]
    assert starts[0] == f"{day.isoformat()}T09:00:00+03:00" and starts[-1] == f"{day.isoformat()}T17:00:00+03:00"
    booked = cli("bookings", "add", "--org", slug, "--pro", pro, "--service", "Braids", "--client", "0712 345 678",
                 "--at", f"{day.isoformat()}T10:00", "--json")
    assert booked.returncode == 0, booked.stderr
    appointment = json.loads(booked.stdout)
    assert (appointment["starts_at"], appointment["client_name"], appointment["price_minor"]) == (
        f"{day.isoformat()}T10:00:00+03:00", "Wanjiku Kamau", 150_000)
    assert f"Booked #{appointment['id']}: Braids for Wanjiku Kamau with Aisha Mohamed" in booked.stderr
    # A new client by phone; the time is taken: one line naming the appointment and the next free slots.
    refused = cli("bookings", "add", "--org", slug, "--pro", pro, "--service", "Braids", "--client", "0722000111",
                  "--client-name", "Achieng Otieno", "--at", f"{day.isoformat()}T10:30")
    assert_refused(refused, f"(appointment #{appointment['id']}, Braids)", "next free: ", "11:00, 11:15, 11:30")
    assert_refused(cli("bookings", "slots", "--org", slug, "--pro", pro, "--service", "Pedicure", "--date",
                       day.isoformat()), "no service called 'Pedicure'; its services are: Braids")
    assert cli("bookings", "slots", "--org", slug, "--pro", pro, "--service", "Braids", "--date",
               "tomorrow").returncode == 2
    moved = cli("bookings", "reschedule", str(appointment["id"]), "--org", slug, "--at",
                f"{day.isoformat()}T14:00+03:00", "--reason", "client asked")
    assert moved.returncode == 0 and "to " in moved.stderr and "14:00–15:00" in moved.stderr, moved.stderr
    assert cli("bookings", "cancel", str(appointment["id"]), "--org", slug).returncode == 2  # --reason is required
    cancelled = cli("bookings", "cancel", str(appointment["id"]), "--org", slug, "--reason", "Client is travelling")
    assert cancelled.returncode == 0, cancelled.stderr
    listed = json.loads(cli("bookings", "list", "--org", slug, "--date", day.isoformat(), "--json").stdout)
    assert [(a["id"], a["status"], a["starts_at"], a["cancel_reason"]) for a in listed] == [
        (appointment["id"], "cancelled", f"{day.isoformat()}T14:00:00+03:00", "Client is travelling")]
    table = cli("bookings", "list", "--org", slug)
    assert table.returncode == 0 and "cancelled" in table.stdout and "Wanjiku" in table.stdout


def test_thirty_processes_booking_one_professional_at_once_one_succeeds(committed_db, setup):
    if committed_db.dialect != "postgresql":
        pytest.skip("processes race on PostgreSQL; on SQLite threads race in test_salon_bookings")
    salon, cli = setup
    slug, pro, day, racers = salon.org.slug, salon.pro.email, a_working_day(salon), 30
    with HoldAppointments(committed_db, racers) as door:
        processes = [
            cli.start("bookings", "add", "--org", slug, "--pro", pro, "--service", "Braids",
                      "--client", f"+2547330{i:05d}", "--client-name", f"Client {i}",
                      "--at", f"{day.isoformat()}T10:{(i % 4) * 10:02d}")  # 10:00 to 10:30, all overlapping
            for i in range(racers)
        ]
        # Thirty interpreters starting at once on two cores take a while to reach the door.
        door.release(timeout=180)
        results = [(p.wait(timeout=60), *p.communicate()) for p in processes]
    winners = [stderr for code, _out, stderr in results if code == 0]
    assert len(winners) == 1, [r[2] for r in results]
    winner_id = winners[0].split("Booked #", 1)[1].split(":", 1)[0]
    losers = [(code, stderr) for code, _out, stderr in results if code != 0]
    for code, stderr in losers:
        lines = stderr.strip().splitlines()
        assert code == 1 and len(lines) == 1 and lines[0].startswith("ofisi: "), stderr
        assert f"(appointment #{winner_id}, Braids)" in stderr and "next free: " in stderr, stderr
    listed = json.loads(cli("bookings", "list", "--org", slug, "--date", day.isoformat(), "--json").stdout)
    assert [str(a["id"]) for a in listed] == [winner_id]
