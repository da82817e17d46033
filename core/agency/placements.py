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
from core.agency import books
from core.agency.base import (
    ACTIVE_STATUSES, PLACEMENT_STAGES, PLACEMENT_STATUSES, agency_org, pick, redact_contacts, redaction_notice,
    refused_as_conflict, row_of, today_in,
)
from core.errors import Conflict, InvalidInput
from core.money import format_money
from core.permissions import require
from db.models_agency import (
    AgencyDispute, AgencyEmployer, AgencyEntry, AgencyPlacement, AgencyProfile, AgencyWorker,
)
from db.types import utcnow

# Which stage may follow which (a dispute is opened and resolved by its own services).
MOVES = {
    "proposed": ("interview", "placed", "ended"),
    "interview": ("placed", "ended"),
    "placed": ("trial", "confirmed", "ended"),
    "trial": ("confirmed", "ended"),
    "confirmed": ("ended",),
    "ended": (),
}
STATUS_OF_STAGE = {"proposed": "proposed", "interview": "proposed", "placed": "placed", "trial": "placed",
                   "confirmed": "placed", "ended": "ended"}


@dataclass(frozen=True)
class PlacementView:
    id: int
    org_id: int
    worker_id: int | None
    worker_name: str
    employer_id: int
    employer_name: str
    status: str  # the stage: proposed, interview, placed, trial, confirmed, disputed or ended
    start_date: date | None
    end_date: date | None
    agreed_salary_minor: int | None
    fee_minor: int  # agreed; it falls due (is charged) when the worker is placed
    commission_minor: int
    fee_paid_minor: int
    commission_paid_minor: int
    proposed_at: datetime
    placed_at: datetime | None
    legacy_id: str | None
    charged_minor: int = 0
    waived_minor: int = 0
    received_minor: int = 0
    refunded_minor: int = 0
    owed_minor: int = 0
    replaces_id: int | None = None
    rating: int | None = None
    notices: tuple[str, ...] = ()


def shown_status(p: AgencyPlacement) -> str:
    if p.status in ("disputed", "ended"):
        return p.status
    return p.stage if p.stage and STATUS_OF_STAGE.get(p.stage) == p.status else p.status


def _views(session: Session, rows, notices: tuple[str, ...] = ()) -> list[PlacementView]:
    rows = list(rows)
    if not rows:
        return []
    book = books.sums(session, rows[0][0].org_id, [p.id for p, _, _ in rows])
    out = []
    for p, worker, employer in rows:
        s = book.get(p.id, books.Sums())
        out.append(PlacementView(
            p.id, p.org_id, p.worker_id, worker or "(worker not recorded)", p.employer_id, employer,
            shown_status(p), p.start_date, p.end_date, p.agreed_salary_minor, p.fee_minor, p.commission_minor,
            s.item("fee", "payment") - s.item("fee", "refund"),
            s.item("commission", "payment") - s.item("commission", "refund"),
            p.proposed_at, p.placed_at, p.legacy_id, s.charged, s.waived, s.received, s.refunded, s.owed,
            p.replaces_id, p.rating, notices))
    return out


def _query():
    return (select(AgencyPlacement, AgencyWorker.name, AgencyEmployer.name)
            .outerjoin(AgencyWorker, AgencyWorker.id == AgencyPlacement.worker_id)
            .join(AgencyEmployer, AgencyEmployer.id == AgencyPlacement.employer_id))


def get_placement(session: Session, actor: Actor, org_id: int, placement_id: int, *,
                  notices: tuple[str, ...] = ()) -> PlacementView:
    agency_org(session, actor, org_id, "agency.read")
    row_of(session, AgencyPlacement, org_id, placement_id, "That placement does not exist in this agency.")
    return _views(session, session.execute(_query().where(AgencyPlacement.id == placement_id)), notices)[0]


def list_placements(session: Session, actor: Actor, org_id: int, *, status: str | None = None,
                    worker_id: int | None = None, employer_id: int | None = None,
                    before_id: int | None = None, limit: int = 50) -> list[PlacementView]:
    """Newest first, keyset-paged by id; ``status`` is a status or a stage (interview, trial…)."""
    agency_org(session, actor, org_id, "agency.read")
    query = _query().where(AgencyPlacement.org_id == org_id)
    if status:
        wanted = pick(status, PLACEMENT_STAGES, "placement status")
        if wanted in PLACEMENT_STATUSES:
            query = query.where(AgencyPlacement.status == wanted)
        else:
            query = query.where(AgencyPlacement.stage == wanted, AgencyPlacement.status != "disputed")
    if worker_id is not None:
        query = query.where(AgencyPlacement.worker_id == worker_id)
    if employer_id is not None:
        query = query.where(AgencyPlacement.employer_id == employer_id)
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


def _check_placeable(session: Session, actor: Actor, org, worker: AgencyWorker, override: str) -> dict | None:
    """A rejected or background-flagged worker is not placed, unless an admin overrides with a reason."""
    why = []
    if worker.verification_status == "rejected":
        why.append("was rejected at verification")
    if worker.background_check == "flagged":
        why.append(f"was flagged by the background check ({worker.background_notes or 'no notes'})")
    if not why:
        return None
    if not override.strip():
        raise InvalidInput(f"{worker.name} {' and '.join(why)}; an admin may place them only with "
                           "--override REASON.")
    require(session, actor, org.id, "agency.override")
    return {"override": override.strip(), "worker_id": worker.id, "why": why}


def _guarantee(session: Session, org, employer_id: int, replaces_id: int | None, start: date) -> AgencyPlacement | None:
    """The ended placement this one replaces, when it is within the agency's guarantee period."""
    if replaces_id is None:
        return None
    old = row_of(session, AgencyPlacement, org.id, replaces_id, "The placement being replaced does not exist.")
    if old.employer_id != employer_id:
        raise InvalidInput("A replacement is for the same employer as the placement it replaces.")
    if old.status != "ended":
        raise InvalidInput("End the placement being replaced first (placements move … --status ended).")
    days = session.scalar(select(AgencyProfile.guarantee_days).where(AgencyProfile.org_id == org.id))
    days = 90 if days is None else days
    began = old.start_date or (old.placed_at.date() if old.placed_at else None)
    if began is None or (start - began).days > days:
        return None
    return old


def add_placement(session: Session, actor: Actor, org_id: int, *, worker_id: int, employer_id: int,
                  fee_minor: int = 0, commission_minor: int = 0, agreed_salary_minor: int | None = None,
                  start_date: date | None = None, status: str = "proposed", notes: str = "",
                  replaces_id: int | None = None, override: str = "") -> PlacementView:
    """Propose a worker to an employer, or place them at once; a replacement within the guarantee costs nothing."""
    org = agency_org(session, actor, org_id, "agency.write")
    status = pick(status, ("proposed", "interview", "placed"), "starting status (proposed, interview or placed)")
    if fee_minor < 0 or commission_minor < 0:
        raise InvalidInput("Fees and commissions cannot be negative.")
    worker = row_of(session, AgencyWorker, org.id, worker_id, "That worker is not on this agency's books.")
    row_of(session, AgencyEmployer, org.id, employer_id, "That employer is not on this agency's books.")
    overridden = _check_placeable(session, actor, org, worker, override)
    notes, found = redact_contacts(notes)
    notices = redaction_notice("notes", found)
    placed = status == "placed"
    start = start_date or (today_in(org) if placed else None)
    replaced = _guarantee(session, org, employer_id, replaces_id, start or today_in(org))
    if replaced is not None and (fee_minor or commission_minor):
        notices.append(f"This replaces placement {replaced.id} within the guarantee period: no new fee is charged.")
        fee_minor = commission_minor = 0
    placement = AgencyPlacement(org_id=org.id, worker_id=worker.id, employer_id=employer_id,
                                status=STATUS_OF_STAGE[status], stage=status, fee_minor=fee_minor,
                                commission_minor=commission_minor, agreed_salary_minor=agreed_salary_minor,
                                notes=notes, start_date=start, placed_at=utcnow() if placed else None,
                                replaces_id=replaces_id)
    with one_active_placement(session, worker):
        session.add(placement)
    if placed:
        books._charge(session, actor, placement)
    audit.record(session, actor, "agency.placement.add", "agency_placement", placement.id, org_id=org.id,
                 after={"worker_id": worker.id, "employer_id": employer_id, "status": status,
                        "fee_minor": fee_minor, "commission_minor": commission_minor, "replaces_id": replaces_id,
                        **({"override": overridden} if overridden else {})})
    session.commit()
    return get_placement(session, actor, org_id, placement.id, notices=tuple(notices))


def move_placement(session: Session, actor: Actor, org_id: int, placement_id: int, status: str, *,
                   on: date | None = None, notes: str = "", override: str = "") -> PlacementView:
    """Move a placement along proposed → interview → placed → trial → confirmed → ended."""
    org = agency_org(session, actor, org_id, "agency.write")
    stage = pick(status, PLACEMENT_STAGES, "placement status")
    p = row_of(session, AgencyPlacement, org.id, placement_id, "That placement does not exist in this agency.",
               lock=True)
    worker = session.get(AgencyWorker, p.worker_id) if p.worker_id is not None else None
    if stage == "disputed":
        raise InvalidInput("Open a dispute with its notes instead (placements dispute).")
    current = shown_status(p)
    if current == "disputed":
        raise InvalidInput("Resolve the dispute first (placements resolve).")
    if stage not in MOVES[current]:
        raise InvalidInput(f"A {current} placement cannot become {stage}.")
    overridden = _check_placeable(session, actor, org, worker, override) if (
        worker is not None and stage == "placed") else None
    day = on or today_in(org)
    if stage == "ended" and p.start_date is not None and day < p.start_date:
        raise InvalidInput(f"A placement cannot end ({day:%d %b %Y}) before it started ({p.start_date:%d %b %Y}).")
    before = current
    with one_active_placement(session, worker) if worker is not None else nullcontext():
        p.status, p.stage = STATUS_OF_STAGE[stage], stage
        if stage == "placed" and p.placed_at is None:
            p.placed_at = utcnow()
            p.start_date = p.start_date or day
        if stage == "ended":
            p.end_date = day
        if notes:
            p.notes = (p.notes + "\n" + redact_contacts(notes)[0]).strip()
    if stage == "placed":
        books._charge(session, actor, p)
    audit.record(session, actor, "agency.placement.move", "agency_placement", p.id, org_id=org.id,
                 before={"status": before}, after={"status": stage, **({"override": overridden} if overridden
                                                                        else {})})
    session.commit()
    return get_placement(session, actor, org_id, p.id)


def answer_interview(session: Session, actor: Actor, org_id: int, worker_id: int, yes: bool) -> PlacementView | None:
    """A worker's YES or NO to her newest open proposal: YES moves it to interview, NO ends it."""
    agency_org(session, actor, org_id, "agency.write")
    p = session.scalar(select(AgencyPlacement).where(
        AgencyPlacement.org_id == org_id, AgencyPlacement.worker_id == worker_id,
        AgencyPlacement.status == "proposed").order_by(AgencyPlacement.id.desc()).limit(1))
    if p is None:
        return None
    if yes and shown_status(p) == "interview":
        return get_placement(session, actor, org_id, p.id)
    return move_placement(session, actor, org_id, p.id, "interview" if yes else "ended",
                          notes="The worker said " + ("YES" if yes else "NO") + " by SMS.")


def open_dispute(session: Session, actor: Actor, org_id: int, placement_id: int, notes: str) -> int:
    org = agency_org(session, actor, org_id, "agency.write")
    if not notes.strip():
        raise InvalidInput("Say what the dispute is about (notes).")
    p = row_of(session, AgencyPlacement, org.id, placement_id, "That placement does not exist in this agency.",
               lock=True)
    if p.status != "placed":
        raise InvalidInput(f"Only a placed worker's placement can be disputed; this one is {shown_status(p)}.")
    p.status = "disputed"  # the stage stays, so a resolution returns the placement to it
    dispute = AgencyDispute(org_id=org.id, placement_id=p.id, notes=redact_contacts(notes.strip())[0])
    session.add(dispute)
    session.flush()
    audit.record(session, actor, "agency.dispute.open", "agency_dispute", dispute.id, org_id=org.id,
                 after={"placement_id": p.id, "notes": dispute.notes})
    session.commit()
    return dispute.id


@dataclass(frozen=True)
class DisputeView:
    id: int
    placement_id: int
    worker_name: str
    employer_name: str
    notes: str
    resolution: str | None
    opened_at: datetime
    resolved_at: datetime | None
    refunded_minor: int
    waived_minor: int


def list_disputes(session: Session, actor: Actor, org_id: int, *, open_only: bool = False,
                  limit: int = 100) -> list[DisputeView]:
    agency_org(session, actor, org_id, "agency.read")
    query = (select(AgencyDispute, AgencyWorker.name, AgencyEmployer.name)
             .join(AgencyPlacement, AgencyPlacement.id == AgencyDispute.placement_id)
             .outerjoin(AgencyWorker, AgencyWorker.id == AgencyPlacement.worker_id)
             .join(AgencyEmployer, AgencyEmployer.id == AgencyPlacement.employer_id)
             .where(AgencyDispute.org_id == org_id))
    if open_only:
        query = query.where(AgencyDispute.resolved_at.is_(None))
    rows = list(session.execute(query.order_by(AgencyDispute.id.desc()).limit(limit)))
    money = {(d, k): int(t) for d, k, t in session.execute(
        select(AgencyEntry.dispute_id, AgencyEntry.kind, func.sum(AgencyEntry.amount_minor))
        .where(AgencyEntry.dispute_id.in_([d.id for d, _, _ in rows]))
        .group_by(AgencyEntry.dispute_id, AgencyEntry.kind))} if rows else {}
    return [DisputeView(d.id, d.placement_id, w or "(worker not recorded)", e, redact_contacts(d.notes)[0],
                        d.resolution, d.opened_at,
                        d.resolved_at, money.get((d.id, "refund"), 0), money.get((d.id, "waiver"), 0))
            for d, w, e in rows]


def resolve_dispute(session: Session, actor: Actor, org_id: int, dispute_id: int, resolution: str, *,
                    end_placement: bool = False, refund_minor: int = 0, waive_minor: int = 0,
                    reference: str | None = None, item: str = "fee") -> PlacementView:
    """Close a dispute with its money effect: a refund (money given back, the fee lowered by as much) and/or a
    waiver (part of what is owed let go). The placement returns to its stage, or ends."""
    org = agency_org(session, actor, org_id, "agency.write")
    if not resolution.strip():
        raise InvalidInput("Write how the dispute was resolved.")
    if refund_minor < 0 or waive_minor < 0:
        raise InvalidInput("A refund or waiver cannot be negative.")
    if refund_minor or waive_minor:
        require(session, actor, org.id, "agency.money")
    d = row_of(session, AgencyDispute, org.id, dispute_id, "That dispute does not exist in this agency.", lock=True)
    if d.resolved_at is not None:
        raise Conflict("That dispute is already resolved.")
    p = row_of(session, AgencyPlacement, org.id, d.placement_id, "That placement does not exist.", lock=True)
    if refund_minor:
        _refund(session, actor, org, p, item, refund_minor, reference=reference, dispute_id=d.id)
    if waive_minor:
        _waive(session, actor, org, p, item, waive_minor, dispute_id=d.id)
    d.resolution, d.resolved_at = resolution.strip(), utcnow()
    still_open = session.scalar(select(func.count()).select_from(AgencyDispute).where(
        AgencyDispute.placement_id == p.id, AgencyDispute.resolved_at.is_(None), AgencyDispute.id != d.id))
    if p.status == "disputed" and not still_open:
        if end_placement:
            p.status, p.stage, p.end_date = "ended", "ended", today_in(org)
        else:
            p.status = "placed"
            p.stage = p.stage if STATUS_OF_STAGE.get(p.stage or "") == "placed" else "placed"
    audit.record(session, actor, "agency.dispute.resolve", "agency_dispute", d.id, org_id=org.id,
                 after={"resolution": d.resolution, "placement_status": shown_status(p),
                        "refund_minor": refund_minor, "waive_minor": waive_minor})
    session.commit()
    return get_placement(session, actor, org_id, p.id)


def _owed_message(org, what: str, amount: int) -> str:
    return f"That is more than the {what} ({format_money(amount, org.currency)})."


def _refund(session: Session, actor: Actor, org, p: AgencyPlacement, item: str, amount_minor: int, *,
            reference: str | None, dispute_id: int | None = None) -> None:
    s = books.sums(session, org.id, [p.id]).get(p.id, books.Sums())
    held = s.item(item, "payment") - s.item(item, "refund")
    if amount_minor > held:
        raise InvalidInput(_owed_message(org, f"{item} received and not yet refunded", held))
    books._entry(session, actor, p, "refund", item, amount_minor, reference=reference, dispute_id=dispute_id)
    # What is given back is no longer owed either: the charge is lowered by as much.
    books._entry(session, actor, p, "waiver", item, amount_minor, dispute_id=dispute_id, note="refunded")


def _waive(session: Session, actor: Actor, org, p: AgencyPlacement, item: str, amount_minor: int, *,
           dispute_id: int | None = None) -> None:
    owed = books.sums(session, org.id, [p.id]).get(p.id, books.Sums()).item_owed(item)
    if amount_minor > owed:
        raise InvalidInput(_owed_message(org, f"{item} still owed", owed))
    books._entry(session, actor, p, "waiver", item, amount_minor, dispute_id=dispute_id)


def _money_on(session: Session, actor: Actor, org_id: int, placement_id: int, item: str, amount_minor: int,
              what: str):
    """The checks every money entry starts with; returns the org, the locked placement and the item."""
    org = agency_org(session, actor, org_id, "agency.money")
    item = pick(item, books.ITEMS, "payment kind (fee or commission)")
    if amount_minor <= 0:
        raise InvalidInput(f"{what} must be more than zero.")
    p = row_of(session, AgencyPlacement, org.id, placement_id, "That placement does not exist in this agency.",
               lock=True)
    return org, p, item


def record_refund(session: Session, actor: Actor, org_id: int, placement_id: int, *, amount_minor: int,
                  item: str = "fee", reference: str | None = None) -> PlacementView:
    """Money given back to the employer (all or part of what was received); the fee is lowered by as much."""
    org, p, item = _money_on(session, actor, org_id, placement_id, item, amount_minor, "A refund")
    _refund(session, actor, org, p, item, amount_minor, reference=reference)
    audit.record(session, actor, "agency.placement.refund", "agency_placement", p.id, org_id=org.id,
                 after={"item": item, "amount_minor": amount_minor, "reference": reference})
    session.commit()
    return get_placement(session, actor, org_id, p.id)


def waive(session: Session, actor: Actor, org_id: int, placement_id: int, *, amount_minor: int,
          item: str = "fee", note: str = "") -> PlacementView:
    """Let go of part of what a placement still owes."""
    org, p, item = _money_on(session, actor, org_id, placement_id, item, amount_minor, "A waiver")
    _waive(session, actor, org, p, item, amount_minor)
    audit.record(session, actor, "agency.placement.waive", "agency_placement", p.id, org_id=org.id,
                 after={"item": item, "amount_minor": amount_minor, "note": note})
    session.commit()
    return get_placement(session, actor, org_id, p.id)


def record_payment(session: Session, actor: Actor, org_id: int, placement_id: int, *, kind: str,
                   amount_minor: int, reference: str, paid_at: datetime | None = None) -> PlacementView:
    """Money received against the fee or the commission; a reference is used once per agency, in any case."""
    reference = reference.strip()
    if not reference:
        raise InvalidInput("A payment needs its reference (the M-Pesa code or receipt number).")
    org, p, kind = _money_on(session, actor, org_id, placement_id, kind, amount_minor, "A payment")
    if p.placed_at is None and p.status == "proposed":
        raise InvalidInput("Nothing is owed on a proposal; record payments once the worker is placed.")
    owed = books.sums(session, org.id, [p.id]).get(p.id, books.Sums()).item_owed(kind)
    if amount_minor > owed:
        raise InvalidInput(_owed_message(org, f"{kind} still owed", owed))
    books._entry(session, actor, p, "payment", kind, amount_minor, reference=reference, at=paid_at)
    audit.record(session, actor, "agency.placement.payment", "agency_placement", p.id, org_id=org.id,
                 after={"kind": kind, "amount_minor": amount_minor, "reference": reference})
    session.commit()
    return get_placement(session, actor, org_id, p.id)


def rate_placement(session: Session, actor: Actor, org_id: int, placement_id: int, rating: int,
                   notes: str = "") -> PlacementView:
    """A rating (1–5) of how an ended placement went, for the agency's own use."""
    org = agency_org(session, actor, org_id, "agency.write")
    if not 1 <= rating <= 5:
        raise InvalidInput("A rating is 1 to 5.")
    p = row_of(session, AgencyPlacement, org.id, placement_id, "That placement does not exist in this agency.",
               lock=True)
    if p.status != "ended":
        raise InvalidInput("Rate a placement once it has ended.")
    p.rating, p.rating_notes = rating, redact_contacts(notes)[0]
    audit.record(session, actor, "agency.placement.rate", "agency_placement", p.id, org_id=org.id,
                 after={"rating": rating})
    session.commit()
    return get_placement(session, actor, org_id, p.id)


def set_guarantee_days(session: Session, actor: Actor, org_id: int, days: int) -> int:
    """The replacement guarantee: a replacement placed within ``days`` of the first one's start is free."""
    org = agency_org(session, actor, org_id, "agency.money")
    if not 0 <= days <= 730:
        raise InvalidInput("The guarantee period is 0 to 730 days.")
    profile = session.scalar(select(AgencyProfile).where(AgencyProfile.org_id == org.id).with_for_update())
    if profile is None:
        profile = AgencyProfile(org_id=org.id)
        session.add(profile)
    before = profile.guarantee_days
    profile.guarantee_days = days
    session.flush()
    audit.record(session, actor, "agency.settings.guarantee", "org", org.id, org_id=org.id,
                 before={"guarantee_days": before}, after={"guarantee_days": days})
    session.commit()
    return days
