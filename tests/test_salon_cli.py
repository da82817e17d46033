"""`ofisi services …` and `ofisi bookings …` as scripts use them (exit codes, stdout vs stderr: the
real executable refuses a taken time, the rest runs the same app in this process), and processes
racing for one professional on PostgreSQL."""

from __future__ import annotations

import json
import time
from datetime import date, timedelta

import pytest
from sqlalchemy import text

from core.salon.bookings import lock_diary
from db.types import utcnow
from tests.cli_support import Cli, InProcessCli, cli_env
from tests.salon_support import make_salon
from tests.test_cli import assert_refused


def a_working_day(salon) -> date:
    """Two days ahead (three when that is a Sunday), on the salon's calendar."""
    day = utcnow().astimezone(salon.tz).date() + timedelta(days=2)
    return day + timedelta(days=1) if day.weekday() == 6 else day


@pytest.fixture
def setup(committed_db, tmp_path, monkeypatch):
    """A salon, `ofisi` in this process and the real executable, both on the test's database."""
    with committed_db.session() as s:
        salon = make_salon(s)
    return salon, InProcessCli(committed_db.url, monkeypatch), Cli(cli_env(committed_db.url, tmp_path))


def test_a_salon_day_from_the_command_line(setup):
    salon, cli, executable = setup
    slug, pro, day = salon.org.slug, salon.pro.email, a_working_day(salon)
    added = cli("services", "add", "--org", slug, "--name", "Box braids", "--minutes", "120", "--price", "3,500",
                "--category", "Hair", "--buffer-after", "15")
    assert added.returncode == 0 and added.stdout == "", added.stderr
    assert f"Added Box braids to {salon.org.name}: 120 min, KES 3,500." in added.stderr
    assert cli("services", "add", "--org", slug, "--name", "Nails", "--minutes", "0", "--price", "1").returncode == 2
    listed = cli("services", "list", "--org", slug, "--json")
    assert listed.returncode == 0 and listed.stderr == ""
    services = {r["name"]: r for r in json.loads(listed.stdout)}
    assert set(services) == {"Box braids", "Braids"}
    assert (services["Box braids"]["price_minor"], services["Box braids"]["price"],
            services["Box braids"]["buffer_after"]) == (350_000, "KES 3,500", 15)

    slots = cli("bookings", "slots", "--org", slug, "--pro", pro, "--service", "box braids", "--date",
                day.isoformat(), "--json")
    assert slots.returncode == 0, slots.stderr
    offered = json.loads(slots.stdout)
    # Two hours and a quarter of an hour's clearing up must end by 18:00.
    assert (offered[0]["start"], offered[-1]["start"], offered[-1]["end"]) == (
        f"{day.isoformat()}T09:00:00+03:00", f"{day.isoformat()}T15:45:00+03:00", f"{day.isoformat()}T17:45:00+03:00")
    assert cli("bookings", "slots", "--org", slug, "--pro", pro, "--service", "Braids", "--date",
               "tomorrow").returncode == 2

    booked = cli("bookings", "add", "--org", slug, "--pro", pro, "--service", "Box braids", "--client", "0712 345 678",
                 "--at", f"{day.isoformat()}T10:00", "--json")
    assert booked.returncode == 0, booked.stderr
    appointment = json.loads(booked.stdout)
    assert (appointment["starts_at"], appointment["client_name"], appointment["price_minor"]) == (
        f"{day.isoformat()}T10:00:00+03:00", "Wanjiku Kamau", 350_000)
    assert f"Booked #{appointment['id']}: Box braids for Wanjiku Kamau with Aisha Mohamed" in booked.stderr
    # A new client by phone; the time is taken: one line naming the appointment and the next free slots.
    refused = executable("bookings", "add", "--org", slug, "--pro", pro, "--service", "Braids", "--client",
                         "0722000111", "--client-name", "Achieng Otieno", "--at", f"{day.isoformat()}T11:00")
    assert_refused(refused, f"is booked from 10:00 to 12:00 on {day:%a} {day.day} {day:%b} "
                            f"(appointment #{appointment['id']}, Box braids)", "next free: ", "12:15, 12:30, 12:45")

    moved = cli("bookings", "reschedule", str(appointment["id"]), "--org", slug, "--at",
                f"{day.isoformat()}T14:00+03:00", "--reason", "client asked")
    assert moved.returncode == 0 and "14:00–16:00" in moved.stderr, moved.stderr
    assert cli("bookings", "cancel", str(appointment["id"]), "--org", slug).returncode == 2  # --reason is required
    cancelled = cli("bookings", "cancel", str(appointment["id"]), "--org", slug, "--reason", "Client is travelling")
    assert cancelled.returncode == 0, cancelled.stderr
    upcoming = json.loads(cli("bookings", "list", "--org", slug, "--json").stdout)
    assert [(a["id"], a["status"], a["starts_at"], a["cancel_reason"]) for a in upcoming] == [
        (appointment["id"], "cancelled", f"{day.isoformat()}T14:00:00+03:00", "Client is travelling")]


def waiting_on_advisory_locks(db) -> int:
    """Sessions of this database waiting for an advisory lock."""
    with db.engine.connect() as conn:
        return conn.execute(text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")).scalar()


def test_processes_booking_one_professional_at_once_one_succeeds(committed_db, setup):
    """Every racer is held at the professional's diary until all of them wait there, so they contend
    at once (not one after another as they start up); then exactly one books the time."""
    if committed_db.dialect != "postgresql":
        pytest.skip("processes race on PostgreSQL; on SQLite threads race in test_salon_bookings")
    salon, cli, executable = setup
    slug, pro, day, racers = salon.org.slug, salon.pro.email, a_working_day(salon), 8
    with committed_db.session() as gate:
        lock_diary(gate, salon.org.id, salon.pro.id)  # the lock every booking of hers queues on
        processes = [
            executable.start("bookings", "add", "--org", slug, "--pro", pro, "--service", "Braids",
                             "--client", f"+2547330{i:05d}", "--client-name", f"Client {i}",
                             "--at", f"{day.isoformat()}T10:{(i % 4) * 10:02d}")  # 10:00 to 10:30, all overlapping
            for i in range(racers)
        ]
        deadline = time.monotonic() + 120
        while (waiting := waiting_on_advisory_locks(committed_db)) < racers:
            finished = [p for p in processes if p.poll() is not None]
            assert not finished and time.monotonic() < deadline, (waiting, [p.communicate() for p in finished])
            time.sleep(0.05)
        assert waiting == racers  # all of them at her diary at once
        gate.rollback()  # and off they go
    results = [(p.wait(timeout=180), *p.communicate()) for p in processes]
    winners = [stderr for code, _out, stderr in results if code == 0]
    assert len(winners) == 1, [r[2] for r in results]
    winner_id = winners[0].split("Booked #", 1)[1].split(":", 1)[0]
    losers = [(code, stderr) for code, _out, stderr in results if code != 0]
    assert len(losers) == racers - 1
    for code, stderr in losers:
        lines = stderr.strip().splitlines()
        assert code == 1 and len(lines) == 1 and lines[0].startswith("ofisi: "), stderr
        assert f"(appointment #{winner_id}, Braids)" in stderr and "next free: " in stderr, stderr
    listed = json.loads(cli("bookings", "list", "--org", slug, "--date", day.isoformat(), "--json").stdout)
    assert [str(a["id"]) for a in listed] == [winner_id]


def test_hours_blocks_forms_and_leads_from_the_command_line(setup, backend, tmp_path):
    if backend != "sqlite":
        pytest.skip("the commands call the same core services on both backends; the core tests cover PostgreSQL")
    salon, cli, _executable = setup
    slug, pro, day = salon.org.slug, salon.pro.email, a_working_day(salon)
    hours = cli("salon", "hours", "set", "--org", slug, "--pro", pro, "--days", "mon-fri", "--hours", "10:00-16:00",
                "--break", "12:00-12:30")
    assert hours.returncode == 0, hours.stderr
    assert "Aisha Mohamed works Mon, Tue, Wed, Thu, Fri 10:00-16:00, breaks 12:00-12:30." in hours.stderr
    block = cli("salon", "block", "add", "--org", slug, "--pro", pro, "--from", f"{day.isoformat()}T10:00",
                "--to", f"{day.isoformat()}T11:00", "--reason", "training")
    assert block.returncode == 0 and "(training)" in block.stderr, block.stderr
    form = cli("salon", "forms", "add", "--org", slug, "--slug", f"{slug}-book", "--field", "hair_length!")
    assert form.returncode == 0 and f"POST /forms/{slug}-book" in form.stderr, form.stderr
    path = tmp_path / "leads.csv"
    path.write_text("phone,name,service\n0711000001,Amina,Braids\nnonsense,Bad,\n")
    imported = cli("import", "leads", str(path), "--org", slug, "--skip-invalid")
    assert imported.returncode == 0, imported.stderr
    assert "line 3:" in imported.stderr and "added 1" in imported.stderr
    listed = cli("salon", "leads", "list", "--org", slug, "--json")
    [lead] = json.loads(listed.stdout)
    assert (lead["phone"], lead["source"], lead["temperature"]) == ("+254711000001", "import", "warm")


def test_days_are_read_as_people_write_them():
    import typer

    from commands.salon_cmd import _days, _stretch

    assert _days("mon-sat") == [0, 1, 2, 3, 4, 5]
    assert _days("sat-mon") == [0, 5, 6]
    assert _days("Mon, Wed,fri") == [0, 2, 4]
    assert _stretch("09:00-18:00")[1].hour == 18
    with pytest.raises(typer.BadParameter):
        _days("someday")
    with pytest.raises(typer.BadParameter):
        _stretch("nine to five")
