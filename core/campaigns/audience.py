"""Who a campaign reaches: a registry of audience sources.

A source turns the campaign's audience text into recipients. ``contacts`` is
every contact of the org; ``vendors`` reads the vendor registry of an MSME
programme through ``core.vendors.audience`` (imported when first used, so the
campaigns area works in an installation without it). The audience text names
its source (``contacts``, ``vendors:sector=retail``) or leaves it to the org's
kind: a bare filter (``sector=retail,district=Pune``) or ``all`` goes to the
vendor registry in a campaigns org, to the contacts elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.actors import Actor
from core.errors import InvalidInput
from db.models import Contact, Org


@dataclass(frozen=True)
class Recipient:
    key: str  # stable within the org and the source ("contact:12", "vendor:7"): part of the idempotency key
    name: str
    phone: str | None = None
    email: str | None = None
    whatsapp: str | None = None
    contact_id: int | None = None
    fields: dict[str, Any] = field(default_factory=dict)  # more template variables (the vendor's fields)

    def address(self, channel: str) -> str | None:
        if channel == "sms":
            return self.phone
        if channel == "email":
            return self.email
        return self.whatsapp or self.phone


Source = Callable[[Session, Actor, int, str], Iterator[Recipient]]
SOURCES: dict[str, Source] = {}


def source(name: str) -> Callable[[Source], Source]:
    def register(fn: Source) -> Source:
        SOURCES[name] = fn
        return fn
    return register


def split(session: Session, org_id: int, audience: str) -> tuple[str, str]:
    """(source name, the filter for it) for an audience text."""
    text = (audience or "all").strip()
    head, sep, rest = text.partition(":")
    if sep and head.strip().lower() in SOURCES:
        return head.strip().lower(), rest.strip() or "all"
    if text.lower() in SOURCES:
        return text.lower(), "all"
    org = session.get(Org, org_id)
    return ("vendors" if org is not None and org.kind == "campaigns" else "contacts"), text


def recipients(session: Session, actor: Actor, org_id: int, audience: str) -> Iterator[Recipient]:
    name, filter_text = split(session, org_id, audience)
    return SOURCES[name](session, actor, org_id, filter_text)


def check(session: Session, actor: Actor, org_id: int, audience: str) -> None:
    """Refuse an audience that cannot be read, before a campaign is saved with it."""
    name, filter_text = split(session, org_id, audience)
    if name == "vendors":
        _vendor_api().AudienceFilter.parse(filter_text)
    elif filter_text.lower() not in ("all", "*", ""):
        raise InvalidInput(f"The contacts audience has no filters; write {name} or all, not {filter_text!r}.")


BATCH = 1000


@source("contacts")
def contacts(session: Session, actor: Actor, org_id: int, filter_text: str) -> Iterator[Recipient]:
    """Every contact of the org, in id order, a batch at a time."""
    from core.permissions import require

    require(session, actor, org_id, "contacts.read")
    if filter_text.lower() not in ("all", "*", ""):
        raise InvalidInput(f"The contacts audience has no filters; write contacts or all, not {filter_text!r}.")
    last = 0
    while True:
        rows = session.scalars(select(Contact).where(Contact.org_id == org_id, Contact.id > last)
                               .order_by(Contact.id).limit(BATCH)).all()
        for c in rows:
            yield Recipient(f"contact:{c.id}", c.name, phone=c.phone, email=c.email, contact_id=c.id,
                            fields={"notes": c.notes})
        if len(rows) < BATCH:
            return
        last = rows[-1].id


def _vendor_api():
    try:
        import core.vendors as vendors
    except ImportError:
        raise InvalidInput("The vendor registry is not installed here; use the contacts audience "
                           "(--audience contacts).") from None
    return vendors


@source("vendors")
def vendors(session: Session, actor: Actor, org_id: int, filter_text: str) -> Iterator[Recipient]:
    """The org's vendors that the filter selects (``core.vendors.audience``)."""
    api = _vendor_api()
    for v in api.audience(session, actor, org_id, api.AudienceFilter.parse(filter_text)):
        yield Recipient(f"vendor:{v.id}", v.owner_name or v.business_name, phone=v.phone, email=v.email,
                        whatsapp=v.whatsapp, fields=v.template_fields())
