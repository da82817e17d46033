"""A professional's calendar as an iCalendar (ICS) file, for her phone's calendar app.

Each open or closed appointment (not cancelled) from a day back is a VEVENT
with a stable UID (``salon-appointment-<id>@<salon slug>``), times in UTC,
and the service and the client's first name, so re-importing updates events
instead of doubling them; a cancelled one is sent as ``STATUS:CANCELLED``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.actors import Actor
from core.salon.common import UTC, bookable_professional, require_salon
from db.models import Contact
from db.models_salon import SalonAppointment, SalonService
from db.types import utcnow

STATUS = {"pending": "TENTATIVE", "confirmed": "CONFIRMED", "completed": "CONFIRMED", "no_show": "CONFIRMED",
          "cancelled": "CANCELLED"}


def professional_calendar(session: Session, actor: Actor, org_id: int, professional_id: int, *,
                          since: datetime | None = None, days: int = 60, now: datetime | None = None) -> bytes:
    """The professional's appointments from ``since`` (a day ago) for ``days`` days, as ICS bytes."""
    org = require_salon(session, actor, org_id, "salon.bookings.read")
    pro = bookable_professional(session, org, professional_id)
    now = now or utcnow()
    since = since or now - timedelta(days=1)
    rows = session.execute(
        select(SalonAppointment, SalonService.name, Contact.name)
        .join(SalonService, SalonService.id == SalonAppointment.service_id)
        .outerjoin(Contact, Contact.id == SalonAppointment.contact_id)
        .where(SalonAppointment.org_id == org.id, SalonAppointment.professional_id == pro.id,
               SalonAppointment.starts_at >= since, SalonAppointment.starts_at < since + timedelta(days=days))
        .order_by(SalonAppointment.starts_at))
    calendar = Calendar()
    calendar.add("prodid", "-//Ofisi//Salon calendar//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{org.name}: {pro.name}")
    for appointment, service, client in rows:
        event = Event()
        event.add("uid", f"salon-appointment-{appointment.id}@{org.slug}")
        event.add("dtstamp", now.astimezone(UTC))
        event.add("dtstart", appointment.starts_at.astimezone(UTC))
        event.add("dtend", appointment.ends_at.astimezone(UTC))
        first = (client or "").split()[0] if (client or "").strip() else "client"
        event.add("summary", f"{service}: {first}")
        event.add("status", STATUS[appointment.status])
        event.add("sequence", appointment.revision)
        if appointment.notes:
            event.add("description", appointment.notes)
        calendar.add_component(event)
    return calendar.to_ical()
