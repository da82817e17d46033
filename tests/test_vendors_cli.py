"""`ofisi import vendors` and `ofisi export vendors` as a programme officer's script runs them."""

from __future__ import annotations

import csv
import io
import json

import pytest

from core.spreadsheets import neutralise, unneutralise, write_csv, write_xlsx
from tests.vendors_support import ROWS, SAMPLE, write_csv as write_vendor_csv

FORMULAS = ["=HYPERLINK(\"http://x\",\"y\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "\tTAB", "\rCR"]


@pytest.fixture
def ofisi(tmp_path, monkeypatch):
    """The `ofisi` app run in this process (a new process per call costs seconds), on an SQLite file:
    the services it calls are tested on both backends."""
    from typer.testing import CliRunner

    from commands.main import app

    monkeypatch.setenv("OFISI_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    runner = CliRunner()

    def run(*args: str):
        result = runner.invoke(app, list(args))
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        result.returncode = result.exit_code
        return result

    return run


def test_import_sample_dry_run_json_then_skip_invalid_then_again(ofisi, tmp_path):
    assert ofisi("org", "create", "msme", "--kind", "campaigns", "--name", "MSME", "--country", "IN").returncode == 0
    dry = ofisi("import", "vendors", str(SAMPLE), "--org", "msme", "--dry-run", "--json")
    assert dry.returncode == 1  # invalid rows: nothing would be written without --skip-invalid
    report = json.loads(dry.stdout)
    assert list(report) == ["rows", "valid", "invalid", "created", "updated", "unchanged", "errors"]
    assert (report["rows"], report["valid"], report["invalid"]) == (61, 55, 5)
    assert [(e["row"], e["field"]) for e in report["errors"]] == [
        (2, "email"), (11, "email"), (31, "gstin"), (36, "udyam"), (54, "gstin")]
    assert "line 36: udyam: 'UDYAMTN-23-5274081' is not an Udyam registration number" in dry.stderr
    assert "dry run, nothing was written" in dry.stderr
    assert "Traceback" not in dry.stderr

    listed = ofisi("export", "vendors", "--org", "msme", "--format", "json")
    assert listed.returncode == 0 and json.loads(listed.stdout) == []

    done = ofisi("import", "vendors", str(SAMPLE), "--org", "msme", "--skip-invalid", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["created"] == 55
    again = json.loads(ofisi("import", "vendors", str(SAMPLE), "--org", "msme", "--skip-invalid", "--json").stdout)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 55)
    # Not a terminal: no progress bar on stderr.
    assert "Importing" not in done.stderr


def test_export_neutralises_formula_cells_and_reimports_unchanged(ofisi, tmp_path):
    assert ofisi("org", "create", "msme", "--kind", "campaigns", "--name", "MSME", "--country", "IN").returncode == 0
    rows = [row[:] for row in ROWS]
    rows[0][0] = FORMULAS[0]
    rows[1][1] = FORMULAS[3]
    rows[2][7] = FORMULAS[2]
    sheet = write_vendor_csv(tmp_path / "v.csv", rows)
    assert ofisi("import", "vendors", str(sheet), "--org", "msme").returncode == 0

    exported = ofisi("export", "vendors", "--org", "msme", "--format", "csv")
    assert exported.returncode == 0, exported.stderr
    cells = [c for row in csv.reader(io.StringIO(exported.stdout)) for c in row]
    assert "'" + FORMULAS[0] in cells and "'" + FORMULAS[3] in cells and "'-2+3" in cells
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)

    out = tmp_path / "v.xlsx"
    assert ofisi("export", "vendors", "--org", "msme", "--format", "xlsx", "-o", str(out)).returncode == 0
    from openpyxl import load_workbook

    book = load_workbook(out)
    values = [c.value for row in book.active.iter_rows() for c in row]
    assert all(c.data_type != "f" for row in book.active.iter_rows() for c in row)
    assert "'" + FORMULAS[0] in values

    as_json = json.loads(ofisi("export", "vendors", "--org", "msme", "--format", "json").stdout)
    assert {v["business_name"]: v["tags"] for v in as_json}[FORMULAS[0]] == ["export", "women-led"]
    assert "women-led" in cells and "export;women-led" in cells

    (tmp_path / "back.csv").write_text(exported.stdout, encoding="utf-8")
    back = json.loads(ofisi("import", "vendors", str(tmp_path / "back.csv"), "--org", "msme", "--json").stdout)
    assert (back["created"], back["updated"], back["unchanged"]) == (0, 0, 3)
    xlsx_back = json.loads(ofisi("import", "vendors", str(out), "--org", "msme", "--json").stdout)
    assert (xlsx_back["created"], xlsx_back["unchanged"]) == (0, 3)


def test_neutralise_every_formula_start():
    for value in FORMULAS:
        assert neutralise(value) == "'" + value
        assert unneutralise(neutralise(value)) == value
    assert neutralise("Sai Textiles") == "Sai Textiles" and neutralise(5) == 5
    assert unneutralise("'quoted") == "'quoted"
    out = io.StringIO()
    write_csv(out, ["a"], [[v] for v in FORMULAS])
    assert [r[0] for r in csv.reader(io.StringIO(out.getvalue()))][1:] == ["'" + v for v in FORMULAS]
    buffer = io.BytesIO()
    write_xlsx(buffer, ["a"], [[v] for v in FORMULAS])
    from openpyxl import load_workbook

    buffer.seek(0)
    cells = [r[0] for r in load_workbook(buffer).active.iter_rows(values_only=True)][1:]
    # XLSX keeps line ends as \n.
    assert cells == ["'" + v.replace("\r", "\n") for v in FORMULAS]


def test_one_vendor_is_added_and_changed_from_the_command_line_and_a_refusal_names_the_field(ofisi):
    assert ofisi("org", "create", "msme", "--kind", "campaigns", "--name", "MSME", "--country", "IN").returncode == 0
    added = ofisi("vendors", "add", "--org", "msme", "--name", "Sai Textiles", "--owner", "Priya Shah",
                  "--phone", "98765 43210", "--gstin", "27AAPFU0939F1ZV", "--sector", "Textiles",
                  "--tags", "women-led, export", "--json")
    assert added.returncode == 0, added.output
    vendor = json.loads(added.stdout)
    assert (vendor["phone"], vendor["pan"], vendor["tags"]) == ("+919876543210", "AAPFU0939F", ["export", "women-led"])
    assert f"Vendor {vendor['id']} (Sai Textiles) is added." in added.stderr

    changed = ofisi("vendors", "update", str(vendor["id"]), "--org", "msme", "--district", "Pune", "--owner", "",
                    "--json")
    assert changed.returncode == 0, changed.output
    after = json.loads(changed.stdout)
    assert (after["district"], after["owner_name"], after["sector"]) == ("Pune", "", "Textiles")

    # Refusals are the core's, which `ofisi` prints on stderr and exits 1 with (commands.main.run).
    from core.errors import Conflict, InvalidInput

    with pytest.raises(Conflict, match="Sai Textiles already has the phone \\+919876543210"):
        ofisi("vendors", "add", "--org", "msme", "--name", "Copy", "--phone", "+919876543210")
    with pytest.raises(InvalidInput, match="a vendor needs a phone, a GSTIN or an Udyam number"):
        ofisi("vendors", "add", "--org", "msme", "--name", "No way to find it")
    assert ofisi("vendors", "update", str(vendor["id"]), "--org", "msme").returncode == 2
