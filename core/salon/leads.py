"""Leads: people who may become clients, their follow-up tasks and what happened with them.

A lead is one row per phone per salon. It arrives from a public form
(:mod:`core.salon.forms`), an SMS to the salon's number
(:mod:`core.salon.conversations`), an import, or the console; every way goes
through :func:`capture_lead`, which scores it (:mod:`core.salon.scoring`),
merges a repeat contact into the existing lead, and creates the follow-up
task at once. The pipeline is new → contacted → qualified → converted or lost
(lost needs a reason); converting links the lead to a contact and can book
the first appointment in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core import audit
from core.actors import Actor
from core.contacts import _clean_email
from core.errors import Conflict, InvalidInput, NotFound, OfisiError
from core.phones import normalize_phone
from core.salon.bookings import AppointmentView, place_booking
from core.salon.common import require_salon
from core.salon.scoring import LeadSignals, follow_up_due, score_lead
from db.models import Contact, Membership, Org, User
from db.models_salon import LEAD_SOURCES, LEAD_STATUSES, SalonLead, SalonLeadActivity, SalonService, SalonTask
from db.types import utcnow

PIPELINE = ("new", "contacted", "qualified")  # open stages, in order
CLOSED = ("converted", "lost")


@dataclass(frozen=True)
class LeadView:
    id: int
    name: str
    phone: str
    email: str | None
    service_wanted: str
    preferred_date: date | None
    message: str
    custom: dict[str, Any]
    source: str
    status: str
    lost_reason: str | None
    score: int
    temperature: str
    contacts_count: int
    contact_id: int | None
    created_at: datetime
    first_response_at: datetime | None

    @classmethod
    def of(cls, lead: SalonLead) -> LeadView:
        return cls(lead.id, lead.name, lead.phone, lead.email, lead.service_wanted, lead.preferred_date,
                   lead.message, dict(lead.custom or {}), lead.source, lead.status, lead.lost_reason, lead.score,
                   lead.temperature, lead.contacts_count, lead.contact_id, lead.created_at, lead.first_response_at)

    @property
    def label(self) -> str:
        return self.name or self.phone


@dataclass(frozen=True)
class ActivityView:
    id: int
    kind: str
    actor: str
    note: str
    details: dict[str, Any] | None
    at: datetime


@dataclass(frozen=True)
class TaskView:
    id: int
    lead_id: int | None
    lead_name: str
    title: str
    priority: int
    due_at: datetime
    done_at: datetime | None
    temperature: str | None
    assignee_id: int | None = None
    assignee_name: str | None = None


@dataclass(frozen=True)
class LeadDetails:
    """What a lead says about themselves; every field but the phone may be blank."""

    phone: str
    name: str = ""
    email: str | None = None
    service_wanted: str = ""
    preferred_date: date | None = None
    message: str = ""
    custom: dict[str, Any] | None = None


def log_activity(session: Session, lead: SalonLead, kind: str, actor: Actor | str, now: datetime, *,
                 note: str = "", details: dict[str, Any] | None = None) -> None:
    session.add(SalonLeadActivity(org_id=lead.org_id, lead_id=lead.id, kind=kind, note=note, details=details,
                                  actor=actor if isinstance(actor, str) else actor.label, at=now))


def _rescore(session: Session, org: Org, lead: SalonLead, now: datetime) -> None:
    services = tuple(session.scalars(select(SalonService.name).where(SalonService.org_id == org.id,
                                                                     SalonService.active.is_(True))))
    score = score_lead(LeadSignals(lead.name, lead.email, lead.message, lead.service_wanted, lead.preferred_date,
                                   lead.contacts_count - 1, services), now.astimezone(ZoneInfo(org.timezone)).date())
    lead.score, lead.temperature = score.points, score.temperature


# A lead who writes again within this long of the contact last counted is not counted again.
REPEAT_WINDOW = timedelta(hours=24)
COUNTED = ("created", "contacted_again")


def _follow_up(session: Session, lead: SalonLead, now: datetime) -> None:
    """The lead's open follow-up task, due as its temperature says (brought forward, never put back)."""
    due_at, priority = follow_up_due(lead.temperature, now)
    task = session.scalar(select(SalonTask).where(SalonTask.lead_id == lead.id, SalonTask.done_at.is_(None))
                          .order_by(SalonTask.due_at).limit(1))
    title = f"Call {lead.name or lead.phone} ({lead.temperature} lead)"
    if task is None:
        session.add(SalonTask(org_id=lead.org_id, lead_id=lead.id, title=title, priority=priority, due_at=due_at,
                              created_at=now))
    elif due_at < task.due_at or priority < task.priority:
        task.due_at, task.priority, task.title = min(due_at, task.due_at), min(priority, task.priority), title


def capture_lead(session: Session, org: Org, by: Actor | str, details: LeadDetails, *, source: str,
                 now: datetime, form_id: int | None = None) -> tuple[SalonLead, bool]:
    """Create the lead, or merge a repeat contact into the lead with the same phone, in the caller's
    unit of work; score it and make sure a follow-up task is waiting. Returns the lead and whether it is new."""
    if source not in LEAD_SOURCES:
        raise InvalidInput(f"{source!r} is not a lead source; use one of {', '.join(LEAD_SOURCES)}.")
    phone = normalize_phone(details.phone, org.country)
    lead = session.scalar(select(SalonLead).where(SalonLead.org_id == org.id, SalonLead.phone == phone)
                          .with_for_update())
    message = details.message.strip()
    if lead is None:
        contact_id = session.scalar(select(Contact.id).where(Contact.org_id == org.id, Contact.phone == phone))
        lead = SalonLead(org_id=org.id, form_id=form_id, contact_id=contact_id, name=details.name.strip(),
                         phone=phone, email=_clean_email(details.email), service_wanted=details.service_wanted.strip(),
                         preferred_date=details.preferred_date, message=message, custom=dict(details.custom or {}),
                         source=source, status="new", contacts_count=1, created_at=now, updated_at=now)
        _rescore(session, org, lead, now)
        session.add(lead)
        session.flush()
        log_activity(session, lead, "created", by, now, note=message,
                     details={"source": source, "score": lead.score, "temperature": lead.temperature})
        _follow_up(session, lead, now)
        return lead, True
    last = session.scalar(select(func.max(SalonLeadActivity.at)).where(
        SalonLeadActivity.lead_id == lead.id, SalonLeadActivity.kind.in_(COUNTED)))
    counted = last is None or now - last >= REPEAT_WINDOW
    if counted:
        lead.contacts_count += 1
    lead.name = lead.name or details.name.strip()
    lead.email = lead.email or _clean_email(details.email)
    lead.service_wanted = details.service_wanted.strip() or lead.service_wanted
    lead.preferred_date = details.preferred_date or lead.preferred_date
    if message and message not in lead.message:
        lead.message = f"{lead.message}\n{message}".strip()
    lead.custom = {**(lead.custom or {}), **(details.custom or {})}
    lead.updated_at = now
    reopened = lead.status == "lost"
    if reopened:
        lead.status, lead.lost_reason = "new", None
    _rescore(session, org, lead, now)
    log_activity(session, lead, "contacted_again" if counted else "repeated", by, now, note=message,
                 details={"source": source, "score": lead.score, "temperature": lead.temperature,
                          "reopened": reopened})
    if lead.status != "converted":
        _follow_up(session, lead, now)
    return lead, False


def add_lead(session: Session, actor: Actor, org_id: int, details: LeadDetails, *, source: str = "console",
             now: datetime | None = None) -> LeadView:
    """A lead taken by staff (a walk-in's number, a call)."""
    org = require_salon(session, actor, org_id, "salon.leads.write")
    lead, _ = capture_lead(session, org, actor, details, source=source, now=now or utcnow())
    audit.record(session, actor, "salon.lead.add", "salon_lead", lead.id, org_id=org.id,
                 after={"phone": lead.phone, "source": source})
    session.commit()
    return LeadView.of(lead)


EDITABLE = ("name", "email", "service_wanted", "preferred_date", "message")


def update_lead(session: Session, actor: Actor, org_id: int, lead_id: int, *, now: datetime | None = None,
                **changes: Any) -> LeadView:
    """Correct what a lead said (name, email, service wanted, preferred date, message); it is scored again."""
    now = now or utcnow()
    org = require_salon(session, actor, org_id, "salon.leads.write")
    unknown = [k for k in changes if k not in EDITABLE]
    if unknown:
        raise InvalidInput(f"{', '.join(unknown)} cannot be edited; a lead's {', '.join(EDITABLE)} can.")
    lead = _load(session, org.id, lead_id, lock=True)
    before = {k: getattr(lead, k) for k in changes}
    for name, value in changes.items():
        if value is None:
            continue
        if name == "email":
            value = _clean_email(value)
        elif name != "preferred_date":
            value = str(value).strip()
            if len(value) > (2000 if name == "message" else 120):
                raise InvalidInput(f"Keep the {name.replace('_', ' ')} shorter.")
        setattr(lead, name, value)
    after = {k: getattr(lead, k) for k in changes}
    if after != before:
        lead.updated_at = now
        _rescore(session, org, lead, now)
        plain = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in after.items()}
        log_activity(session, lead, "edited", actor, now, details=plain)
        audit.record(session, actor, "salon.lead.edit", "salon_lead", lead.id, org_id=org.id,
                     before={k: (v.isoformat() if isinstance(v, date) else v) for k, v in before.items()},
                     after=plain)
    session.commit()
    return LeadView.of(lead)


def _load(session: Session, org_id: int, lead_id: int, *, lock: bool = False) -> SalonLead:
    query = select(SalonLead).where(SalonLead.id == lead_id, SalonLead.org_id == org_id)
    lead = session.scalar(query.with_for_update() if lock else query)
    if lead is None:
        raise NotFound("That lead does not exist.")
    return lead


def get_lead(session: Session, actor: Actor, org_id: int, lead_id: int) -> LeadView:
    org = require_salon(session, actor, org_id, "salon.leads.read")
    return LeadView.of(_load(session, org.id, lead_id))


def find_lead(session: Session, org_id: int, phone: str) -> SalonLead | None:
    return session.scalar(select(SalonLead).where(SalonLead.org_id == org_id, SalonLead.phone == phone))


def list_leads(session: Session, actor: Actor, org_id: int, *, status: str | None = None,
               before_id: int | None = None, limit: int = 100) -> list[LeadView]:
    """Newest first (keyset: pass the last id as ``before_id``), optionally of one status."""
    org = require_salon(session, actor, org_id, "salon.leads.read")
    query = select(SalonLead).where(SalonLead.org_id == org.id)
    if status is not None:
        query = query.where(SalonLead.status == status)
    if before_id is not None:
        query = query.where(SalonLead.id < before_id)
    return [LeadView.of(lead) for lead in session.scalars(query.order_by(SalonLead.id.desc()).limit(limit))]


def lead_activities(session: Session, actor: Actor, org_id: int, lead_id: int) -> list[ActivityView]:
    org = require_salon(session, actor, org_id, "salon.leads.read")
    lead = _load(session, org.id, lead_id)
    rows = session.scalars(select(SalonLeadActivity).where(SalonLeadActivity.lead_id == lead.id)
                           .order_by(SalonLeadActivity.id))
    return [ActivityView(a.id, a.kind, a.actor, a.note, a.details, a.at) for a in rows]


def responded(session: Session, lead: SalonLead, actor: Actor, kind: str, now: datetime, note: str = "") -> None:
    """Staff reached the lead (``called`` or ``messaged``): log it; the first time, it is the first response
    and a new lead becomes contacted."""
    log_activity(session, lead, kind, actor, now, note=note)
    if lead.first_response_at is None:
        lead.first_response_at = now
    if lead.status == "new":
        _change_status(session, lead, actor, "contacted", now)


def log_call(session: Session, actor: Actor, org_id: int, lead_id: int, *, note: str = "",
             now: datetime | None = None) -> LeadView:
    """Staff called the lead."""
    org = require_salon(session, actor, org_id, "salon.leads.write")
    lead = _load(session, org.id, lead_id, lock=True)
    responded(session, lead, actor, "called", now or utcnow(), note.strip())
    session.commit()
    return LeadView.of(lead)


def _change_status(session: Session, lead: SalonLead, actor: Actor, status: str, now: datetime,
                   reason: str | None = None) -> None:
    before = lead.status
    lead.status, lead.updated_at = status, now
    lead.lost_reason = reason if status == "lost" else None
    log_activity(session, lead, "status_changed", actor, now, note=reason or "",
                 details={"from": before, "to": status})
    audit.record(session, actor, "salon.lead.status", "salon_lead", lead.id, org_id=lead.org_id,
                 before={"status": before}, after={"status": status, "reason": reason})
    if status in CLOSED:
        session.execute(update(SalonTask).where(SalonTask.lead_id == lead.id, SalonTask.done_at.is_(None))
                        .values(done_at=now, done_by=actor.label))


def set_lead_status(session: Session, actor: Actor, org_id: int, lead_id: int, status: str, *,
                    reason: str | None = None, now: datetime | None = None) -> LeadView:
    """Move a lead along the pipeline (forward, or to lost with a reason). Converting goes through
    :func:`convert_lead`."""
    org = require_salon(session, actor, org_id, "salon.leads.write")
    if status not in LEAD_STATUSES:
        raise InvalidInput(f"{status!r} is not a lead status; use one of {', '.join(LEAD_STATUSES)}.")
    if status == "converted":
        raise InvalidInput("Convert a lead with convert_lead (`c` in the console), which links the client.")
    lead = _load(session, org.id, lead_id, lock=True)
    if lead.status in CLOSED:
        raise Conflict(f"{lead.name or lead.phone} is already {lead.status}; a new message from them reopens a "
                       "lost lead.")
    if status == "lost":
        if not (reason or "").strip():
            raise InvalidInput("Say why the lead was lost (too far, price, booked elsewhere…).")
        reason = reason.strip()[:300]
    elif PIPELINE.index(status) <= PIPELINE.index(lead.status):
        raise InvalidInput(f"{lead.name or lead.phone} is already {lead.status}; a lead moves forward: "
                           f"{' → '.join(PIPELINE)} → converted or lost.")
    _change_status(session, lead, actor, status, now or utcnow(), reason)
    session.commit()
    return LeadView.of(lead)


def convert_lead(session: Session, actor: Actor, org_id: int, lead_id: int, *, professional_id: int | None = None,
                 service_id: int | None = None, start: datetime | None = None,
                 now: datetime | None = None) -> tuple[LeadView, AppointmentView | None]:
    """Make the lead a client: link (or create) their contact, and with ``professional_id``,
    ``service_id`` and ``start`` book their first appointment. All of it or nothing."""
    now = now or utcnow()
    org = require_salon(session, actor, org_id, "salon.leads.write")
    lead = _load(session, org.id, lead_id, lock=True)
    if lead.status in CLOSED:
        raise Conflict(f"{lead.name or lead.phone} is already {lead.status}.")
    booking = (professional_id, service_id, start)
    if any(v is not None for v in booking) and not all(v is not None for v in booking):
        raise InvalidInput("To book while converting, give the professional, the service and the time.")
    contact = session.scalar(select(Contact).where(Contact.org_id == org.id, Contact.phone == lead.phone))
    if contact is None:
        contact = Contact(org_id=org.id, name=lead.name or lead.phone, phone=lead.phone, email=lead.email)
        session.add(contact)
        session.flush()
        audit.record(session, actor, "contact.add", "contact", contact.id, org_id=org.id,
                     after={"name": contact.name, "phone": contact.phone, "from_lead": lead.id})
    lead.contact_id = contact.id
    lead.converted_at = now
    if lead.first_response_at is None:
        lead.first_response_at = now
    appointment = None
    if start is not None:
        try:
            appointment = place_booking(session, actor, org.id, professional_id=professional_id,
                                        service_id=service_id, contact_id=contact.id, start=start, now=now)
        except OfisiError:
            session.rollback()  # the contact and the lead's link go too
            raise
        log_activity(session, lead, "booked", actor, now, details={"appointment_id": appointment.id})
    _change_status(session, lead, actor, "converted", now)
    session.commit()
    return LeadView.of(lead), appointment


# ---------------------------------------------------------------- follow-up tasks

DUE = ("overdue", "today", "upcoming")


def _tasks(session: Session, query) -> list[TaskView]:
    rows = session.execute(query.add_columns(SalonLead.name, SalonLead.phone, SalonLead.temperature, User.name)
                           .outerjoin(SalonLead, SalonLead.id == SalonTask.lead_id)
                           .outerjoin(User, User.id == SalonTask.assignee_id))
    return [TaskView(t.id, t.lead_id, name or phone or "", t.title, t.priority, t.due_at, t.done_at, temp,
                     t.assignee_id, assignee)
            for t, name, phone, temp, assignee in rows]


def list_tasks(session: Session, actor: Actor, org_id: int, *, due_before: datetime | None = None,
               due: str | None = None, assignee_id: int | None = None, include_done: bool = False,
               now: datetime | None = None, limit: int = 100) -> list[TaskView]:
    """Open tasks (or all), most urgent first: by due time, then priority. ``due`` narrows them to
    ``overdue`` (due before now), ``today`` (due from now to the end of the salon's day) or
    ``upcoming`` (after today); ``assignee_id`` to one person's."""
    org = require_salon(session, actor, org_id, "salon.leads.read")
    query = select(SalonTask).where(SalonTask.org_id == org.id)
    if not include_done:
        query = query.where(SalonTask.done_at.is_(None))
    if due_before is not None:
        query = query.where(SalonTask.due_at < due_before)
    if due is not None:
        if due not in DUE:
            raise InvalidInput(f"{due!r}: tasks are {', '.join(DUE)}.")
        now = now or utcnow()
        tz = ZoneInfo(org.timezone)
        tomorrow = datetime.combine(now.astimezone(tz).date() + timedelta(days=1), datetime.min.time(), tzinfo=tz)
        query = query.where({"overdue": SalonTask.due_at < now,
                             "today": (SalonTask.due_at >= now) & (SalonTask.due_at < tomorrow),
                             "upcoming": SalonTask.due_at >= tomorrow}[due])
    if assignee_id is not None:
        query = query.where(SalonTask.assignee_id == assignee_id)
    return _tasks(session, query.order_by(SalonTask.due_at, SalonTask.priority, SalonTask.id).limit(limit))


def _assignee(session: Session, org: Org, user_id: int | None) -> int | None:
    if user_id is None:
        return None
    if session.scalar(select(Membership.id).where(Membership.org_id == org.id, Membership.user_id == user_id)) is None:
        raise NotFound("That person is not staff of this salon.")
    return user_id


def add_task(session: Session, actor: Actor, org_id: int, *, title: str, due_at: datetime,
             assignee_id: int | None = None, lead_id: int | None = None, priority: int = 2) -> TaskView:
    """A follow-up to do by ``due_at``, for someone (or anyone), about a lead (or not)."""
    from core.salon.common import aware

    org = require_salon(session, actor, org_id, "salon.leads.write")
    title = title.strip()
    if not title:
        raise InvalidInput("Say what is to be done.")
    if priority not in (1, 2, 3):
        raise InvalidInput("A task's priority is 1 (most urgent), 2 or 3.")
    lead = _load(session, org.id, lead_id) if lead_id is not None else None
    task = SalonTask(org_id=org.id, lead_id=lead.id if lead else None, title=title[:200], priority=priority,
                     due_at=aware(due_at, "due time"), assignee_id=_assignee(session, org, assignee_id),
                     created_at=utcnow())
    session.add(task)
    session.flush()
    session.commit()
    return _tasks(session, select(SalonTask).where(SalonTask.id == task.id))[0]


def _task(session: Session, org_id: int, task_id: int) -> SalonTask:
    task = session.scalar(select(SalonTask).where(SalonTask.id == task_id, SalonTask.org_id == org_id))
    if task is None:
        raise NotFound("That task does not exist.")
    return task


def assign_task(session: Session, actor: Actor, org_id: int, task_id: int, *, assignee_id: int | None = None,
                due_at: datetime | None = None, unassign: bool = False) -> TaskView:
    """Give a task to someone (or nobody, with ``unassign``) and/or move its due time."""
    from core.salon.common import aware

    org = require_salon(session, actor, org_id, "salon.leads.write")
    task = _task(session, org.id, task_id)
    if unassign or assignee_id is not None:
        task.assignee_id = None if unassign else _assignee(session, org, assignee_id)
    if due_at is not None:
        task.due_at = aware(due_at, "due time")
    session.commit()
    return _tasks(session, select(SalonTask).where(SalonTask.id == task.id))[0]


def complete_task(session: Session, actor: Actor, org_id: int, task_id: int, *,
                  now: datetime | None = None) -> TaskView:
    now = now or utcnow()
    org = require_salon(session, actor, org_id, "salon.leads.write")
    task = _task(session, org.id, task_id)
    if task.done_at is None:
        task.done_at, task.done_by = now, actor.label
        if task.lead_id is not None:
            log_activity(session, _load(session, org.id, task.lead_id), "task_done", actor, now, note=task.title)
    session.commit()
    return _tasks(session, select(SalonTask).where(SalonTask.id == task.id))[0]
