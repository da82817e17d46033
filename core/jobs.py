"""Due work: rows with a due time, run by `ofisi jobs run-due`.

Areas register a handler per job kind with :func:`handler` and, for
recurring work, a planner with :func:`planner` that schedules the next jobs
(``schedule`` is idempotent on the job's key, so planning twice adds nothing).
Each job runs in one transaction together with the row that marks it done,
claimed with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (the write lock on
SQLite), so several cron hosts can run it at once and each job runs once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.errors import OfisiError
from db.engine import Database
from db.models import Job
from db.types import utcnow

log = logging.getLogger("ofisi.jobs")

MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class DueJob:
    id: int
    org_id: int | None
    kind: str
    key: str
    payload: dict[str, Any]
    due_at: datetime


Handler = Callable[[Session, DueJob], None]
Planner = Callable[[Session, datetime], None]

HANDLERS: dict[str, Handler] = {}
PLANNERS: dict[str, Planner] = {}


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that runs jobs of ``kind``; it must not commit."""
    def register(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        return fn
    return register


def planner(name: str) -> Callable[[Planner], Planner]:
    """Register a function that schedules the jobs due by ``now``; it must not commit."""
    def register(fn: Planner) -> Planner:
        PLANNERS[name] = fn
        return fn
    return register


def schedule(session: Session, kind: str, key: str, due_at: datetime, *,
             org_id: int | None = None, payload: dict[str, Any] | None = None) -> bool:
    """Add a job unless one with ``key`` exists; True when it was added."""
    if kind not in HANDLERS:
        raise ValueError(f"no handler registered for job kind {kind!r}")
    if session.scalar(select(Job.id).where(Job.key == key)) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(Job(kind=kind, key=key, due_at=due_at, org_id=org_id, payload=payload or {}))
    except IntegrityError:
        return False
    return True


@dataclass
class RunSummary:
    ran: int = 0
    failed: int = 0
    retrying: int = 0
    planned_errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        text = f"{self.ran} done, {self.retrying} to retry, {self.failed} failed"
        if self.planned_errors:
            text += "; planners failed: " + "; ".join(self.planned_errors)
        return text


def run_due(db: Database, *, now: datetime | None = None, limit: int | None = None) -> RunSummary:
    now = now or utcnow()
    summary = RunSummary()
    with db.session() as session:
        for name, plan in PLANNERS.items():
            try:
                plan(session, now)
                session.commit()
            except Exception as exc:
                session.rollback()
                log.exception("planner %s failed", name)
                summary.planned_errors.append(f"{name}: {exc}")
        while limit is None or summary.ran + summary.failed + summary.retrying < limit:
            job = session.scalar(
                select(Job)
                .where(Job.status == "pending", Job.due_at <= now, Job.kind.in_(list(HANDLERS)))
                .order_by(Job.due_at, Job.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if job is None:
                session.rollback()
                break
            _run_one(session, job, now, summary)
    return summary


def _run_one(session: Session, job: Job, now: datetime, summary: RunSummary) -> None:
    due = DueJob(job.id, job.org_id, job.kind, job.key, dict(job.payload or {}), job.due_at)
    job.attempts += 1
    try:
        with session.begin_nested():
            HANDLERS[job.kind](session, due)
    except Exception as exc:
        reason = str(exc) if isinstance(exc, OfisiError) else f"{type(exc).__name__}: {exc}"
        if not isinstance(exc, OfisiError):
            log.exception("job %s (%s) failed", job.key, job.kind)
        job.last_error = reason
        if job.attempts >= MAX_ATTEMPTS:
            job.status, job.finished_at = "failed", now
            summary.failed += 1
        else:
            job.due_at = now + timedelta(minutes=5 * 2 ** (job.attempts - 1))
            summary.retrying += 1
        session.commit()
        return
    job.status, job.finished_at, job.last_error = "done", now, None
    session.commit()
    summary.ran += 1
