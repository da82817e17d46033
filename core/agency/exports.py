"""``ofisi export workers|employers|placements``: rows for CSV or JSON.

Workers' phones and emails are exported masked, as every view shows them
(``base.present_contact``): an export is a file that travels, and the number
is what employers pay to unlock.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from core.actors import Actor
from core.agency.base import agency_org
from core.agency.employers import list_employers
from core.agency.placements import list_placements
from core.agency.workers import WorkerFilters, search_workers
from core.money import exponent

PAGE = 500
# Money leaves in the currency's own units (``5000.00`` for KES 5,000), never in minor units.
COLUMNS = {
    "workers": ["id", "name", "phone", "email", "age", "location", "education", "experience_years",
                "expected_salary", "accommodation", "availability", "skills", "languages", "bio",
                "verification_status", "background_check", "background_checked_on", "membership_fee",
                "joined_on", "legacy_id", "currency"],
    "employers": ["id", "name", "phone", "email", "household_name", "location", "description", "requirements",
                  "client_since", "credits_left", "legacy_id"],
    "placements": ["id", "worker_id", "worker_name", "employer_id", "employer_name", "status", "start_date",
                   "end_date", "agreed_salary", "fee", "commission", "charged", "waived", "received", "refunded",
                   "owed", "rating", "legacy_id", "currency"],
}
MONEY = {"expected_salary": "expected_salary_minor", "membership_fee": "membership_fee_minor",
         "agreed_salary": "agreed_salary_minor", "fee": "fee_minor", "commission": "commission_minor",
         "charged": "charged_minor", "waived": "waived_minor", "received": "received_minor",
         "refunded": "refunded_minor", "owed": "owed_minor"}


def in_units(minor: int | None, currency: str) -> str | None:
    """``500000`` KES → ``"5000.00"``: the amount as a person writes it, exact (no float)."""
    if minor is None:
        return None
    return str(Decimal(minor).scaleb(-exponent(currency)))


def _row(view, columns: list[str], currency: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for c in columns:
        if c == "currency":
            out[c] = currency
        elif c in MONEY:
            out[c] = in_units(getattr(view, MONEY[c]), currency)
        else:
            out[c] = getattr(view, c)
    return out


def export_rows(session: Session, actor: Actor, org_id: int, kind: str) -> Iterator[dict[str, Any]]:
    """Every record of ``kind``, a keyset page at a time, as dicts of ``COLUMNS[kind]``."""
    org = agency_org(session, actor, org_id, "agency.read")
    columns, currency = COLUMNS[kind], org.currency
    if kind == "workers":
        after = None
        while True:
            page = search_workers(session, actor, org_id, WorkerFilters(include_placed=True,
                                                                        include_unavailable=True),
                                  limit=PAGE, after=after)
            for w in page.workers:
                yield _row(w, columns, currency)
            if page.next_after is None:
                return
            after = page.next_after
    lister = list_employers if kind == "employers" else list_placements
    before = None
    while True:
        rows = lister(session, actor, org_id, before_id=before, limit=PAGE)
        for r in rows:
            yield _row(r, columns, currency)
        if len(rows) < PAGE:
            return
        before = rows[-1].id


def as_cells(kind: str, rows: Iterable[dict[str, Any]]) -> Iterator[list[Any]]:
    """Export rows as spreadsheet cells in ``COLUMNS[kind]`` order (a list, e.g. skills, as ``a; b``)."""
    for row in rows:
        yield [("; ".join(v) if isinstance(v, list) else v) for v in (row.get(c) for c in COLUMNS[kind])]


def write_export(session: Session, actor: Actor, org_id: int, kind: str, path: Path) -> int:
    """Write every ``kind`` record to ``path``: XLSX for a ``.xlsx`` name, CSV otherwise; returns how many.

    Spreadsheet cells that would run as formulas are neutralised (``core.spreadsheets``)."""
    from core.spreadsheets import write_csv, write_xlsx

    rows = as_cells(kind, export_rows(session, actor, org_id, kind))
    if path.suffix.lower() == ".xlsx":
        return write_xlsx(path, COLUMNS[kind], rows, title=kind)
    with path.open("w", newline="", encoding="utf-8") as out:
        return write_csv(out, COLUMNS[kind], rows)
