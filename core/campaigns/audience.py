"""Who a campaign reaches: a registry of audience sources.

A source turns the campaign's audience text into recipients. ``contacts`` is
every contact of the org; ``vendors`` reads the vendor registry of an MSME
programme through ``core.vendors.audience`` (imported when first used, so the
campaigns area works in an installation without it); the other areas' people
(``members``, ``clients``, ``workers``, ``employers``) are in
:mod:`core.campaigns.audience_areas`. The audience text names its source
(``contacts``, ``vendors:sector=retail``, ``clients:not_seen_days=90``) or
leaves it to the org's kind: a bare filter or ``all`` goes to the vendor
registry in a campaigns org, to the members in a community, to the contacts
elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
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
    label: str = ""  # who it is in lists (a vendor's business); ``name`` is the person templates greet

    @property
    def who(self) -> str:
        return self.label or self.name

    def address(self, channel: str) -> str | None:
        if channel == "sms":
            return self.phone
        if channel == "email":
            return self.email
        return self.whatsapp or self.phone


Source = Callable[[Session, Actor, int, str], Iterator[Recipient]]
SOURCES: dict[str, Source] = {}
# What templates may use for a source's recipients, beyond the standard names: a set, or a
# function of the org (the contacts see what their org's kind registered).
VARIABLES: dict[str, Callable[[Org], frozenset[str]]] = {}
# The name a source's recipient key (``vendor:7``) stands for, in lists of replies.
WHO: dict[str, Callable[[Session, Actor, int, int], str | None]] = {}


def source(name: str, *, variables: Iterable[str] | Callable[[Org], frozenset[str]] = (),
           who: Callable[[Session, Actor, int, int], str | None] | None = None) -> Callable[[Source], Source]:
    def register(fn: Source) -> Source:
        SOURCES[name] = fn
        names = frozenset(variables) if not callable(variables) else None
        VARIABLES[name] = variables if names is None else (lambda org: names)
        if who is not None:
            WHO[name.rstrip("s")] = who
        return fn
    return register


def variables(session: Session, org: Org, name: str) -> frozenset[str]:
    """The record fields templates may use for recipients of source ``name``."""
    return VARIABLES[name](org)


def who(session: Session, actor: Actor, org_id: int, key: str) -> str | None:
    """Who a recipient key (``contact:12``, ``vendor:7``) names, or None."""
    kind, _, number = key.partition(":")
    lookup = WHO.get(kind)
    if lookup is None or not number.isdigit():
        return None
    try:
        return lookup(session, actor, org_id, int(number))
    except Exception:  # a removed record: the phone stands for it
        return None


def split(session: Session, org_id: int, audience: str) -> tuple[str, str]:
    """(source name, the filter for it) for an audience text."""
    text = (audience or "all").strip()
    head, sep, rest = text.partition(":")
    if sep and head.strip().lower() in SOURCES:
        return head.strip().lower(), rest.strip() or "all"
    if text.lower() in SOURCES:
        return text.lower(), "all"
    org = session.get(Org, org_id)
    return DEFAULT_SOURCE.get(org.kind if org is not None else "", "contacts"), text


# Where ``all`` (or a bare filter) goes, by org kind: the people the org actually keeps.
DEFAULT_SOURCE = {"campaigns": "vendors", "community": "members"}


def recipients(session: Session, actor: Actor, org_id: int, audience: str) -> Iterator[Recipient]:
    name, filter_text = split(session, org_id, audience)
    return SOURCES[name](session, actor, org_id, filter_text)


def check(session: Session, actor: Actor, org_id: int, audience: str) -> None:
    """Refuse an audience that cannot be read, before a campaign is saved with it."""
    name, filter_text = split(session, org_id, audience)
    if name == "vendors":
        _vendor_api().AudienceFilter.parse(filter_text)
    elif name == "contacts" and filter_text.lower() not in ("all", "*", ""):
        raise InvalidInput(f"The contacts audience has no filters; write {name} or all, not {filter_text!r}.")
    else:
        next(iter(SOURCES[name](session, actor, org_id, filter_text)), None)  # reads its filters, or refuses them


BATCH = 1000


def _contact_variables(org: Org) -> frozenset[str]:
    from core.templates import allowed_variables

    return frozenset({"notes"}) | allowed_variables(org.kind)


def _contact_name(session: Session, actor: Actor, org_id: int, contact_id: int) -> str | None:
    contact = session.get(Contact, contact_id)
    return contact.name if contact is not None and contact.org_id == org_id else None


@source("contacts", variables=_contact_variables, who=_contact_name)
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


def _vendor_variables(org: Org) -> frozenset[str]:
    return frozenset(_vendor_api().VENDOR_VARIABLES)


def _vendor_name(session: Session, actor: Actor, org_id: int, vendor_id: int) -> str | None:
    return _vendor_api().get_vendor(session, actor, org_id, vendor_id).business_name


@source("vendors", variables=_vendor_variables, who=_vendor_name)
def vendors(session: Session, actor: Actor, org_id: int, filter_text: str) -> Iterator[Recipient]:
    """The org's vendors that the filter selects (``core.vendors.audience``)."""
    api = _vendor_api()
    for v in api.audience(session, actor, org_id, api.AudienceFilter.parse(filter_text)):
        # A vendor without an owner's name is greeted by the template's default, not by its business's first word.
        yield Recipient(f"vendor:{v.id}", v.owner_name or "", phone=v.phone, email=v.email,
                        whatsapp=v.whatsapp, fields=v.template_fields(), label=v.business_name)
