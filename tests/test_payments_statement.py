"""`ofisi mpesa import-statement` and `register-urls`: the org portal's paybill statement (CSV and
XLSX, in the portal's columns) credits what the callbacks missed, once per receipt, whichever comes first."""

from __future__ import annotations

import csv
import json

import httpx
import pytest
from openpyxl import Workbook
from sqlalchemy import select
from typer.testing import CliRunner

from commands.main import app
from config import load_settings
from db.models_payments import Paybill, PaybillPayment
from tests.fakes.daraja import c2b_payload, fake_daraja  # noqa: F401  (fixture)
from tests.live_gateway import running_gateway
from tests.payments_support import PAYBILL, ledger_rows, paybill_chama

TOKEN = "cb-token"
# The portal's columns, as in the sample statement the treasurers download.
HEADER = ["Receipt No.", "Completion Time", "Initiation Time", "Details", "Transaction Status", "Paid In",
          "Withdrawn", "Balance", "Balance Confirmed", "Reason Type", "Other Party Info", "Linked Transaction ID",
          "A/C No."]


def line(receipt: str, when: str, account: str, paid_in: str = "", withdrawn: str = "",
         status: str = "Completed") -> list[str]:
    party = "254710000012 - WAIRIMU N****"
    details = f"Pay Bill from {party} Acc. {account}" if paid_in else "Business Payment to 254710000012"
    return [receipt, when, when, details, status, paid_in, withdrawn, "150000.00", "true",
            "Pay Bill Online" if paid_in else "Business Payment", party, "", account]


LINES = [
    line("SMA1000001", "02-12-2026 09:34:00", "M012", "1000.00"),
    line("SMA1000002", "02-12-2026 13:04:00", "m012-loan", "500.00"),
    line("SMA1000003", "02-12-2026 13:18:00", "M099", "2000.00"),  # nobody
    line("SMA1000004", "02-12-2026 15:19:00", "", withdrawn="-300.00"),  # money out: not for us
    line("SMA1000005", "02-12-2026 18:14:00", "M010", "750.00", status="Cancelled"),
]
CREDITED = [("contribution", "M012", 100_000, "SMA1000001"), ("loan_repayment", "M012", 50_000, "SMA1000002")]


@pytest.fixture
def configure(monkeypatch, committed_db):
    from config.settings import get_settings

    def apply(env: dict[str, str]) -> None:
        for name, value in {"OFISI_DATABASE_URL": committed_db.url, **env}.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    apply({})
    yield apply
    get_settings.cache_clear()


@pytest.fixture
def chama(committed_db, make_org, configure):
    with committed_db.session() as s:
        return paybill_chama(s, make_org)


def write_statement(path, rows=LINES):
    if path.suffix == ".csv":
        with path.open("w", newline="", encoding="utf-8") as out:
            csv.writer(out).writerows([HEADER, *rows])
    else:
        book = Workbook()
        sheet = book.active
        for row in [HEADER, *rows]:
            sheet.append(row)
        book.save(path)
    return path


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def slug_of(chama) -> str:
    return chama.org.slug


def mine(session, chama) -> list[tuple]:
    return [r for r in ledger_rows(session, chama.id) if r[3] and r[3].startswith("SMA")]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_the_statement_credits_what_no_callback_did_once(committed_db, chama, tmp_path, suffix):
    path = write_statement(tmp_path / f"statement{suffix}")
    dry = run("mpesa", "import-statement", str(path), "--org", slug_of(chama), "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    report = json.loads(dry.stdout)
    assert (report["lines"], report["credited"], report["already"], report["skipped"]) == (5, 2, 0, 2)
    with committed_db.session() as s:
        assert mine(s, chama) == [] and s.scalars(select(PaybillPayment)).all() == []
    done = run("mpesa", "import-statement", str(path), "--org", slug_of(chama))
    assert done.exit_code == 0, done.output
    assert "line 4: SMA1000003: account 'M099' names no member" in done.output
    assert "5 lines; credited 2, 0 already taken, 2 not money in, 1 unmatched" in done.output
    again = run("mpesa", "import-statement", str(path), "--org", slug_of(chama))
    assert "credited 0, 2 already taken, 2 not money in, 1 unmatched" in again.output
    with committed_db.session() as s:
        assert mine(s, chama) == CREDITED
        kept = {p.trans_id: (p.status, p.source) for p in s.scalars(select(PaybillPayment))}
        assert kept == {"SMA1000001": ("credited", "statement"), "SMA1000002": ("credited", "statement"),
                        "SMA1000003": ("review", "statement")}


def test_an_empty_account_column_is_read_from_the_details(committed_db, chama, tmp_path):
    row = line("SMA1000006", "03-12-2026 08:00:00", "M010", "300.00")
    row[-1] = ""  # the portal left A/C No. empty; Details still says "… Acc. M010"
    done = run("mpesa", "import-statement", str(write_statement(tmp_path / "s.csv", [row])), "--org", slug_of(chama))
    assert "1 lines; credited 1" in done.output
    with committed_db.session() as s:
        assert mine(s, chama) == [("contribution", "M010", 30_000, "SMA1000006")]


def confirm_over_http(db, receipts_and_accounts) -> None:
    with running_gateway(db, load_settings({"OFISI_CALLBACK_TOKEN": TOKEN})) as base:
        for receipt, account, amount in receipts_and_accounts:
            payload = c2b_payload(receipt, account, amount, shortcode=PAYBILL, trans_time="20261202093400")
            answer = httpx.post(f"{base}/mpesa/c2b/confirmation?token={TOKEN}", json=payload, timeout=20)
            assert answer.json() == {"ResultCode": 0, "ResultDesc": "Accepted"}


CALLBACKS = [("SMA1000001", "M012", 1000), ("SMA1000002", "m012-loan", 500)]


def test_a_statement_after_the_callbacks_credits_nothing_new(committed_db, chama, tmp_path):
    confirm_over_http(committed_db, CALLBACKS)
    with committed_db.session() as s:
        before = ledger_rows(s, chama.id)
        assert mine(s, chama) == CREDITED
    done = run("mpesa", "import-statement", str(write_statement(tmp_path / "s.csv")), "--org", slug_of(chama))
    assert "credited 0, 2 already taken" in done.output
    with committed_db.session() as s:
        assert ledger_rows(s, chama.id) == before


def test_callbacks_after_the_statement_credit_nothing_new(committed_db, chama, tmp_path):
    done = run("mpesa", "import-statement", str(write_statement(tmp_path / "s.xlsx")), "--org", slug_of(chama))
    assert "credited 2" in done.output
    with committed_db.session() as s:
        before = ledger_rows(s, chama.id)
    confirm_over_http(committed_db, CALLBACKS)
    with committed_db.session() as s:
        assert ledger_rows(s, chama.id) == before
        assert mine(s, chama) == CREDITED


def test_a_payment_kept_for_review_is_assigned_by_an_official(committed_db, chama, tmp_path):
    run("mpesa", "import-statement", str(write_statement(tmp_path / "s.csv")), "--org", slug_of(chama))
    listed = json.loads(run("mpesa", "paybill", "--org", slug_of(chama), "--status", "review", "--json").stdout)
    assert [p["trans_id"] for p in listed] == ["SMA1000003"]
    assigned = run("mpesa", "assign", "sma1000003", "--org", slug_of(chama), "--account", "M010")
    assert assigned.exit_code == 0 and "SMA1000003 (KES 2,000) credited: entry" in assigned.output
    with committed_db.session() as s:
        assert ledger_rows(s, chama.id, reference="SMA1000003") == [("contribution", "M010", 200_000, "SMA1000003")]


def test_register_urls_with_daraja(committed_db, chama, fake_daraja, configure):
    configure(fake_daraja.env(public_url="https://ofisi.example", callback_token=TOKEN))
    done = run("mpesa", "register-urls", "--org", slug_of(chama), "--shortcode", "600985")
    assert done.exit_code == 0, done.output
    assert fake_daraja.registered["600985"] == {
        "ShortCode": "600985", "ResponseType": "Cancelled",
        "ConfirmationURL": f"https://ofisi.example/mpesa/c2b/confirmation?token={TOKEN}",
        "ValidationURL": f"https://ofisi.example/mpesa/c2b/validation?token={TOKEN}"}
    assert "Paybill 600985 now validates and confirms at https://ofisi.example/mpesa/c2b/confirmation" in done.output
    assert "token" not in done.output  # the callback token is a secret
    with committed_db.session() as s:
        assert s.scalar(select(PaybillPayment.id)) is None
        assert s.scalar(select(Paybill.shortcode).where(Paybill.org_id == chama.id)) == "600985"
    refused = run("mpesa", "register-urls", "--org", slug_of(chama), "--shortcode", "12")
    assert "not a paybill short code" in str(refused.exception)


def test_register_urls_says_what_daraja_refused(committed_db, chama, fake_daraja, configure):
    from tests.fakes.daraja import REGISTER_PATH, Script

    configure(fake_daraja.env(public_url="https://ofisi.example", callback_token=TOKEN))
    fake_daraja.next_calls(REGISTER_PATH, Script(http_status=400, error_code="400.003.02"))
    refused = run("mpesa", "register-urls", "--org", slug_of(chama), "--shortcode", "600985")
    assert refused.exit_code == 1 and "Daraja refused it" in refused.output and "400.003.02" in refused.output
    with committed_db.session() as s:
        assert s.scalar(select(Paybill.shortcode).where(Paybill.org_id == chama.id)) == PAYBILL  # unchanged
