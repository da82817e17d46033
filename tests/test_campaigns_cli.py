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


def test_the_report_shows_cost_sends_per_day_and_engagement_per_vendor(ofisi, fresh_database_url, tmp_path):
    from datetime import datetime, timezone

    from openpyxl import load_workbook
    from sqlalchemy import select

    from core.campaigns import service
    from core.orgs import get_org
    from core.vendors import add_vendor
    from db.engine import open_database
    from db.models import Message
    from db.models_campaigns import MessageCost
    from tests.campaigns_support import ACTOR

    assert ofisi("org", "create", "msme", "--kind", "campaigns", "--name", "Boost", "--country", "KE").returncode == 0
    db = open_database(fresh_database_url)
    sent_at = datetime(2026, 11, 2, 6, 0, tzinfo=timezone.utc)
    with db.session() as s:
        org_id = get_org(s, ACTOR, "msme").id
        for i in range(2):
            add_vendor(s, ACTOR, org_id, business_name=f"=Shop {i}", owner_name="O", phone=f"07120000{i:02d}")
        c = service.create_campaign(s, ACTOR, org_id, name="Offer", text="Hi {{ business_name }}")
        service.launch_campaign(s, ACTOR, org_id, c.id)
        for m in s.scalars(select(Message).where(Message.campaign_id == c.id)):
            m.status, m.sent_at = "sent", sent_at
            s.add(MessageCost(message_id=m.id, amount_minor=80, currency="KES"))
        s.commit()
    db.dispose()

    [row] = json.loads(ofisi("report", "campaigns", "--org", "msme", "--format", "json").stdout)
    assert (row["sent"], row["cost_minor"], row["cost_per_message_minor"], row["cost_currency"]) == (2, 160, 80, "KES")
    lines = list(csv.reader(io.StringIO(ofisi("report", "campaigns", "--org", "msme", "--format", "csv").stdout)))
    assert dict(zip(lines[0], lines[1]))["cost"] == "KES 1.60"
    assert "KES 0.80" in ofisi("report", "campaigns", "--org", "msme").stdout
    book = tmp_path / "days.xlsx"
    by_day = ofisi("report", "campaigns", "--org", "msme", "--by", "day", "--format", "xlsx", "-o", str(book))
    assert by_day.returncode == 0 and "Wrote 1 campaign-day to" in by_day.stderr
    assert list(load_workbook(book).active.values) == [
        ("campaign_id", "day", "sent", "delivered", "failed", "unknown"), (c.id, "2026-11-02", 2, 0, 0, 0)]
    days = json.loads(ofisi("report", "campaigns", "--org", "msme", "--by", "day", "--campaign", str(c.id),
                            "--format", "json").stdout)
    assert [(d["day"], d["sent"]) for d in days] == [("2026-11-02", 2)]
    vendors = list(csv.reader(io.StringIO(
        ofisi("report", "campaigns", "--org", "msme", "--by", "vendor", "--format", "csv").stdout)))
    assert [(v[1], v[4], v[6]) for v in vendors[1:]] == [("'=Shop 0", "1", "0"), ("'=Shop 1", "1", "0")]
    assert ofisi("report", "campaigns", "--org", "msme", "--by", "week").returncode == 2


def test_templates_and_the_checks_before_a_launch_from_the_command_line(ofisi, fresh_database_url):
    assert ofisi("org", "create", "umoja", "--kind", "chama", "--name", "Umoja").returncode == 0
    from db.engine import open_database

    db = open_database(fresh_database_url)
    with db.session() as s:
        from core.orgs import get_org
        from tests.campaigns_support import ACTOR

        add_contacts(s, get_org(s, ACTOR, "umoja").id, 3)
    db.dispose()

    assert_refused(ofisi("templates", "add", "Mail", "--org", "umoja", "--channel", "email", "--body", "<p>Hi</p>"),
                   "needs a subject")
    assert_refused(ofisi("templates", "add", "Bad", "--org", "umoja", "--body", "{{ name.__class__ }}"),
                   "'__class__' is not something a template may read")
    added = ofisi("templates", "add", "Reminder", "--org", "umoja", "--body", "Habari {{ first_name }}, ₹ kesho",
                  "--json")
    assert added.returncode == 0, added.stderr
    assert ofisi("templates", "edit", "Reminder", "--org", "umoja", "--dlt-template-id", "1107000000000000001") \
        .returncode == 0
    shown = json.loads(ofisi("templates", "show", "Reminder", "--org", "umoja", "--json").stdout)
    assert (shown["body"], shown["dlt_template_id"]) == ("Habari {{ first_name }}, ₹ kesho", "1107000000000000001")
    assert [t["name"] for t in json.loads(ofisi("templates", "list", "--org", "umoja", "--json").stdout)] == \
        ["Reminder"]

    assert_refused(ofisi("campaigns", "create", "--org", "umoja", "--name", "R", "--template", "Remindr"),
                   "There is no template 'Remindr'; `ofisi templates list --org SLUG` lists them.")
    cid = str(json.loads(ofisi("campaigns", "create", "--org", "umoja", "--name", "R", "--template", "Reminder",
                               "--json").stdout)["id"])
    preview = json.loads(ofisi("campaigns", "preview", cid, "--n", "2", "--json").stdout)
    assert preview["recipients"] == 3 and len(preview["lines"]) == 2
    assert (preview["lines"][0]["text"], preview["lines"][0]["encoding"]) == ("Habari Member, ₹ kesho", "UCS-2")
    assert json.loads(ofisi("campaigns", "count", cid, "--json").stdout)["recipients"] == 3
    assert "3 recipients; 3 SMS parts" in ofisi("campaigns", "count", cid).stderr
    assert_refused(ofisi("templates", "delete", "Reminder", "--org", "umoja"), f"used by campaign(s) {cid}")
    assert "queued for 0700000001" in ofisi("campaigns", "test-send", cid, "--to", "0700000001").stderr
    assert_refused(ofisi("campaigns", "schedule", cid, "--at", "2020-01-06T09:00"), "has passed")
    assert "is scheduled for" in ofisi("campaigns", "schedule", cid, "--at", "2099-01-06T09:00").stderr
    assert ofisi("campaigns", "edit", cid, "--name", "Reminder 2").returncode == 0
    assert json.loads(ofisi("campaigns", "show", cid, "--json").stdout)["name"] == "Reminder 2"
    assert "quiet hours 21:30-07:00" in ofisi("campaigns", "settings", "--org", "umoja", "--quiet-from", "21:30",
                                              "--quiet-until", "7:00").stderr
    assert json.loads(ofisi("campaigns", "replies", cid, "--json").stdout) == []
    assert "all: 3 people; 3 by sms, 0 by email, 3 by whatsapp." in ofisi("campaigns", "audience", "--org",
                                                                         "umoja").stderr
    import mailbox
    import tempfile
    maildir = tempfile.mkdtemp() + "/bounces"
    mailbox.Maildir(maildir, create=True)
    assert "0 new mails: 0 bounced" in ofisi("campaigns", "bounces", "--maildir", maildir).stderr
    assert_refused(ofisi("campaigns", "bounces", "--maildir", str(fresh_database_url)), "is not a maildir")
    assert ofisi("campaigns", "cancel", cid).returncode == 0
    assert "is deleted" in ofisi("templates", "delete", "Reminder", "--org", "umoja").stderr
