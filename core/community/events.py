"""Events, registrations, the waitlist, check-in and reminders.

Places are counted on the event row (``registered_count``), which the
database keeps at or under ``capacity`` (a CHECK). Every registration change
first locks the event row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's
``BEGIN IMMEDIATE`` already lets one writer in at a time), so 50 people
asking for 20 places at once get exactly 20 places and 30 waitlist spots,
in the order the lock admitted them. A cancellation hands its place to the
first person waitlisted (lowest registration id), who gets a notification
and an SMS through the outbox, in the same transaction.

Reminders are due work: the ``community`` planner schedules one
``community.reminder`` job per event once it is 24 hours away (key
``community:event:<id>:reminder``); its handler notifies and texts everyone
registered. The job key and the message keys make a second run do nothing.
Numbers that sent STOP get the reminder's notification but no SMS (the
outbox holds service messages back); a promotion from the waitlist is about
their own registration, and goes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from core import audit, jobs, outbox
from core.actors import Actor
from core.community.base import clock, community_org, owned, searchable
from core.errors import Conflict, InvalidInput, NotFound
from db.models import Org
from db.models_community import (
    CommunityAccount,
    CommunityEvent,
    CommunityNotification,
    CommunityProfile,
    CommunityRegistration,
)

REMIND_BEFORE = timedelta(hours=24)
ACTIVE = ("registered", "waitlisted", "attended")


@dataclass(frozen=True)
class EventView:
    id: int
    title: str
    type: str
    description: str
    starts_at: datetime
    ends_at: datetime
    venue: str
    virtual_link: str
    capacity: int
    registered: int
    waitlisted: int
    attended: int
    featured: bool
    status: str

    @property
    def fill_rate(self) -> float:
        return self.registered / self.capacity if self.capacity else 0.0


@dataclass(frozen=True)
class RegistrationView:
    id: int
    event_id: int
    account_id: int
    status: str
    name: str
    phone: str | None
    email: str | None
    created_at: datetime
    attended_at: datetime | None


def _local(org: Org, moment: datetime) -> datetime:
    """Naive times are on the org's clock; stored and returned in UTC."""
    aware = moment.replace(tzinfo=ZoneInfo(org.timezone)) if moment.tzinfo is None else moment
    return aware.astimezone(timezone.utc)


def _counts(session: Session, event_ids: list[int]) -> dict[int, tuple[int, int]]:
    """(waitlisted, attended) per event."""
    if not event_ids:
        return {}
    R = CommunityRegistration
    rows = session.execute(
        select(R.event_id, func.sum(case((R.status == "waitlisted", 1), else_=0)),
               func.sum(case((R.status == "attended", 1), else_=0)))
        .where(R.event_id.in_(event_ids)).group_by(R.event_id))
    return {event_id: (int(w or 0), int(a or 0)) for event_id, w, a in rows}


def _view(e: CommunityEvent, counts: dict[int, tuple[int, int]]) -> EventView:
    waitlisted, attended = counts.get(e.id, (0, 0))
    return EventView(e.id, e.title, e.type, e.description, e.starts_at, e.ends_at, e.venue, e.virtual_link,
                     e.capacity, e.registered_count, waitlisted, attended, e.featured, e.status)


def create_event(session: Session, actor: Actor, org_id: int, *, title: str, starts_at: datetime,
                 ends_at: datetime, capacity: int, description: str = "", type: str = "meetup", venue: str = "",
                 virtual_link: str = "", featured: bool = False, organiser_profile_id: int | None = None) -> EventView:
    org = community_org(session, actor, org_id, "community.events")
    starts, ends = _local(org, starts_at), _local(org, ends_at)
    if not title.strip():
        raise InvalidInput("An event needs a title.")
    if ends <= starts:
        raise InvalidInput("An event must end after it starts.")
    if capacity <= 0:
        raise InvalidInput("An event needs at least one place.")
    if not venue.strip() and not virtual_link.strip():
        raise InvalidInput("Say where the event is: a venue or a virtual link.")
    if organiser_profile_id is not None:
        owned(session, CommunityProfile, org_id, organiser_profile_id, "profile")
    event = CommunityEvent(org_id=org_id, title=title.strip(), description=description, type=type,
                           starts_at=starts, ends_at=ends, venue=venue, virtual_link=virtual_link,
                           capacity=capacity, featured=featured, organiser_profile_id=organiser_profile_id,
                           search_text=searchable(title, type, venue, description))
    session.add(event)
    session.flush()
    audit.record(session, actor, "community.event.create", "community_event", event.id, org_id=org_id,
                 after={"title": event.title, "starts_at": starts.isoformat(), "capacity": capacity})
    session.commit()
    return _view(event, {})


def get_event(session: Session, actor: Actor, org_id: int, event_id: int) -> EventView:
    community_org(session, actor, org_id, "community.read")
    event = owned(session, CommunityEvent, org_id, event_id, "event")
    return _view(event, _counts(session, [event.id]))


def upcoming_events(session: Session, actor: Actor, org_id: int, *, now: datetime | None = None,
                    after: tuple[datetime, int] | None = None, limit: int = 50) -> list[EventView]:
    """Scheduled events that have not ended, soonest first; page with ``after=(starts_at, id)`` of the last."""
    community_org(session, actor, org_id, "community.read")
    E = CommunityEvent
    query = select(E).where(E.org_id == org_id, E.status == "scheduled", E.ends_at > clock(now))
    if after is not None:
        query = query.where(or_(E.starts_at > after[0], (E.starts_at == after[0]) & (E.id > after[1])))
    events = list(session.scalars(query.order_by(E.starts_at, E.id).limit(limit)))
    counts = _counts(session, [e.id for e in events])
    return [_view(e, counts) for e in events]


# ---------------------------------------------------------------- registrations

def _locked_event(session: Session, org_id: int, event_id: int) -> CommunityEvent:
    event = owned(session, CommunityEvent, org_id, event_id, "event", lock=True)
    session.refresh(event)  # the counter as the lock holder left it, not as this session remembered it
    return event


def _registration_view(session: Session, r: CommunityRegistration) -> RegistrationView:
    account = session.get(CommunityAccount, r.account_id)
    name = session.scalar(select(CommunityProfile.display_name).where(
        CommunityProfile.account_id == r.account_id, CommunityProfile.is_primary)) or ""
    return RegistrationView(r.id, r.event_id, r.account_id, r.status, name, account.phone, account.email,
                            r.created_at, r.attended_at)


def register(session: Session, actor: Actor, org_id: int, event_id: int, account_id: int, *,
             source: str = "console", now: datetime | None = None) -> RegistrationView:
    """A place at the event if one is free, else a spot on the waitlist. Asking twice changes nothing."""
    community_org(session, actor, org_id, "community.events")
    now = clock(now)
    event = _locked_event(session, org_id, event_id)
    owned(session, CommunityAccount, org_id, account_id, "account")
    if event.status != "scheduled":
        raise Conflict(f"{event.title} is {event.status}; registrations are closed.")
    if event.starts_at <= now:
        raise Conflict(f"{event.title} has already started; registrations are closed.")
    registration = session.scalar(select(CommunityRegistration).where(
        CommunityRegistration.event_id == event.id, CommunityRegistration.account_id == account_id))
    if registration is not None and registration.status in ACTIVE:
        return _registration_view(session, registration)
    status = "registered" if event.registered_count < event.capacity else "waitlisted"
    if status == "registered":
        event.registered_count += 1
    if registration is None:
        registration = CommunityRegistration(org_id=org_id, event_id=event.id, account_id=account_id,
                                             status=status, source=source, created_at=now)
        session.add(registration)
    else:
        # Back after cancelling: the end of the queue, like anyone new.
        session.delete(registration)
        session.flush()
        registration = CommunityRegistration(org_id=org_id, event_id=event.id, account_id=account_id,
                                             status=status, source=source, created_at=now)
        session.add(registration)
    session.flush()
    audit.record(session, actor, "community.registration.create", "community_registration", registration.id,
                 org_id=org_id, after={"event_id": event.id, "account_id": account_id, "status": status})
    session.commit()
    return _registration_view(session, registration)


def _promote_first_waitlisted(session: Session, org: Org, event: CommunityEvent) -> CommunityRegistration | None:
    first = session.scalar(select(CommunityRegistration).where(
        CommunityRegistration.event_id == event.id, CommunityRegistration.status == "waitlisted")
        .order_by(CommunityRegistration.id).limit(1))
    if first is None:
        return None
    first.status = "registered"
    event.registered_count += 1
    when = event.starts_at.astimezone(ZoneInfo(org.timezone)).strftime("%a %d %b %H:%M")
    body = f"{org.name}: a place opened up and you are now registered for {event.title} on {when}."
    session.add(CommunityNotification(org_id=org.id, account_id=first.account_id, kind="system", body=body))
    account = session.get(CommunityAccount, first.account_id)
    if account.phone:
        outbox.enqueue(session, org.id, to=account.phone, body=body, purpose="transactional",
                       idempotency_key=f"community:registration:{first.id}:promoted")
    elif account.email:
        outbox.enqueue(session, org.id, to=account.email, channel="email", body=body, purpose="transactional",
                       subject=f"You have a place at {event.title}",
                       idempotency_key=f"community:registration:{first.id}:promoted")
    return first


def cancel_registration(session: Session, actor: Actor, org_id: int, event_id: int, account_id: int, *,
                        now: datetime | None = None) -> RegistrationView:
    """Give up a place (or a waitlist spot); the first person waitlisted takes the place."""
    org = community_org(session, actor, org_id, "community.events")
    event = _locked_event(session, org_id, event_id)
    registration = session.scalar(select(CommunityRegistration).where(
        CommunityRegistration.event_id == event.id, CommunityRegistration.account_id == account_id))
    if registration is None or registration.status not in ("registered", "waitlisted"):
        raise NotFound(f"There is no registration to cancel for {event.title}.")
    was = registration.status
    registration.status = "cancelled"
    promoted = None
    if was == "registered":
        event.registered_count -= 1
        session.flush()
        promoted = _promote_first_waitlisted(session, org, event)
    audit.record(session, actor, "community.registration.cancel", "community_registration", registration.id,
                 org_id=org_id, before={"status": was},
                 after={"status": "cancelled", "promoted_registration_id": promoted.id if promoted else None})
    session.commit()
    return _registration_view(session, registration)


def check_in(session: Session, actor: Actor, org_id: int, registration_id: int, *,
             now: datetime | None = None) -> RegistrationView:
    """Mark a registered person as attended (at the door); doing it twice changes nothing."""
    community_org(session, actor, org_id, "community.events")
    registration = owned(session, CommunityRegistration, org_id, registration_id, "registration", lock=True)
    if registration.status == "attended":
        return _registration_view(session, registration)
    if registration.status != "registered":
        raise Conflict(f"This person is {registration.status}, not registered; register them first.")
    registration.status, registration.attended_at = "attended", clock(now)
    audit.record(session, actor, "community.registration.check_in", "community_registration", registration.id,
                 org_id=org_id, before={"status": "registered"}, after={"status": "attended"})
    session.commit()
    return _registration_view(session, registration)


def list_registrations(session: Session, actor: Actor, org_id: int, event_id: int, *, search: str = "",
                       status: str | None = None, after_id: int | None = None,
                       limit: int = 50) -> list[RegistrationView]:
    """An event's registrations in queue order; ``search`` matches a name or phone (the door's look-up)."""
    community_org(session, actor, org_id, "community.read")
    owned(session, CommunityEvent, org_id, event_id, "event")
    R, A, P = CommunityRegistration, CommunityAccount, CommunityProfile
    query = (select(R, P.display_name, A.phone, A.email)
             .join(A, A.id == R.account_id)
             .outerjoin(P, (P.account_id == R.account_id) & P.is_primary)
             .where(R.event_id == event_id))
    if status:
        query = query.where(R.status == status)
    if search.strip():
        term = f"%{search.strip().lower()}%"
        digits = "".join(ch for ch in search if ch.isdigit())
        matches = [func.lower(P.display_name).like(term)]
        if len(digits) >= 3:
            matches.append(A.phone.like(f"%{digits.lstrip('0')}%"))
        query = query.where(or_(*matches))
    if after_id is not None:
        query = query.where(R.id > after_id)
    rows = session.execute(query.order_by(R.id).limit(limit))
    return [RegistrationView(r.id, r.event_id, r.account_id, r.status, name or "", phone, email, r.created_at,
                             r.attended_at) for r, name, phone, email in rows]


@dataclass(frozen=True)
class WeekActivity:
    week_start: datetime
    registrations: int
    attended: int


def activity_by_week(session: Session, actor: Actor, org_id: int, *, weeks: int = 12,
                     now: datetime | None = None) -> list[WeekActivity]:
    """Registrations made and attendances per week, oldest first (for the console's chart)."""
    community_org(session, actor, org_id, "community.read")
    now = clock(now)
    start = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    start -= timedelta(weeks=weeks - 1)
    R = CommunityRegistration
    rows = session.execute(select(R.created_at, R.attended_at).where(
        R.org_id == org_id, or_(R.created_at >= start, R.attended_at >= start)))
    made, came = [0] * weeks, [0] * weeks
    for created_at, attended_at in rows:
        for moment, bucket in ((created_at, made), (attended_at, came)):
            if moment is not None and moment >= start:
                index = (moment - start).days // 7
                if 0 <= index < weeks:
                    bucket[index] += 1
    return [WeekActivity(start + timedelta(weeks=i), made[i], came[i]) for i in range(weeks)]


# ---------------------------------------------------------------- reminders (due work)

def reminder_key(event_id: int) -> str:
    return f"community:event:{event_id}:reminder"


@jobs.planner("community")
def plan_reminders(session: Session, now: datetime) -> None:
    E = CommunityEvent
    due = session.execute(select(E.id, E.org_id, E.starts_at).where(
        E.status == "scheduled", E.starts_at > now, E.starts_at <= now + REMIND_BEFORE))
    for event_id, org_id, starts_at in due:
        jobs.schedule(session, "community.reminder", reminder_key(event_id), starts_at - REMIND_BEFORE,
                      org_id=org_id, payload={"event_id": event_id})


@jobs.handler("community.reminder")
def send_reminders(session: Session, job: jobs.DueJob) -> None:
    event = session.get(CommunityEvent, job.payload["event_id"])
    if event is None or event.status != "scheduled":
        return
    org = session.get(Org, event.org_id)
    when = event.starts_at.astimezone(ZoneInfo(org.timezone)).strftime("%a %d %b at %H:%M")
    where = event.venue or event.virtual_link
    body = f"{org.name}: a reminder that {event.title} is on {when}, {where}. Reply LEAVE {event.id} if you cannot come."
    rows = session.execute(select(CommunityRegistration.account_id, CommunityAccount.phone, CommunityAccount.email)
                           .join(CommunityAccount, CommunityAccount.id == CommunityRegistration.account_id)
                           .where(CommunityRegistration.event_id == event.id,
                                  CommunityRegistration.status == "registered"))
    for account_id, phone, email in rows:
        session.add(CommunityNotification(org_id=org.id, account_id=account_id, kind="event_reminder", body=body))
        key = f"{reminder_key(event.id)}:{account_id}"
        if phone:
            outbox.enqueue(session, org.id, to=phone, body=body, purpose="service", idempotency_key=key)
        elif email:
            outbox.enqueue(session, org.id, to=email, channel="email", body=body, purpose="service",
                           subject=f"Reminder: {event.title}", idempotency_key=key)
