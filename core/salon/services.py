"""The salon's menu: services with a duration, a price, and buffers before and after.

Prices are what a person types (``1,500``, ``KES 1500.50``), stored as minor
units of the org's currency. A service is never deleted, only retired
(inactive), because appointments keep pointing at what was booked; and an
appointment keeps the price it was booked at, so changing a price leaves the
history as it was (the audit log keeps every change). A service may ask
clients booking by SMS or a form for a deposit, paid by M-Pesa (so only in
Kenyan shillings).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit
from core.actors import Actor
from core.errors import Conflict, InvalidInput, NotFound
from core.money import exponent, format_money, parse_money
from core.payments import CURRENCY as MPESA_CURRENCY
from core.salon.common import require_salon
from db.models import Org
from db.models_salon import SalonService

# A service with its buffers fits in half a day; availability bounds its overlap searches by this.
MAX_SPAN_MINUTES = 12 * 60


@dataclass(frozen=True)
class ServiceView:
    id: int
    org_id: int
    name: str
    category: str
    minutes: int
    price_minor: int
    currency: str
    buffer_before: int
    buffer_after: int
    active: bool
    created_at: datetime
    deposit_minor: int = 0

    @property
    def price(self) -> str:
        return format_money(self.price_minor, self.currency)

    @property
    def deposit(self) -> str:
        return format_money(self.deposit_minor, self.currency) if self.deposit_minor else ""

    @classmethod
    def of(cls, s: SalonService, currency: str) -> ServiceView:
        return cls(s.id, s.org_id, s.name, s.category, s.minutes, s.price_minor, currency,
                   s.buffer_before, s.buffer_after, s.active, s.created_at, s.deposit_minor)


def load_service(session: Session, org_id: int, service_id: int) -> SalonService:
    service = session.get(SalonService, service_id)
    # Another salon's service looks exactly like a missing one.
    if service is None or service.org_id != org_id:
        raise NotFound("That service does not exist.")
    return service


def _check_shape(minutes: int, buffer_before: int, buffer_after: int) -> None:
    if minutes <= 0:
        raise InvalidInput("A service takes at least one minute.")
    if buffer_before < 0 or buffer_after < 0:
        raise InvalidInput("Buffers are zero minutes or more.")
    if minutes + buffer_before + buffer_after > MAX_SPAN_MINUTES:
        raise InvalidInput(f"A service with its buffers fits in {MAX_SPAN_MINUTES // 60} hours; "
                           "split longer work into several appointments.")


def _clash(session: Session, org_id: int, name: str, other_than: int | None = None) -> str | None:
    query = select(SalonService.name).where(SalonService.org_id == org_id,
                                            func.lower(SalonService.name) == name.lower())
    if other_than is not None:
        query = query.where(SalonService.id != other_than)
    return session.scalar(query)


def add_service(
    session: Session,
    actor: Actor,
    org_id: int,
    *,
    name: str,
    minutes: int,
    price: str | int,
    category: str = "",
    buffer_before: int = 0,
    buffer_after: int = 0,
    deposit: str | int | None = None,
) -> ServiceView:
    """Add a service; ``price`` (and ``deposit``) in major units as written (``1500``, ``"1,500.50"``)."""
    org = require_salon(session, actor, org_id, "salon.services.manage")
    name = name.strip()
    if not name:
        raise InvalidInput("A service needs a name.")
    _check_shape(minutes, buffer_before, buffer_after)
    price_minor = _price(price, org)
    existing = _clash(session, org.id, name)
    if existing:
        raise Conflict(f"{org.name} already has a service called {existing!r}.")
    service = SalonService(org_id=org.id, name=name, category=category.strip(), minutes=minutes,
                           price_minor=price_minor, buffer_before=buffer_before, buffer_after=buffer_after,
                           deposit_minor=_deposit(deposit, price_minor, org))
    session.add(service)
    session.flush()
    audit.record(session, actor, "salon.service.create", "salon_service", service.id, org_id=org.id,
                 after={"name": name, "minutes": minutes, "price_minor": price_minor, "currency": org.currency})
    session.commit()
    return ServiceView.of(service, org.currency)


def update_service(
    session: Session,
    actor: Actor,
    org_id: int,
    service_id: int,
    *,
    name: str | None = None,
    minutes: int | None = None,
    price: str | int | None = None,
    category: str | None = None,
    buffer_before: int | None = None,
    buffer_after: int | None = None,
    active: bool | None = None,
    deposit: str | int | None = None,
) -> ServiceView:
    """Change a service, or retire it (``active=False``: no new bookings; it stays in the history)
    and bring it back; appointments already booked keep their price and times."""
    org = require_salon(session, actor, org_id, "salon.services.manage")
    service = load_service(session, org.id, service_id)
    before = _snapshot(service)
    if name is not None:
        name = name.strip()
        if not name:
            raise InvalidInput("A service needs a name.")
        existing = _clash(session, org.id, name, other_than=service.id)
        if existing:
            raise Conflict(f"{org.name} already has a service called {existing!r}.")
        service.name = name
    new_minutes = service.minutes if minutes is None else minutes
    new_before = service.buffer_before if buffer_before is None else buffer_before
    new_after = service.buffer_after if buffer_after is None else buffer_after
    _check_shape(new_minutes, new_before, new_after)
    service.minutes, service.buffer_before, service.buffer_after = new_minutes, new_before, new_after
    if price is not None:
        service.price_minor = _price(price, org)
    if category is not None:
        service.category = category.strip()
    if active is not None:
        service.active = active
    if deposit is not None:
        service.deposit_minor = _deposit(deposit, service.price_minor, org)
    elif service.deposit_minor > service.price_minor:
        raise InvalidInput(f"The deposit ({format_money(service.deposit_minor, org.currency)}) would be more than "
                           "the new price; lower the deposit too.")
    after = _snapshot(service)
    if after != before:
        audit.record(session, actor, "salon.service.update", "salon_service", service.id, org_id=org.id,
                     before=before, after=after)
    session.commit()
    return ServiceView.of(service, org.currency)


def _snapshot(service: SalonService) -> dict:
    return {"name": service.name, "minutes": service.minutes, "price_minor": service.price_minor,
            "buffer_before": service.buffer_before, "buffer_after": service.buffer_after,
            "active": service.active, "deposit_minor": service.deposit_minor}


def _deposit(deposit: str | int | None, price_minor: int, org: Org) -> int:
    """A deposit in minor units: at most the price, whole shillings, and only where M-Pesa can take it."""
    if deposit is None or deposit == "":
        return 0
    minor = parse_money(deposit, org.currency)
    if minor == 0:
        return 0
    if org.currency != MPESA_CURRENCY:
        raise InvalidInput(f"Deposits are paid by M-Pesa, which takes {MPESA_CURRENCY}; {org.name} keeps its books "
                           f"in {org.currency}.")
    if minor < 0 or minor > price_minor:
        raise InvalidInput("A deposit is between nothing and the service's price.")
    if minor % 10 ** exponent(org.currency):
        raise InvalidInput("M-Pesa takes whole shillings; leave the cents out of the deposit.")
    return minor


def _price(price: str | int, org: Org) -> int:
    price_minor = parse_money(price, org.currency)
    if price_minor < 0:
        raise InvalidInput("A price cannot be negative.")
    return price_minor


def list_services(session: Session, actor: Actor, org_id: int, *, include_inactive: bool = False) -> list[ServiceView]:
    """The menu by category, then name."""
    org = require_salon(session, actor, org_id, "salon.services.read")
    query = select(SalonService).where(SalonService.org_id == org.id)
    if not include_inactive:
        query = query.where(SalonService.active.is_(True))
    rows = session.scalars(query.order_by(SalonService.category, SalonService.name))
    return [ServiceView.of(s, org.currency) for s in rows]


def find_service(session: Session, actor: Actor, org_id: int, name: str, *,
                 include_retired: bool = False) -> ServiceView:
    """The active service called ``name`` (any case); with ``include_retired``, a retired one too."""
    org = require_salon(session, actor, org_id, "salon.services.read")
    query = select(SalonService).where(SalonService.org_id == org.id,
                                       func.lower(SalonService.name) == name.strip().lower())
    if not include_retired:
        query = query.where(SalonService.active.is_(True))
    service = session.scalar(query)
    if service is None:
        names = session.scalars(select(SalonService.name).where(
            SalonService.org_id == org.id, SalonService.active.is_(True)).order_by(SalonService.name)).all()
        offer = f"; its services are: {', '.join(names)}" if names else \
            f"; add one with `ofisi services add --org {org.slug} --name NAME --minutes N --price AMOUNT`"
        raise NotFound(f"{org.name} has no service called {name!r}{offer}.")
    return ServiceView.of(service, org.currency)
