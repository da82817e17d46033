"""A worker's documents: national ID, certificate of good conduct, medical certificate, reference letter,
each with the day it stops being valid, and the due work that warns before it does.

A document is a certificate row of ``agency_worker_files`` with a ``doc_type`` and ``expires_on``
(the scan, when there is one, is stored by :func:`core.agency.files.store_file`). ``ofisi jobs
run-due`` runs the planner below: for every document expiring within :data:`WARN_DAYS` (or expired)
it texts the worker once per document and expiry date, and :func:`documents_due` is the staff's list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, jobs, outbox
from core.actors import Actor
from core.agency.base import DOC_TYPES, agency_org, phone_of, pick, row_of, today_in
from core.agency.files import store_file
from core.errors import InvalidInput
from db.models import Org
from db.models_agency import AgencyWorker, AgencyWorkerFile

WARN_DAYS = 30
NAMES = {"id": "national ID", "good_conduct": "certificate of good conduct", "medical": "medical certificate",
         "reference": "reference letter"}
JOB = "agency.document_expiry"


@dataclass(frozen=True)
class DocumentView:
    id: int
    worker_id: int
    worker_name: str
    doc_type: str
    title: str
    expires_on: date | None
    has_file: bool
    days_left: int | None


def add_document(session: Session, actor: Actor, org_id: int, worker_id: int, *, doc_type: str,
                 expires_on: date | None = None, title: str = "", source: Path | None = None) -> DocumentView:
    """Record a document of a worker (the scan too when ``source`` is given)."""
    org = agency_org(session, actor, org_id, "agency.write")
    doc_type = pick(doc_type, DOC_TYPES, "document type")
    worker = row_of(session, AgencyWorker, org.id, worker_id, "That worker is not on this agency's books.")
    if expires_on is not None and expires_on < date(2000, 1, 1):
        raise InvalidInput("That expiry date is not a real one.")
    title = title.strip() or NAMES[doc_type]
    if source is not None:
        stored = store_file(session, actor, org.id, worker.id, source, kind="certificate", title=title)
        row = session.get(AgencyWorkerFile, stored.id)
    else:
        row = AgencyWorkerFile(org_id=org.id, worker_id=worker.id, kind="certificate", title=title)
        session.add(row)
    row.doc_type, row.expires_on = doc_type, expires_on
    session.flush()
    audit.record(session, actor, "agency.worker.document", "agency_worker_file", row.id, org_id=org.id,
                 after={"worker_id": worker.id, "doc_type": doc_type,
                        "expires_on": expires_on.isoformat() if expires_on else None})
    session.commit()
    return _view(row, worker.name, today_in(org))


def _view(f: AgencyWorkerFile, name: str, today: date) -> DocumentView:
    return DocumentView(f.id, f.worker_id, name, f.doc_type or "", f.title, f.expires_on, f.path is not None,
                        (f.expires_on - today).days if f.expires_on else None)


def list_documents(session: Session, actor: Actor, org_id: int, *, worker_id: int | None = None,
                   due_within_days: int | None = None) -> list[DocumentView]:
    """Documents (of one worker), or only those expiring within ``due_within_days`` or expired, soonest first."""
    org = agency_org(session, actor, org_id, "agency.read")
    today = today_in(org)
    query = (select(AgencyWorkerFile, AgencyWorker.name).join(AgencyWorker, AgencyWorker.id == AgencyWorkerFile.worker_id)
             .where(AgencyWorkerFile.org_id == org.id, AgencyWorkerFile.doc_type.is_not(None)))
    if worker_id is not None:
        query = query.where(AgencyWorkerFile.worker_id == worker_id)
    if due_within_days is not None:
        query = query.where(AgencyWorkerFile.expires_on <= today + timedelta(days=due_within_days))
    query = query.order_by(AgencyWorkerFile.expires_on, AgencyWorkerFile.id)
    return [_view(f, name, today) for f, name in session.execute(query)]


@jobs.planner("agency.documents")
def _plan_warnings(session: Session, now: datetime) -> None:
    soon = now.date() + timedelta(days=WARN_DAYS)
    for file_id, org_id, expires in session.execute(
            select(AgencyWorkerFile.id, AgencyWorkerFile.org_id, AgencyWorkerFile.expires_on)
            .where(AgencyWorkerFile.doc_type.is_not(None), AgencyWorkerFile.expires_on <= soon)):
        jobs.schedule(session, JOB, f"{JOB}:{file_id}:{expires.isoformat()}", now, org_id=org_id,
                      payload={"file_id": file_id})


@jobs.handler(JOB)
def _warn(session: Session, job: jobs.DueJob) -> None:
    """Text the worker that a document is expiring (or has); the office sees the same in `documents --due`."""
    f = session.get(AgencyWorkerFile, job.payload.get("file_id"))
    if f is None or f.expires_on is None:
        return
    worker = session.get(AgencyWorker, f.worker_id)
    org = session.get(Org, f.org_id)
    to = phone_of(session, worker.contact_id)
    if not to:
        return
    when = "expired on" if f.expires_on < today_in(org) else "expires on"
    outbox.enqueue(session, org.id, to=to, contact_id=worker.contact_id, purpose="service",
                   body=f"{org.name}: your {NAMES.get(f.doc_type or '', f.title)} {when} "
                        f"{f.expires_on:%d %b %Y}. Please bring a new one to the office.",
                   idempotency_key=f"{JOB}:{f.id}:{f.expires_on.isoformat()}")
