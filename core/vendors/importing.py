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

The file is streamed: rows are read, cleaned (on every core for big files)
and matched a batch at a time, against the registry (one short read per
batch: the registry is never loaded whole) and against the rows before them
(kept in a scratch SQLite file, :class:`Staging`, with the writes to make), so
memory stays flat however long the file. Nothing of the org's database is
locked while that goes on. Then the writes, already shaped, go in with one
audit row: changed vendors with executemany, new ones with PostgreSQL's
``COPY`` in one transaction; on SQLite with ``INSERT … SELECT`` from the
staging file in steps of ``STEP`` rows, each a short transaction (SQLite
has one writer: a USSD hop waits for a step, not for the file), a failed
step undoing the ones before it.
"""

from __future__ import annotations

import hashlib
import json
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import chain
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, String, any_, bindparam, delete, exists, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import audit
from core.actors import Actor
from core.changes import mark_changed
from core.errors import Conflict, InvalidInput
from core.permissions import require
from core.spreadsheets import Sheet, cell_text, match_columns, read_sheet
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

Progress = Callable[[int, int | None], None]  # (rows read, rows in all: None, a file is read as it goes)


@dataclass(frozen=True)
class VendorRows:
    """What a file holds: its name, the columns found, and (line, raw values) per row."""

    file: str
    columns: tuple[str, ...]
    rows: Iterable[tuple[int, dict[str, str]]]  # read as the import goes


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
    """A vendor .csv or .xlsx file: its header is checked now, its rows (blank ones included: they are
    counted) are read as the import goes, afresh each time, so one value serves a dry run and then the import."""
    sheet = read_sheet(path)
    mapping = match_columns(sheet.header, COLUMNS)
    if "business_name" not in mapping.values():
        raise InvalidInput(f"{sheet.name} has no business name column; its header row needs one of: "
                           f"{', '.join(COLUMNS['business_name'][:6])}.")
    return VendorRows(sheet.name, tuple(mapping.values()), _FileRows(path, sheet))


class _FileRows:
    def __init__(self, path: Path, opened: Sheet) -> None:
        self.path, self.opened = path, opened

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        sheet, self.opened = self.opened or read_sheet(self.path), None
        mapping = match_columns(sheet.header, COLUMNS)
        for line, cells in sheet.rows:
            yield line, {name: cell_text(cells[i]) if i < len(cells) else "" for i, name in mapping.items()}


def _existing(session: Session, org_id: int,
              records: list[dict[str, Any]]) -> tuple[dict[int, dict[str, Any]], dict[str, dict[str, int]]]:
    """The org's vendors that hold any of these records' GSTINs, Udyam numbers or phones, and who holds which.

    One short read per batch: the whole registry is never loaded, and on
    SQLite the lock it takes is let go at once.
    """
    columns = [getattr(Vendor, name) for name in VENDOR_FIELDS]
    current: dict[int, dict[str, Any]] = {}
    index: dict[str, dict[str, int]] = {key: {} for key in MATCH_KEYS}
    postgresql = session.get_bind().dialect.name == "postgresql"
    held = []
    for key in MATCH_KEYS:
        wanted = sorted({record[key] for record in records if record.get(key)})
        if wanted:
            column = getattr(Vendor, key)
            # One array parameter: PostgreSQL plans thousands of IN parameters slowly.
            held.append(column == any_(bindparam(key, wanted, type_=ARRAY(String))) if postgresql
                        else column.in_(wanted))
    if held:
        for row in session.execute(select(Vendor.id, *columns).where(Vendor.org_id == org_id, or_(*held))):
            current[row[0]] = dict(zip(VENDOR_FIELDS, row[1:]))
    session.commit()  # ends the read: on SQLite, lets the write lock go
    for vendor_id, values in current.items():
        for key in MATCH_KEYS:
            if values[key]:
                index[key][values[key]] = vendor_id
    return current, index


CHUNK = 5_000
PARALLEL_FROM = CHUNK  # rows; below this, starting worker processes costs more than it saves


Batch = list[tuple[int, dict[str, str]]]
Checked = tuple[dict[str, Any], list[tuple[str, str]], str]  # a row's record, its errors, the record as JSON
Cleaned = list[tuple[bytes, dict[str, Any], list[tuple[str, str]], str]]  # per row: its digest, then Checked


def _clean_chunk(rows: list[dict[str, str]], country: str) -> Cleaned:
    """Each row's digest (every row of a file has the same keys in the same order, so its values say what
    it is), its cleaned record and errors, and the record as JSON, ready to stage: all of it in the workers."""
    cleaned = []
    for raw in rows:
        record, errors = clean_record(raw, country)
        digest = hashlib.blake2b(repr(tuple(raw.values())).encode(), digest_size=16).digest()
        cleaned.append((digest, record, errors, json.dumps(record)))
    return cleaned


def _batches(rows: Iterable[tuple[int, dict[str, str]]], report: VendorImportReport,
             progress: Progress | None) -> Iterator[Batch]:
    """The file's rows a batch at a time, blank lines counted and left out."""
    batch: Batch = []
    read = 0
    for line, raw in rows:
        read += 1
        if any(raw.values()):
            report.rows += 1
            batch.append((line, raw))
        else:
            report.blank += 1
        if len(batch) >= CHUNK:
            yield batch
            batch = []
            if progress is not None:
                progress(read, None)
    if batch:
        yield batch
    if progress is not None:
        progress(read, read)


def _cleaned(batches: Iterator[Batch], country: str) -> Iterator[tuple[Batch, Cleaned]]:
    """Each batch of rows beside its cleaned records, in order.

    The libraries' checks are most of an import's CPU: a file of more than
    ``PARALLEL_FROM`` rows has all its batches cleaned in worker processes on
    every core (the first ones are held until the file is known to be that
    long), with only a few in flight so that memory stays flat.
    """
    import os

    workers = os.cpu_count() or 1
    held: list[Batch] = []
    for batch in batches:
        held.append(batch)
        if workers > 1 and sum(len(b) for b in held) > PARALLEL_FROM:
            yield from _in_workers(chain(held, batches), country, workers)
            return
    for batch in held:
        yield batch, _clean_chunk([raw for _line, raw in batch], country)


def _in_workers(batches: Iterable[Batch], country: str, workers: int) -> Iterator[tuple[Batch, Cleaned]]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    pending: deque = deque()
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        try:
            for batch in batches:
                pending.append((batch, pool.submit(_clean_chunk, [raw for _line, raw in batch], country)))
                while len(pending) > 2 * workers:
                    done, future = pending.popleft()
                    yield done, future.result()
            while pending:
                done, future = pending.popleft()
                yield done, future.result()
        finally:
            pool.shutdown(cancel_futures=True)


def import_vendors(session: Session, actor: Actor, org_id: int, data: VendorRows, *, dry_run: bool = False,
                   skip_invalid: bool = False, progress: Progress | None = None) -> VendorImportReport:
    """Check every row, then create and update vendors, all or nothing (see the module doc)."""
    org = require(session, actor, org_id, "vendors.import")
    org_id, country = org.id, org.country
    # A first import has nothing to match: it never asks (one that races it meets the unique indexes).
    registry = session.scalar(select(exists().where(Vendor.org_id == org_id)))
    session.commit()  # nothing is locked while the file is read and checked
    report = VendorImportReport(file=data.file, dry_run=dry_run)
    with Staging(org_id, _stamp(session)) as staging:
        for batch, cleaned in _cleaned(_batches(data.rows, report, progress), country):
            # An exact repeat of an earlier row is counted, not checked again.
            repeats = staging.repeats([digest for digest, *_checked in cleaned])
            report.duplicates += sum(repeats)
            firsts = [(row, tuple(checked)) for row, (_d, *checked), repeat in zip(batch, cleaned, repeats)
                      if not repeat]
            _check_batch(session, org_id if registry else None, report, staging, [row for row, _c in firsts],
                         [c for _r, c in firsts])
        if dry_run or (report.invalid and not skip_invalid):
            return report
        staging.shape_new_rows()
        with _writing(session, staging) as write:
            try:
                _write(write, staging)
                mark_changed(write, org_id)
                audit.record(write, actor, "vendors.import", "vendor", None, org_id=org_id,
                             after={"file": data.file, **{k: v for k, v in report.as_json().items() if k != "errors"},
                                    "skipped_invalid": report.invalid, "updated_ids": staging.changed_ids(1000)})
                write.commit()
            except IntegrityError:
                write.rollback()
                if staging.attached:
                    _undo(write, org_id, staging)
                # Another import or edit took one of these GSTINs, Udyam numbers or phones meanwhile.
                raise Conflict("Someone else added or changed some of these vendors while the file was being "
                               "read; nothing was written. Import the file again: it will match them.") from None
    report.written = True
    return report


def _stamp(session: Session) -> str:
    """Now, as the database stores it: new rows are staged ready to insert."""
    dialect = session.get_bind().dialect
    if dialect.name == "postgresql":
        return utcnow().isoformat(sep=" ")
    column_type = Vendor.__table__.c.created_at.type
    return column_type.dialect_impl(dialect).bind_processor(dialect)(utcnow())


def _check_batch(session: Session, org_id: int | None, report: VendorImportReport, staging: Staging, batch: Batch,
                 cleaned: list[Checked]) -> None:
    """Match and check one batch against the registry (none when ``org_id`` is None: it was empty) and the
    rows before it; stage what is valid."""
    current, index = ({}, {key: {} for key in MATCH_KEYS}) if org_id is None else \
        _existing(session, org_id, [record for record, _errors, _text in cleaned])
    claimed = staging.claims([(key, record[key]) for record, _e, _t in cleaned for key in MATCH_KEYS
                              if record.get(key)])
    claims: list[tuple[str, str, int]] = []
    matched = staging.matched(current)
    new: list[str] = []
    changes: list[tuple[dict[str, Any], dict[str, Any]]] = []  # (id and new values, the values they replace)
    for (line, _raw), (record, errors, text) in zip(batch, cleaned):
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
                claims.append((key, record[key], line))
        if target is None:
            report.created += 1
            new.append(text)
            continue
        matched[target] = line
        before = current[target]
        diff = {name: value for name, value in record.items() if before[name] != value}
        if diff:
            report.updated += 1
            changes.append(({"id": target, **diff}, {name: before[name] for name in diff}))
        else:
            report.unchanged += 1
    staging.keep(claims, matched, new, changes)


class Staging:
    """A scratch SQLite file beside the import: the rows seen, the keys claimed and the writes to make.

    It keeps a big import's memory flat (nothing grows with the file but the
    error list), holds new vendors as rows ready to insert, and is deleted
    when the import ends.
    """

    def __init__(self, org_id: int, stamp: str) -> None:
        self.org_id, self.stamp = org_id, stamp
        self.attached = False
        self.inserted: list[tuple[int, int]] = []  # vendor id ranges a stepped write has committed

    def __enter__(self) -> Staging:
        import sqlite3
        import tempfile

        self._folder = tempfile.TemporaryDirectory(prefix="ofisi-import-")
        self.path = str(Path(self._folder.name) / "staging.db")
        self.db = sqlite3.connect(self.path, isolation_level=None)
        self.db.executescript(f"""
            PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-65536;
            CREATE TABLE seen (digest BLOB PRIMARY KEY) WITHOUT ROWID;
            CREATE TABLE claims (key TEXT, value TEXT, line INTEGER, PRIMARY KEY (key, value)) WITHOUT ROWID;
            CREATE TABLE matched (vendor_id INTEGER PRIMARY KEY, line INTEGER);
            CREATE TABLE new_rows (record TEXT);
            CREATE TABLE changes (vendor_id INTEGER PRIMARY KEY, diff TEXT, before TEXT);
        """)
        return self

    def __exit__(self, *exc: object) -> None:
        self.db.close()
        self._folder.cleanup()

    def _in(self, sql: str, values: list) -> list[tuple]:
        found: list[tuple] = []
        for start in range(0, len(values), 900):
            part = values[start:start + 900]
            found += self.db.execute(sql.format(marks=",".join("?" * len(part))), part).fetchall()
        return found

    @contextmanager
    def _writing(self) -> Iterator[None]:
        self.db.execute("BEGIN")  # one transaction a batch, not one a row
        yield
        self.db.execute("COMMIT")

    def repeats(self, digests: list[bytes]) -> list[bool]:
        """Whether each row (by its digest) repeats an earlier one of the file; remember them all."""
        earlier = {d for (d,) in self._in("SELECT digest FROM seen WHERE digest IN ({marks})", digests)}
        flags = []
        for digest in digests:
            flags.append(digest in earlier)
            earlier.add(digest)
        with self._writing():
            self.db.executemany("INSERT OR IGNORE INTO seen VALUES (?)", [(d,) for d in digests])
        return flags

    def claims(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """The line that already holds each of these (key, value) pairs, for those held."""
        found: dict[tuple[str, str], int] = {}
        for key in MATCH_KEYS:
            values = sorted({v for k, v in keys if k == key})
            sql = f"SELECT value, line FROM claims WHERE key = '{key}' AND value IN ({{marks}})"
            found.update(((key, value), line) for value, line in self._in(sql, values))
        return found

    def matched(self, vendor_ids: Iterable[int]) -> dict[int, int]:
        """The line that already changes each of these vendors, for those changed."""
        return dict(self._in("SELECT vendor_id, line FROM matched WHERE vendor_id IN ({marks})", list(vendor_ids)))

    def keep(self, claims: list[tuple[str, str, int]], matched: dict[int, int], new: list[str],
             changes: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
        """Remember a batch's new claims and the vendors it changes, and stage its writes (records as JSON)."""
        with self._writing():
            self.db.executemany("INSERT INTO claims VALUES (?, ?, ?)", claims)
            self.db.executemany("INSERT OR IGNORE INTO matched VALUES (?, ?)", list(matched.items()))
            self.db.executemany("INSERT INTO new_rows VALUES (?)", [(text,) for text in new])
            self.db.executemany("INSERT INTO changes VALUES (?, ?, ?)",
                                [(c["id"], json.dumps({k: v for k, v in c.items() if k != "id"}), json.dumps(before))
                                 for c, before in changes])

    def changed_ids(self, limit: int) -> list[int]:
        return [i for (i,) in self.db.execute("SELECT vendor_id FROM changes ORDER BY rowid LIMIT ?", (limit,))]

    def changes(self, *, undo: bool = False) -> Iterator[list[dict[str, Any]]]:
        """The staged changes (or, with ``undo``, the values they replace), a batch at a time, in order."""
        cursor = self.db.execute(f"SELECT vendor_id, {'before' if undo else 'diff'} FROM changes ORDER BY rowid")
        while rows := cursor.fetchmany(CHUNK):
            yield [{"id": vendor_id, **json.loads(values)} for vendor_id, values in rows]

    def count_new(self) -> int:
        return self.db.execute("SELECT count(*) FROM ready").fetchone()[0]

    def shape_new_rows(self) -> None:
        """Take the staged records apart into a table of ``COPY_COLUMNS`` (SQLite's JSON functions, in the
        scratch file): done before the write transaction, which then only copies rows."""
        def value(name: str) -> str:
            if name in ("org_id", "created_at", "updated_at"):
                return ":org_id" if name == "org_id" else ":stamp"
            default = NEW_DEFAULTS.get(name)
            extracted = f"json_extract(record, '$.{name}')"
            return extracted if default is None else f"COALESCE({extracted}, :default_{name})"

        defaults = {f"default_{name}": json.dumps(v) if name == "tags" else v for name, v in NEW_DEFAULTS.items()}
        with self._writing():
            self.db.execute(f"CREATE TABLE ready AS SELECT {', '.join(f'{value(n)} AS {n}' for n in COPY_COLUMNS)} "
                            "FROM new_rows ORDER BY rowid", {"org_id": self.org_id, "stamp": self.stamp, **defaults})

    def new_rows(self) -> Iterator[tuple]:
        """The new vendors as rows of ``COPY_COLUMNS``, ready for the database (tags as JSON text)."""
        return self.db.execute("SELECT * FROM ready ORDER BY rowid")

    @staticmethod
    def insert_select() -> str:
        """``INSERT … SELECT`` of the new vendors ``:after < rowid <= :upto`` from the attached staging file."""
        columns = ", ".join(COPY_COLUMNS)
        return (f"INSERT INTO vendors ({columns}) SELECT {columns} FROM staging.ready "
                "WHERE rowid > :after AND rowid <= :upto ORDER BY rowid")


@contextmanager
def _writing(session: Session, staging: Staging) -> Iterator[Session]:
    """The session the import writes in.

    On SQLite, when the caller's session has a database of its own, a
    connection with the staging file attached (ATTACH is refused inside a
    transaction, so before it begins): the new vendors then go in with one
    ``INSERT … SELECT`` in short steps (see :func:`_write`). Otherwise
    (PostgreSQL, or a session already inside a transaction) the caller's.
    """
    bind = session.get_bind()
    staging.attached = False
    if bind.dialect.name != "sqlite" or not isinstance(bind, Engine):
        yield session
        return
    with bind.connect() as connection:
        driver = connection.connection.driver_connection
        driver.execute("ATTACH DATABASE ? AS staging", (staging.path,))
        staging.attached = True
        try:
            with Session(bind=connection, expire_on_commit=False) as write:
                yield write
        finally:
            connection.rollback()
            driver.execute("DETACH DATABASE staging")


STEP = 20_000  # rows a write transaction holds SQLite's lock for, at most


def _write(session: Session, staging: Staging) -> None:
    """The import's writes, every row already checked and shaped: only statements.

    On PostgreSQL (and in a transaction the caller holds) one transaction.
    On SQLite with the staging file attached, steps of ``STEP`` rows, each its
    own short transaction, so that the one write lock is let go between them
    (a USSD hop or a payment waits a moment, not for the whole file); a step
    that fails undoes the steps before it (:func:`_undo`), so nothing of the
    import stays.
    """
    now = utcnow()
    step = session.commit if staging.attached else session.flush
    # Updates first: a phone a vendor gives up may be the one a new vendor takes.
    for changes in staging.changes():
        for start in range(0, len(changes), STEP):
            session.execute(update(Vendor), [{**change, "updated_at": now} for change in changes[start:start + STEP]])
            step()
    columns = ", ".join(COPY_COLUMNS)
    if staging.attached:
        for after in range(0, staging.count_new(), STEP):
            top = session.scalar(select(func.max(Vendor.id))) or 0
            session.execute(text(staging.insert_select()), {"after": after, "upto": after + STEP})
            # Holding the lock, the rows just written took the ids after the highest one before them.
            staging.inserted.append((top, session.scalar(select(func.max(Vendor.id)))))
            session.commit()
    elif session.get_bind().dialect.name == "postgresql":
        copy_rows(session, staging.new_rows())
    else:
        import sqlite3

        statement = f"INSERT INTO vendors ({columns}) VALUES ({', '.join('?' * len(COPY_COLUMNS))})"
        try:
            session.connection().connection.driver_connection.executemany(statement, staging.new_rows())
        except sqlite3.IntegrityError as exc:
            raise IntegrityError(statement, None, exc) from None


def _undo(session: Session, org_id: int, staging: Staging) -> None:
    """Take back the steps a stepped write committed before one failed: its new vendors, then its changes."""
    for low, high in staging.inserted:
        session.execute(delete(Vendor).where(Vendor.org_id == org_id, Vendor.id > low, Vendor.id <= high))
    for befores in staging.changes(undo=True):
        session.execute(update(Vendor), befores)
    session.commit()


def copy_rows(session: Session, rows: Iterable[Sequence[Any]]) -> None:
    """``COPY vendors … FROM STDIN`` of rows of ``COPY_COLUMNS`` on the session's own connection (so in its
    transaction)."""
    import psycopg

    driver = session.connection().connection.driver_connection
    statement = f"COPY vendors ({', '.join(COPY_COLUMNS)}) FROM STDIN"
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
    except psycopg.errors.UniqueViolation as exc:
        raise IntegrityError(statement, None, exc) from None
