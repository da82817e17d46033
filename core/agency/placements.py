"""Placements: a worker with an employer, the fee and commission, payments and disputes.

A worker is in at most one active placement (``placed`` or ``disputed``): the
partial unique index ``uq_agency_placements_active_worker`` refuses a second
one on both backends, so two agents placing the same worker at once cannot
both succeed; the loser is told who has the worker.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit
from core.actors import Actor
from core.agency.base import ACTIVE_STATUSES, PLACEMENT_STATUSES, agency_org, pick, refused_as_conflict, row_of
from core.errors import Conflict, InvalidInput
from db.models_agency import (
    AgencyDispute, AgencyEmployer, AgencyPlacement, AgencyPlacementPayment, AgencyWorker,
)
from db.types import utcnow

# Which status may follow which.
MOVES = {
    "proposed": ("placed", "ended"),
    "placed": ("ended", "disputed"),
    "disputed": ("placed", "ended"),
    "ended": (),
}


@dataclass(frozen=True)
class PlacementView:
    id: int
    org_id: int
    worker_id: int | None
    worker_name: str
    employer_id: int
    employer_name: str
    status: str
    start_date: date | None
    end_date: date | None
    agreed_salary_minor: int | None
    fee_minor: int
    commission_minor: int
    fee_paid_minor: int
    commission_paid_minor: int
    proposed_at: datetime
    placed_at: datetime | None
    legacy_id: str | None

    @property
    def owed_minor(self) -> int:
        return self.fee_minor + self.commission_minor - self.fee_paid_minor - self.commission_paid_minor


def _paid(session: Session, ids: list[int]) -> dict[tuple[int, str], int]:
    if not ids:
        return {}
    rows = session.execute(select(AgencyPlacementPayment.placement_id, AgencyPlacementPayment.kind,
                                  func.sum(AgencyPlacementPayment.amount_minor))
                           .where(AgencyPlacementPayment.placement_id.in_(ids))
                           .group_by(AgencyPlacementPayment.placement_id, AgencyPlacementPayment.kind))
    return {(pid, kind): int(total) for pid, kind, total in rows}


def _views(session: Session, rows) -> list[PlacementView]:
    rows = list(rows)
    paid = _paid(session, [p.id for p, _, _ in rows])
    return [PlacementView(p.id, p.org_id, p.worker_id, worker or "(worker not recorded)", p.employer_id, employer,
                          p.status, p.start_date, p.end_date, p.agreed_salary_minor, p.fee_minor,
                          p.commission_minor, paid.get((p.id, "fee"), 0), paid.get((p.id, "commission"), 0),
                          p.proposed_at, p.placed_at, p.legacy_id)
            for p, worker, employer in rows]


def _query():
    return (select(AgencyPlacement, AgencyWorker.name, AgencyEmployer.name)
            .outerjoin(AgencyWorker, AgencyWorker.id == AgencyPlacement.worker_id)
            .join(AgencyEmployer, AgencyEmployer.id == AgencyPlacement.employer_id))


def get_placement(session: Session, actor: Actor, org_id: int, placement_id: int) -> PlacementView:
    agency_org(session, actor, org_id, "agency.read")
    row_of(session, AgencyPlacement, org_id, placement_id, "That placement does not exist in this agency.")
    return _views(session, session.execute(_query().where(AgencyPlacement.id == placement_id)))[0]


def list_placements(session: Session, actor: Actor, org_id: int, *, status: str | None = None,
                    before_id: int | None = None, limit: int = 50) -> list[PlacementView]:
    """Newest first, keyset-paged by id."""
    agency_org(session, actor, org_id, "agency.read")
    query = _query().where(AgencyPlacement.org_id == org_id)
    if status:
        query = query.where(AgencyPlacement.status == pick(status, PLACEMENT_STATUSES, "placement status"))
    if before_id is not None:
        query = query.where(AgencyPlacement.id < before_id)
    return _views(session, session.execute(query.order_by(AgencyPlacement.id.desc()).limit(limit)))


def placement_counts(session: Session, actor: Actor, org_id: int) -> dict[str, int]:
    agency_org(session, actor, org_id, "agency.read")
    rows = session.execute(select(AgencyPlacement.status, func.count()).where(AgencyPlacement.org_id == org_id)
                           .group_by(AgencyPlacement.status))
    return {status: n for status, n in rows}


def _holder(session: Session, worker_id: int) -> str:
    name = session.scalar(select(AgencyEmployer.name).join(AgencyPlacement,
                                                           AgencyPlacement.employer_id == AgencyEmployer.id)
                          .where(AgencyPlacement.worker_id == worker_id,
                                 AgencyPlacement.status.in_(ACTIVE_STATUSES)))
    return name or "another employer"


def one_active_placement(session: Session, worker: AgencyWorker):
    """The active-worker index refuses a second active placement; say who has the worker."""
    name, worker_id = worker.name, worker.id
    return refused_as_conflict(session, lambda: f"{name} is already placed with {_holder(session, worker_id)}; "
                                                "end that placement first.")


def add_placement(session: Session, actor: Actor, org_id: int, *, worker_id: int, employer_id: int,
                  fee_minor: int = 0, commission_minor: int = 0, agreed_salary_minor: int | None = None,
                  start_date: date | None = None, status: str = "proposed", notes: str = "") -> PlacementView:
    org = agency_org(session, actor, org_id, "agency.write")
    status = pick(status, ("proposed", "placed"), "starting status (proposed or placed)")
    if fee_minor < 0 or commission_minor < 0:
        raise InvalidInput("Fees and commissions cannot be negative.")
    worker = row_of(session, AgencyWorker, org.id, worker_id, "That worker is not on this agency's books.")
    row_of(session, AgencyEmployer, org.id, employer_id, "That employer is not on this agency's books.")
    placement = AgencyPlacement(org_id=org.id, worker_id=worker.id, employer_id=employer_id, status=status,
                                fee_minor=fee_minor, commission_minor=commission_minor,
                                agreed_salary_minor=agreed_salary_minor, notes=notes,
                                start_date=start_date or (utcnow().date() if status == "placed" else None),
                                placed_at=utcnow() if status == "placed" else None)
    with one_active_placement(session, worker):
        session.add(placement)
    audit.record(session, actor, "agency.placement.add", "agency_placement", placement.id, org_id=org.id,
                 after={"worker_id": worker.id, "employer_id": employer_id, "status": status,
                        "fee_minor": fee_minor, "commission_minor": commission_minor})
    session.commit()
    return get_placement(session, actor, org_id, placement.id)


def move_placement(session: Session, actor: Actor, org_id: int, placement_id: int, status: str, *,
                   on: date | None = None, notes: str = "") -> PlacementView:
    """Place a proposed worker, end a placement, or reopen a disputed one."""
    org = agency_org(session, actor, org_id, "agency.write")
    status = pick(status, PLACEMENT_STATUSES, "placement status")
    p = row_of(session, AgencyPlacement, org.id, placement_id, "That placement does not exist in this agency.",
               lock=True)
    worker = session.get(AgencyWorker, p.worker_id) if p.worker_id is not None else None
    if status == "disputed":
        raise InvalidInput("Open a dispute with its notes instead (placements dispute).")
    if status not in MOVES[p.status]:
        raise InvalidInput(f"A {p.status} placement cannot become {status}.")
    before = p.status
    with one_active_placement(session, worker) if worker is not None else nullcontext():
        p.status = status
        if status == "placed" and p.placed_at is None:
            p.placed_at = utcnow()
            p.start_date = p.start_date or on or utcnow().date()
        if status == "ended":
            p.end_date = on or utcnow().date()
        if notes:
            p.notes = (p.notes + "\n" + notes).strip()
    audit.record(session, actor, "agency.placement.move", "agency_placement", p.id, org_id=org.id,
                 before={"status": before}, after={"status": status})
    session.commit()
    return get_placement(session, actor, org_id, p.id)


def open_dispute(session: Session, actor: Actor, org_id: int, placement_id: int, notes: str) -> int:
    org = agency_org(session, actor, org_id, "agency.write")
    if not notes.strip():
        raise InvalidInput("Say what the dispute is about (notes).")
    p = row_of(session, AgencyPlacement, org.id, placement_id, "That placement does not exist in this agency.",
               lock=True)
    if p.status != "placed":
        raise InvalidInput(f"Only a placed worker's placement can be disputed; this one is {p.status}.")
    p.status = "disputed"
    dispute = AgencyDispute(org_id=org.id, placement_id=p.id, notes=notes.strip())
    session.add(dispute)
    session.flush()
    audit.record(session, actor, "agency.dispute.open", "agency_dispute", dispute.id, org_id=org.id,
                 after={"placement_id": p.id, "notes": dispute.notes})
    session.commit()
    return dispute.id


def resolve_dispute(session: Session, actor: Actor, org_id: int, dispute_id: int, resolution: str, *,
                    end_placement: bool = False) -> PlacementView:
    org = agency_org(session, actor, org_id, "agency.write")
    if not resolution.strip():
        raise InvalidInput("Write how the dispute was resolved.")
    d = row_of(session, AgencyDispute, org.id, dispute_id, "That dispute does not exist in this agency.", lock=True)
    if d.resolved_at is not None:
        raise Conflict("That dispute is already resolved.")
    d.resolution, d.resolved_at = resolution.strip(), utcnow()
    p = row_of(session, AgencyPlacement, org.id, d.placement_id, "That placement does not exist.", lock=True)
    if p.status == "disputed":
        p.status = "ended" if end_placement else "placed"
        if end_placement:
            p.end_date = utcnow().date()
    audit.record(session, actor, "agency.dispute.resolve", "agency_dispute", d.id, org_id=org.id,
                 after={"resolution": d.resolution, "placement_status": p.status})
    session.commit()
    return get_placement(session, actor, org_id, p.id)


def record_payment(session: Session, actor: Actor, org_id: int, placement_id: int, *, kind: str,
                   amount_minor: int, reference: str, paid_at: datetime | None = None) -> PlacementView:
    """Money received against the fee or the commission; a reference is used once per agency."""
    org = agency_org(session, actor, org_id, "agency.money")
    kind = pick(kind, ("fee", "commission"), "payment kind (fee or commission)")
    reference = reference.strip()
    if amount_minor <= 0:
        raise InvalidInput("A payment must be more than zero.")
    if not reference:
        raise InvalidInput("A payment needs its reference (the M-Pesa code or receipt number).")
    p = row_of(session, AgencyPlacement, org.id, placement_id, "That placement does not exist in this agency.",
               lock=True)
    if p.placed_at is None and p.status == "proposed":
        raise InvalidInput("Nothing is owed on a proposal; record payments once the worker is placed.")
    due = p.fee_minor if kind == "fee" else p.commission_minor
    paid = _paid(session, [p.id]).get((p.id, kind), 0)
    if paid + amount_minor > due:
        raise InvalidInput(f"That is more than the {kind} still owed ({due - paid} minor units).")
    with refused_as_conflict(session, lambda: f"The reference {reference} is already recorded in this agency."):
        session.add(AgencyPlacementPayment(org_id=org.id, placement_id=p.id, kind=kind, amount_minor=amount_minor,
                                           reference=reference, paid_at=paid_at or utcnow(),
                                           recorded_by=actor.label))
    audit.record(session, actor, "agency.placement.payment", "agency_placement", p.id, org_id=org.id,
                 after={"kind": kind, "amount_minor": amount_minor, "reference": reference})
    session.commit()
    return get_placement(session, actor, org_id, p.id)
