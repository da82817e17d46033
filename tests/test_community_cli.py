"""`ofisi community …` as a manager's script runs it (in process; test_cli covers the executable)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from commands.main import app
from core.errors import NotFound


@pytest.fixture
def ofisi(tmp_path, monkeypatch):
    monkeypatch.setenv("OFISI_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, list(args))

    assert run("org", "create", "hub", "--kind", "community", "--name", "Hub", "--country", "KE").exit_code == 0
    return run


def test_an_event_from_the_command_line(ofisi):
    made = ofisi("community", "event", "create", "Demo day", "--starts", "2030-01-10T18:00", "--capacity", "1",
                 "--venue", "iHub", "--org", "hub", "--json")
    assert made.exit_code == 0, made.output
    event = json.loads(made.stdout)
    assert event["starts_at"].startswith("2030-01-10T15:00")  # 18:00 in Nairobi
    from core.community.accounts import create_account
    from core.actors import Actor
    from db.engine import open_database

    db = open_database()
    try:
        with db.session() as s:
            from core.orgs import get_org

            org = get_org(s, Actor.cli(), "hub")
            create_account(s, Actor.cli(), org.id, display_name="Amina Omar", phone="0712000001")
            create_account(s, Actor.cli(), org.id, display_name="Brian Kimani", email="brian@example.org")
    finally:
        db.dispose()
    assert "registered" in ofisi("community", "event", "register", str(event["id"]), "0712 000 001",
                                 "--org", "hub").stderr
    assert "waitlisted" in ofisi("community", "event", "register", str(event["id"]), "brian@example.org",
                                 "--org", "hub").stderr
    listed = json.loads(ofisi("community", "event", "list", "--org", "hub", "--json").stdout)
    assert (listed[0]["registered"], listed[0]["waitlisted"]) == (1, 1)
    ofisi("community", "event", "cancel", str(event["id"]), "+254712000001", "--org", "hub")
    rows = json.loads(ofisi("community", "event", "registrations", str(event["id"]), "--org", "hub", "--json").stdout)
    assert [(r["name"], r["status"]) for r in rows] == [("Amina Omar", "cancelled"), ("Brian Kimani", "registered")]
    assert "attended" in ofisi("community", "event", "check-in", str(rows[1]["id"]), "--org", "hub").stderr
    hits = json.loads(ofisi("community", "search", "brian", "--org", "hub", "--json").stdout)
    assert [h["title"] for h in hits] == ["Brian Kimani"]
    missing = ofisi("community", "event", "register", str(event["id"]), "nobody@example.org", "--org", "hub")
    assert isinstance(missing.exception, NotFound)


def _code_sent_to(address: str) -> str:
    import re

    from sqlalchemy import select

    from db.engine import open_database
    from db.models import Message

    db = open_database()
    try:
        with db.session() as s:
            body = s.scalar(select(Message.body).where(Message.to_address == address).order_by(Message.id.desc()))
    finally:
        db.dispose()
    return re.match(r"\d{6}", body).group(0)


def test_a_managers_day_from_the_command_line(ofisi, tmp_path):
    from icalendar import Calendar
    from openpyxl import load_workbook

    def ok(*args):
        result = ofisi(*args, "--org", "hub")
        assert result.exit_code == 0, (args, result.output, result.exception)
        return result

    ok("community", "member", "add", "Amina Omar", "--phone", "0712000001", "--type", "mentor")
    ok("community", "member", "add", "Brian Kimani", "--email", "brian@example.org")
    ok("community", "member", "add", "Brian K", "--phone", "0712000002")
    listed = json.loads(ok("community", "member", "list", "--search", "brian", "--json").stdout)
    assert [m["name"] for m in listed] == ["Brian K", "Brian Kimani"]
    first_page = json.loads(ok("community", "member", "list", "--limit", "1", "--json").stdout)
    second = json.loads(ok("community", "member", "list", "--limit", "1", "--after", str(first_page[0]["id"]),
                           "--json").stdout)
    assert [first_page[0]["name"], second[0]["name"]] == ["Amina Omar", "Brian K"]
    ok("community", "member", "edit", "0712000001", "--bio", "Hardware mentor", "--email", "amina@example.org")
    assert "verified" in ok("community", "member", "verify", "amina@example.org").stderr
    assert "suspended" in ok("community", "member", "suspend", "0712000002", "--reason", "Spam").stderr
    assert "active again" in ok("community", "member", "reinstate", "0712000002").stderr
    # The two Brians are one person: a code to the phone being merged proves it.
    brian = [m for m in listed if m["name"] == "Brian Kimani"][0]["id"]
    assert "A code went to" in ok("community", "member", "merge", str(brian), "0712000002").stderr
    merged = ok("community", "member", "merge", str(brian), "0712000002", "--code", _code_sent_to("+254712000002"))
    assert "2 profiles" in merged.stderr
    page = ok("community", "member", "show", str(brian)).stdout
    assert "Brian K" in page and "+254712000002" in page and "member suspend" in page

    made = json.loads(ok("community", "event", "create", "Demo day", "--starts", "2030-01-10T18:00", "--capacity",
                         "2", "--venue", "iHub", "--json").stdout)
    event = str(made["id"])
    for who in ("amina@example.org", str(brian)):
        ok("community", "event", "register", event, who)
    ok("community", "member", "add", "Chebet", "--phone", "0712000003")
    assert "waitlisted" in ok("community", "event", "register", event, "0712000003").stderr
    edited = ok("community", "event", "edit", event, "--capacity", "1", "--starts", "2030-01-11T09:00").stderr
    assert "1 moved to the waitlist" in edited and "2030-01-11 09:00" in edited
    rows = json.loads(ok("community", "event", "registrations", event, "--json").stdout)
    waiting = [r for r in rows if r["status"] == "waitlisted"]
    assert [r["name"] for r in waiting] == ["Brian Kimani", "Chebet"]
    assert "grew by one" in ok("community", "event", "admit", str(waiting[0]["id"])).stderr
    ok("community", "event", "export", event, "--xlsx", str(tmp_path / "a.xlsx"))
    sheet = list(load_workbook(tmp_path / "a.xlsx").active.values)
    assert sheet[0][1] == "name" and {r[4] for r in sheet[1:]} == {"registered", "attended", "waitlisted"}
    csv_out = ok("community", "event", "export", event, "--csv", "-").stdout
    assert csv_out.splitlines()[0].startswith("registration,name,phone")
    calendar = Calendar.from_ical(ok("community", "event", "ics", event).stdout_bytes)
    (item,) = calendar.walk("VEVENT")
    assert str(item["SUMMARY"]) == "Demo day" and item.decoded("DTSTART").hour == 9
    told = ok("community", "event", "cancel", event, "--reason", "Venue flooded").stderr
    assert "cancelled; 2 people were told" in told  # the registered and the waitlisted
    past = json.loads(ok("community", "event", "past", "--json").stdout)
    assert past[0]["status"] == "cancelled"
    refused = ofisi("community", "event", "create", "Old", "--starts", "2020-01-01T10:00", "--capacity", "3",
                    "--venue", "x", "--org", "hub")
    assert refused.exit_code == 1 and "has passed" in str(refused.exception)
