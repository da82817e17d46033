"""A salon to test with: an org, a professional, a service and a client, made
through the real services, and small helpers for times on the salon's clock."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from core.actors import Actor
from core.contacts import ContactView, upsert_contact
from core.orgs import OrgView, create_org
from core.salon.common import ProfessionalView, find_professional
from core.salon.services import ServiceView, add_service
from core.salon.settings import update_booking_settings
from core.users import add_user

SYSTEM = Actor.system_actor("cli:test")
_serial = itertools.count(1)


@dataclass(frozen=True)
class Salon:
    org: OrgView
    pro: ProfessionalView
    service: ServiceView
    client: ContactView

    @property
    def tz(self) -> ZoneInfo:
        return self.org.tz

    def at(self, day: date, hh_mm: str) -> datetime:
        """An aware time on the salon's wall clock."""
        return datetime.combine(day, time.fromisoformat(hh_mm), tzinfo=self.tz)


def make_salon(
    session: Session,
    *,
    timezone: str = "Africa/Nairobi",
    country: str = "KE",
    minutes: int = 60,
    price: str = "1500",
    buffer_before: int = 0,
    buffer_after: int = 0,
    **settings,
) -> Salon:
    """A new salon with one professional (Aisha), one service and one client.

    Keyword ``settings`` (``min_notice_minutes``, ``slot_step_minutes`` …) go to
    :func:`update_booking_settings`.
    """
    n = next(_serial)
    org = create_org(session, SYSTEM, f"salon-t{n}", kind="salon",
                     name=f"Salon {n}", timezone=timezone, country=country)
    email = f"aisha.{org.slug}@example.com"
    add_user(session, SYSTEM, email, org_id=org.id, role="professional", name="Aisha Mohamed")
    pro = find_professional(session, SYSTEM, org.id, email)
    service = add_service(session, SYSTEM, org.id, name="Braids", minutes=minutes, price=price,
                          buffer_before=buffer_before, buffer_after=buffer_after)
    phone = "+254712345678" if country == "KE" else "+447911123456" if country == "GB" else "+919876543210"
    client = upsert_contact(session, SYSTEM, org.id, name="Wanjiku Kamau", phone=phone)
    if settings:
        update_booking_settings(session, SYSTEM, org.id, **settings)
    return Salon(org, pro, service, client)


def add_staff(session: Session, salon: Salon, role: str, name: str) -> Actor:
    """Another staff member of the salon, as the actor the console would sign in."""
    email = f"{name.lower()}.{salon.org.slug}@example.com"
    user = add_user(session, SYSTEM, email, org_id=salon.org.id, role=role, name=name)
    return Actor.staff(user.id, email)


def add_client(session: Session, salon: Salon, name: str, phone: str, email: str | None = None) -> ContactView:
    return upsert_contact(session, SYSTEM, salon.org.id, name=name, phone=phone, email=email)


def hhmm(slots: list[datetime]) -> list[str]:
    return [f"{s:%H:%M}" for s in slots]
