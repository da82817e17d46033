"""Importing members from CSV and XLSX: row-level errors, dry runs, all-or-nothing unless --skip-invalid."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.chama import members
from core.chama.importing import import_members, read_member_file
from core.errors import InvalidInput
from db.models import AuditEntry
from db.models_chama import ChamaMember
from tests.chama_support import ACTOR

GOOD = [
    ["Name", "Phone", "Member No", "Role", "Join Date"],
    ["Wanjiku Kamau", "0712 000 001", "1", "Chairperson", "2024-01-15"],
    ["Achieng Otieno", "+254 712 000 002", "2", "treasurer", "15/02/2024"],
    ["Njeri Mwangi", "254712000003", "", "", ""],
]
BAD_ROWS = [
    ["Fatuma Hassan", "12345", "4", "member", "2024-03-01"],      # not a phone
    ["", "0712000005", "5", "member", "2024-03-01"],              # no name
    ["Mercy Chebet", "0712000006", "1", "member", "2024-03-01"],  # number 1 is on line 2
    ["Grace Wambui", "0712000007", "7", "president", "2024-03-01"],  # not a role
    ["Halima Abdi", "0712000008", "8", "member", "31/02/2024"],   # not a date
    ["Joyce Akinyi", "0712000001", "9", "member", "2024-03-01"],  # phone is on line 2
]


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    import csv

    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list]) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


def count(session, org_id: int) -> int:
    return session.scalar(select(func.count()).select_from(ChamaMember).where(ChamaMember.org_id == org_id))


@pytest.fixture
def org(session, make_org):
    return make_org(session, "chama")


def test_a_good_csv_imports_every_row_and_again_changes_nothing(session, org, tmp_path):
    rows = read_member_file(write_csv(tmp_path / "members.csv", GOOD))
    report = import_members(session, ACTOR, org.id, rows, file="members.csv")
    assert (report.created, report.unchanged, report.invalid, report.written) == (3, 0, 0, True)
    listed = members.list_members(session, ACTOR, org.id)
    assert [(m.member_number, m.name, m.phone, m.role, m.joined_on) for m in listed] == [
        ("1", "Wanjiku Kamau", "+254712000001", "chair", date(2024, 1, 15)),
        ("2", "Achieng Otieno", "+254712000002", "treasurer", date(2024, 2, 15)),
        ("3", "Njeri Mwangi", "+254712000003", "member", listed[2].joined_on),
    ]
    again = import_members(session, ACTOR, org.id, rows, file="members.csv")
    assert (again.created, again.unchanged, again.invalid) == (0, 3, 0)
    assert count(session, org.id) == 3
    audit_rows = session.scalars(select(AuditEntry).where(AuditEntry.action == "chama.import.members")).all()
    assert [a.after["created"] for a in audit_rows] == [3, 0]


def test_row_errors_are_reported_by_line_and_nothing_is_written(session, org, tmp_path):
    rows = read_member_file(write_csv(tmp_path / "members.csv", GOOD + BAD_ROWS))
    report = import_members(session, ACTOR, org.id, rows, file="members.csv")
    assert (report.created, report.invalid, report.written) == (3, 6, False)
    assert count(session, org.id) == 0
    messages = {e.line: e.message for e in report.errors}
    assert sorted(messages) == [5, 6, 7, 8, 9, 10]
    assert "not a valid phone number" in messages[5]
    assert messages[6] == "the name is empty."
    assert messages[7] == "member number 1 is also on line 2."
    assert "not a chama role" in messages[8]
    assert "is not a date" in messages[9]
    assert messages[10] == "+254712000001 is also on line 2."
    assert "nothing was written" in report.line()


def test_skip_invalid_writes_the_good_rows_and_dry_run_writes_nothing(session, org, tmp_path):
    rows = read_member_file(write_csv(tmp_path / "members.csv", GOOD + BAD_ROWS))
    dry = import_members(session, ACTOR, org.id, rows, dry_run=True, skip_invalid=True)
    assert (dry.created, dry.written) == (3, False) and count(session, org.id) == 0
    report = import_members(session, ACTOR, org.id, rows, skip_invalid=True)
    assert (report.created, report.invalid, report.written) == (3, 6, True)
    assert count(session, org.id) == 3


def test_xlsx_with_spreadsheet_types_imports_the_same(session, org, tmp_path):
    rows = [["Member Number", "Full Name", "Mobile", "Position", "Date Joined", "Notes"],
            [12, "Wanjiku Kamau", 712000001, "chair", datetime(2024, 1, 15), "founder"],
            [13.0, "Achieng Otieno", "0712000002", None, date(2024, 2, 1), None],
            [None, None, None, None, None, None]]
    parsed = read_member_file(write_xlsx(tmp_path / "members.xlsx", rows))
    assert [line for line, _values in parsed] == [2, 3]
    report = import_members(session, ACTOR, org.id, parsed)
    assert report.created == 2
    assert [(m.member_number, m.phone, m.role, m.joined_on) for m in members.list_members(session, ACTOR, org.id)] \
        == [("12", "+254712000001", "chair", date(2024, 1, 15)), ("13", "+254712000002", "member", date(2024, 2, 1))]
    # The next numbers follow on from the largest.
    assert members.add_member(session, ACTOR, org.id, name="Next", phone="0712000009").member_number == "14"


def test_an_existing_member_with_different_details_is_an_error(session, org, tmp_path):
    members.add_member(session, ACTOR, org.id, name="Wanjiku", phone="0712000001", member_number="1",
                       joined_on=date(2024, 1, 15))
    report = import_members(session, ACTOR, org.id, read_member_file(write_csv(tmp_path / "m.csv", GOOD)))
    assert [(e.line, e.message) for e in report.errors] == [
        (2, "+254712000001 is already member no. 1 (member, joined 2024-01-15); change them with "
            "`ofisi chama members update`.")]


def test_files_that_cannot_be_read_are_refused(tmp_path):
    with pytest.raises(InvalidInput, match="no phone column"):
        read_member_file(write_csv(tmp_path / "m.csv", [["Name", "Email"], ["A", "a@b.c"]]))
    with pytest.raises(InvalidInput, match="reads .csv and .xlsx"):
        read_member_file(write_csv(tmp_path / "m.txt", GOOD))
    (tmp_path / "broken.xlsx").write_text("not a zip")
    with pytest.raises(InvalidInput, match="cannot be read as a spreadsheet"):
        read_member_file(tmp_path / "broken.xlsx")
    with pytest.raises(InvalidInput, match="There is no file"):
        read_member_file(tmp_path / "missing.csv")
