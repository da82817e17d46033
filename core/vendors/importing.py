"""Importing vendors from a spreadsheet (CSV in any common encoding, or XLSX).

Headers are matched loosely through :data:`COLUMNS` ("Business Name",
"business_name", "Mobile", "Phone No." …); unknown columns are ignored. Every
row is checked first; each bad field is reported with the row's line number.
With errors nothing is written unless ``skip_invalid`` (then the good rows
are); ``dry_run`` writes nothing at all.

A row finds its vendor by GSTIN, then Udyam number, then phone. A found
vendor gets the row's non-blank fields (blank cells change nothing); a vendor
not found is created. Exact duplicate rows and blank lines are counted, not
errors, so importing the same file twice creates and changes nothing.

New vendors go in with PostgreSQL's ``COPY`` (or one multi-row insert on
SQLite); changed ones with one executemany, all in one transaction with one
audit row.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import audit
from core.actors import Actor
from core.changes import mark_changed
from core.errors import Conflict, InvalidInput
from core.permissions import require
from core.spreadsheets import cell_text, match_columns, read_sheet
from core.vendors.registry import MATCH_KEYS, VENDOR_FIELDS, check_new, clean_record
from db.models_vendors import Vendor
from db.types import utcnow

# Canonical field -> the headers people write for it (compared after header_key()).
COLUMNS: dict[str, tuple[str, ...]] = {
    "business_name": ("business", "business name", "name of business", "enterprise", "enterprise name",
                      "firm", "firm name", "company", "company name", "vendor", "vendor name", "name of enterprise",
                      "msme name", "trade name", "name"),
    "owner_name": ("owner", "owner name", "proprietor", "proprietor name", "entrepreneur", "contact person",
                   "contact name", "promoter", "owner's name"),
    "phone": ("phone", "phone no", "phone number", "mobile", "mobile no", "mobile number", "cell", "msisdn",
              "telephone", "tel", "contact number", "contact no"),
    "email": ("email", "e mail", "email id", "email address", "mail"),
    "whatsapp": ("whatsapp", "whatsapp no", "whatsapp number", "whats app", "wa number"),
    "gstin": ("gstin", "gst", "gst no", "gst number", "gstin no", "gstin number", "gstn"),
    "udyam": ("udyam", "udyam no", "udyam number", "udyam registration", "udyam registration number", "urn",
              "udyam reg no"),
    "pan": ("pan", "pan no", "pan number", "pan card"),
    "sector": ("sector", "industry", "activity", "business type", "category"),
    "district": ("district", "city", "town"),
    "state": ("state", "province", "region", "state ut"),
    "size": ("size", "enterprise size", "category size", "msme category", "type of enterprise", "enterprise type"),
    "status": ("status",),
    "tags": ("tags", "tag", "labels"),
}
COPY_THRESHOLD = 200  # fewer new rows than this go in with a plain insert
COPY_COLUMNS = ("org_id", *VENDOR_FIELDS, "created_at", "updated_at")
NEW_DEFAULTS: dict[str, Any] = {"owner_name": "", "sector": "", "district": "", "state": "", "status": "active",
                                "tags": []}

Progress = Callable[[int, int], None]  # (rows done, rows in all)


@dataclass(frozen=True)
class VendorRows:
    """What a file holds: its name, the columns found, and (line, raw values) per row."""

    file: str
    columns: tuple[str, ...]
    rows: list[tuple[int, dict[str, str]]]


@dataclass(frozen=True)
class RowError:
    row: int
    field: str
    message: str


@dataclass
class VendorImportReport:
    file: str
    rows: int = 0
    valid: int = 0
    invalid: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    blank: int = 0
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False
    written: bool = False

    def as_json(self) -> dict[str, Any]:
        return {"rows": self.rows, "valid": self.valid, "invalid": self.invalid, "created": self.created,
                "updated": self.updated, "unchanged": self.unchanged,
                "errors": [{"row": e.row, "field": e.field, "message": e.message} for e in self.errors]}

    def line(self) -> str:
        done = self.written and not self.dry_run
        text = (f"{self.file}: {self.rows} rows, {self.valid} valid, {self.invalid} invalid; "
                f"{'created' if done else 'would create'} {self.created}, "
                f"{'updated' if done else 'would update'} {self.updated}, {self.unchanged} unchanged; "
                f"{self.duplicates} duplicate rows and {self.blank} blank lines ignored")
        if self.dry_run:
            text += "; dry run, nothing was written"
        elif not self.written and self.invalid:
            text += "; nothing was written (fix the rows, or import with --skip-invalid)"
        return text


def read_vendor_file(path: Path) -> VendorRows:
    """The rows of a vendor .csv or .xlsx file, blank ones included (they are counted)."""
    sheet = read_sheet(path)
    mapping = match_columns(sheet.header, COLUMNS)
    if "business_name" not in mapping.values():
        raise InvalidInput(f"{sheet.name} has no business name column; its header row needs one of: "
                           f"{', '.join(COLUMNS['business_name'][:6])}.")
    rows = [(line, {name: cell_text(cells[i]) if i < len(cells) else "" for i, name in mapping.items()})
            for line, cells in sheet.rows]
    return VendorRows(sheet.name, tuple(mapping.values()), rows)


def _existing(session: Session, org_id: int) -> tuple[dict[int, dict[str, Any]], dict[str, dict[str, int]]]:
    columns = [getattr(Vendor, name) for name in VENDOR_FIELDS]
    current: dict[int, dict[str, Any]] = {}
    index: dict[str, dict[str, int]] = {key: {} for key in MATCH_KEYS}
    for row in session.execute(select(Vendor.id, *columns).where(Vendor.org_id == org_id)):
        values = dict(zip(VENDOR_FIELDS, row[1:]))
        current[row[0]] = values
        for key in MATCH_KEYS:
            if values[key]:
                index[key][values[key]] = row[0]
    return current, index


PARALLEL_FROM = 20_000  # rows; below this, starting worker processes costs more than it saves
CHUNK = 5_000


def _clean_chunk(rows: list[dict[str, str]], country: str) -> list[tuple[dict[str, Any], list[tuple[str, str]]]]:
    return [clean_record(raw, country) for raw in rows]


def _clean_all(rows: list[dict[str, str]], country: str, progress: Progress | None, total: int):
    """Every row cleaned (the libraries' checks are most of an import's CPU: big files use every core)."""
    import os

    chunks = [rows[i:i + CHUNK] for i in range(0, len(rows), CHUNK)]
    workers = min(os.cpu_count() or 1, len(chunks))
    if len(rows) < PARALLEL_FROM or workers < 2:
        results = []
        for chunk in chunks:
            results += _clean_chunk(chunk, country)
            if progress is not None:
                progress(len(results), total)
        return results
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    results = []
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        for cleaned in pool.map(_clean_chunk, chunks, [country] * len(chunks)):
            results += cleaned
            if progress is not None:
                progress(len(results), total)
    return results


def import_vendors(session: Session, actor: Actor, org_id: int, data: VendorRows, *, dry_run: bool = False,
                   skip_invalid: bool = False, progress: Progress | None = None) -> VendorImportReport:
    """Check every row, then create and update vendors in one transaction (see the module doc)."""
    org = require(session, actor, org_id, "vendors.import")
    report = VendorImportReport(file=data.file, dry_run=dry_run)
    total = len(data.rows)
    seen_rows: set[tuple[str, ...]] = set()
    distinct: list[tuple[int, dict[str, str]]] = []
    for line, raw in data.rows:
        values = tuple(raw.values())  # every row of a file has the same keys in the same order
        if not any(values):
            report.blank += 1
            continue
        report.rows += 1
        if values in seen_rows:
            report.duplicates += 1
            continue
        seen_rows.add(values)
        distinct.append((line, raw))
    cleaned = _clean_all([raw for _line, raw in distinct], org.country, progress, total)
    current, index = _existing(session, org.id)
    claimed: dict[tuple[str, str], int] = {}  # (match key, value) -> line that holds it
    matched: dict[int, int] = {}  # vendor id -> line that updates it
    new: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    for (line, _raw), (record, errors) in zip(distinct, cleaned):
        bad = {name for name, _ in errors}
        target = next((index[key][record[key]] for key in MATCH_KEYS
                       if record.get(key) and record[key] in index[key]), None)
        for key in MATCH_KEYS:
            value = record.get(key)
            if not value:
                continue
            if (key, value) in claimed:
                errors.append((key, f"{value} is also on line {claimed[key, value]}."))
            holder = index[key].get(value)
            if holder is not None and holder != target:
                errors.append((key, f"{value} belongs to {current[holder]['business_name']}, "
                                    f"not to {current[target]['business_name']}."))
        if target is not None and target in matched:
            errors.append((MATCH_KEYS[0], f"this is the vendor line {matched[target]} already changes."))
        if target is None:
            # A field already reported as bad is not also reported as missing.
            errors += [(name, message) for name, message in check_new(record)
                       if name not in bad and not (name == "phone" and bad & set(MATCH_KEYS))]
        if errors:
            report.invalid += 1
            report.errors += [RowError(line, name, message) for name, message in errors]
            continue
        report.valid += 1
        for key in MATCH_KEYS:
            if record.get(key):
                claimed[key, record[key]] = line
        if target is None:
            report.created += 1
            new.append(record)
            continue
        matched[target] = line
        before = current[target]
        diff = {name: value for name, value in record.items() if before[name] != value}
        if diff:
            report.updated += 1
            changes.append({"id": target, **diff})
        else:
            report.unchanged += 1
    if progress is not None:
        progress(total, total)
    if dry_run or (report.invalid and not skip_invalid):
        session.rollback()
        return report
    try:
        if new or changes:
            _write(session, org.id, new, changes)
            mark_changed(session, org.id)
        audit.record(session, actor, "vendors.import", "vendor", None, org_id=org.id,
                     after={"file": data.file, **{k: v for k, v in report.as_json().items() if k != "errors"},
                            "skipped_invalid": report.invalid, "updated_ids": [c["id"] for c in changes][:1000]})
        session.commit()
    except IntegrityError:
        session.rollback()
        # Another import or edit took one of these GSTINs, Udyam numbers or phones meanwhile.
        raise Conflict("Someone else added or changed some of these vendors while the file was being read; "
                       "nothing was written. Import the file again: it will match them.") from None
    report.written = True
    return report


def _write(session: Session, org_id: int, new: list[dict[str, Any]], changes: list[dict[str, Any]]) -> None:
    now = utcnow()
    if changes:
        # Updates first: a phone a vendor gives up may be the one a new vendor takes.
        session.execute(update(Vendor), [{**c, "updated_at": now} for c in changes])
    if not new:
        return
    rows = [{"org_id": org_id, **NEW_DEFAULTS, **record, "created_at": now, "updated_at": now} for record in new]
    if session.get_bind().dialect.name == "postgresql" and len(rows) >= COPY_THRESHOLD:
        copy_rows(session, rows)
    else:
        session.execute(insert(Vendor), rows)


def copy_rows(session: Session, rows: Iterable[dict[str, Any]]) -> None:
    """``COPY vendors … FROM STDIN`` on the session's own connection (so in its transaction)."""
    import psycopg

    driver = session.connection().connection.driver_connection
    statement = f"COPY vendors ({', '.join(COPY_COLUMNS)}) FROM STDIN"
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row([json.dumps(row["tags"]) if name == "tags" else row.get(name) for name in COPY_COLUMNS])
    except psycopg.errors.UniqueViolation as exc:
        raise IntegrityError(statement, None, exc) from None
