"""Helpers for the agency tests: an agency with workers, an employer with credits."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.orm import Session

from core.actors import Actor
from core.agency import commerce
from core.agency.employers import EmployerInput, add_employer
from core.agency.workers import WorkerInput, add_worker
from tests.fakes import phone

ACTOR = Actor.system_actor("cli:test")
SAMPLE = Path("/work/shared/data/domestic-connect-db.json")
if not SAMPLE.exists():  # a checkout elsewhere keeps its own copy beside the tests
    SAMPLE = Path(__file__).with_name("data") / "domestic-connect-db.json"


def sample() -> dict:
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


def worker(session: Session, org_id: int, i: int, **kw):
    data = dict(name=f"Worker {i}", phone=phone(500 + i), location="Nairobi", experience_years=2,
                expected_salary_minor=1_000_000, accommodation="live_in", availability="immediate",
                skills=["cooking"])
    data.update(kw)
    return add_worker(session, ACTOR, org_id, WorkerInput(**data))


def employer(session: Session, org_id: int, i: int = 1, **kw):
    return add_employer(session, ACTOR, org_id, EmployerInput(name=f"Employer {i}", phone=phone(900 + i),
                                                              household_name=f"Household {i}", **kw))


def with_credits(session: Session, org_id: int, employer_id: int, contacts: int = 3) -> int:
    package = commerce.add_package(session, ACTOR, org_id, name=f"{contacts} contacts", price_minor=50_000,
                                   contacts_included=contacts)
    purchase = commerce.buy_package(session, ACTOR, org_id, employer_id=employer_id, package_id=package.id)
    commerce.settle_purchase(session, ACTOR, org_id, purchase.id, paid=True)
    return purchase.id
