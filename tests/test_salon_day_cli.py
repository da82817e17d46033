"""A salon's day from the command line, as an owner scripts it: the booking rules set and read
back, a walk-in booked and completed with an M-Pesa payment and a tip, a no-show charged the
salon's fee, a service's price changed and the service retired; then `ofisi report takings` in
JSON, CSV and XLSX adding up to what the day's appointments were paid, and `ofisi bookings ics`
for the stylist's phone. The commands run in this process (exit codes, stdout and stderr as the
executable gives them), on both backends."""

from __future__ import annotations

import csv
import io
import json
from datetime import time, timedelta

import pytest
from icalendar import Calendar
from openpyxl import load_workbook
from sqlalchemy import func, select

from core.salon.bookings import book
from core.salon.schedule import set_weekly_hours
from db.models_salon import SalonAppointment, SalonPayment
from db.types import utcnow
from tests.cli_support import InProcessCli
from tests.salon_support import SYSTEM, add_client, make_salon


@pytest.fixture
def day_setup(committed_db, monkeypatch):
    now = utcnow()
    with committed_db.session() as s:
        salon = make_salon(s)
        # Open round the clock, so that "now" is working time whenever the test runs.
        set_weekly_hours(s, SYSTEM, salon.org.id, salon.pro.id, work={d: [(time(0), time(0))] for d in range(7)})
        late = add_client(s, salon, "Achieng Otieno", "0722000111")
        # Booked yesterday for two hours ago: she never came.
        missed = book(s, SYSTEM, salon.org.id, professional_id=salon.pro.id, service_id=salon.service.id,
                      contact_id=late.id, start=now - timedelta(hours=2), now=now - timedelta(hours=26))
    return salon, missed, InProcessCli(committed_db.url, monkeypatch)


def test_a_day_at_the_salon_from_the_command_line(committed_db, day_setup, tmp_path):
    salon, missed, cli = day_setup
    slug, pro = salon.org.slug, salon.pro.email

    # The booking rules, set in one go and read back.
    saved = cli("salon", "settings", "set", "--org", slug, "--notice", "120", "--advance", "30", "--step", "30",
                "--reminders", "1440,60", "--deposit-hold", "20", "--no-show-fee", "300", "--keep-deposit", "no",
                "--form-origins", "https://glow.example/")
    assert saved.returncode == 0, saved.stderr
    rules = json.loads(cli("salon", "settings", "show", "--org", slug, "--json").stdout)
    assert rules == {"min_notice_minutes": 120, "max_advance_days": 30, "slot_step_minutes": 30,
                     "reminder_minutes": [1440, 60], "deposit_hold_minutes": 20, "no_show_fee_minor": 30_000,
                     "keep_deposit_on_no_show": False, "form_origins": ["https://glow.example"]}
    shown = cli("salon", "settings", "show", "--org", slug)
    assert "KES 300" in shown.stdout and "https://glow.example" in shown.stdout
    bad = cli("salon", "settings", "set", "--org", slug, "--step", "7")
    assert bad.returncode == 1 and "The slot step is one of 5, 10, 15, 20, 30, 60 minutes." in bad.stderr
    # Clients are offered half-hour marks from two hours ahead; staff are not held to the notice.
    tomorrow = (utcnow().astimezone(salon.tz) + timedelta(days=1)).date()
    offered = json.loads(cli("bookings", "slots", "--org", slug, "--pro", pro, "--service", "Braids", "--date",
                             tomorrow.isoformat(), "--json").stdout)
    assert offered and {s["start"][14:16] for s in offered} == {"00", "30"}

    # A walk-in: booked now, checked in at once, completed with M-Pesa and a tip.
    walked = cli("bookings", "add", "--org", slug, "--pro", pro, "--service", "Braids", "--client", "0733000222",
                 "--client-name", "Njeri", "--walk-in", "--json")
    assert walked.returncode == 0, walked.stderr
    walk_in = json.loads(walked.stdout)
    assert (walk_in["walk_in"], walk_in["status"], walk_in["checked_in_at"] is not None) == (True, "confirmed", True)
    done = cli("bookings", "complete", str(walk_in["id"]), "--org", slug, "--method", "mpesa", "--tip", "100",
               "--reference", "SKX1Y2Z3", "--json")
    assert done.returncode == 0, done.stderr
    assert (json.loads(done.stdout)["status"], json.loads(done.stdout)["paid_minor"]) == ("completed", 160_000)
    # The one who never came: the salon's fee, paid in cash.
    no_show = cli("bookings", "no-show", str(missed.id), "--org", slug, "--method", "cash")
    assert no_show.returncode == 0 and "Achieng Otieno: no-show, paid KES 300." in no_show.stderr, no_show.stderr

    # What happened to the visit, and the clients' records that follow from the day.
    shown = json.loads(cli("bookings", "show", str(walk_in["id"]), "--org", slug, "--json").stdout)
    assert [e["kind"] for e in shown["history"]] == ["booked", "completed"]
    assert shown["appointment"]["tip_minor"] == 10_000
    clients = {c["name"]: c for c in json.loads(cli("salon", "clients", "list", "--org", slug, "--json").stdout)}
    assert (clients["Njeri"]["visit_count"], clients["Njeri"]["lifetime_spend_minor"]) == (1, 160_000)  # the tip too
    record = json.loads(cli("salon", "clients", "show", "0722000111", "--org", slug, "--json").stdout)["record"]
    assert (record["no_shows"], record["visit_count"]) == (1, 0)
    assert cli("bookings", "show", "999999", "--org", slug).returncode == 1
    lead = cli("salon", "leads", "add", "--org", slug, "--phone", "0744000555", "--name", "Imani")
    assert lead.returncode == 0, lead.stderr
    lead_id = lead.stderr.split("#", 1)[1].split()[0]
    assert cli("salon", "leads", "edit", lead_id, "--org", slug, "--service", "Braids").returncode == 0
    told = json.loads(cli("salon", "leads", "show", lead_id, "--org", slug, "--json").stdout)
    assert told["lead"]["service_wanted"] == "Braids"
    assert [a["kind"] for a in told["activities"]] == ["created", "edited"]

    # A new price for new bookings; the completed visit keeps its own. Then the service is retired.
    assert cli("services", "edit", "Braids", "--org", slug, "--price", "2,000").returncode == 0
    assert json.loads(cli("services", "list", "--org", slug, "--json").stdout)[0]["price_minor"] == 200_000
    retired = cli("services", "retire", "Braids", "--org", slug)
    assert retired.returncode == 0 and json.loads(cli("services", "list", "--org", slug, "--json").stdout) == []
    refused = cli("bookings", "add", "--org", slug, "--pro", pro, "--service", "Braids", "--client", "0733000222",
                  "--walk-in")
    assert refused.returncode == 1, refused.stderr

    # The takings: every format adds up to what the day's appointments were paid.
    today = utcnow().astimezone(salon.tz).date().isoformat()
    with committed_db.session() as s:
        paid = s.scalar(select(func.sum(SalonPayment.amount_minor)).join(
            SalonAppointment, SalonAppointment.id == SalonPayment.appointment_id).where(
            SalonPayment.org_id == salon.org.id, SalonAppointment.status.in_(("completed", "no_show"))))
    assert paid == 160_000 + 30_000
    report = cli("report", "takings", "--org", slug, "--date", today, "--format", "json")
    assert report.returncode == 0, report.stderr
    takings = json.loads(report.stdout)
    assert takings["total_minor"] == paid and sum(line["amount"] for line in takings["lines"]) == paid
    assert (takings["tips_minor"], takings["by_method"]) == (10_000, {"mpesa": 160_000, "cash": 30_000})
    assert takings["by_professional"] == {"Aisha Mohamed": paid} and "Total KES 1,900, tips KES 100." in report.stderr
    as_csv = cli("report", "takings", "--org", slug, "--date", today, "--format", "csv")
    lines = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert sum(int(line["amount"]) for line in lines) == paid
    assert {line["reference"] for line in lines} == {"SKX1Y2Z3", ""}
    book_file = tmp_path / "takings.xlsx"
    assert cli("report", "takings", "--org", slug, "--date", today, "--format", "xlsx", "-o",
               str(book_file)).returncode == 0
    header, *rows = load_workbook(book_file).active.iter_rows(values_only=True)
    assert sum(row[header.index("amount")] for row in rows) == paid
    assert cli("report", "takings", "--org", slug, "--format", "xlsx").returncode == 2  # needs -o

    # The stylist's calendar for her phone.
    feed = tmp_path / "aisha.ics"
    written = cli("bookings", "ics", "--org", slug, "--pro", pro, "-o", str(feed))
    assert written.returncode == 0, written.stderr
    events = {str(e["uid"]): e for e in Calendar.from_ical(feed.read_bytes()).walk("VEVENT")}
    assert set(events) == {f"salon-appointment-{i}@{slug}" for i in (walk_in["id"], missed.id)}
    assert str(events[f"salon-appointment-{walk_in['id']}@{slug}"]["summary"]) == "Braids: Njeri"
    assert events[f"salon-appointment-{missed.id}@{slug}"].decoded("dtstart") == missed.starts_at.replace(microsecond=0)
    unknown = cli("bookings", "ics", "--org", slug, "--pro", "nobody@example.com")
    assert unknown.returncode == 1 and unknown.stdout == ""


def test_a_table_title_naming_the_salon_is_text_not_markup(capsys):
    from commands.common import print_table

    print_table("Takings of [bold]Glow[/] [/nope]", ["amount"], [["[red]1[/red]"]])
    shown = " ".join(capsys.readouterr().out.split())  # the title wraps to the table's width
    assert "Takings of [bold]Glow[/] [/nope]" in shown and "[red]1[/red]" in shown
