"""Meetings: when and where, the agenda, who came, and the minutes (the secretary's work).

A meeting that already happened can be entered afterwards (nobody is told of it by SMS);
attendance and minutes are taken on or after the meeting's day, never before, so a meeting
still to come stays scheduled (and the "next meeting") until it is held.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.actors import Actor
from core.chama.base import chama_org, contact_of, local_today, locked, member_row, notify_member, org_zone
from core.errors import Conflict, InvalidInput, NotFound
from db.models import Org
from db.models_chama import ChamaAttendance, ChamaMeeting, ChamaMember
from db.types import utcnow

ATTENDANCE = ("present", "late", "apology", "absent")


@dataclass(frozen=True)
class AttendanceView:
    member_id: int
    name: str
    member_number: str
    status: str


@dataclass(frozen=True)
class MeetingView:
    id: int
    org_id: int
    starts_at: datetime
    venue: str
    agenda: str
    minutes: str
    status: str
    attendance: list[AttendanceView]

    def tally(self) -> dict[str, int]:
        """How many members had each attendance mark."""
        return {mark: sum(a.status == mark for a in self.attendance) for mark in ATTENDANCE}


def _view(session: Session, meeting: ChamaMeeting) -> MeetingView:
    rows = session.execute(
        select(ChamaAttendance, ChamaMember).join(ChamaMember, ChamaMember.id == ChamaAttendance.member_id)
        .where(ChamaAttendance.meeting_id == meeting.id).order_by(ChamaMember.id))
    attendance = [AttendanceView(m.id, contact_of(session, m).name, m.member_number, a.status) for a, m in rows]
    return MeetingView(meeting.id, meeting.org_id, meeting.starts_at, meeting.venue, meeting.agenda,
                       meeting.minutes, meeting.status, attendance)


def _meeting(session: Session, org: Org, meeting_id: int) -> ChamaMeeting:
    return locked(session, ChamaMeeting, org.id, meeting_id, f"There is no meeting {meeting_id} in {org.name}.")


def _tell_everyone(session: Session, org: Org, text: str, key: str) -> None:
    for member in session.scalars(select(ChamaMember).where(ChamaMember.org_id == org.id,
                                                            ChamaMember.status == "active")):
        notify_member(session, org, member, text, f"{org.id}:{key}:{member.id}", purpose="service")


def schedule_meeting(session: Session, actor: Actor, org_id: int, *, starts_at: datetime, venue: str,
                     agenda: str = "", notify: bool = True) -> MeetingView:
    """Put a meeting in the calendar and, with ``notify``, tell every active member by SMS."""
    org = chama_org(session, actor, org_id, "chama.meetings")
    if starts_at.tzinfo is None:
        raise InvalidInput("A meeting time needs a time zone.")
    if starts_at < utcnow():
        notify = False  # entered after it happened: nobody is invited to the past
    if not venue.strip():
        raise InvalidInput("Say where the meeting is.")
    meeting = ChamaMeeting(org_id=org.id, starts_at=starts_at, venue=venue.strip(), agenda=agenda.strip(),
                           created_by=actor.label)
    session.add(meeting)
    session.flush()
    audit.record(session, actor, "chama.meeting.schedule", "chama_meeting", meeting.id, org_id=org.id,
                 after={"starts_at": starts_at.isoformat(), "venue": meeting.venue})
    if notify:
        when = starts_at.astimezone(org_zone(org))
        _tell_everyone(session, org, f"meeting on {when:%a %d %b %Y at %H:%M} at {meeting.venue}.",
                       f"meeting:{meeting.id}")
    session.commit()
    return _view(session, meeting)


def record_attendance(session: Session, actor: Actor, org_id: int, meeting_id: int,
                      attendance: dict[int, str]) -> MeetingView:
    """Mark members present, late, apology or absent; marking again changes the mark."""
    org = chama_org(session, actor, org_id, "chama.meetings")
    meeting = _meeting(session, org, meeting_id)
    if meeting.status == "cancelled":
        raise Conflict(f"Meeting {meeting.id} was cancelled; there is no attendance to take.")
    _refuse_before_the_day(org, meeting, "attendance is taken")
    existing = {a.member_id: a for a in session.scalars(
        select(ChamaAttendance).where(ChamaAttendance.meeting_id == meeting.id))}
    changes = {}
    for member_id, status in attendance.items():
        status = status.strip().lower()
        if status not in ATTENDANCE:
            raise InvalidInput(f"{status!r} is not an attendance mark; use one of {', '.join(ATTENDANCE)}.")
        member = member_row(session, org.id, member_id)
        row = existing.get(member.id)
        if row is None:
            session.add(ChamaAttendance(org_id=org.id, meeting_id=meeting.id, member_id=member.id, status=status))
        elif row.status != status:
            row.status = status
        else:
            continue
        changes[str(member.id)] = status
    if changes:
        meeting.status = "held"
        audit.record(session, actor, "chama.meeting.attendance", "chama_meeting", meeting.id, org_id=org.id,
                     after=changes)
    session.commit()
    return _view(session, meeting)


def record_minutes(session: Session, actor: Actor, org_id: int, meeting_id: int, minutes: str) -> MeetingView:
    org = chama_org(session, actor, org_id, "chama.meetings")
    meeting = _meeting(session, org, meeting_id)
    if not minutes.strip():
        raise InvalidInput("The minutes are empty.")
    if meeting.status == "cancelled":
        raise Conflict(f"Meeting {meeting.id} was cancelled; it has no minutes.")
    _refuse_before_the_day(org, meeting, "its minutes are written")
    before = meeting.minutes
    meeting.minutes, meeting.status = minutes.strip(), "held"
    audit.record(session, actor, "chama.meeting.minutes", "chama_meeting", meeting.id, org_id=org.id,
                 before={"minutes": before} if before else None, after={"minutes": meeting.minutes})
    session.commit()
    return _view(session, meeting)


def _refuse_before_the_day(org: Org, meeting: ChamaMeeting, what: str) -> None:
    day = meeting.starts_at.astimezone(org_zone(org)).date()
    if day > local_today(org):
        raise Conflict(f"Meeting {meeting.id} is on {day:%d %b %Y}; {what} on or after that day.")


def get_meeting(session: Session, actor: Actor, org_id: int, meeting_id: int) -> MeetingView:
    """One meeting with its agenda, minutes and attendance: the meeting's statement."""
    org = chama_org(session, actor, org_id, "chama.read")
    meeting = session.get(ChamaMeeting, meeting_id)
    if meeting is None or meeting.org_id != org.id:
        raise NotFound(f"There is no meeting {meeting_id} in {org.name}.")
    return _view(session, meeting)


def cancel_meeting(session: Session, actor: Actor, org_id: int, meeting_id: int, *, reason: str) -> MeetingView:
    org = chama_org(session, actor, org_id, "chama.meetings")
    meeting = _meeting(session, org, meeting_id)
    if meeting.status != "scheduled":
        raise Conflict(f"Meeting {meeting.id} is {meeting.status}; only a scheduled meeting can be cancelled.")
    meeting.status = "cancelled"
    audit.record(session, actor, "chama.meeting.cancel", "chama_meeting", meeting.id, org_id=org.id,
                 after={"reason": reason.strip()})
    _tell_everyone(session, org, f"the meeting of {meeting.starts_at.astimezone(org_zone(org)):%d %b} "
                   f"is cancelled: {reason.strip()}.", f"meeting:{meeting.id}:cancel")
    session.commit()
    return _view(session, meeting)


def list_meetings(session: Session, actor: Actor, org_id: int, *, upcoming: bool | None = None,
                  limit: int = 50) -> list[MeetingView]:
    """Meetings by time: upcoming ones soonest first, past ones latest first, or all latest first."""
    org = chama_org(session, actor, org_id, "chama.read")
    query = select(ChamaMeeting).where(ChamaMeeting.org_id == org.id)
    now = utcnow()
    if upcoming:
        query = query.where(ChamaMeeting.starts_at >= now, ChamaMeeting.status == "scheduled") \
            .order_by(ChamaMeeting.starts_at)
    elif upcoming is False:
        query = query.where(ChamaMeeting.starts_at < now).order_by(ChamaMeeting.starts_at.desc())
    else:
        query = query.order_by(ChamaMeeting.starts_at.desc())
    return [_view(session, m) for m in session.scalars(query.limit(limit))]


def next_meeting(session: Session, actor: Actor, org_id: int) -> MeetingView | None:
    """The next scheduled meeting (USSD option 5), or None."""
    upcoming = list_meetings(session, actor, org_id, upcoming=True, limit=1)
    return upcoming[0] if upcoming else None
