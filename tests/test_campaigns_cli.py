"""The campaigns commands as a programme officer's script runs them: the real `ofisi`
executable, exit codes, data on stdout and messages on stderr."""

from __future__ import annotations

import csv
import io
import json

import subprocess

import pytest

from tests.campaigns_support import add_contacts
from tests.test_cli import assert_refused


@pytest.fixture
def fresh_database_url(tmp_path) -> str:
    """SQLite only: the services behind the commands are tested on both backends."""
    return f"sqlite:///{tmp_path / 'cli.db'}"


@pytest.fixture
def ofisi(fresh_database_url, monkeypatch):
    """The `ofisi` app run in this process (the executable's start-up is tested in test_cli):
    a dozen commands in a second, not a minute."""
    from typer.testing import CliRunner

    from commands.main import app
    from config.settings import get_settings

    monkeypatch.setenv("OFISI_DATABASE_URL", fresh_database_url)
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    runner = CliRunner()

    def run(*args: str) -> subprocess.CompletedProcess:
        from config.errors import OfisiError

        result = runner.invoke(app, list(args))
        stderr, code = result.stderr, result.exit_code
        if isinstance(result.exception, OfisiError):  # what commands.main.run does with a refusal
            stderr, code = stderr + f"ofisi: {result.exception}\n", 1
        elif result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return subprocess.CompletedProcess(args, code, result.stdout, stderr)

    return run


def test_create_launch_pause_resume_send_status_and_report(ofisi, fresh_database_url):
    assert ofisi("org", "create", "umoja", "--kind", "chama", "--name", "Umoja").returncode == 0
    from db.engine import open_database

    db = open_database(fresh_database_url)
    with db.session() as s:
        from core.orgs import get_org
        from tests.campaigns_support import ACTOR

        add_contacts(s, get_org(s, ACTOR, "umoja").id, 4)
    db.dispose()

    assert_refused(ofisi("campaigns", "create", "--org", "umoja", "--name", "x", "--text", "Hi {{ sector }}"),
                   "sector")
    created = ofisi("campaigns", "create", "--org", "umoja", "--name", "=Reminder", "--text",
                    "Habari {{ first_name }}", "--json")
    assert created.returncode == 0, created.stderr
    cid = str(json.loads(created.stdout)["id"])
    launched = ofisi("campaigns", "launch", cid)
    assert launched.returncode == 0 and "4 messages queued" in launched.stderr
    assert_refused(ofisi("campaigns", "launch", cid), "only a draft or scheduled")
    assert ofisi("campaigns", "pause", cid).returncode == 0
    sent = ofisi("send", "due", "--json")
    assert json.loads(sent.stdout)["sent"] == 0  # paused: nothing goes
    status = json.loads(ofisi("campaigns", "status", cid, "--json").stdout)
    assert status == {"id": int(cid), "status": "paused", "total": 4, "queued": 4, "sent": 0, "delivered": 0,
                      "failed": 0, "unknown": 0, "opted_out": 0}
    assert ofisi("campaigns", "resume", cid).returncode == 0
    assert json.loads(ofisi("send", "due", "--json").stdout)["sent"] == 4
    status = json.loads(ofisi("campaigns", "status", cid, "--json").stdout)
    assert (status["status"], status["sent"], status["queued"]) == ("completed", 4, 0)
    assert_refused(ofisi("campaigns", "cancel", cid), "completed already")
    assert_refused(ofisi("campaigns", "status", "999"), "no campaign 999")

    report = json.loads(ofisi("report", "campaigns", "--org", "umoja", "--format", "json").stdout)
    assert [(r["name"], r["sent"], r["failed"]) for r in report] == [("=Reminder", 4, 0)]
    rows = list(csv.reader(io.StringIO(ofisi("report", "campaigns", "--org", "umoja", "--format", "csv").stdout)))
    assert rows[0][:3] == ["id", "name", "channel"] and rows[1][1] == "'=Reminder"
