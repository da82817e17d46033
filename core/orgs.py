"""Organisations: each has a kind, a time zone, a currency and a country."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.actors import Actor
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from core.permissions import KINDS, require
from db.models import Membership, Org

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$")

def country_defaults(country: str) -> tuple[str | None, str | None]:
    """The country's time zone and currency from CLDR (babel), each None where the country has
    several (the United States' zones, Panama's two currencies): then the person must say which."""
    from babel.core import get_global
    from babel.numbers import get_territory_currencies

    zones = get_global("territory_zones").get(country, [])
    currencies = get_territory_currencies(country)
    return (zones[0] if len(zones) == 1 else None), (currencies[0] if len(currencies) == 1 else None)


@dataclass(frozen=True)
class OrgView:
    id: int
    slug: str
    name: str
    kind: str
    timezone: str
    currency: str
    country: str
    sms_number: str | None = None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def of(cls, org: Org) -> OrgView:
        return cls(org.id, org.slug, org.name, org.kind, org.timezone, org.currency, org.country, org.sms_number)


def create_org(
    session: Session,
    actor: Actor,
    slug: str,
    *,
    kind: str,
    name: str,
    timezone: str | None = None,
    currency: str | None = None,
    country: str = "KE",
) -> OrgView:
    if not actor.system:
        raise PermissionDenied("Only an administrator with database access can create organisations.")
    slug = slug.strip().lower()
    if not SLUG.match(slug):
        raise InvalidInput(
            f"{slug!r} cannot be a slug: use 3–40 lower-case letters, digits and dashes, like 'mama-mboga'."
        )
    if kind not in KINDS:
        raise InvalidInput(f"{kind!r} is not a kind of organisation; choose one of: {', '.join(KINDS)}.")
    if not name.strip():
        raise InvalidInput("The organisation needs a name.")
    country = country.strip().upper()
    if country not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidInput(f"{country!r} is not a two-letter country code, like KE or IN.")
    default_tz, default_currency = country_defaults(country)
    if not timezone and default_tz is None:
        raise InvalidInput(f"{country} has several time zones; say which with --timezone, like America/New_York.")
    if not currency and default_currency is None:
        raise InvalidInput(f"{country} uses several currencies; say which with --currency.")
    timezone = timezone or default_tz
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"{timezone!r} is not a time zone; use an IANA name like Africa/Nairobi.") from None
    currency = (currency or default_currency).strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise InvalidInput(f"{currency!r} is not a currency code; use three letters like KES.")
    if session.scalar(select(Org.id).where(Org.slug == slug)) is not None:
        raise Conflict(f"An organisation called {slug!r} already exists; pick another slug.")
    org = Org(slug=slug, name=name.strip(), kind=kind, timezone=timezone, currency=currency, country=country)
    session.add(org)
    session.flush()
    view = OrgView.of(org)
    audit.record(session, actor, "org.create", "org", org.id, org_id=org.id, after=asdict(view))
    session.commit()
    return view


def set_sms_number(session: Session, actor: Actor, org_id: int, number: str | None) -> OrgView:
    """The short code or number the org's members text (``None`` to clear it)."""
    org = require(session, actor, org_id, "org.manage")
    cleaned = "".join((number or "").split()) or None
    if cleaned is not None and not re.fullmatch(r"\+?[0-9]{3,15}", cleaned):
        raise InvalidInput(f"{number!r} is not a short code or phone number; use digits, like 22384 or +254711000000.")
    before = org.sms_number
    org.sms_number = cleaned
    audit.record(session, actor, "org.sms_number", "org", org.id, org_id=org.id,
                 before={"sms_number": before}, after={"sms_number": cleaned})
    session.commit()
    return OrgView.of(org)


def get_org(session: Session, actor: Actor, slug: str) -> OrgView:
    org = session.scalar(select(Org).where(Org.slug == slug.strip().lower()))
    if org is None:
        raise NotFound(f"There is no organisation {slug!r}; `ofisi org list` shows them.")
    return OrgView.of(require(session, actor, org, "org.read"))


def list_orgs(session: Session, actor: Actor) -> list[OrgView]:
    """All orgs for a system actor; for staff, the orgs they belong to."""
    query = select(Org).order_by(Org.slug)
    if not actor.system:
        query = query.join(Membership, Membership.org_id == Org.id).where(Membership.user_id == actor.user_id)
    return [OrgView.of(o) for o in session.scalars(query)]
