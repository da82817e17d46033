"""``ofisi export workers|employers|placements``: rows for CSV or JSON.

Workers' phones are exported masked, as every view shows them: an export is
a file that travels, and the number is what employers pay to unlock.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy.orm import Session

from core.actors import Actor
from core.agency.base import agency_org
from core.agency.employers import list_employers
from core.agency.placements import list_placements
from core.agency.workers import WorkerFilters, search_workers

PAGE = 500
COLUMNS = {
    "workers": ["id", "name", "phone", "age", "location", "education", "experience_years",
                "expected_salary_minor", "accommodation", "availability", "skills", "languages",
                "verification_status", "background_check", "background_checked_on", "membership_fee_minor",
                "joined_on", "legacy_id"],
    "employers": ["id", "name", "phone", "email", "household_name", "location", "description", "requirements",
                  "client_since", "legacy_id"],
    "placements": ["id", "worker_id", "worker_name", "employer_id", "employer_name", "status", "start_date",
                   "end_date", "agreed_salary_minor", "fee_minor", "commission_minor", "fee_paid_minor",
                   "commission_paid_minor", "legacy_id"],
}


def export_rows(session: Session, actor: Actor, org_id: int, kind: str) -> Iterator[dict[str, Any]]:
    """Every record of ``kind``, a keyset page at a time, as dicts of ``COLUMNS[kind]``."""
    agency_org(session, actor, org_id, "agency.read")
    columns = COLUMNS[kind]
    if kind == "workers":
        after = None
        while True:
            page = search_workers(session, actor, org_id, WorkerFilters(include_placed=True), limit=PAGE, after=after)
            for w in page.workers:
                yield {c: getattr(w, c) for c in columns}
            if page.next_after is None:
                return
            after = page.next_after
    lister = list_employers if kind == "employers" else list_placements
    before = None
    while True:
        rows = lister(session, actor, org_id, before_id=before, limit=PAGE)
        for r in rows:
            yield {c: getattr(r, c) for c in columns}
        if len(rows) < PAGE:
            return
        before = rows[-1].id
