"""`ofisi payments`: what the operator and the officials run."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from commands.main import app
from core.errors import NotFound
from db.models_payments import PaymentRequest
from db.types import utcnow
from tests.fakes.daraja import fake_daraja  # noqa: F401  (fixture)
from tests.payments_support import ask


@pytest.fixture
def configure(monkeypatch, committed_db):
    """Point this process's settings at the test database (and, given env, at more)."""
    from config.settings import get_settings

    def apply(env: dict[str, str]) -> None:
        for name, value in {"OFISI_DATABASE_URL": committed_db.url, **env}.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    yield apply
    get_settings.cache_clear()


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def test_send_list_check_and_settle(committed_db, make_org, fake_daraja, configure):
    configure(fake_daraja.env())
    with committed_db.session() as s:
        org = make_org(s, "chama", slug="umoja")
        pushed, unknown = ask(s, org.id), ask(s, org.id)
        s.get(PaymentRequest, unknown).status = "unknown"
        s.commit()
    sent = run("payments", "send", "--json")
    assert sent.exit_code == 0 and json.loads(sent.stdout)["sent"] == 1
    listed = json.loads(run("payments", "list", "--org", "umoja", "--json").stdout)
    assert [(p["id"], p["status"]) for p in listed] == [(unknown, "unknown"), (pushed, "awaiting")]
    checkout = listed[1]["checkout_request_id"]
    fake_daraja.complete(checkout, 1032, post=False)
    with committed_db.session() as s:
        s.execute(update(PaymentRequest).values(sent_at=utcnow().replace(year=2025)))
        s.commit()
    checked = run("payments", "check", "--json")
    assert checked.exit_code == 0 and json.loads(checked.stdout)["settled"] == 1
    results = json.loads(run("payments", "results", "--org", "umoja", "--json").stdout)
    assert [(r["source"], r["result_code"], r["verdict"]) for r in results] == [("query", "1032", "applied")]
    assert run("payments", "settle", str(unknown), "--org", "umoja").exit_code == 2
    settled = run("payments", "settle", str(unknown), "--org", "umoja", "--paid", "SKL0CASH01", "--amount", "2,000")
    assert settled.exit_code == 0 and "(KES 2,000; KES 1,500 was asked) is now succeeded" in settled.output
    table = run("payments", "list", "--org", "umoja", "--status", "succeeded")
    assert "SKL0CASH01" in table.output and "KES 2,000" in table.output
    shown = run("payments", "show", str(unknown), "--org", "umoja")
    assert "  receipt: SKL0CASH01" in shown.stdout and "   status: succeeded" in shown.stdout
    assert json.loads(run("payments", "show", str(pushed), "--org", "umoja", "--json").stdout)["status"] == "cancelled"
    assert isinstance(run("payments", "show", "999999", "--org", "umoja").exception, NotFound)


def test_without_mpesa_settings_the_commands_say_what_to_set(committed_db, configure):
    configure({})
    refused = run("payments", "send")
    assert refused.exit_code == 1 and "OFISI_MPESA_SHORTCODE" in str(refused.exception)
    missing = run("payments", "list", "--org", "nowhere")
    assert isinstance(missing.exception, NotFound)
