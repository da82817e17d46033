"""Community reports: growth by month, attendance and no-shows per event, most active members; and
`ofisi report community` as a table, CSV, XLSX and JSON."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from core.community import events, reports, social
from db.models_community import CommunityAccount
from tests.community_support import ACTOR, NOW, make_event, make_members


@pytest.fixture
def org(session, make_org):
    return make_org(session, "community", country="KE")


def test_growth_attendance_and_activity(session, org):
    people = make_members(session, org.id, 4)
    session.get(CommunityAccount, people[0].id).created_at = NOW - timedelta(days=40)  # joined last month
    session.flush()
    event = make_event(session, org.id, capacity=3, starts_in=timedelta(hours=1))
    for person in people:
        events.register(session, ACTOR, org.id, event.id, person.id, now=NOW)
    came = [r for r in events.list_registrations(session, ACTOR, org.id, event.id) if r.status == "registered"][:2]
    for registration in came:
        events.check_in(session, ACTOR, org.id, registration.id, now=NOW)
    social.create_post(session, ACTOR, org.id, people[1].primary.id, body="Hello all")
    later = NOW + timedelta(days=1)

    growth = reports.member_growth(session, ACTOR, org.id, months=2, now=later)
    assert [row[1:] for row in growth.rows] == [[1, 1], [3, 4]]
    attendance = reports.event_attendance(session, ACTOR, org.id, now=later)
    assert attendance.as_dicts()[0] | {"title": "Pitch night"} == {
        "event": event.id, "title": "Pitch night", "starts": attendance.rows[0][2], "capacity": 3,
        "registered": 3, "attended": 2, "no_shows": 1, "no_show_rate": 0.333, "waitlisted": 1}
    assert attendance.rows[0][2].endswith("13:00")  # 10:00 UTC on Nairobi's clock
    assert reports.event_attendance(session, ACTOR, org.id, now=NOW).rows == []  # not over yet
    active = reports.most_active(session, ACTOR, org.id)
    assert active.rows[0][1] == "Member 1" and active.rows[0][-1] == 4  # registered, attended (x2), posted


def test_the_report_command(tmp_path, monkeypatch):
    from openpyxl import load_workbook
    from typer.testing import CliRunner

    from commands.main import app

    monkeypatch.setenv("OFISI_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    runner = CliRunner()
    assert runner.invoke(app, ["org", "create", "hub", "--kind", "community", "--name", "Hub"]).exit_code == 0
    assert runner.invoke(app, ["community", "member", "add", "Amina", "--phone", "0712000001", "--org",
                               "hub"]).exit_code == 0
    growth = json.loads(runner.invoke(app, ["report", "community", "growth", "--org", "hub", "--months", "1",
                                            "--format", "json"]).stdout)
    assert growth[0]["joined"] == 1 and growth[0]["members"] == 1
    csv_out = runner.invoke(app, ["report", "community", "attendance", "--org", "hub", "--format", "csv"]).stdout
    assert csv_out.startswith("event,title,starts,capacity,registered,attended,no_shows,no_show_rate")
    done = runner.invoke(app, ["report", "community", "active", "--org", "hub", "--format", "xlsx", "-o",
                               str(tmp_path / "active.xlsx")])
    assert done.exit_code == 0, done.output
    assert list(load_workbook(tmp_path / "active.xlsx").active.values)[0][1] == "name"
    table = runner.invoke(app, ["report", "community", "growth", "--org", "hub"])
    assert table.exit_code == 0 and "Member growth" in table.stdout
    bad = runner.invoke(app, ["report", "community", "sizes", "--org", "hub"])
    assert bad.exit_code == 1
