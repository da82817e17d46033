"""What the salon's home screen shows in one read: today's agenda per professional,
each professional's next free slots for a service, tasks due today and new leads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from core.actors import Actor
from core.salon.availability import free_slots
from core.salon.bookings import AppointmentView, appointments_on
from core.salon.common import ProfessionalView, list_professionals, require_salon
from core.salon.leads import LeadView, TaskView, list_leads, list_tasks
from core.salon.schedule import local_instant
from core.salon.services import ServiceView, list_services
from db.types import utcnow

SLOTS_AHEAD = timedelta(days=7)
SLOTS_SHOWN = 8


@dataclass(frozen=True)
class FreeSlot:
    professional_id: int
    professional_name: str
    service_id: int
    service_name: str
    start: datetime


@dataclass(frozen=True)
class SalonDay:
    org_id: int
    agenda: list[AppointmentView]  # today's, by professional then time
    professionals: list[ProfessionalView]
    services: list[ServiceView]
    service_id: int | None  # the service the free slots are for
    slots: list[FreeSlot]
    tasks: list[TaskView]  # open, due by the end of today
    new_leads: list[LeadView]


def salon_day(session: Session, actor: Actor, org_id: int, *, service_id: int | None = None,
              now: datetime | None = None) -> SalonDay:
    now = now or utcnow()
    org = require_salon(session, actor, org_id, "salon.bookings.read")
    tz = ZoneInfo(org.timezone)
    today = now.astimezone(tz).date()
    professionals = list_professionals(session, actor, org.id)
    services = list_services(session, actor, org.id)
    if service_id is None or service_id not in {s.id for s in services}:
        service_id = services[0].id if services else None
    agenda = [a for a in appointments_on(session, actor, org.id, today) if a.status != "cancelled"]
    agenda.sort(key=lambda a: (a.professional_name, a.starts_at))
    slots: list[FreeSlot] = []
    if service_id is not None:
        service = next(s for s in services if s.id == service_id)
        for pro in professionals:
            starts = free_slots(session, actor, org.id, pro.id, service_id, now, now + SLOTS_AHEAD, now=now)
            slots += [FreeSlot(pro.id, pro.name, service_id, service.name, s) for s in starts[:SLOTS_SHOWN]]
        slots.sort(key=lambda s: (s.start, s.professional_name))
    end_of_today = local_instant(today + timedelta(days=1), 0, tz)
    return SalonDay(org.id, agenda, professionals, services, service_id, slots,
                    list_tasks(session, actor, org.id, due_before=end_of_today),
                    list_leads(session, actor, org.id, status="new", limit=50))
