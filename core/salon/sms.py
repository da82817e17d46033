"""SMS to a salon (``POST /sms/inbound``, routed by :mod:`core.inbound`).

Every text lands in the sender's conversation first: a client's or a lead's
thread, and a stranger who wrote to the salon's own number becomes a lead
(:func:`core.salon.conversations.record_inbound`). Then:

* ``1`` or ``2``, the answer to the reminder that asked for it, confirms or
  cancels the client's next open appointment
  (:func:`core.salon.bookings.answer_reminder`); the reply says which.
* ``BOOK <service> <day> <time>`` (``BOOK braids sat 10:00``, ``BOOK knotless
  braids 2026-03-07 14:30``) books the first professional free then, as a
  client booking (notice and horizon apply; a service with a deposit sends
  the M-Pesa prompt and holds the time). A refusal is the reply, with the
  next free times.
* anything else waits in the inbox for staff; nothing is answered automatically.

A lead writing to the shared number is routed to the salons where they are a lead.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.errors import InvalidInput, NotFound
from core.inbound import InboundSms, fallback, keyword, sender_orgs
from core.salon.availability import Unavailable, offer
from core.salon.bookings import CLIENT, answer_reminder, place_booking
from core.salon.common import day_label, list_professionals, wall_clock, when
from core.salon.conversations import record_inbound
from core.salon.schedule import salon_closed_on
from db.models import Org
from db.models_salon import SalonLead, SalonService

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TIME = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?(am|pm)?$")


@fallback("salon")
def into_the_thread(session: Session, sms: InboundSms) -> None:
    record_inbound(session, sms.org_id, sms.phone, sms.text, now=sms.received_at, inbound_id=sms.id)
    session.commit()
    return None


@keyword("1", "2", kinds=("salon",))
def reminder_answer(session: Session, sms: InboundSms) -> str | None:
    """1 confirms, 2 cancels the sender's next appointment; without one it is just a message."""
    record_inbound(session, sms.org_id, sms.phone, sms.text, now=sms.received_at, inbound_id=sms.id)
    reply = None
    if sms.contact_id is not None and not sms.rest:
        reply = answer_reminder(session, sms.org_id, sms.contact_id, sms.keyword, now=sms.received_at)
    session.commit()
    return reply


@keyword("BOOK", kinds=("salon",))
def book_by_sms(session: Session, sms: InboundSms) -> str:
    record_inbound(session, sms.org_id, sms.phone, sms.text, now=sms.received_at, inbound_id=sms.id)
    session.commit()
    org = session.get(Org, sms.org_id)
    service_id, start = read_booking(session, org, sms.rest, sms.received_at)
    tz = ZoneInfo(org.timezone)
    refusals: list[Unavailable] = []
    for pro in list_professionals(session, CLIENT, org.id):
        try:
            with session.begin_nested():
                appointment = place_booking(session, CLIENT, org.id, professional_id=pro.id, service_id=service_id,
                                            start=start, client_phone=sms.phone, source="sms",
                                            now=sms.received_at)
        except Unavailable as refused:
            refusals.append(refused)
            continue
        session.commit()
        return _booked_reply(org, appointment)
    if not refusals:
        raise NotFound("nobody takes bookings here yet; please call us.")
    free = sorted({s for r in refusals for s in r.next_free})[:3]
    closed = salon_closed_on(session, org, start.astimezone(tz).date())
    if closed is not None:  # a holiday: say so, not which stylist's hours it is outside
        raise InvalidInput(f"we are closed on {day_label(start, tz)}" + (f" ({closed.note})" if closed.note else "")
                           + f"; {offer(free, tz)}. Reply BOOK with another time.")
    reason = refusals[0].reason if len(refusals) == 1 else f"{when(start, tz)} is taken"
    raise InvalidInput(f"{reason.split(' (appointment #')[0]}; {offer(free, tz)}. Reply BOOK with another time.")


def _booked_reply(org: Org, appointment) -> str:
    """The booking's own notice (in the outbox already) says the rest; this confirms the text was read."""
    what = f"{appointment.service_name} on {when(appointment.starts_at, ZoneInfo(org.timezone))}"
    if appointment.hold_until is not None:
        return f"{org.name}: {what} is held for you; the M-Pesa prompt for the deposit is on its way."
    return f"{org.name}: we have your request for {what}; we will confirm it shortly."


def read_booking(session: Session, org: Org, text: str, now: datetime) -> tuple[int, datetime]:
    """(service id, start) from ``<service> <day> <time>``, or a refusal that says how to write it."""
    how = "write BOOK, the service, the day and the time, like: BOOK braids sat 10:00"
    words = text.lower().replace(",", " ").split()
    if len(words) < 3:
        raise InvalidInput(f"to book, {how}.")
    tz = ZoneInfo(org.timezone)
    today = now.astimezone(tz).date()
    at, day = _time(words[-1]), _day(words[-2], today)
    if at is None or day is None:
        raise InvalidInput(f"we could not read the day and time; {how}.")
    wanted = " ".join(words[:-2])
    services = session.execute(select(SalonService.id, SalonService.name).where(
        SalonService.org_id == org.id, SalonService.active.is_(True)).order_by(func.lower(SalonService.name))).all()
    exact = [s for s in services if s.name.lower() == wanted]
    found = exact or [s for s in services if wanted in s.name.lower() or s.name.lower() in wanted]
    if len(found) != 1:
        names = ", ".join(s.name for s in (found or services))
        raise InvalidInput(f"which service? We offer {names}." if names else "we take no bookings by SMS yet.")
    return found[0].id, wall_clock(datetime.combine(day, at), tz)


def _time(word: str) -> time | None:
    match = TIME.match(word)
    if match is None:
        return None
    hour, minute = int(match[1]), int(match[2] or 0)
    if match[3] == "pm" and hour < 12:
        hour += 12
    elif match[3] == "am" and hour == 12:
        hour = 0
    return time(hour, minute) if hour < 24 and minute < 60 else None


def _day(word: str, today: date) -> date | None:
    if word in ("today", "leo"):
        return today
    if word in ("tomorrow", "kesho"):
        return today + timedelta(days=1)
    if word[:3] in WEEKDAYS and (len(word) == 3 or word.startswith(("mon", "tues", "wed", "thur", "fri", "sat", "sun"))):
        return today + timedelta(days=(WEEKDAYS.index(word[:3]) - today.weekday()) % 7)
    try:
        return date.fromisoformat(word)
    except ValueError:
        pass
    parts = word.split("/")
    try:
        if len(parts) in (2, 3):
            year = int(parts[2]) if len(parts) == 3 else today.year
            found = date(year + 2000 if year < 100 else year, int(parts[1]), int(parts[0]))
            return found if len(parts) == 3 or found >= today else date(found.year + 1, found.month, found.day)
    except ValueError:
        return None
    return None


@sender_orgs
def salons_with_this_lead(session: Session, phone: str) -> list[int]:
    return list(session.scalars(select(SalonLead.org_id).where(SalonLead.phone == phone)))
