"""Events, registrations, the waitlist, check-in, changes and cancellations, reminders.

Places are counted on the event row (``registered_count``: people registered
or attended), which the database keeps at or under ``capacity`` (a CHECK).
Every registration change first locks the event row (``SELECT … FOR UPDATE``
on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already lets one writer in at a
time), so 50 people asking for 20 places at once get exactly 20 places and 30
waitlist spots, in the order the lock admitted them.

The waitlist is served in the order people asked (``created_at``, then id).
A place that frees up before the event starts goes to the first of them, who
is told (notification, and an SMS or an email) in the same transaction; once
an event has started nobody leaves it and nobody is promoted into it. A
smaller capacity moves the last people registered back to the front of the
waitlist and tells them; a larger one promotes. Changing the time or the
place tells everyone registered or waitlisted; cancelling tells them too.
Events are cancelled, never deleted. An event cannot be created in the past
or moved there.

Staff registering someone (console, CLI, USSD) sends a confirmation; an SMS
``JOIN`` is confirmed by its reply. Emails about an event carry its ``.ics``
invitation, built when the email is sent (:func:`event_ics`), so it is the
event as it is then.

Reminders are due work: the ``community`` planner schedules one
``community.reminder`` job per event once it is 24 hours away (key
``community:event:<id>:reminder``); its handler notifies and texts everyone
registered. The job key and the message keys make a second run do nothing.
Numbers that sent STOP get the notification but no SMS (the outbox holds
service messages back).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from core import audit, jobs, outbox
from core.actors import Actor
from core.community.base import (
    clock,
    community_org,
    member,
    owned,
    refuse_if_suspended,
    searchable,
    tell,
    when,
)
from core.errors import Conflict, InvalidInput, NotFound
from core.providers import Attachment
from db.models import AuditEntry, Org
from db.models_community import (
    CommunityAccount,
    CommunityEvent,
    CommunityNotification,
    CommunityProfile,
    CommunityRegistration,
)

REMIND_BEFORE = timedelta(hours=24)
ACTIVE = ("registered", "waitlisted", "attended")
HOLDS_A_PLACE = ("registered", "attended")


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
    cancel_reason: str | None = None

    @property
    def fill_rate(self) -> float:
        return self.registered / self.capacity if self.capacity else 0.0

    @property
    def place(self) -> str:
        return self.venue or self.virtual_link


@dataclass(frozen=True)
class RegistrationView:
    id: int
    event_id: int
    account_id: int | None
    status: str
    name: str
    phone: str | None
    email: str | None
    created_at: datetime
    attended_at: datetime | None


@dataclass(frozen=True)
class EventChange:
    """What an edit did: the event as it is now, who moved to the waitlist, who was promoted, who was told."""

    event: EventView
    moved_to_waitlist: int
    promoted: int
    told: int


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
                     e.capacity, e.registered_count, waitlisted, attended, e.featured, e.status, e.cancel_reason)


def _future(org: Org, moment: datetime, now: datetime) -> None:
    if moment <= now:
        raise InvalidInput(f"{when(org, moment, '%Y-%m-%d %H:%M')} has passed ({org.timezone}); "
                           "an event must start in the future.")


def _where(venue: str, virtual_link: str) -> None:
    if not venue.strip() and not virtual_link.strip():
        raise InvalidInput("Say where the event is: a venue or a virtual link.")


def create_event(session: Session, actor: Actor, org_id: int, *, title: str, starts_at: datetime,
                 ends_at: datetime, capacity: int, description: str = "", type: str = "meetup", venue: str = "",
                 virtual_link: str = "", featured: bool = False, organiser_profile_id: int | None = None,
                 now: datetime | None = None) -> EventView:
    org = community_org(session, actor, org_id, "community.events")
    starts, ends = _local(org, starts_at), _local(org, ends_at)
    if not title.strip():
        raise InvalidInput("An event needs a title.")
    _future(org, starts, clock(now))
    if ends <= starts:
        raise InvalidInput("An event must end after it starts.")
    if capacity <= 0:
        raise InvalidInput("An event needs at least one place.")
    _where(venue, virtual_link)
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


def past_events(session: Session, actor: Actor, org_id: int, *, now: datetime | None = None,
                before: tuple[datetime, int] | None = None, limit: int = 50) -> list[EventView]:
    """Events that have ended or were cancelled, latest first; page with ``before=(starts_at, id)`` of the last."""
    community_org(session, actor, org_id, "community.read")
    E = CommunityEvent
    query = select(E).where(E.org_id == org_id, or_(E.ends_at <= clock(now), E.status == "cancelled"))
    if before is not None:
        query = query.where(or_(E.starts_at < before[0], (E.starts_at == before[0]) & (E.id < before[1])))
    events = list(session.scalars(query.order_by(E.starts_at.desc(), E.id.desc()).limit(limit)))
    counts = _counts(session, [e.id for e in events])
    return [_view(e, counts) for e in events]


# ---------------------------------------------------------------- registrations

def _locked_event(session: Session, org_id: int, event_id: int) -> CommunityEvent:
    event = owned(session, CommunityEvent, org_id, event_id, "event", lock=True)
    session.refresh(event)  # the counter as the lock holder left it, not as this session remembered it
    return event


def _open(event: CommunityEvent, now: datetime, doing: str) -> None:
    if event.status != "scheduled":
        raise Conflict(f"{event.title} is {event.status}; {doing}.")
    if event.starts_at <= now:
        raise Conflict(f"{event.title} has already started; {doing}.")


def _registration_view(session: Session, r: CommunityRegistration) -> RegistrationView:
    account = session.get(CommunityAccount, r.account_id) if r.account_id is not None else None
    name = session.scalar(select(CommunityProfile.display_name).where(
        CommunityProfile.account_id == r.account_id, CommunityProfile.is_primary)) or ""
    return RegistrationView(r.id, r.event_id, r.account_id, r.status, name, account.phone if account else None,
                            account.email if account else None, r.created_at, r.attended_at)


def event_key(event_id: int, what: str) -> str:
    """Idempotency keys of messages about an event; emails with them carry its invitation."""
    return f"community:event:{event_id}:{what}"


def _tell_about(session: Session, org: Org, event: CommunityEvent, account_id: int | None, body: str,
                what: str, subject: str) -> int:
    """Tell one person about the event; 1 if a message went, else 0."""
    account = session.get(CommunityAccount, account_id) if account_id is not None else None
    if account is None:
        return 0
    sent = tell(session, org, account, body, key=event_key(event.id, f"{what}:{account.id}"), subject=subject)
    return 0 if sent is None else 1


def _confirmation(org: Org, event: CommunityEvent, status: str) -> str:
    if status == "waitlisted":
        return (f"{org.name}: {event.title} on {when(org, event.starts_at)} is full; you are on the waitlist "
                f"and we will tell you if a place opens. Reply LEAVE {event.id} to leave it.")
    return (f"{org.name}: you are registered for {event.title} on {when(org, event.starts_at)}, "
            f"{event.venue or event.virtual_link}. Reply LEAVE {event.id} if you cannot come.")


def register(session: Session, actor: Actor, org_id: int, event_id: int, account_id: int, *,
             source: str = "console", confirm: bool = True, now: datetime | None = None) -> RegistrationView:
    """A place at the event if one is free, else a spot on the waitlist. Asking twice changes nothing.

    ``confirm`` sends the member a confirmation (SMS, or email with the invitation);
    the SMS ``JOIN`` answers with its reply instead.
    """
    org = community_org(session, actor, org_id, "community.events")
    now = clock(now)
    event = _locked_event(session, org_id, event_id)
    account = member(session, org_id, account_id)
    refuse_if_suspended(account)
    _open(event, now, "registrations are closed")
    registration = session.scalar(select(CommunityRegistration).where(
        CommunityRegistration.event_id == event.id, CommunityRegistration.account_id == account_id))
    if registration is not None and registration.status in ACTIVE:
        return _registration_view(session, registration)
    status = "registered" if event.registered_count < event.capacity else "waitlisted"
    if status == "registered":
        event.registered_count += 1
    if registration is not None:
        # Back after cancelling: the end of the queue, like anyone new.
        session.delete(registration)
        session.flush()
    registration = CommunityRegistration(org_id=org_id, event_id=event.id, account_id=account_id,
                                         status=status, source=source, created_at=now)
    session.add(registration)
    session.flush()
    if confirm:
        _tell_about(session, org, event, account_id, _confirmation(org, event, status),
                    f"registration:{registration.id}", f"{event.title}: you are {status}")
    audit.record(session, actor, "community.registration.create", "community_registration", registration.id,
                 org_id=org_id, after={"event_id": event.id, "account_id": account_id, "status": status})
    session.commit()
    return _registration_view(session, registration)


def _waitlist(session: Session, event_id: int):
    R = CommunityRegistration
    return select(R).where(R.event_id == event_id, R.status == "waitlisted").order_by(R.created_at, R.id)


def fill_places(session: Session, org: Org, event: CommunityEvent, now: datetime) -> list[int]:
    """Give free places to the waitlist in order, telling each person; before the event only.

    For services that hold the event's lock (no permission check); returns the promoted registrations' ids.
    """
    promoted: list[int] = []
    if event.status != "scheduled" or event.starts_at <= now:
        return promoted
    while event.registered_count < event.capacity:
        first = session.scalar(_waitlist(session, event.id).limit(1))
        if first is None:
            break
        first.status = "registered"
        event.registered_count += 1
        session.flush()
        _tell_about(session, org, event, first.account_id,
                    f"{org.name}: a place opened up and you are now registered for {event.title} on "
                    f"{when(org, event.starts_at)}.", f"registration:{first.id}:promoted",
                    f"You have a place at {event.title}")
        promoted.append(first.id)
    return promoted


def release(session: Session, org: Org, event: CommunityEvent, registration: CommunityRegistration,
            now: datetime) -> list[int]:
    """Cancel one registration under the event's lock: its place goes to the waitlist (before the event)."""
    was = registration.status
    registration.status = "cancelled"
    if was == "registered":
        event.registered_count -= 1
        session.flush()
        return fill_places(session, org, event, now)
    return []


def cancel_registration(session: Session, actor: Actor, org_id: int, event_id: int, account_id: int, *,
                        tell_member: bool = True, now: datetime | None = None) -> RegistrationView:
    """Give up a place (or a waitlist spot) before the event starts; the first person waitlisted takes it."""
    org = community_org(session, actor, org_id, "community.events")
    now = clock(now)
    event = _locked_event(session, org_id, event_id)
    registration = session.scalar(select(CommunityRegistration).where(
        CommunityRegistration.event_id == event.id, CommunityRegistration.account_id == account_id))
    if registration is None or registration.status not in ("registered", "waitlisted"):
        raise NotFound(f"There is no registration to cancel for {event.title}.")
    _open(event, now, "its registrations can no longer be cancelled")
    was = registration.status
    promoted = release(session, org, event, registration, now)
    if tell_member:
        _tell_about(session, org, event, account_id,
                    f"{org.name}: your registration for {event.title} on {when(org, event.starts_at)} is cancelled.",
                    f"registration:{registration.id}:cancelled", f"{event.title}: registration cancelled")
    audit.record(session, actor, "community.registration.cancel", "community_registration", registration.id,
                 org_id=org_id, before={"status": was},
                 after={"status": "cancelled", "promoted_registration_ids": promoted})
    session.commit()
    return _registration_view(session, registration)


def check_in(session: Session, actor: Actor, org_id: int, registration_id: int, *,
             now: datetime | None = None) -> RegistrationView:
    """Mark a registered person as attended (at the door); doing it twice changes nothing."""
    community_org(session, actor, org_id, "community.events")
    registration = owned(session, CommunityRegistration, org_id, registration_id, "registration", lock=True)
    if registration.status == "attended":
        return _registration_view(session, registration)
    if registration.status == "waitlisted":
        raise Conflict("This person is on the waitlist; admit them from the waitlist instead.")
    if registration.status != "registered":
        raise Conflict(f"This registration is {registration.status}; register them again first.")
    registration.status, registration.attended_at = "attended", clock(now)
    audit.record(session, actor, "community.registration.check_in", "community_registration", registration.id,
                 org_id=org_id, before={"status": "registered"}, after={"status": "attended"})
    session.commit()
    return _registration_view(session, registration)


def admit(session: Session, actor: Actor, org_id: int, registration_id: int, *,
          now: datetime | None = None) -> tuple[RegistrationView, bool]:
    """Let a waitlisted person in at the door: they take a free place, or the event grows by one.

    Returns the registration and whether the capacity was raised for them.
    """
    community_org(session, actor, org_id, "community.events")
    registration = owned(session, CommunityRegistration, org_id, registration_id, "registration")
    if registration.status != "waitlisted":
        raise Conflict(f"This person is {registration.status}, not on the waitlist.")
    event = _locked_event(session, org_id, registration.event_id)
    session.refresh(registration)
    if event.status != "scheduled":
        raise Conflict(f"{event.title} is {event.status}.")
    raised = event.registered_count >= event.capacity
    if raised:
        event.capacity += 1  # the door decides: one more in the room
    event.registered_count += 1
    registration.status, registration.attended_at = "attended", clock(now)
    audit.record(session, actor, "community.registration.admit", "community_registration", registration.id,
                 org_id=org_id, before={"status": "waitlisted"},
                 after={"status": "attended", "capacity": event.capacity, "capacity_raised": raised})
    session.commit()
    return _registration_view(session, registration), raised


def list_registrations(session: Session, actor: Actor, org_id: int, event_id: int, *, search: str = "",
                       status: str | None = None, after_id: int | None = None,
                       limit: int = 50) -> list[RegistrationView]:
    """An event's registrations in queue order; ``search`` matches a name or phone (the door's look-up)."""
    community_org(session, actor, org_id, "community.read")
    owned(session, CommunityEvent, org_id, event_id, "event")
    R, A, P = CommunityRegistration, CommunityAccount, CommunityProfile
    query = (select(R, P.display_name, A.phone, A.email)
             .outerjoin(A, A.id == R.account_id)
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


# ---------------------------------------------------------------- changing and cancelling

def _people(session: Session, event_id: int, statuses: tuple[str, ...]) -> list[CommunityRegistration]:
    R = CommunityRegistration
    return list(session.scalars(select(R).where(R.event_id == event_id, R.status.in_(statuses),
                                                R.account_id.is_not(None)).order_by(R.id)))


def update_event(session: Session, actor: Actor, org_id: int, event_id: int, *, title: str | None = None,
                 starts_at: datetime | None = None, ends_at: datetime | None = None, venue: str | None = None,
                 virtual_link: str | None = None, capacity: int | None = None, description: str | None = None,
                 now: datetime | None = None) -> EventChange:
    """Change an event that has not ended. A new start keeps the length unless ``ends_at`` is given.

    Fewer places move the last people registered to the front of the waitlist;
    more places promote from it; a new time or place is told to everyone who
    is registered or waitlisted.
    """
    org = community_org(session, actor, org_id, "community.events")
    now = clock(now)
    event = _locked_event(session, org_id, event_id)
    if event.status != "scheduled":
        raise Conflict(f"{event.title} is {event.status}; it cannot be changed.")
    if event.ends_at <= now:
        raise Conflict(f"{event.title} has ended; it cannot be changed.")
    before = {"title": event.title, "starts_at": event.starts_at.isoformat(), "ends_at": event.ends_at.isoformat(),
              "venue": event.venue, "virtual_link": event.virtual_link, "capacity": event.capacity}
    if title is not None:
        if not title.strip():
            raise InvalidInput("An event needs a title.")
        event.title = title.strip()
    if starts_at is not None or ends_at is not None:
        if event.starts_at <= now:
            raise Conflict(f"{event.title} has started; its time can no longer change.")
        starts = _local(org, starts_at) if starts_at is not None else event.starts_at
        ends = _local(org, ends_at) if ends_at is not None else starts + (event.ends_at - event.starts_at)
        _future(org, starts, now)
        if ends <= starts:
            raise InvalidInput("An event must end after it starts.")
        event.starts_at, event.ends_at = starts, ends
    if venue is not None:
        event.venue = venue.strip()
    if virtual_link is not None:
        event.virtual_link = virtual_link.strip()
    _where(event.venue, event.virtual_link)
    if description is not None:
        event.description = description
    moved, promoted = 0, []
    if capacity is not None:
        if capacity <= 0:
            raise InvalidInput("An event needs at least one place.")
        attended = len(_people(session, event.id, ("attended",)))
        if capacity < attended:
            raise Conflict(f"{attended} people have already attended {event.title}; it needs at least "
                           f"{attended} places.")
        event.capacity = max(capacity, event.registered_count)
        session.flush()
        R = CommunityRegistration
        last_first = list(session.scalars(select(R).where(R.event_id == event.id, R.status == "registered")
                                          .order_by(R.created_at.desc(), R.id.desc())
                                          .limit(max(0, event.registered_count - capacity))))
        for registration in last_first:
            registration.status = "waitlisted"  # they asked before anyone waiting: first in the queue
            event.registered_count -= 1
            moved += 1
            _tell_about(session, org, event, registration.account_id,
                        f"{org.name}: {event.title} now has fewer places and yours is no longer held; you are "
                        f"first on the waitlist and we will tell you if a place opens. Reply LEAVE {event.id} "
                        "to leave it.", f"registration:{registration.id}:to-waitlist:{capacity}",
                        f"{event.title}: you are on the waitlist")
        session.flush()
        event.capacity = capacity
        promoted = fill_places(session, org, event, now)
    told = 0
    moved_time = event.starts_at.isoformat() != before["starts_at"]
    moved_place = (event.venue, event.virtual_link) != (before["venue"], before["virtual_link"])
    if moved_time or moved_place:
        stamp = f"{event.starts_at:%Y%m%d%H%M}:{len(event.venue)}:{len(event.virtual_link)}"
        for registration in _people(session, event.id, ("registered", "waitlisted")):
            told += _tell_about(session, org, event, registration.account_id,
                                f"{org.name}: {event.title} has changed: now {when(org, event.starts_at)}, "
                                f"{event.venue or event.virtual_link}.",
                                f"changed:{stamp}:{registration.id}", f"{event.title} has changed")
    event.search_text = searchable(event.title, event.type, event.venue, event.description)
    after = {"title": event.title, "starts_at": event.starts_at.isoformat(), "ends_at": event.ends_at.isoformat(),
             "venue": event.venue, "virtual_link": event.virtual_link, "capacity": event.capacity}
    audit.record(session, actor, "community.event.update", "community_event", event.id, org_id=org_id,
                 before={k: v for k, v in before.items() if after[k] != v},
                 after={**{k: v for k, v in after.items() if before[k] != v}, "moved_to_waitlist": moved,
                        "promoted_registration_ids": promoted})
    session.commit()
    return EventChange(_view(event, _counts(session, [event.id])), moved, len(promoted), told)


def cancel_event(session: Session, actor: Actor, org_id: int, event_id: int, *, reason: str,
                 now: datetime | None = None) -> EventChange:
    """Call an event off; everyone registered or waitlisted is told (SMS, or email with the cancelled invitation)."""
    org = community_org(session, actor, org_id, "community.events")
    now = clock(now)
    if not reason.strip():
        raise InvalidInput("Say why the event is cancelled; the people registered are told.")
    event = _locked_event(session, org_id, event_id)
    if event.status == "cancelled":
        raise Conflict(f"{event.title} is already cancelled.")
    if event.ends_at <= now:
        raise Conflict(f"{event.title} has already happened.")
    event.status, event.cancelled_at, event.cancel_reason = "cancelled", now, reason.strip()
    session.flush()
    told = 0
    for registration in _people(session, event.id, ("registered", "waitlisted")):
        told += _tell_about(session, org, event, registration.account_id,
                            f"{org.name}: {event.title} on {when(org, event.starts_at)} is cancelled: "
                            f"{event.cancel_reason}. Sorry for the change.",
                            f"cancelled:{registration.id}", f"Cancelled: {event.title}")
    audit.record(session, actor, "community.event.cancel", "community_event", event.id, org_id=org_id,
                 before={"status": "scheduled"}, after={"status": "cancelled", "reason": event.cancel_reason,
                                                        "told": told})
    session.commit()
    return EventChange(_view(event, _counts(session, [event.id])), 0, 0, told)


# ---------------------------------------------------------------- attendance export and the invitation

ATTENDANCE_COLUMNS = ["registration", "name", "phone", "email", "status", "registered at", "attended at"]


def attendance(session: Session, actor: Actor, org_id: int, event_id: int) -> tuple[EventView, list[list]]:
    """The event and one row per registration (times on the community's clock), for a spreadsheet."""
    org = community_org(session, actor, org_id, "community.read")
    event = get_event(session, actor, org_id, event_id)
    rows, after = [], None
    while True:
        page = list_registrations(session, actor, org_id, event_id, after_id=after, limit=500)
        rows += [[r.id, r.name or "(removed member)", r.phone or "", r.email or "", r.status,
                  when(org, r.created_at, "%Y-%m-%d %H:%M"),
                  when(org, r.attended_at, "%Y-%m-%d %H:%M") if r.attended_at else ""] for r in page]
        if len(page) < 500:
            return event, rows
        after = page[-1].id


def export_attendance(session: Session, actor: Actor, org_id: int, event_id: int, out: Path | IO, *,
                      fmt: str) -> int:
    """Write the attendance as ``csv`` (to a text stream or path) or ``xlsx``; returns the rows written."""
    from core.spreadsheets import write_csv, write_xlsx

    event, rows = attendance(session, actor, org_id, event_id)
    if fmt == "xlsx":
        return write_xlsx(out, ATTENDANCE_COLUMNS, rows, title=event.title)
    if fmt != "csv":
        raise InvalidInput("Export attendance as csv or xlsx.")
    if isinstance(out, Path):
        with out.open("w", newline="", encoding="utf-8") as fh:
            return write_csv(fh, ATTENDANCE_COLUMNS, rows)
    return write_csv(out, ATTENDANCE_COLUMNS, rows)


def _ics(org: Org, event: CommunityEvent, sequence: int) -> bytes:
    from icalendar import Calendar, Event  # only where an invitation is made

    tz = ZoneInfo(org.timezone)
    calendar = Calendar()
    calendar.add("prodid", "-//Ofisi//Community events//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if event.status == "cancelled" else "PUBLISH")
    item = Event()
    item.add("uid", f"community-event-{event.id}@{org.slug}.ofisi")
    item.add("sequence", sequence)
    item.add("dtstamp", datetime.now(timezone.utc))
    item.add("dtstart", event.starts_at.astimezone(tz))
    item.add("dtend", event.ends_at.astimezone(tz))
    item.add("summary", event.title)
    item.add("location", event.venue or event.virtual_link)
    if event.virtual_link:
        item.add("url", event.virtual_link)
    if event.description:
        item.add("description", event.description)
    item.add("organizer", f"MAILTO:noreply@{org.slug}.ofisi", parameters={"CN": org.name})
    item.add("status", "CANCELLED" if event.status == "cancelled" else "CONFIRMED")
    calendar.add_component(item)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def _sequence(session: Session, event: CommunityEvent) -> int:
    """How many times the event changed: calendars take the invitation with the highest."""
    return session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.entity == "community_event", AuditEntry.entity_id == str(event.id),
        AuditEntry.action.in_(("community.event.update", "community.event.cancel")))) or 0


def event_ics(session: Session, actor: Actor, org_id: int, event_id: int) -> bytes:
    """The event as an iCalendar invitation (times in the community's zone, with its VTIMEZONE)."""
    org = community_org(session, actor, org_id, "community.read")
    event = owned(session, CommunityEvent, org_id, event_id, "event")
    return _ics(org, event, _sequence(session, event))


@outbox.attachments("community:event:")
def invitation(session: Session, org_id: int, key: str) -> list[Attachment]:
    """An email about an event carries its invitation as the event is when the email goes."""
    event = session.get(CommunityEvent, int(key.split(":")[2]))
    if event is None or event.org_id != org_id:
        return []
    org = session.get(Org, org_id)
    return [Attachment(f"event-{event.id}.ics", "text/calendar", _ics(org, event, _sequence(session, event)))]


# ---------------------------------------------------------------- activity

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
    return event_key(event_id, "reminder")


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
    where = event.venue or event.virtual_link
    body = (f"{org.name}: a reminder that {event.title} is on {when(org, event.starts_at, '%a %d %b at %H:%M')}, "
            f"{where}. Reply LEAVE {event.id} if you cannot come.")
    rows = session.execute(select(CommunityRegistration.account_id, CommunityAccount.phone, CommunityAccount.email)
                           .join(CommunityAccount, CommunityAccount.id == CommunityRegistration.account_id)
                           .where(CommunityRegistration.event_id == event.id,
                                  CommunityRegistration.status == "registered",
                                  CommunityAccount.status == "active"))
    for account_id, phone, email in rows:
        session.add(CommunityNotification(org_id=org.id, account_id=account_id, kind="event_reminder", body=body))
        key = f"{reminder_key(event.id)}:{account_id}"
        if phone:
            outbox.enqueue(session, org.id, to=phone, body=body, purpose="service", idempotency_key=key)
        elif email:
            outbox.enqueue(session, org.id, to=email, channel="email", body=body, purpose="service",
                           subject=f"Reminder: {event.title}", idempotency_key=key)
