"""Importing members from a spreadsheet (CSV or XLSX).

Columns, matched by header in any case and order: name, phone, member
number, role, join date (other columns are ignored). Name and phone are
needed; a blank member number gets the next free number, a blank role is
``member``, a blank join date is today. Dates may be written 2024-01-31,
31/01/2024, 31-01-2024 or 31.01.2024 (day first, as in East Africa), or be
spreadsheet dates.

Every row is checked before anything is written. With errors, nothing is
written unless ``skip_invalid`` (then the good rows are); with ``dry_run``
nothing is written at all. A row for someone already a member with the same
number, role and join date is "unchanged", so importing the same file twice
writes nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.actors import Actor
from core.chama.base import chama_org, local_today
from core.chama.members import clean_number, clean_role, create_member, next_member_number
from core.errors import InvalidInput
from core.importing import ImportReport, Row, parse_date, read_rows
from core.phones import normalize_phone
from db.models import Contact, Org
from db.models_chama import ChamaMember

COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("name", "full name", "member name", "names"),
    "phone": ("phone", "phone number", "mobile", "mobile number", "msisdn", "telephone", "tel"),
    "member_number": ("member number", "member no", "member no.", "member_number", "number", "no", "no.",
                      "membership number"),
    "role": ("role", "position"),
    "joined_on": ("join date", "joined", "joined on", "date joined", "join_date", "joined_on", "joining date"),
}


def read_member_file(path: Path) -> list[Row]:
    """The rows of a CSV or XLSX file, with their line numbers; blank lines are skipped."""
    return read_rows(path, COLUMNS, ("name", "phone"))


def parse_join_date(value: Any, today: date) -> date:
    if value is None or str(value).strip() == "":
        return today
    day = parse_date(value)
    if day > today:
        raise InvalidInput(f"the join date {day.isoformat()} is in the future.")
    return day


@dataclass
class _Candidate:
    line: int
    name: str
    phone: str
    number: str | None
    role: str
    joined_on: date


def _check_row(org: Org, line: int, values: dict[str, Any], today: date) -> _Candidate:
    name = str(values.get("name") or "").strip()
    if not name:
        raise InvalidInput("the name is empty.")
    phone = normalize_phone(str(values.get("phone") or "").strip().removesuffix(".0"), org.country)
    raw_number = values.get("member_number")
    number = clean_number(str(raw_number)) if raw_number not in (None, "") and str(raw_number).strip() else None
    return _Candidate(line, name, phone, number, clean_role(values.get("role") or None),
                      parse_join_date(values.get("joined_on"), today))


def import_members(session: Session, actor: Actor, org_id: int, rows: list[Row], *, file: str = "import",
                   dry_run: bool = False, skip_invalid: bool = False) -> ImportReport:
    """Check every row, then write the new members in one transaction (or nothing; see the module doc)."""
    org = chama_org(session, actor, org_id, "chama.members")
    today = local_today(org)
    report = ImportReport(file=file, rows=len(rows), dry_run=dry_run)
    existing = {phone: m for m, phone in session.execute(
        select(ChamaMember, Contact.phone).join(Contact, Contact.id == ChamaMember.contact_id)
        .where(ChamaMember.org_id == org.id))}
    number_holders = {m.member_number: phone for phone, m in existing.items()}
    seen_phones: dict[str, int] = {}
    seen_numbers: dict[str, int] = {}
    new: list[_Candidate] = []
    for line, values in rows:
        try:
            row = _check_row(org, line, values, today)
            if row.phone in seen_phones:
                raise InvalidInput(f"{row.phone} is also on line {seen_phones[row.phone]}.")
            if row.number and row.number in seen_numbers:
                raise InvalidInput(f"member number {row.number} is also on line {seen_numbers[row.number]}.")
            current = existing.get(row.phone)
            if current is not None:
                if (row.number in (None, current.member_number) and row.role == current.role
                        and row.joined_on == current.joined_on):
                    report.unchanged += 1
                    seen_phones[row.phone] = line
                    continue
                raise InvalidInput(f"{row.phone} is already member no. {current.member_number} "
                                   f"({current.role}, joined {current.joined_on}); change them with "
                                   "`ofisi chama members update`.")
            if row.number and row.number in number_holders:
                raise InvalidInput(f"member number {row.number} already belongs to {number_holders[row.number]}.")
        except InvalidInput as exc:
            report.refuse(line, exc)
            continue
        seen_phones[row.phone] = line
        if row.number:
            seen_numbers[row.number] = line
        new.append(row)
    following = int(next_member_number(session, org.id, set(seen_numbers)))
    for row in new:
        if row.number is None:
            row.number, following = str(following), following + 1
    report.created = len(new)
    if dry_run or (report.errors and not skip_invalid):
        session.rollback()
        return report
    for row in new:
        assert row.number is not None
        create_member(session, org, name=row.name, phone=row.phone, member_number=row.number, role=row.role,
                      joined_on=row.joined_on)
    audit.record(session, actor, "chama.import.members", "chama_member", None, org_id=org.id,
                 after={"file": file, "rows": report.rows, "created": report.created,
                        "unchanged": report.unchanged, "skipped_invalid": report.invalid,
                        "numbers": [row.number for row in new]})
    session.commit()
    report.written = True
    return report
