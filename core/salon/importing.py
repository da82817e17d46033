"""Importing leads from a spreadsheet (CSV or XLSX), e.g. a list collected at a market stall.

Columns, matched by header in any case and order: name, phone, email,
service, preferred date, message. Only the phone is needed. Every row is
checked first (as in every import, see :mod:`core.importing`); a phone that is
already a lead of the salon is "unchanged", so the same file imported twice
writes nothing the second time. Each new lead is scored and gets its
follow-up task like a lead from the form.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.actors import Actor
from core.contacts import _clean_email
from core.errors import InvalidInput
from core.importing import ImportReport, Row, cell_text, parse_date, read_rows
from core.phones import normalize_phone
from core.salon.common import require_salon
from core.salon.leads import LeadDetails, capture_lead
from db.models_salon import SalonLead
from db.types import utcnow

COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("name", "full name", "client name", "names"),
    "phone": ("phone", "phone number", "mobile", "mobile number", "msisdn", "telephone", "tel"),
    "email": ("email", "e-mail", "email address"),
    "service": ("service", "service wanted", "interested in", "service_wanted"),
    "preferred_date": ("preferred date", "date", "preferred_date", "when"),
    "message": ("message", "notes", "note", "comment", "comments"),
}


def read_lead_file(path: Path) -> list[Row]:
    return read_rows(path, COLUMNS, ("phone",))


def import_leads(session: Session, actor: Actor, org_id: int, rows: list[Row], *, file: str = "import",
                 dry_run: bool = False, skip_invalid: bool = False) -> ImportReport:
    """Check every row, then add the new leads in one transaction (or nothing; see the module doc)."""
    org = require_salon(session, actor, org_id, "salon.leads.write")
    now = utcnow()
    report = ImportReport(file=file, rows=len(rows), dry_run=dry_run)
    known = set(session.scalars(select(SalonLead.phone).where(SalonLead.org_id == org.id)))
    seen: dict[str, int] = {}
    new: list[LeadDetails] = []
    for line, values in rows:
        try:
            phone = normalize_phone(cell_text(values, "phone"), org.country)
            if phone in seen:
                raise InvalidInput(f"{phone} is also on line {seen[phone]}")
            seen[phone] = line
            details = LeadDetails(
                phone=phone, name=cell_text(values, "name")[:120], email=_clean_email(cell_text(values, "email")),
                service_wanted=cell_text(values, "service")[:120], message=cell_text(values, "message"),
                preferred_date=parse_date(values["preferred_date"]) if cell_text(values, "preferred_date") else None)
        except InvalidInput as exc:
            report.refuse(line, exc)
            continue
        if phone in known:
            report.unchanged += 1
        else:
            new.append(details)
    report.created = len(new)
    if dry_run or (report.errors and not skip_invalid):
        session.rollback()
        return report
    for details in new:
        capture_lead(session, org, actor, details, source="import", now=now)
    audit.record(session, actor, "salon.import.leads", "salon_lead", None, org_id=org.id,
                 after={"file": file, "rows": report.rows, "created": report.created,
                        "unchanged": report.unchanged, "skipped_invalid": report.invalid})
    session.commit()
    report.written = True
    return report
