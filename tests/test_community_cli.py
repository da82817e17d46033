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
