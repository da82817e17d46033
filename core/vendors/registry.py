"""The vendor registry: one row per small business, its audience filters and
its keyset-paged lists.

Services take ``(session, actor, org_id, …)``, check the actor's permission
first (``vendors.read`` / ``vendors.write``) and return :class:`VendorView`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime
from typing import Any

from sqlalchemy import String, and_, cast, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from core import audit
from core.actors import Actor
from core.errors import Conflict, InvalidInput, NotFound, OfisiError
from core.optouts import is_opted_out, opt_in, opt_out, opted_out_among
from core.outbox import address_for
from core.permissions import require
from core.vendors import fields as clean
from db.models import Org
from db.models_vendors import CHANNELS, SIZES, Vendor

# Fields a person sets, in the order files and screens show them.
VENDOR_FIELDS = ("business_name", "owner_name", "phone", "email", "whatsapp", "gstin", "udyam", "pan",
                 "sector", "district", "state", "size", "status", "tags")
MATCH_KEYS = ("gstin", "udyam", "phone")  # how an imported row finds its vendor, in this order
BATCH = 1000


@dataclass(frozen=True)
class VendorView:
    id: int
    org_id: int
    business_name: str
    owner_name: str
    phone: str | None
    email: str | None
    whatsapp: str | None
    gstin: str | None
    udyam: str | None
    pan: str | None
    sector: str
    district: str
    state: str
    size: str | None
    status: str
    tags: tuple[str, ...]
    sms_opt_out: bool
    email_opt_out: bool
    whatsapp_opt_out: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, v: Vendor, opted_out: frozenset[str] = frozenset()) -> VendorView:
        """``opted_out``: the channels whose address opted out of the org (see :func:`views`)."""
        return cls(v.id, v.org_id, v.business_name, v.owner_name, v.phone, v.email, v.whatsapp, v.gstin,
                   v.udyam, v.pan, v.sector, v.district, v.state, v.size, v.status, tuple(v.tags or ()),
                   "sms" in opted_out, "email" in opted_out, "whatsapp" in opted_out, v.created_at, v.updated_at)

    @property
    def name(self) -> str:
        """Whom a message greets: the owner if known, else the business."""
        return self.owner_name or self.business_name

    def address(self, channel: str) -> str | None:
        """Where a message on ``channel`` goes (WhatsApp falls back to the phone)."""
        return _channel_address(self, channel)

    def opted_out(self, channel: str) -> bool:
        return bool(getattr(self, f"{channel}_opt_out"))

    def template_fields(self) -> dict[str, Any]:
        """The vendor's own fields, as templates see them (``{{ gstin }}``, ``{{ district }}`` …)."""
        values = {name: getattr(self, name) for name in VENDOR_FIELDS}
        values["tags"] = list(self.tags)
        return values


def _channel_address(vendor: Vendor | VendorView, channel: str) -> str | None:
    if channel == "sms":
        return vendor.phone
    if channel == "email":
        return vendor.email
    if channel == "whatsapp":
        return vendor.whatsapp or vendor.phone
    raise InvalidInput(f"{channel!r} is not a channel; use {', '.join(CHANNELS)}.")


def _address(vendor: Vendor, channel: str) -> str | None:
    """The channel's address as the outbox and the opt-outs keep it: phones are stored in E.164
    already; an email is kept as written but sent (and opted out) lower-cased."""
    address = _channel_address(vendor, channel)
    return address_for("email", address, "") if channel == "email" and address else address


def views(session: Session, org_id: int, vendors: Sequence[Vendor]) -> list[VendorView]:
    """Views of ``vendors`` with their opt-outs: the core's record of each channel's address
    (STOP by SMS, or the registry's switch), one query per channel."""
    addresses = {channel: [_address(v, channel) for v in vendors] for channel in CHANNELS}
    opted = {channel: opted_out_among(session, org_id, channel, [a for a in found if a])
             for channel, found in addresses.items()}
    return [VendorView.of(v, frozenset(ch for ch in CHANNELS if addresses[ch][i] in opted[ch]))
            for i, v in enumerate(vendors)]


def view(session: Session, vendor: Vendor) -> VendorView:
    return views(session, vendor.org_id, [vendor])[0]


VENDOR_VARIABLES = frozenset(VENDOR_FIELDS)


# ---------------------------------------------------------------- audience filters

FILTER_KEYS = ("sector", "district", "state", "size", "tags", "status")


def _values(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.split("|")
    return tuple(v.strip() for v in value if v and v.strip())


@dataclass(frozen=True)
class AudienceFilter:
    """Which vendors a campaign or a list reaches: every field given must hold.

    Each of sector, district, state and size may list several values (any of
    them matches, case-insensitively); every tag listed must be on the vendor.
    ``status`` is ``"active"`` unless asked otherwise (``None``: any status).
    An empty filter is "all".
    """

    sector: tuple[str, ...] = ()
    district: tuple[str, ...] = ()
    state: tuple[str, ...] = ()
    size: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    status: str | None = "active"

    def __post_init__(self) -> None:
        for name in ("sector", "district", "state"):
            object.__setattr__(self, name, _values(getattr(self, name)))
        sizes = tuple(clean.clean_size(s) for s in _values(self.size))
        object.__setattr__(self, "size", sizes)
        object.__setattr__(self, "tags", tuple(clean.clean_tags(_values(self.tags))))
        if self.status is not None:
            object.__setattr__(self, "status", clean.clean_status(self.status))

    @property
    def is_all(self) -> bool:
        return not (self.sector or self.district or self.state or self.size or self.tags)

    @classmethod
    def parse(cls, text: str | None) -> AudienceFilter:
        """``"sector=retail,district=Pune|Nashik,tags=women-led,export"`` or ``"all"``.

        A value without ``key=`` belongs to the key before it.
        """
        text = (text or "").strip()
        if text.lower() in ("", "all", "*"):
            return cls()
        found: dict[str, list[str]] = {}
        key: str | None = None
        for part in text.split(","):
            part = part.strip()
            if not part:
                continue
            if "=" in part:
                key, _, value = part.partition("=")
                key = key.strip().lower()
                if key not in FILTER_KEYS:
                    raise InvalidInput(f"{key!r} is not an audience filter; use {', '.join(FILTER_KEYS)} or all.")
            elif key is None:
                raise InvalidInput(f"{part!r}: write the audience as key=value pairs, e.g. sector=retail,district=Pune, "
                                   "or all.")
            else:
                value = part
            found.setdefault(key, []).extend(v for v in value.split("|") if v.strip())
        status = found.pop("status", ["active"])[-1]
        return cls(**{k: tuple(v) for k, v in found.items()},
                   status=None if status.strip().lower() in ("any", "all") else status)

    def __str__(self) -> str:
        parts = [f"{name}={'|'.join(getattr(self, name))}" for name in ("sector", "district", "state", "size")
                 if getattr(self, name)]
        parts += [f"tags={tag}" for tag in self.tags]
        if self.status != "active":
            parts.append(f"status={self.status or 'any'}")
        return ",".join(parts) or "all"

    def conditions(self) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = []
        for name in ("sector", "district", "state"):
            values = getattr(self, name)
            if values:
                where.append(func.lower(getattr(Vendor, name)).in_([v.lower() for v in values]))
        if self.size:
            where.append(Vendor.size.in_(self.size))
        for tag in self.tags:  # tags are [a-z0-9-], so their JSON text needs no escaping
            where.append(cast(Vendor.tags, String).like(f'%"{tag}"%'))
        if self.status is not None:
            where.append(Vendor.status == self.status)
        return where


def _search(text: str) -> list[ColumnElement[bool]]:
    text = text.strip()
    if not text:
        return []
    needle = f"%{text.lower()}%"
    options: list[ColumnElement[bool]] = [func.lower(Vendor.business_name).like(needle),
                                          func.lower(Vendor.owner_name).like(needle),
                                          Vendor.email == text.lower(),
                                          Vendor.gstin == text.upper(), Vendor.udyam == text.upper()]
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) >= 4:
        options.append(Vendor.phone.like(f"%{digits}%"))
    return [or_(*options)]


def audience(session: Session, actor: Actor, org_id: int, filter: AudienceFilter | None = None) -> Iterator[VendorView]:
    """Every vendor of the org that ``filter`` selects, in id order, read a batch at a time."""
    require(session, actor, org_id, "vendors.read")
    where = [Vendor.org_id == org_id, *(filter or AudienceFilter()).conditions()]

    def batches() -> Iterator[VendorView]:
        last = 0
        while True:
            rows = session.scalars(select(Vendor).where(*where, Vendor.id > last).order_by(Vendor.id).limit(BATCH)).all()
            yield from views(session, org_id, rows)
            if len(rows) < BATCH:
                return
            last = rows[-1].id

    return batches()


def count_audience(session: Session, actor: Actor, org_id: int, filter: AudienceFilter | None = None,
                   *, search: str = "") -> int:
    require(session, actor, org_id, "vendors.read")
    where = [Vendor.org_id == org_id, *(filter or AudienceFilter()).conditions(), *_search(search)]
    return session.scalar(select(func.count()).select_from(Vendor).where(*where)) or 0


@dataclass(frozen=True)
class VendorPage:
    vendors: list[VendorView]
    after: tuple[str, int] | None  # pass back as ``after`` for the next page; None at the end


def list_vendors(session: Session, actor: Actor, org_id: int, *, filter: AudienceFilter | None = None,
                 search: str = "", after: tuple[str, int] | None = None, limit: int = 50) -> VendorPage:
    """A page of vendors by business name (keyset: ``after`` is the last row's (name, id))."""
    require(session, actor, org_id, "vendors.read")
    where = [Vendor.org_id == org_id, *(filter or AudienceFilter(status=None)).conditions(), *_search(search)]
    if after is not None:
        name, last_id = after
        where.append(or_(Vendor.business_name > name, and_(Vendor.business_name == name, Vendor.id > last_id)))
    rows = session.scalars(select(Vendor).where(*where).order_by(Vendor.business_name, Vendor.id)
                           .limit(limit + 1)).all()
    page = views(session, org_id, rows[:limit])
    more = len(rows) > limit
    return VendorPage(page, (page[-1].business_name, page[-1].id) if more and page else None)


def _load(session: Session, org_id: int, vendor_id: int) -> Vendor:
    vendor = session.get(Vendor, vendor_id)
    if vendor is None or vendor.org_id != org_id:  # another org's vendor looks like a missing one
        raise NotFound("That vendor does not exist.")
    return vendor


def get_vendor(session: Session, actor: Actor, org_id: int, vendor_id: int) -> VendorView:
    require(session, actor, org_id, "vendors.read")
    return view(session, _load(session, org_id, vendor_id))


# ---------------------------------------------------------------- writing

FieldErrors = list[tuple[str, str]]


@lru_cache(maxsize=16)
def _cleaners(country: str) -> dict[str, Callable[[str], Any]]:
    """The checker of each field, for one country's phone numbers."""
    def phone(text: str) -> str:
        return clean.clean_phone(text, country)

    def short(limit: int) -> Callable[[str], str]:
        return lambda text: clean.clean_text(text, limit)

    return {"business_name": short(200), "owner_name": short(200), "phone": phone, "whatsapp": phone,
            "email": clean.clean_email, "gstin": clean.clean_gstin, "udyam": clean.clean_udyam,
            "pan": clean.clean_pan, "sector": short(80), "district": short(80), "state": short(80),
            "size": clean.clean_size, "status": clean.clean_status, "tags": clean.clean_tags}


def clean_record(raw: Mapping[str, Any], country: str) -> tuple[dict[str, Any], FieldErrors]:
    """The stored form of each non-blank field in ``raw``, and (field, reason) for each bad one."""
    out: dict[str, Any] = {}
    errors: FieldErrors = []
    cleaners = _cleaners(country)
    for name in VENDOR_FIELDS:
        value = raw.get(name)
        if not value:
            continue
        if name == "tags" and isinstance(value, (list, tuple)):
            out["tags"] = clean.clean_tags(value)
            continue
        text = str(value).strip()
        if not text:
            continue
        try:
            if name == "pan" and out.get("gstin") and text.upper() == out["gstin"][2:12]:
                out[name] = text.upper()  # the PAN inside a valid GSTIN has been checked already
            else:
                out[name] = cleaners[name](text)
        except InvalidInput as exc:
            errors.append((name, str(exc)))
    try:
        clean.check_pan_matches_gstin(out.get("gstin"), out.get("pan"))
    except InvalidInput as exc:
        errors.append(("pan", str(exc)))
    if "gstin" in out and "pan" not in out and not any(f == "pan" for f, _ in errors):
        out["pan"] = out["gstin"][2:12]
    return out, errors


def check_new(record: Mapping[str, Any]) -> FieldErrors:
    """What a new vendor must have beyond valid fields."""
    errors: FieldErrors = []
    if not record.get("business_name"):
        errors.append(("business_name", "the business name is empty."))
    if not any(record.get(key) for key in MATCH_KEYS):
        errors.append(("phone", "a vendor needs a phone, a GSTIN or an Udyam number, so a later import can find it."))
    return errors


def _refuse(errors: FieldErrors) -> None:
    if errors:
        raise InvalidInput("; ".join(f"{name.replace('_', ' ')}: {message.rstrip('.')}" for name, message in errors) + ".")


TAKEN = ("Another vendor of this organisation already has that GSTIN, Udyam number or phone; "
         "search for it in the console's vendor registry and change that one.")


def _commit(session: Session) -> None:
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict(TAKEN) from None


def _clash(session: Session, org_id: int, record: Mapping[str, Any], vendor_id: int | None) -> None:
    for key in MATCH_KEYS:
        value = record.get(key)
        if not value:
            continue
        other = session.scalar(select(Vendor.business_name).where(
            Vendor.org_id == org_id, getattr(Vendor, key) == value, Vendor.id != (vendor_id or 0)))
        if other is not None:
            raise Conflict(f"{other} already has the {key.upper() if key != 'phone' else 'phone'} {value}; "
                           "change that vendor instead.")


def _snapshot(vendor: Vendor) -> dict[str, Any]:
    return {name: getattr(vendor, name) for name in VENDOR_FIELDS}


def add_vendor(session: Session, actor: Actor, org_id: int, **values: Any) -> VendorView:
    org = require(session, actor, org_id, "vendors.write")
    vendor = _add(session, actor, org, values)
    _commit(session)
    return view(session, vendor)


def update_vendor(session: Session, actor: Actor, org_id: int, vendor_id: int, **values: Any) -> VendorView:
    """Change the fields given; a blank text clears an optional field."""
    org = require(session, actor, org_id, "vendors.write")
    vendor = _update(session, actor, org, _load(session, org.id, vendor_id), values)
    _commit(session)
    return view(session, vendor)


def set_opt_out(session: Session, actor: Actor, org_id: int, vendor_id: int, channel: str, opted_out: bool = True) -> VendorView:
    """Record that a vendor does (not) want non-essential messages on ``channel``: the core
    opt-out of that channel's address, the same record STOP and START move."""
    org = require(session, actor, org_id, "vendors.write")
    vendor = _load(session, org.id, vendor_id)
    _set_opt_out(session, actor, org, vendor, channel, opted_out)
    _commit(session)
    return view(session, vendor)


def save_vendor(session: Session, actor: Actor, org_id: int, vendor_id: int | None, values: Mapping[str, Any],
                opted_out: Mapping[str, bool]) -> VendorView:
    """The console's vendor form: add (``vendor_id`` None) or change a vendor and set its
    opt-outs, in one unit of work: a refusal of any part writes nothing."""
    org = require(session, actor, org_id, "vendors.write")
    try:
        if vendor_id is None:
            vendor = _add(session, actor, org, values)
        else:
            vendor = _update(session, actor, org, _load(session, org.id, vendor_id), values)
        current = view(session, vendor)
        for channel, wanted in opted_out.items():
            if wanted != current.opted_out(channel):
                _set_opt_out(session, actor, org, vendor, channel, wanted)
    except OfisiError:
        session.rollback()
        raise
    except IntegrityError:  # a clash written meanwhile, met when a read flushed
        session.rollback()
        raise Conflict(TAKEN) from None
    _commit(session)
    return view(session, vendor)


def _add(session: Session, actor: Actor, org: Org, values: Mapping[str, Any]) -> Vendor:
    record, errors = clean_record(values, org.country)
    _refuse(errors + check_new(record))
    _clash(session, org.id, record, None)
    vendor = Vendor(org_id=org.id, **{"tags": [], **record})
    session.add(vendor)
    session.flush()
    audit.record(session, actor, "vendors.add", "vendor", vendor.id, org_id=org.id, after=_snapshot(vendor))
    return vendor


def _update(session: Session, actor: Actor, org: Org, vendor: Vendor, values: Mapping[str, Any]) -> Vendor:
    record, errors = clean_record(values, org.country)
    for name, value in values.items():
        if name not in VENDOR_FIELDS:
            errors.append((name, f"vendors have no field {name!r}."))
        elif (value is None or str(value).strip() == "") and name not in record:
            if name in ("business_name", "status"):
                errors.append((name, f"the {name.replace('_', ' ')} cannot be blank."))
            else:
                record[name] = [] if name == "tags" else (None if name in (*MATCH_KEYS, "email", "whatsapp", "pan", "size") else "")
    _refuse(errors + check_new({**_snapshot(vendor), **record}))
    _clash(session, org.id, record, vendor.id)
    before = _snapshot(vendor)
    for name, value in record.items():
        setattr(vendor, name, value)
    after = _snapshot(vendor)
    changed = [k for k in VENDOR_FIELDS if before[k] != after[k]]
    if changed:
        audit.record(session, actor, "vendors.update", "vendor", vendor.id, org_id=org.id,
                     before={k: before[k] for k in changed}, after={k: after[k] for k in changed})
    return vendor


def _set_opt_out(session: Session, actor: Actor, org: Org, vendor: Vendor, channel: str, opted_out: bool) -> None:
    if channel not in CHANNELS:
        raise InvalidInput(f"{channel!r} is not a channel; use {', '.join(CHANNELS)}.")
    address = _address(vendor, channel)
    if address is None:
        raise InvalidInput(f"{vendor.business_name} has no {channel} address, so there is nothing to opt out of; "
                           "add one first.")
    column = f"{channel}_opt_out"
    if is_opted_out(session, org.id, channel, address) != opted_out:
        if opted_out:
            opt_out(session, org.id, channel, address, source="staff")
        else:
            opt_in(session, org.id, channel, address)
        audit.record(session, actor, "vendors.opt_out" if opted_out else "vendors.opt_in", "vendor", vendor.id,
                     org_id=org.id, before={column: not opted_out}, after={column: opted_out})


__all__ = [
    "AudienceFilter", "FILTER_KEYS", "MATCH_KEYS", "SIZES", "VENDOR_FIELDS", "VENDOR_VARIABLES", "VendorPage",
    "VendorView", "add_vendor", "audience", "check_new", "clean_record", "count_audience", "get_vendor",
    "list_vendors", "save_vendor", "set_opt_out", "update_vendor",
]
