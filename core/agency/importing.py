"""``ofisi import workers|employers FILE --org SLUG``: people from a CSV or XLSX file.

Columns are matched by header in any case: workers need ``name`` and may have
``phone``, ``email``, ``location``, ``education``, ``experience`` (years, or
``3-5 years``), ``salary`` (whole shillings), ``accommodation``,
``availability``, ``skills`` and ``languages`` (separated by ``;`` or ``,``),
``bio``; employers need ``name`` and may have ``phone``, ``email``,
``household``, ``location``, ``description``, ``requirements``. There is no
tribe or ethnicity column: one in the file is ignored and reported.

Every row is checked first. With errors nothing is written unless
``skip_invalid``; ``dry_run`` writes nothing. A row whose phone is already on
the books is ``unchanged``, so importing a file twice writes nothing new.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.actors import Actor
from core.agency.base import (
    agency_org, mask_email, parse_accommodation, parse_availability, parse_experience, parse_whole_amount, split_list,
)
from core.agency.employers import EmployerInput, new_employer
from core.agency.workers import WorkerInput, new_worker, one_person
from core.errors import InvalidInput, OfisiError
from core.phones import normalize_phone
from db.models import Contact
from db.models_agency import AgencyEmployer, AgencyWorker

NEVER_STORED = ("tribe", "ethnicity", "ethnic group", "clan")


@dataclass(frozen=True)
class RowError:
    line: int
    message: str


@dataclass
class PeopleImport:
    file: str
    kind: str
    rows: int = 0
    created: int = 0
    unchanged: int = 0
    invalid: int = 0
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    dry_run: bool = False
    written: bool = False

    def line(self) -> str:
        verb = "added" if self.written else "would add"
        text = (f"{self.file}: {self.rows} {self.kind} rows; {verb} {self.created}, {self.unchanged} unchanged, "
                f"{self.invalid} with errors")
        if self.ignored_columns:
            text += f"; not stored: {', '.join(self.ignored_columns)}"
        if self.dry_run:
            text += "; dry run, nothing was written"
        elif self.errors and not self.written:
            text += "; nothing was written (fix the rows, or import with --skip-invalid)"
        return text


def read_table(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """Rows of a CSV or XLSX file by lower-cased header, with their line numbers."""
    if not path.is_file():
        raise InvalidInput(f"There is no file {path}.")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open(newline="", encoding="utf-8-sig") as fh:
            lines: list[list[Any]] = list(csv.reader(fh))
    elif suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a damaged file
            raise InvalidInput(f"{path.name} cannot be read as a spreadsheet ({exc}).") from None
        try:
            lines = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
        finally:
            book.close()
    else:
        raise InvalidInput(f"{path.name}: import reads .csv and .xlsx files.")
    if not lines:
        raise InvalidInput(f"{path.name} is empty.")
    header = [" ".join(str(h or "").strip().lower().replace("_", " ").split()) for h in lines[0]]
    rows = []
    for number, values in enumerate(lines[1:], start=2):
        record = {h: values[i] if i < len(values) else None for i, h in enumerate(header) if h}
        if any(str(v).strip() for v in record.values() if v is not None):
            rows.append((number, record))
    return rows


def _text(record: dict, *names: str) -> str:
    for name in names:
        if record.get(name) not in (None, ""):
            return str(record[name]).strip()
    return ""


def worker_from(record: dict) -> WorkerInput:
    """The worker in a row; every problem of the row is named in one error, not just the first."""
    problems = []
    name = _text(record, "name", "full name")
    if not name:
        problems.append("no name")
    raw_experience = _text(record, "experience", "experience years")
    experience = parse_experience(raw_experience or "0")
    if experience is None:
        problems.append(f"experience {raw_experience!r} is not a number of years")
    salary_text = _text(record, "salary", "expected salary")
    salary = parse_whole_amount(salary_text) if salary_text else None
    if salary_text and salary is None:
        problems.append(f"salary {salary_text!r} is not an amount in whole shillings")
    accommodation = parse_accommodation(_text(record, "accommodation") or "either")
    if accommodation is None:
        problems.append(f"accommodation {_text(record, 'accommodation')!r} must be live-in, live-out or either")
    availability = parse_availability(_text(record, "availability") or "immediate")
    if availability is None:
        problems.append(f"availability {_text(record, 'availability')!r} must be immediate, 2 weeks, 1 month "
                        "or unavailable")
    if problems:
        raise InvalidInput("; ".join(problems))
    return WorkerInput(name=name, phone=_text(record, "phone", "phone number", "mobile") or None,
                       email=_text(record, "email") or None, location=_text(record, "location"),
                       education=_text(record, "education"), experience_years=experience,
                       expected_salary_minor=None if salary is None else salary * 100, accommodation=accommodation,
                       availability=availability, skills=split_list(_text(record, "skills")),
                       languages=split_list(_text(record, "languages")), bio=_text(record, "bio"))


def employer_from(record: dict) -> EmployerInput:
    name = _text(record, "name", "full name")
    if not name:
        raise InvalidInput("no name")
    return EmployerInput(name=name, phone=_text(record, "phone", "phone number", "mobile") or None,
                         email=_text(record, "email") or None,
                         household_name=_text(record, "household", "household name", "company"),
                         location=_text(record, "location"), description=_text(record, "description"),
                         requirements=_text(record, "requirements"))


def import_people(session: Session, actor: Actor, org_id: int, path: Path, *, kind: str, dry_run: bool = False,
                  skip_invalid: bool = False) -> PeopleImport:
    org = agency_org(session, actor, org_id, "agency.write")
    rows = read_table(path)
    model, parse, build = ((AgencyWorker, worker_from, new_worker) if kind == "workers"
                           else (AgencyEmployer, employer_from, new_employer))
    report = PeopleImport(file=path.name, kind=kind, rows=len(rows), dry_run=dry_run)
    report.ignored_columns = sorted({h for _, r in rows for h in r if h in NEVER_STORED})
    seen: set[str] = set()
    emails: set[str] = set()
    good = []
    for line, record in rows:
        problems = []
        try:
            data = parse(record)
        except OfisiError as exc:
            data = None
            problems.append(str(exc))
        raw_phone = _text(record, "phone", "phone number", "mobile")
        phone = None
        if raw_phone:
            try:
                phone = normalize_phone(raw_phone, org.country)
            except OfisiError as exc:
                problems.append(str(exc))
        if phone and phone in seen:
            problems.append(f"the phone {phone[:5]}… is on an earlier row too")
        if phone:
            seen.add(phone)
        if problems:
            report.invalid += 1
            report.errors.append(RowError(line, "; ".join(problems)))
            continue
        data.phone = phone
        known = data.phone and session.scalar(
            select(model.id).join(Contact, Contact.id == model.contact_id)
            .where(model.org_id == org.id, Contact.phone == data.phone))
        if known:
            report.unchanged += 1
            continue
        email = (data.email or "").strip().lower() or None
        try:
            one_person(session, org.id, data.phone, email)  # a worker who is an employer already, say
            if email and email in emails:
                raise InvalidInput(f"the email {mask_email(email)} is on an earlier row too")
        except OfisiError as exc:
            report.invalid += 1
            report.errors.append(RowError(line, str(exc)))
            continue
        if email:
            emails.add(email)
        good.append(data)
        report.created += 1
    if dry_run or (report.errors and not skip_invalid):
        session.rollback()
        return report
    for data in good:
        build(session, org, data)
    audit.record(session, actor, f"agency.import.{kind}", "org", org.id, org_id=org.id,
                 after={"file": path.name, "created": report.created, "invalid": report.invalid})
    session.commit()
    report.written = True
    return report
