"""The `ofisi` command as admins and cron use it: real processes, exit codes, stdout vs stderr."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from tests.cli_support import BASE_CMD, Cli, InProcessCli, assert_refused, cli_env  # noqa: F401  (used elsewhere)


@pytest.fixture
def ofisi(fresh_database_url, tmp_path) -> Cli:
    """The real `ofisi` executable on the test's database."""
    return Cli(cli_env(fresh_database_url, tmp_path), timeout=60)


@pytest.fixture
def ofisi_here(fresh_database_url, monkeypatch) -> InProcessCli:
    """`ofisi` in this process, for what needs no process of its own."""
    return InProcessCli(fresh_database_url, monkeypatch)


def test_help_lists_the_groups_without_heavy_imports(ofisi):
    result = ofisi("--help")
    assert result.returncode == 0
    for group in ("org", "user", "db", "demo", "secrets", "send", "jobs", "console", "scheduler"):
        assert f"  {group} " in result.stdout
    probe = subprocess.run(
        [sys.executable, "-c",
         "import sys\nfrom commands.main import app\n"
         "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
         "print(sorted(m for m in ('textual', 'starlette', 'sqlalchemy', 'alembic', 'openpyxl') if m in sys.modules))"],
        capture_output=True, text=True, timeout=60)
    assert probe.stdout.strip().splitlines()[-1] == "[]"


def test_org_create_and_list(ofisi_here):
    created = ofisi_here("org", "create", "umoja", "--kind", "chama", "--name", "Umoja Chama")
    assert created.returncode == 0, created.stderr
    assert created.stdout == ""  # messages go to stderr
    ofisi_here("org", "create", "pune-makers", "--kind", "community", "--name", "Pune Makers", "--country", "IN")
    listed = ofisi_here("org", "list", "--json")
    orgs = {o["slug"]: o for o in json.loads(listed.stdout)}
    assert orgs["umoja"]["currency"] == "KES" and orgs["umoja"]["timezone"] == "Africa/Nairobi"
    assert orgs["pune-makers"]["currency"] == "INR" and orgs["pune-makers"]["timezone"] == "Asia/Kolkata"
    assert listed.stderr == ""


def test_domain_refusals_exit_1_with_one_line(ofisi, ofisi_here):
    """The executable turns a refusal into exit 1 and one line; the app in this process refuses the rest."""
    ofisi_here("org", "create", "umoja", "--kind", "chama", "--name", "Umoja")
    assert_refused(ofisi("org", "create", "umoja", "--kind", "chama", "--name", "Again"), "already exists")
    assert_refused(ofisi_here("org", "create", "new-one", "--kind", "bakery", "--name", "X"), "salon, chama")
    assert_refused(ofisi_here("user", "add", "a@b.example", "--org", "nowhere", "--role", "chair"), "ofisi org list")


def test_bad_usage_exits_2(ofisi, ofisi_here):
    assert ofisi("no-such-command").returncode == 2
    assert ofisi_here("org", "create").returncode == 2
    assert ofisi_here("send", "due", "--limit", "zero").returncode == 2


def test_user_add_with_password_on_stdin_can_sign_in(ofisi_here, fresh_database_url):
    ofisi_here("org", "create", "glow", "--kind", "salon", "--name", "Glow")
    added = ofisi_here("user", "add", "Wairimu@Glow.example", "--org", "glow", "--role", "owner",
                  "--name", "Wairimu", "--password-stdin", stdin="a-long-password\n")
    assert added.returncode == 0, added.stderr
    from core.users import authenticate
    from db.engine import open_database

    db = open_database(fresh_database_url)
    try:
        with db.session() as session:
            assert authenticate(session, "wairimu@glow.example", "a-long-password").memberships[0].role == "owner"
    finally:
        db.dispose()
    assert_refused(ofisi_here("user", "add", "x@glow.example", "--org", "glow", "--role", "chair",
                         "--password-stdin", stdin="a-long-password\n"), "owner, receptionist, professional")
    removed = ofisi_here("user", "remove", "wairimu@glow.example", "--org", "glow")
    assert removed.returncode == 0 and "no longer staff" in removed.stderr
    assert_refused(ofisi_here("user", "remove", "wairimu@glow.example", "--org", "glow"), "is not staff of Glow")


def test_demo_is_idempotent_and_prints_logins(ofisi_here):
    first = ofisi_here("demo")
    assert first.returncode == 0, first.stderr
    assert "chair@umoja-chama.demo" in first.stdout and "ofisi-demo" in first.stdout
    again = ofisi_here("demo")
    assert "already there" in again.stderr
    kinds = sorted(o["kind"] for o in json.loads(ofisi_here("org", "list", "--json").stdout))
    assert kinds == ["agency", "campaigns", "chama", "community", "salon"]
    reset = ofisi_here("demo", "--reset")
    assert "Created" in reset.stderr
    assert len(json.loads(ofisi_here("org", "list", "--json").stdout)) == 5


def queued(url: str) -> int:
    """Messages due now (the demo salon's reminders wait for their appointments)."""
    from db.engine import open_database
    from db.models import Message
    from db.types import utcnow

    db = open_database(url)
    try:
        with db.session() as session:
            return session.query(Message).filter(Message.status == "queued",
                                                 Message.next_attempt_at <= utcnow()).count()
    finally:
        db.dispose()


def test_send_due_and_jobs_run_due_print_summaries(ofisi, ofisi_here, fresh_database_url):
    """Cron's commands are real processes; the demo they send for is made in this one."""
    ofisi_here("demo")
    waiting = queued(fresh_database_url)
    assert waiting >= 20  # welcome messages, and receipts for the chama's contributions
    sent = ofisi("send", "due", "--json")
    summary = json.loads(sent.stdout)
    assert summary["sent"] == waiting and summary["failed"] == 0
    assert "SMS to +254" in sent.stderr  # the log provider shows what it would send
    assert json.loads(ofisi_here("send", "due", "--json").stdout)["sent"] == 0
    ran = ofisi("jobs", "run-due")
    assert ran.returncode == 0 and " done, " in ran.stderr and "0 failed" in ran.stderr


def test_missing_provider_secret_says_how_to_set_it(ofisi):
    result = ofisi("send", "due", extra={"OFISI_SMS_PROVIDER": "africastalking"})
    assert_refused(result, "OFISI_AT_API_KEY", "ofisi secrets set at_api_key")


def test_secret_never_printed(ofisi, ofisi_here, fresh_database_url):
    ofisi_here("demo")
    waiting = queued(fresh_database_url)
    secret = "AT-SECRET-value-1234567890"
    # A closed port: every send fails, and nothing on any stream may show the key.
    result = ofisi("send", "due", "--json", extra={
        "OFISI_SMS_PROVIDER": "africastalking", "OFISI_AT_API_KEY": secret,
        "OFISI_AT_BASE_URL": "http://127.0.0.1:9", "OFISI_AT_USERNAME": "umoja"})
    assert secret not in result.stdout + result.stderr
    assert json.loads(result.stdout)["retried"] == waiting


def test_db_upgrade_reports_state(ofisi_here):
    first = ofisi_here("db", "upgrade")
    assert first.returncode == 0 and "Upgraded" in first.stderr
    assert "up to date" in ofisi_here("db", "upgrade").stderr
    assert "current" in ofisi_here("db", "status").stdout


def test_secrets_commands_use_the_keyring(isolated_environment):
    from commands.main import app

    runner = CliRunner()
    assert runner.invoke(app, ["secrets", "set", "at_api_key"], input="k-123\n").exit_code == 0
    assert isolated_environment.store[("ofisi", "at_api_key")] == "k-123"
    shown = runner.invoke(app, ["secrets", "get", "OFISI_AT_API_KEY"])
    assert shown.exit_code == 0 and "OS keyring" in shown.output and "k-123" not in shown.output
    assert runner.invoke(app, ["secrets", "get", "at_api_key", "--reveal"]).output.strip() == "k-123"
    assert runner.invoke(app, ["secrets", "delete", "at_api_key"]).exit_code == 0
    assert ("ofisi", "at_api_key") not in isolated_environment.store


def test_secrets_without_a_keyring_explain_themselves(ofisi):
    result = ofisi("secrets", "set", "at_api_key", stdin="value\n")
    assert_refused(result, "No usable OS keyring", "environment variable")
    assert_refused(ofisi("secrets", "get", "whatsapp_token"), "OFISI_WHATSAPP_TOKEN")


def test_unknown_messages_can_be_listed_and_settled(ofisi_here, fresh_database_url):
    ofisi_here("demo")
    from db.engine import open_database
    from db.models import Message

    db = open_database(fresh_database_url)
    try:
        with db.session() as session:
            message = session.query(Message).order_by(Message.id).first()
            message.status, message.last_error = "unknown", "the sending process stopped"
            session.commit()
            org_slug = "glow-salon"
    finally:
        db.dispose()
    listed = json.loads(ofisi_here("send", "unknown", "--org", org_slug, "--json").stdout)
    assert [m["id"] for m in listed] == [message.id]
    assert ofisi_here("send", "settle", str(message.id), "--org", org_slug).returncode == 2
    assert "now queued" in ofisi_here("send", "settle", str(message.id), "--org", org_slug, "--resend").stderr
    assert_refused(ofisi_here("send", "settle", str(message.id), "--org", org_slug, "--sent"), "not unknown")


def test_a_logged_failure_is_one_line_on_stderr_and_the_traceback_goes_to_the_errors_log(tmp_path, monkeypatch):
    import logging

    import platformdirs

    from commands.main import BriefFormatter

    monkeypatch.setattr(platformdirs, "user_log_dir", lambda *a, **k: str(tmp_path))
    try:
        raise RuntimeError("the disk is on fire")
    except RuntimeError:
        record = logging.getLogger("ofisi.test").makeRecord(
            "ofisi.test", logging.ERROR, __file__, 1, "USSD hop failed", (), sys.exc_info())
    shown = BriefFormatter("%(levelname)s %(name)s: %(message)s").format(record)
    assert "Traceback" not in shown and shown.startswith("ERROR ofisi.test: USSD hop failed")
    assert f"details were written to {tmp_path / 'errors.log'}" in shown
    logged = (tmp_path / "errors.log").read_text()
    assert "Traceback" in logged and "the disk is on fire" in logged


def test_an_admin_adds_texts_and_deletes_a_contact_from_the_command_line(ofisi_here):
    """`contacts add` finds the person by phone the second time; `send sms` queues a message to them
    (and refuses an empty one); `contacts delete` asks for --yes off a terminal."""
    run = ofisi_here
    assert run("org", "create", "glow", "--kind", "salon", "--name", "Glow").returncode == 0
    added = json.loads(run("contacts", "add", "--org", "glow", "--name", "Wanjiku", "--phone", "0712 345 678",
                           "--json").stdout)
    again = json.loads(run("contacts", "add", "--org", "glow", "--name", "W. Kamau", "--phone", "+254712345678",
                           "--email", "w@example.com", "--json").stdout)
    assert again["id"] == added["id"] and (again["name"], again["email"]) == ("Wanjiku", "w@example.com")
    listed = json.loads(run("contacts", "list", "--org", "glow", "--json").stdout)
    assert [(c["name"], c["phone"]) for c in listed] == [("Wanjiku", "+254712345678")]

    sent = run("send", "sms", "See you at 10.", "--org", "glow", "--to", "0712345678", "--json")
    assert sent.returncode == 0 and json.loads(sent.stdout)["status"] == "queued"
    assert_refused(run("send", "sms", "", "--org", "glow", "--to", "0712345678"))

    kept = run("contacts", "delete", str(added["id"]), "--org", "glow")
    assert kept.returncode == 2 and "pass --yes" in kept.stderr
    deleted = run("contacts", "delete", str(added["id"]), "--org", "glow", "--yes")
    assert deleted.returncode == 0 and "Deleted Wanjiku from Glow." in deleted.stderr
    assert json.loads(run("contacts", "list", "--org", "glow", "--json").stdout) == []
