"""Workers: profiles, the verification and background-check workflow, and matching search.

Search is ranked by ``rank_score`` (kept on the row by :func:`rank_of` at every
write) and paged by keyset on ``(rank_score, id)`` or by offset; the indexes
``ix_agency_workers_rank`` and ``ix_agency_workers_place`` serve both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from datetime import date, datetime

from sqlalchemy import and_, bindparam, exists, false, func, or_, select
from sqlalchemy.orm import Session

from core import audit, outbox
from core.actors import Actor
from core.agency.base import (
    ACCOMMODATIONS, ACTIVE_STATUSES, AVAILABILITIES, BACKGROUND_CHECKS, VERIFICATIONS,
    age_on, agency_org, check_not_future, location_key, mask_email, mask_phone, pick, present_contact,
    redact_contacts, redaction_notice, row_of, split_list, today_in,
)
from core.errors import InvalidInput, NotFound
from core.optouts import refuse_if_opted_out
from core.phones import normalize_phone
from db.models import Contact
from db.models_agency import AgencyPlacement, AgencyUnlock, AgencyWorker, AgencyWorkerSkill
from db.types import utcnow


@dataclass(frozen=True)
class WorkerView:
    id: int
    org_id: int
    name: str
    phone: str  # masked unless the employer asking has unlocked this worker
    phone_unlocked: bool
    email: str | None
    age: int | None
    location: str
    education: str
    experience_years: int
    expected_salary_minor: int | None
    accommodation: str
    availability: str
    skills: list[str]
    languages: list[str]
    bio: str
    verification_status: str
    background_check: str
    background_checked_on: date | None
    background_notes: str
    membership_fee_minor: int
    joined_on: date | None
    rank_score: int
    legacy_id: str | None
    created_at: datetime
    notices: tuple[str, ...] = ()  # what a person should know about their last change (a bio cleaned…)


@dataclass(frozen=True)
class WorkerFilters:
    location: str | None = None
    availability: tuple[str, ...] = ()
    accommodation: str | None = None
    salary_min_minor: int | None = None
    salary_max_minor: int | None = None
    min_experience: int | None = None
    skills: tuple[str, ...] = ()
    verified_only: bool = False
    include_placed: bool = False
    include_unavailable: bool = False  # unavailable workers are left out unless asked for
    text: str = ""


@dataclass(frozen=True)
class WorkerPage:
    workers: list[WorkerView]
    next_after: tuple[int, int] | None  # pass as ``after`` for the next page
    filters: dict = field(default_factory=dict)


def rank_of(w: AgencyWorker) -> int:
    """Verified and cleared first, then experience, then who can start soonest; flagged last."""
    score = {"verified": 400, "pending": 100}.get(w.verification_status, 0)
    score += {"cleared": 300, "pending": 0, "flagged": -1000}.get(w.background_check, 0)
    score += min(w.experience_years or 0, 10) * 20
    score += {"immediate": 50, "two_weeks": 25, "one_month": 10}.get(w.availability, 0)
    return score


SKILL_SEPARATOR = "|"


def _views(session: Session, rows: list[tuple[AgencyWorker, str | None, bool, str | None]],
           notices: tuple[str, ...] = ()) -> list[WorkerView]:
    today = utcnow().date()
    shown = [present_contact(phone, w.email, bool(unlocked)) for w, phone, unlocked, _ in rows]
    return [
        WorkerView(
            w.id, w.org_id, w.name, contact[0], bool(unlocked and phone), contact[1],
            age_on(w.date_of_birth, today) if w.date_of_birth else w.age_years, w.location,
            w.education, w.experience_years, w.expected_salary_minor, w.accommodation, w.availability,
            sorted(skills.split(SKILL_SEPARATOR)) if skills else [], list(w.languages or []),
            redact_contacts(w.bio)[0],  # also a bio written before the rule
            w.verification_status, w.background_check, w.background_checked_on, w.background_notes,
            w.membership_fee_minor, w.joined_on, w.rank_score, w.legacy_id, w.created_at, notices,
        )
        for (w, phone, unlocked, skills), contact in zip(rows, shown)
    ]


def _record_reveals(session: Session, actor: Actor, org_id: int, employer_id: int | None,
                    views: list[WorkerView]) -> None:
    """Every time a whole number is shown, the audit log says who saw whose, for which employer."""
    shown = [v.id for v in views if v.phone_unlocked]
    for worker_id in shown:
        audit.record(session, actor, "agency.reveal", "agency_worker", worker_id, org_id=org_id,
                     after={"employer_id": employer_id})
    if shown:
        session.commit()


def _listing(employer_id: int | None):
    """Workers with, in the same query, the contact's phone, whether ``employer_id`` unlocked it, and the skills."""
    unlocked = false() if employer_id is None else exists().where(
        AgencyUnlock.employer_id == employer_id, AgencyUnlock.worker_id == AgencyWorker.id)
    skills = (select(func.aggregate_strings(AgencyWorkerSkill.skill, SKILL_SEPARATOR))
              .where(AgencyWorkerSkill.worker_id == AgencyWorker.id).scalar_subquery())
    return (select(AgencyWorker, Contact.phone, unlocked, skills)
            .outerjoin(Contact, Contact.id == AgencyWorker.contact_id))


def add_skills(session: Session, worker: AgencyWorker, skills: list[str]) -> None:
    for skill in split_list(skills):
        session.add(AgencyWorkerSkill(org_id=worker.org_id, worker_id=worker.id, skill=skill))


@dataclass
class WorkerInput:
    """What a person (or an import row) gives for a worker; money in minor units."""

    name: str
    phone: str | None = None
    email: str | None = None
    date_of_birth: date | None = None
    age_years: int | None = None
    bio: str = ""
    location: str = ""
    education: str = ""
    experience_years: int = 0
    expected_salary_minor: int | None = None
    accommodation: str = "either"
    availability: str = "immediate"
    skills: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    membership_fee_minor: int = 0
    joined_on: date | None = None


def one_person(session: Session, org_id: int, phone: str | None, email: str | None, *,
               skip: tuple[str, int] | None = None) -> None:
    """One person is one person: no second worker or employer (of either kind) with this phone, or this
    email in any case. ``skip`` is the (kind, id) being edited."""
    from db.models_agency import AgencyEmployer

    with session.no_autoflush:  # a look-up, not a write: what is pending can wait
        _one_person(session, org_id, phone, email, skip, (("worker", AgencyWorker), ("employer", AgencyEmployer)))


def _one_person(session: Session, org_id: int, phone: str | None, email: str | None, skip, models) -> None:
    # The contact first, by its own index; then who holds it, by theirs.
    contact_id = session.scalar(select(Contact.id).where(Contact.org_id == org_id, Contact.phone == phone)) \
        if phone else None
    for kind, model in models:
        others = [model.org_id == org_id]
        if skip is not None and skip[0] == kind:
            others.append(model.id != skip[1])
        if contact_id is not None:
            hit = session.scalar(select(model.name).where(*others, model.contact_id == contact_id).limit(1))
            if hit is not None:
                raise phone_taken(phone, kind, hit)
        if email:
            hit = session.scalar(select(model.name).where(*others, func.lower(model.email) == email.lower())
                                 .limit(1))
            if hit is not None:
                raise email_taken(email, kind, hit)


def phone_taken(phone: str, kind: str, name: str) -> InvalidInput:
    return InvalidInput(f"The number {mask_phone(phone)} is already on the books as {kind} {name}; "
                        "one person is one record.")


def email_taken(email: str, kind: str, name: str) -> InvalidInput:
    return InvalidInput(f"The email {mask_email(email)} is already on the books as {kind} {name} "
                        "(emails are compared ignoring case).")


def unused_contact(session: Session, model, org, name: str, phone: str | None, email: str | None,
                   noun: str) -> Contact | None:
    """The contact for a new worker or employer (``model``); refused when anyone on the books (a worker or
    an employer) already has that number or that email."""
    e164 = normalize_phone(phone, org.country) if phone else None
    one_person(session, org.id, e164, (email or "").strip() or None)
    return contact_for(session, org.id, org.country, name, e164, email)


def contact_for(session: Session, org_id: int, country: str, name: str, phone: str | None,
                email: str | None) -> Contact | None:
    """The org's contact with this phone, created if new; None without a phone."""
    if not phone:
        return None
    e164 = normalize_phone(phone, country)
    contact = session.scalar(select(Contact).where(Contact.org_id == org_id, Contact.phone == e164))
    if contact is None:
        contact = Contact(org_id=org_id, name=name, phone=e164, email=email)
        session.add(contact)
        session.flush()
    return contact


def new_worker(session: Session, org, data: WorkerInput, *, legacy_id: str | None = None,
               verification_status: str = "pending", background_check: str = "pending") -> AgencyWorker:
    """Build and flush a worker row (no permission check, no commit: callers do both)."""
    worker = AgencyWorker(**worker_row(org.id, data, legacy_id=legacy_id, verification_status=verification_status,
                                       background_check=background_check))
    contact = unused_contact(session, AgencyWorker, org, worker.name, data.phone, data.email, "A worker")
    worker.contact_id = contact.id if contact else None
    session.add(worker)
    session.flush()
    add_skills(session, worker, data.skills)
    return worker


def worker_row(org_id: int, data: WorkerInput, *, legacy_id: str | None = None,
               verification_status: str = "pending", background_check: str = "pending") -> dict:
    """The columns of the worker row ``data`` makes, checked, without its contact (an import writes many
    such rows at once)."""
    if not data.name.strip():
        raise InvalidInput("A worker needs a name.")
    if data.expected_salary_minor is not None and data.expected_salary_minor < 0:
        raise InvalidInput("An expected salary cannot be negative.")
    accommodation = pick(data.accommodation, ACCOMMODATIONS, "kind of accommodation")
    availability = pick(data.availability, AVAILABILITIES, "availability")
    bio, _ = redact_contacts(data.bio)
    row = dict(
        org_id=org_id, name=data.name.strip(),
        email=(data.email or "").strip().lower() or None, date_of_birth=data.date_of_birth,
        age_years=data.age_years, bio=bio, location=data.location.strip(),
        location_key=location_key(data.location), education=data.education,
        experience_years=max(data.experience_years, 0), expected_salary_minor=data.expected_salary_minor,
        accommodation=accommodation, availability=availability, languages=split_list(data.languages),
        verification_status=verification_status, background_check=background_check,
        membership_fee_minor=data.membership_fee_minor, joined_on=data.joined_on, legacy_id=legacy_id,
    )
    row["rank_score"] = rank_of(SimpleNamespace(**row))
    return row


def add_worker(session: Session, actor: Actor, org_id: int, data: WorkerInput) -> WorkerView:
    org = agency_org(session, actor, org_id, "agency.write")
    worker = new_worker(session, org, data)
    audit.record(session, actor, "agency.worker.add", "agency_worker", worker.id, org_id=org.id,
                 after={"name": worker.name, "location": worker.location})
    session.commit()
    return get_worker(session, actor, org_id, worker.id,
                      notices=tuple(redaction_notice("bio", redact_contacts(data.bio)[1])))


def get_worker(session: Session, actor: Actor, org_id: int, worker_id: int, *,
               employer_id: int | None = None, notices: tuple[str, ...] = ()) -> WorkerView:
    agency_org(session, actor, org_id, "agency.read")
    query = _listing(employer_id).where(
        AgencyWorker.id == worker_id, AgencyWorker.org_id == org_id)
    row = session.execute(query).first()
    if row is None:
        raise NotFound("That worker is not on this agency's books.")
    views = _views(session, [tuple(row)], notices)
    _record_reveals(session, actor, org_id, employer_id, views)
    return views[0]


def set_verification(session: Session, actor: Actor, org_id: int, worker_id: int, status: str) -> WorkerView:
    org = agency_org(session, actor, org_id, "agency.write")
    status = pick(status, VERIFICATIONS, "verification status")
    worker = row_of(session, AgencyWorker, org.id, worker_id, "That worker is not on this agency's books.",
                    lock=True)
    before = worker.verification_status
    worker.verification_status = status
    worker.rank_score = rank_of(worker)
    audit.record(session, actor, "agency.worker.verify", "agency_worker", worker.id, org_id=org.id,
                 before={"verification_status": before}, after={"verification_status": status})
    session.commit()
    return get_worker(session, actor, org_id, worker_id)


def record_background_check(session: Session, actor: Actor, org_id: int, worker_id: int, result: str, *,
                            checked_on: date | None = None, notes: str = "") -> WorkerView:
    """Pending → cleared or flagged, with the date and what was found."""
    org = agency_org(session, actor, org_id, "agency.write")
    result = pick(result, BACKGROUND_CHECKS, "background-check result")
    if result == "flagged" and not notes.strip():
        raise InvalidInput("Say why the worker is flagged (notes); the next agent needs to know.")
    check_not_future(org, checked_on, "The background check's date")
    worker = row_of(session, AgencyWorker, org.id, worker_id, "That worker is not on this agency's books.",
                    lock=True)
    before = {"background_check": worker.background_check, "notes": worker.background_notes}
    worker.background_check = result
    worker.background_checked_on = checked_on or today_in(org)
    worker.background_notes = redact_contacts(notes.strip())[0]
    worker.rank_score = rank_of(worker)
    audit.record(session, actor, "agency.worker.background_check", "agency_worker", worker.id, org_id=org.id,
                 before=before, after={"background_check": result, "notes": worker.background_notes})
    session.commit()
    return get_worker(session, actor, org_id, worker_id)


def search_workers(session: Session, actor: Actor, org_id: int, filters: WorkerFilters = WorkerFilters(), *,
                   limit: int = 50, after: tuple[int, int] | None = None, offset: int = 0,
                   employer_id: int | None = None) -> WorkerPage:
    """Workers matching ``filters``, best first; keyset (``after``) or ``offset`` paging.

    Phones are masked unless ``employer_id`` names an employer who unlocked the worker.
    """
    agency_org(session, actor, org_id, "agency.read")
    query = _listing(employer_id).where(AgencyWorker.org_id == org_id)
    f = filters
    if f.location:
        query = query.where(AgencyWorker.location_key == location_key(f.location))
    if f.availability:
        query = query.where(AgencyWorker.availability.in_(
            [pick(a, AVAILABILITIES, "availability") for a in f.availability]))
    if f.accommodation:
        wanted = pick(f.accommodation, ACCOMMODATIONS, "kind of accommodation")
        if wanted != "either":
            query = query.where(AgencyWorker.accommodation.in_((wanted, "either")))
    # The salary bounds go into the SQL as numbers: as parameters of a prepared statement PostgreSQL's
    # generic plan guesses a range keeps 0.5% of workers and scans the salary index (30 ms at 100,000).
    if f.salary_min_minor is not None:
        query = query.where(AgencyWorker.expected_salary_minor >= _inline(f.salary_min_minor))
    if f.salary_max_minor is not None:
        query = query.where(AgencyWorker.expected_salary_minor <= _inline(f.salary_max_minor))
    if f.min_experience:
        query = query.where(AgencyWorker.experience_years >= f.min_experience)
    for skill in split_list(list(f.skills)):
        query = query.where(exists().where(AgencyWorkerSkill.worker_id == AgencyWorker.id,
                                           AgencyWorkerSkill.org_id == org_id, AgencyWorkerSkill.skill == skill))
    if not f.include_unavailable and "unavailable" not in f.availability:
        query = query.where(AgencyWorker.availability != "unavailable")
    if f.verified_only:
        query = query.where(AgencyWorker.verification_status == "verified")
    if not f.include_placed:
        query = query.where(~exists().where(AgencyPlacement.worker_id == AgencyWorker.id,
                                            AgencyPlacement.status.in_(ACTIVE_STATUSES)))
    if f.text.strip():
        query = query.where(func.lower(AgencyWorker.name).like(f"%{f.text.strip().lower()}%"))
    if after is not None:
        rank, last_id = after
        query = query.where(or_(AgencyWorker.rank_score < rank,
                                and_(AgencyWorker.rank_score == rank, AgencyWorker.id < last_id)))
    query = query.order_by(AgencyWorker.rank_score.desc(), AgencyWorker.id.desc()).limit(limit + 1)
    if offset:
        query = query.offset(offset)
    rows = [tuple(r) for r in session.execute(query)]
    views = _views(session, rows[:limit])
    _record_reveals(session, actor, org_id, employer_id, views)
    more = len(rows) > limit
    return WorkerPage(views, (views[-1].rank_score, views[-1].id) if more and views else None)


def _inline(amount: int):
    return bindparam(None, int(amount), literal_execute=True)


def count_workers(session: Session, actor: Actor, org_id: int) -> int:
    agency_org(session, actor, org_id, "agency.read")
    return session.scalar(select(func.count()).select_from(AgencyWorker)
                          .where(AgencyWorker.org_id == org_id)) or 0


def sms_worker(session: Session, actor: Actor, org_id: int, worker_id: int, body: str) -> int:
    """Queue an SMS to the worker without showing staff the number; returns the message id."""
    org = agency_org(session, actor, org_id, "messages.send")
    worker = row_of(session, AgencyWorker, org.id, worker_id, "That worker is not on this agency's books.")
    return sms_contact(session, actor, org, worker.contact_id, worker.name, body, "agency.worker.sms",
                       "agency_worker", worker.id)


def sms_contact(session: Session, actor: Actor, org, contact_id: int | None, name: str, body: str,
                action: str, entity: str, entity_id: int) -> int:
    if not body.strip():
        raise InvalidInput("Write the message first.")
    contact = session.get(Contact, contact_id) if contact_id else None
    if contact is None:
        raise InvalidInput(f"{name} has no phone number on record; add one before sending an SMS.")
    refuse_if_opted_out(session, org.id, "sms", contact.phone, name)
    message_id = outbox.enqueue(session, org.id, to=contact.phone, body=body.strip(), contact_id=contact.id,
                                purpose="service")
    audit.record(session, actor, action, entity, entity_id, org_id=org.id, after={"message_id": message_id})
    session.commit()
    return message_id


WORKER_FIELDS = ("name", "phone", "email", "date_of_birth", "location", "education", "experience_years",
                 "expected_salary_minor", "accommodation", "availability", "skills", "languages", "bio")


def _set_phone(session: Session, org, row, kind: str, phone: str | None, history: list) -> None:
    """Point a worker or employer at the contact for a new phone; the history keeps both numbers masked."""
    before = session.scalar(select(Contact.phone).where(Contact.id == row.contact_id)) if row.contact_id else None
    e164 = normalize_phone(phone, org.country) if phone else None
    if e164 == before:
        return
    one_person(session, org.id, e164, None, skip=(kind, row.id))
    contact = contact_for(session, org.id, org.country, row.name, e164, None)
    row.contact_id = contact.id if contact else None
    history.append(("phone", mask_phone(before), mask_phone(e164)))


def update_worker(session: Session, actor: Actor, org_id: int, worker_id: int, changes: dict) -> WorkerView:
    """Edit any of ``WORKER_FIELDS``; each change is kept in the worker's history (availability and salary
    among them), phones and emails only masked there."""
    org = agency_org(session, actor, org_id, "agency.write")
    unknown = set(changes) - set(WORKER_FIELDS)
    if unknown:
        raise InvalidInput(f"A worker has no field {', '.join(sorted(unknown))}.")
    w = row_of(session, AgencyWorker, org.id, worker_id, "That worker is not on this agency's books.", lock=True)
    notices: list[str] = []
    history: list[tuple[str, object, object]] = []
    for name, value in changes.items():
        if name == "phone":
            _set_phone(session, org, w, "worker", value, history)
            continue
        if name == "skills":
            before = sorted(session.scalars(select(AgencyWorkerSkill.skill).where(
                AgencyWorkerSkill.worker_id == w.id)))
            after = sorted(split_list(value))
            if before != after:
                session.execute(AgencyWorkerSkill.__table__.delete().where(AgencyWorkerSkill.worker_id == w.id))
                add_skills(session, w, after)
                history.append(("skills", ", ".join(before), ", ".join(after)))
            continue
        if name == "email":
            value = (value or "").strip().lower() or None
            if value:
                one_person(session, org.id, None, value, skip=("worker", w.id))
        elif name == "name":
            value = (value or "").strip()
            if not value:
                raise InvalidInput("A worker needs a name.")
        elif name == "accommodation":
            value = pick(value, ACCOMMODATIONS, "kind of accommodation")
        elif name == "availability":
            value = pick(value, AVAILABILITIES, "availability")
        elif name == "expected_salary_minor" and value is not None and value < 0:
            raise InvalidInput("An expected salary cannot be negative.")
        elif name == "experience_years":
            value = max(int(value), 0)
        elif name == "languages":
            value = split_list(value)
        elif name == "bio":
            value, found = redact_contacts(value)
            notices += redaction_notice("bio", found)
        elif name == "location":
            value = (value or "").strip()
            w.location_key = location_key(value)
        before = getattr(w, name)
        if before != value:
            setattr(w, name, value)
            shown = (mask_email(before), mask_email(value)) if name == "email" else (before, value)
            history.append((name, *shown))
    w.rank_score = rank_of(w)
    _keep_history(session, actor, org.id, "worker", w.id, history)
    session.commit()
    return get_worker(session, actor, org_id, w.id, notices=tuple(notices))


def _keep_history(session: Session, actor: Actor, org_id: int, entity: str, entity_id: int,
                  history: list[tuple[str, object, object]]) -> None:
    from db.models_agency import AgencyChange

    for name, before, after in history:
        session.add(AgencyChange(org_id=org_id, entity=entity, entity_id=entity_id, field=name,
                                 before=None if before is None else str(before),
                                 after=None if after is None else str(after), changed_by=actor.label))
    if history:
        audit.record(session, actor, f"agency.{entity}.edit", f"agency_{entity}", entity_id, org_id=org_id,
                     before={n: None if b is None else str(b) for n, b, _ in history},
                     after={n: None if a is None else str(a) for n, _, a in history})


@dataclass(frozen=True)
class ChangeView:
    field: str
    before: str | None
    after: str | None
    changed_by: str
    changed_at: datetime


def change_history(session: Session, actor: Actor, org_id: int, entity: str, entity_id: int, *,
                   field_name: str | None = None, limit: int = 100) -> list[ChangeView]:
    """A worker's or employer's edits, newest first (``field_name``: only availability, say)."""
    from db.models_agency import AgencyChange

    agency_org(session, actor, org_id, "agency.read")
    query = select(AgencyChange).where(AgencyChange.org_id == org_id, AgencyChange.entity == entity,
                                       AgencyChange.entity_id == entity_id)
    if field_name:
        query = query.where(AgencyChange.field == field_name)
    return [ChangeView(c.field, c.before, c.after, c.changed_by, c.changed_at)
            for c in session.scalars(query.order_by(AgencyChange.id.desc()).limit(limit))]
