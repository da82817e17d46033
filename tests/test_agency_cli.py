"""The agency commands as an admin's script runs them: the real `ofisi` executable, exit codes,
data on stdout and messages on stderr; and no worker phone leaks through --json or exports."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.agency_support import SAMPLE
from tests.cli_support import InProcessCli
from tests.test_cli import assert_refused, ofisi  # noqa: F401  (fixture)


@pytest.fixture
def fresh_database_url(tmp_path) -> str:
    """SQLite only: the services behind the commands are tested on both backends."""
    return f"sqlite:///{tmp_path / 'cli.db'}"


@pytest.fixture
def ofisi_in_process(fresh_database_url, monkeypatch) -> InProcessCli:
    """The same commands in this process (a new interpreter per command costs seconds)."""
    return InProcessCli(fresh_database_url, monkeypatch)


WORKERS = [
    ["name", "phone", "location", "experience", "salary", "accommodation", "availability", "skills", "tribe"],
    ["Achieng Otieno", "0712000101", "Nairobi", "3 years", "9,000", "Live-in", "immediate", "cooking; childcare",
     "X"],
    ["Njeri Mwangi", "0712 000 102", "Nakuru", "5+ years", "12000", "live_out", "2 weeks", "cleaning", "Y"],
    ["Zawadi Mutua", "0712000103", "Nairobi", "none", "", "either", "1 month", "childcare", ""],
]


def test_an_agency_from_the_command_line_without_leaking_numbers(ofisi_in_process, ofisi, tmp_path):  # noqa: F811
    real = ofisi
    ofisi = ofisi_in_process
    assert ofisi("org", "create", "nyumbani", "--kind", "agency", "--name", "Nyumbani").returncode == 0
    sheet = tmp_path / "workers.csv"
    with sheet.open("w", newline="") as fh:
        csv.writer(fh).writerows(WORKERS)
    imported = ofisi("import", "workers", str(sheet), "--org", "nyumbani", "--json")
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout)["created"] == 3 and "not stored: tribe" in imported.stderr
    again = ofisi("import", "workers", str(sheet), "--org", "nyumbani")
    assert "added 0, 3 unchanged" in again.stderr
    employers = tmp_path / "employers.csv"
    employers.write_text("name,phone,household\nJoy Kamau,0712000201,Kamau household\n")
    assert ofisi("import", "employers", str(employers), "--org", "nyumbani").returncode == 0

    found = ofisi("workers", "search", "--org", "nyumbani", "--location", "nairobi", "--skill", "childcare",
                  "--json")
    assert found.returncode == 0, found.stderr
    result = json.loads(found.stdout)
    assert [w["name"] for w in result["workers"]] == ["Achieng Otieno", "Zawadi Mutua"]
    assert result["workers"][0]["expected_salary_minor"] == 900_000
    numbers = ["0712000101", "712000101", "254712000101", "0712000103", "712000103"]
    for text in (found.stdout, ofisi("workers", "show", "1", "--org", "nyumbani", "--json").stdout,
                 ofisi("export", "workers", "--org", "nyumbani").stdout,
                 ofisi("export", "workers", "--org", "nyumbani", "--json").stdout):
        assert "+2547•••••101" in text or "+2547•••••103" in text
        assert not any(n in text for n in numbers), text

    refused = real("workers", "unlock", "1", "--org", "nyumbani", "--employer", "1")  # the real executable
    assert_refused(refused, "Joy Kamau has no contact credits left")

    placed = ofisi("placements", "add", "--org", "nyumbani", "--worker", "1", "--employer", "1", "--fee", "5000",
                   "--commission", "1000", "--placed", "--json")
    assert placed.returncode == 0, placed.stderr
    assert_refused(ofisi("placements", "add", "--org", "nyumbani", "--worker", "1", "--employer", "1", "--placed"),
                   "Achieng Otieno is already placed with Joy Kamau")
    assert ofisi("placements", "pay", "1", "--org", "nyumbani", "--amount", "5000", "--reference",
                 "QXY1").returncode == 0
    report = json.loads(ofisi("report", "agency", "--org", "nyumbani", "--json").stdout)
    total = report["total"]
    assert (total["placed"], total["fee_minor"], total["commission_minor"], total["owed_minor"]) == \
        (1, 500_000, 100_000, 100_000)
    exported = list(csv.DictReader(io.StringIO(ofisi("export", "placements", "--org", "nyumbani").stdout)))
    # Money in the currency's own units, never minor units.
    assert (exported[0]["fee"], exported[0]["received"], exported[0]["owed"], exported[0]["currency"]) == \
        ("5000.00", "5000.00", "1000.00", "KES") and exported[0]["status"] == "placed"
    assert "500000" not in ofisi("export", "placements", "--org", "nyumbani").stdout


def test_the_domestic_connect_migration_from_the_command_line(ofisi_in_process):
    ofisi = ofisi_in_process
    dry = ofisi("import", "domestic-connect", str(SAMPLE), "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["adds_up"] and "dry run, nothing was written" in dry.stderr
    assert json.loads(ofisi("org", "list", "--json").stdout) == []
    first = json.loads(ofisi("import", "domestic-connect", str(SAMPLE), "--json").stdout)
    assert first["adds_up"] and sum(c["created"] for c in first["counts"].values()) > 300
    table = ofisi("import", "domestic-connect", str(SAMPLE), "--org-prefix", "dc")  # again: nothing new
    assert "housegirl_profiles" in table.stdout and "tribe: 40 values dropped" in table.stderr
    assert "0 rows created in dc-platform and 9 agency orgs" in table.stderr
    found = ofisi("workers", "search", "--org", "dc-platform", "--json", "--limit", "500")
    assert "254782462819" not in found.stdout and "0782462819" not in found.stdout


def test_exports_never_hand_a_spreadsheet_a_formula(ofisi_in_process, tmp_path):
    ofisi = ofisi_in_process
    assert ofisi("org", "create", "nyumbani", "--kind", "agency", "--name", "Nyumbani").returncode == 0
    employers = tmp_path / "employers.csv"
    employers.write_text('name,phone,household\n"=HYPERLINK(""http://x.example"")",0712000201,@SUM(A1)\n')
    assert ofisi("import", "employers", str(employers), "--org", "nyumbani").returncode == 0
    [row] = list(csv.DictReader(io.StringIO(ofisi("export", "employers", "--org", "nyumbani").stdout)))
    assert row["name"] == "'=HYPERLINK(\"http://x.example\")" and row["household_name"] == "'@SUM(A1)"
