"""The chama commands as a treasurer's script runs them: exit codes, data on stdout and messages on
stderr. The real `ofisi` executable refuses a bad import and answers a replayed payment; the rest of
the month runs the same app in this process (a new interpreter per command costs a second or two)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.test_cli import assert_refused, ofisi, ofisi_here  # noqa: F401  (fixtures)

MEMBERS = [
    ["name", "phone", "member number", "role", "join date"],
    ["Wanjiku Kamau", "0712000001", "1", "chair", "2024-01-15"],
    ["Achieng Otieno", "0712000002", "2", "treasurer", "2024-01-15"],
    ["Njeri Mwangi", "0712000003", "3", "secretary", "2024-01-15"],
    ["Fatuma Hassan", "0712 000 004", "4", "member", "15/02/2024"],
    ["Broken Row", "12345", "5", "member", "2024-03-01"],
]


@pytest.fixture
def fresh_database_url(tmp_path) -> str:
    """SQLite only: the commands are the same on both backends, and the services they call
    are tested on both; each run of the executable costs a second or two."""
    return f"sqlite:///{tmp_path / 'cli.db'}"


def test_a_treasurers_month_from_the_command_line(ofisi, ofisi_here, tmp_path):  # noqa: F811
    executable, ofisi = ofisi, ofisi_here
    assert ofisi("org", "create", "umoja", "--kind", "chama", "--name", "Umoja Chama").returncode == 0
    sheet = tmp_path / "members.csv"
    with sheet.open("w", newline="") as fh:
        csv.writer(fh).writerows(MEMBERS)

    # A bad row: reported by line, nothing written, exit 1; --dry-run --json reports without writing.
    refused = executable("import", "members", str(sheet), "--org", "umoja", "--dry-run", "--json")
    assert refused.returncode == 1
    assert "line 6: '12345' is not a valid phone number for KE" in refused.stderr
    report = json.loads(refused.stdout)
    assert (report["created"], report["invalid"], report["written"]) == (4, 1, False)
    imported = ofisi("import", "members", str(sheet), "--org", "umoja", "--skip-invalid")
    assert imported.returncode == 0 and "added 4, 0 unchanged, 1 with errors" in imported.stderr

    settings = ofisi("chama", "settings", "--org", "umoja", "--contribution", "500", "--interest", "flat",
                     "--interest-rate", "1.5", "--json")
    assert settings.returncode == 0, settings.stderr
    assert json.loads(settings.stdout)["interest_rate_bp"] == 150

    paid = ofisi("chama", "contribute", "4", "1,500", "--org", "umoja", "--source", "mpesa", "--reference",
                 "QK12AB", "--json")
    entry = json.loads(paid.stdout)
    assert (entry["amount_minor"], entry["replayed"]) == (150_000, False)
    again = executable("chama", "contribute", "0712000004", "1500", "--org", "umoja", "--source", "mpesa",
                       "--reference", "QK12AB")
    assert again.returncode == 0 and f"Already recorded as entry {entry['id']}" in again.stderr
    assert again.stdout == ""
    chair = json.loads(ofisi("chama", "contribute", "1", "2000", "--org", "umoja", "--json").stdout)

    loan = json.loads(ofisi("chama", "loan", "request", "4", "3000", "--org", "umoja", "--months", "2",
                            "--json").stdout)
    assert_refused(ofisi("chama", "loan", "disburse", str(loan["id"]), "--org", "umoja"),
                   "Fatuma's loan needs 2 approvals; it has none yet.")
    assert ofisi("chama", "loan", "approve", str(loan["id"]), "--org", "umoja", "--by", "1").returncode == 0
    second = ofisi("chama", "loan", "approve", str(loan["id"]), "--org", "umoja", "--by", "0712000002")
    assert f"Loan {loan['id']} is approved (2 of 2 approvals)." in second.stderr
    out = ofisi("chama", "loan", "disburse", str(loan["id"]), "--org", "umoja")
    assert out.returncode == 0 and "paid out: KES 3,000 to Fatuma Hassan" in out.stderr
    repay = ofisi("chama", "loan", "repay", "4", "590", "--org", "umoja", "--reference", "M1")
    assert "Recorded entry" in repay.stderr and "repayment of loan" in repay.stderr

    statement = ofisi("report", "statement", "--org", "umoja", "--member", "4", "--csv", "-")
    rows = list(csv.reader(io.StringIO(statement.stdout)))
    assert rows[0][:4] == ["date", "entry", "description", "amount"]
    # KES 3,000 lent + 90 flat interest - 590 repaid (interest first) = 2,500 owed.
    assert rows[-1][2:7] == ["Closing balance", "", "1500.00", "2500.00", "0.00"]
    whole = json.loads(ofisi("report", "statement", "--org", "umoja", "--json").stdout)
    assert whole["closing"]["pool"] == 150_000 + 200_000 - 300_000 + 59_000

    assert_refused(ofisi("chama", "reverse", str(chair["id"]), "--org", "umoja", "--reason", "bounced"),
                   "would leave the pool at KES -910")
    preview = ofisi("chama", "shareout", "--org", "umoja", "--preview")
    assert preview.returncode == 0 and "Not yet: 1 member(s) still owe KES 2,500 on loans" in preview.stderr

    first = ofisi("jobs", "run-due", "--json")
    assert first.returncode == 0, first.stderr
    assert not [e for e in json.loads(first.stdout)["planned_errors"] if e.startswith("chama")]
    assert json.loads(ofisi("jobs", "run-due", "--json").stdout)["ran"] == 0
    assert ofisi("chama", "contribute", "4", "--org", "umoja").returncode == 2  # no amount: bad usage
