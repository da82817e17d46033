"""Importing vendors: every bad row reported by line and field, all-or-nothing unless
--skip-invalid, matching on GSTIN, Udyam number and phone, any common encoding, XLSX."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.errors import InvalidInput, NotFound, PermissionDenied
from core.users import add_user
from core.vendors import AudienceFilter, audience, import_vendors, list_vendors, read_vendor_file
from db.models import AuditEntry
from db.models_vendors import Vendor
from tests.vendors_support import ACTOR, HEADER, ROWS, SAMPLE, write_csv


@pytest.fixture
def org(session, make_org):
    return make_org(session, "campaigns", country="IN")


def count(session, org_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Vendor).where(Vendor.org_id == org_id))


def test_the_sample_file_reports_every_invalid_row_and_writes_nothing(session, org):
    data = read_vendor_file(SAMPLE)
    report = import_vendors(session, ACTOR, org.id, data)
    assert (report.rows, report.valid, report.invalid, report.duplicates, report.blank) == (61, 55, 5, 1, 0)
    assert report.written is False and count(session, org.id) == 0
    assert [(e.row, e.field) for e in report.errors] == [
        (2, "email"), (11, "email"), (31, "gstin"), (36, "udyam"), (54, "gstin")]
    messages = {e.row: e.message for e in report.errors}
    assert "'x@y' is not an email address" in messages[2]
    assert "check character is wrong" in messages[31]
    assert "UDYAM-MH-19-0012345" in messages[36]
    assert "nothing was written" in report.line()


def test_dry_run_writes_nothing_and_a_second_import_creates_nothing(session, org):
    data = read_vendor_file(SAMPLE)
    dry = import_vendors(session, ACTOR, org.id, data, dry_run=True, skip_invalid=True)
    assert (dry.created, dry.written) == (55, False) and count(session, org.id) == 0
    first = import_vendors(session, ACTOR, org.id, data, skip_invalid=True)
    assert (first.created, first.updated, first.unchanged, first.written) == (55, 0, 0, True)
    assert count(session, org.id) == 55
    again = import_vendors(session, ACTOR, org.id, data, skip_invalid=True)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 55)
    assert count(session, org.id) == 55
    audits = session.scalars(select(AuditEntry.after).where(AuditEntry.action == "vendors.import")).all()
    assert [(a["created"], a["unchanged"], a["skipped_invalid"]) for a in audits] == [(55, 0, 5), (0, 55, 5)]
    # Stored canonical: E.164 phones, lower-case sizes, the PAN taken from the GSTIN when the file has it.
    first_vendor = list_vendors(session, ACTOR, org.id, search="27AIXCO2052X1ZP").vendors
    assert first_vendor == []  # line 2 was invalid
    ganesh = list_vendors(session, ACTOR, org.id, search="33FUZHP6749K2ZV").vendors[0]
    assert (ganesh.phone, ganesh.size, ganesh.pan, ganesh.state) == ("+917666937405", "micro", "FUZHP6749K", "TN")


def test_rows_find_their_vendor_by_gstin_then_udyam_then_phone(session, org, tmp_path):
    import_vendors(session, ACTOR, org.id, read_vendor_file(write_csv(tmp_path / "a.csv", ROWS)))
    changed = [row[:] for row in ROWS]
    changed[0][8] = "Nashik"           # matched by GSTIN, though the phone changes too
    changed[0][2] = "98765 00000"
    changed[1][0] = "Om Printing Works"  # matched by Udyam number
    changed[2][10] = "small"           # matched by phone
    report = import_vendors(session, ACTOR, org.id, read_vendor_file(write_csv(tmp_path / "b.csv", changed)))
    assert (report.created, report.updated, report.unchanged, report.invalid) == (0, 3, 0, 0)
    vendors = {v.gstin or v.udyam or v.phone: v for v in audience(session, ACTOR, org.id)}
    assert (vendors["27AAPFU0939F1ZV"].district, vendors["27AAPFU0939F1ZV"].phone) == ("Nashik", "+919876500000")
    assert vendors["UDYAM-KA-07-0000042"].business_name == "Om Printing Works"
    assert vendors["+917012345678"].size == "small"
    assert count(session, org.id) == 3
    # A blank cell changes nothing: the tags stay.
    blanked = [row[:] for row in changed]
    blanked[0][11] = ""
    report = import_vendors(session, ACTOR, org.id, read_vendor_file(write_csv(tmp_path / "c.csv", blanked)))
    assert report.unchanged == 3
    assert vendors["27AAPFU0939F1ZV"].tags == ("export", "women-led")


def test_clashing_rows_are_errors_not_guesses(session, org, tmp_path):
    import_vendors(session, ACTOR, org.id, read_vendor_file(write_csv(tmp_path / "a.csv", ROWS)))
    rows = [
        # GSTIN says Sai Textiles, the phone belongs to Ganesh Leather.
        ["Sai Textiles", "", "07012345678", "", "27AAPFU0939F1ZV", "", "", "", "", "", "", ""],
        ["New One", "", "9000000001", "", "", "", "", "", "", "", "", ""],
        ["Another", "", "9000000001", "", "", "", "", "", "", "", "", ""],  # same phone as the line before
        ["PAN Mismatch", "", "9000000002", "", "29AAGCB7383J1Z4", "", "AAPFU0939F", "", "", "", "", ""],
        ["", "Owner Only", "9000000003", "", "", "", "", "", "", "", "", ""],
        ["Unreachable", "", "", "x@example.in", "", "", "", "", "", "", "huge", ""],
    ]
    report = import_vendors(session, ACTOR, org.id, read_vendor_file(write_csv(tmp_path / "b.csv", rows)))
    errors = {(e.row, e.field): e.message for e in report.errors}
    assert errors[2, "phone"] == "+917012345678 belongs to Ganesh Leather, not to Sai Textiles."
    assert errors[4, "phone"] == "+919000000001 is also on line 3."
    assert "is not the one inside the GSTIN 29AAGCB7383J1Z4" in errors[5, "pan"]
    assert errors[6, "business_name"] == "the business name is empty."
    assert "'huge' is not a size" in errors[7, "size"]
    assert "needs a phone, a GSTIN or an Udyam number" in errors[7, "phone"]
    assert (report.valid, report.invalid) == (1, 5)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "cp1252"])
def test_csv_in_any_common_encoding(session, org, tmp_path, encoding):
    rows = [["Café Crème Bakers", "José Gómez", "9876543210", "", "", "", "", "Food", "Pune", "MH", "micro", ""]]
    path = write_csv(tmp_path / "v.csv", rows, encoding=encoding, delimiter=";" if encoding == "cp1252" else ",")
    report = import_vendors(session, ACTOR, org.id, read_vendor_file(path))
    assert report.created == 1, report.errors
    vendor = next(audience(session, ACTOR, org.id))
    assert (vendor.business_name, vendor.owner_name) == ("Café Crème Bakers", "José Gómez")


def test_loose_headers_blank_lines_and_duplicates(session, org, tmp_path):
    header = ["business_name", "Proprietor Name", "Phone No.", "EMAIL ID", "GST No", "Udyam Registration Number",
              "pan", "Industry", "City", "State", "Enterprise Size", "tags", "Remarks"]
    text = ("\n".join([",".join(header), ",".join(ROWS[0] + ["ignored"]), "", ",,,,,,,,,,,,",
                       ",".join(ROWS[0] + ["ignored"])]) + "\n").replace("women-led; export", "women-led;export")
    path = tmp_path / "loose.csv"
    path.write_text(text, encoding="utf-8")
    report = import_vendors(session, ACTOR, org.id, read_vendor_file(path))
    assert (report.rows, report.created, report.blank, report.duplicates) == (2, 1, 2, 1)
    vendor = next(audience(session, ACTOR, org.id))
    assert (vendor.owner_name, vendor.email, vendor.district, vendor.size, vendor.tags) == (
        "Priya Sharma", "priya@example.in", "Pune", "micro", ("export", "women-led"))


def test_a_file_without_a_business_name_column_is_refused(tmp_path):
    path = write_csv(tmp_path / "v.csv", [["x"]], header=["Something"])
    with pytest.raises(InvalidInput, match="no business name column"):
        read_vendor_file(path)


def test_xlsx_with_spreadsheet_number_cells(session, org, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(HEADER)
    book.active.append(["Sai Textiles", "Priya", 9876543210, None, None, None, None, "Textiles", "Pune", "MH",
                        "Micro", None])
    book.active.append([None] * len(HEADER))
    book.active.append(["Bad Phone", "X", 12345.0, None, None, None, None, None, None, None, None, None])
    book.save(tmp_path / "v.xlsx")
    data = read_vendor_file(tmp_path / "v.xlsx")
    report = import_vendors(session, ACTOR, org.id, data, skip_invalid=True)
    assert (report.created, report.blank, [(e.row, e.field) for e in report.errors]) == (1, 1, [(4, "phone")])
    assert next(audience(session, ACTOR, org.id)).phone == "+919876543210"


def test_staff_need_the_import_permission_and_the_org(session, org, make_org, tmp_path):
    data = read_vendor_file(write_csv(tmp_path / "a.csv", ROWS))
    viewer = add_user(session, ACTOR, "viewer@example.in", org_id=org.id, role="viewer", name="V", password="pw-123456789")
    other = make_org(session, "campaigns", country="IN")
    stranger = add_user(session, ACTOR, "officer@example.in", org_id=other.id, role="officer", name="O",
                        password="pw-123456789")
    from core.actors import Actor as A

    with pytest.raises(PermissionDenied, match="vendors.import"):
        import_vendors(session, A.staff(viewer.id, viewer.email), org.id, data)
    with pytest.raises(NotFound):
        import_vendors(session, A.staff(stranger.id, stranger.email), org.id, data)
    assert count(session, org.id) == 0


def test_audience_filters(session, org, tmp_path):
    import_vendors(session, ACTOR, org.id, read_vendor_file(write_csv(tmp_path / "a.csv", ROWS)))

    def names(text: str) -> list[str]:
        return sorted(v.business_name for v in audience(session, ACTOR, org.id, AudienceFilter.parse(text)))

    assert names("all") == ["Ganesh Leather", "Om Printing", "Sai Textiles"]
    assert names("tags=women-led") == ["Ganesh Leather", "Sai Textiles"]
    assert names("tags=women-led,export") == ["Sai Textiles"]
    assert names("district=pune|KANPUR,size=micro") == ["Sai Textiles"]
    assert names("state=Karnataka") == ["Om Printing"]
    assert names("sector=Textiles,district=Mysuru") == []
    assert str(AudienceFilter.parse("district=Pune|Nashik,tags=Women Led")) == "district=Pune|Nashik,tags=women-led"
    with pytest.raises(InvalidInput, match="'colour' is not an audience filter"):
        AudienceFilter.parse("colour=red")
    with pytest.raises(InvalidInput, match="not a size"):
        AudienceFilter.parse("size=large")


def test_copy_and_worker_processes_give_the_same_result(session, org, tmp_path, monkeypatch, backend):
    """Big imports COPY (PostgreSQL) and clean rows in worker processes: made small here."""
    from core.vendors import importing

    monkeypatch.setattr(importing, "COPY_THRESHOLD", 2)
    monkeypatch.setattr(importing, "PARALLEL_FROM", 2)
    monkeypatch.setattr(importing, "CHUNK", 1)
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    rows = [row[:] for row in ROWS] + [["Bad", "", "12345", "", "", "", "", "", "", "", "", ""]]
    report = import_vendors(session, ACTOR, org.id, read_vendor_file(write_csv(tmp_path / "a.csv", rows)),
                            skip_invalid=True)
    assert (report.created, [(e.row, e.field) for e in report.errors]) == (3, [(5, "phone")])
    tags = {v.business_name: v.tags for v in audience(session, ACTOR, org.id)}
    assert tags == {"Sai Textiles": ("export", "women-led"), "Om Printing": (), "Ganesh Leather": ("women-led",)}
    assert importing.import_vendors(session, ACTOR, org.id, read_vendor_file(tmp_path / "a.csv"),
                                    skip_invalid=True).unchanged == 3


def test_a_vendor_added_meanwhile_is_a_conflict_and_nothing_is_written(session, org, tmp_path, monkeypatch):
    """Another import commits the same GSTIN between this one's read and its write: the unique index refuses."""
    from core.errors import Conflict
    from core.vendors import add_vendor, importing

    data = read_vendor_file(write_csv(tmp_path / "a.csv", ROWS))
    monkeypatch.setattr(importing, "_existing", lambda s, o, r: ({}, {key: {} for key in importing.MATCH_KEYS}))
    add_vendor(session, ACTOR, org.id, business_name="Got There First", gstin="27AAPFU0939F1ZV")
    with pytest.raises(Conflict, match="nothing was written. Import the file again"):
        import_vendors(session, ACTOR, org.id, data)
    assert [v.business_name for v in audience(session, ACTOR, org.id)] == ["Got There First"]


def test_a_stepped_sqlite_write_that_fails_takes_back_its_earlier_steps(committed_db, backend, tmp_path, monkeypatch):
    """On SQLite the rows go in a step at a time (the lock is let go between steps); a clash in a late
    step deletes what the earlier steps wrote, so nothing of the import stays."""
    from core.errors import Conflict
    from core.orgs import create_org
    from core.vendors import add_vendor, importing

    if backend != "sqlite":
        pytest.skip("PostgreSQL writes in one transaction")
    monkeypatch.setattr(importing, "STEP", 1)
    with committed_db.session() as session:
        org = create_org(session, ACTOR, "steps", kind="campaigns", name="Steps", country="IN")
        data = read_vendor_file(write_csv(tmp_path / "a.csv", [ROWS[1], ROWS[2]]))
        assert import_vendors(session, ACTOR, org.id, data).created == 2  # two steps, both kept
        add_vendor(session, ACTOR, org.id, business_name="Got There First", gstin="27AAPFU0939F1ZV")
        other = [["Unit A", "", "9000000101", "", "", "", "", "", "", "", "", ""],
                 ["Unit B", "", "9000000102", "", "", "", "", "", "", "", "", ""], ROWS[0]]
        monkeypatch.setattr(importing, "_existing", lambda s, o, r: ({}, {key: {} for key in importing.MATCH_KEYS}))
        with pytest.raises(Conflict, match="nothing was written"):
            import_vendors(session, ACTOR, org.id, read_vendor_file(write_csv(tmp_path / "b.csv", other)))
    with committed_db.session() as session:
        names = session.scalars(select(Vendor.business_name).where(Vendor.org_id == org.id)).all()
    assert sorted(names) == ["Ganesh Leather", "Got There First", "Om Printing"]
