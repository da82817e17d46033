"""What every agency service shares: the org check, masking, parsing old values."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.actors import Actor
from core.errors import Conflict, InvalidInput, NotFound
from core.numbers import whole_number
from core.permissions import require
from core.phones import mask_phone
from db.models import Contact, Org

ACCOMMODATIONS = ("live_in", "live_out", "either")
AVAILABILITIES = ("immediate", "two_weeks", "one_month", "unavailable")
BACKGROUND_CHECKS = ("pending", "cleared", "flagged")
VERIFICATIONS = ("unverified", "pending", "verified", "rejected")
PLACEMENT_STATUSES = ("proposed", "placed", "disputed", "ended")
# The steps a person sees: a status ("proposed", "placed") is split into its stages.
PLACEMENT_STAGES = ("proposed", "interview", "placed", "trial", "confirmed", "disputed", "ended")
ACTIVE_STATUSES = ("placed", "disputed")
DOC_TYPES = ("id", "good_conduct", "medical", "reference")


def agency_org(session: Session, actor: Actor, org_id: int, permission: str) -> Org:
    """The org, if it is an agency and ``actor`` may do ``permission`` there."""
    org = require(session, actor, org_id, permission)
    if org.kind != "agency":
        raise InvalidInput(f"{org.name} is a {org.kind} organisation, not an agency.")
    return org


def row_of(session: Session, model, org_id: int, row_id: int, missing: str, *, lock: bool = False):
    """A row of this org (another org's row looks exactly like a missing one)."""
    query = select(model).where(model.id == row_id, model.org_id == org_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    row = session.scalar(query)
    if row is None:
        raise NotFound(missing)
    return row


def today_in(org: Org) -> date:
    """Today on the org's wall clock: a placement made on 05 Dec in Nairobi starts on 05 Dec."""
    from zoneinfo import ZoneInfo

    from db.types import utcnow

    return utcnow().astimezone(ZoneInfo(org.timezone)).date()


def check_not_future(org: Org, day: date | None, what: str) -> None:
    if day is not None and day > today_in(org):
        raise InvalidInput(f"{what} ({day:%d %b %Y}) is in the future; give the day it happened.")


def mask_email(email: str | None) -> str:
    """``a•••@example.com``: the domain and first letter, never the mailbox."""
    if not email:
        return ""
    name, _, domain = email.partition("@")
    return f"{name[:1]}•••@{domain}" if domain else "•••"


def present_contact(phone: str | None, email: str | None, unlocked: bool) -> tuple[str, str | None]:
    """The one rule for how a worker's phone and email leave the core: whole only when unlocked."""
    if unlocked:
        return phone or "", email
    return mask_phone(phone), (mask_email(email) or None)


_PHONE_IN_TEXT = re.compile(r"(?<![\w])(?:\+?\d[\d\s().-]{7,}\d)(?![\w])")
_EMAIL_IN_TEXT = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
REDACTED = "[contact removed]"


def redact_contacts(text: str | None) -> tuple[str, int]:
    """Free text (a bio, notes) with phone numbers and emails taken out, and how many were."""
    if not text:
        return text or "", 0
    found = 0

    def cut(match: re.Match) -> str:
        nonlocal found
        if sum(c.isdigit() for c in match.group(0)) < 9 and "@" not in match.group(0):
            return match.group(0)  # a year, an amount: not a phone number
        found += 1
        return REDACTED

    cleaned = _EMAIL_IN_TEXT.sub(cut, text)
    cleaned = _PHONE_IN_TEXT.sub(cut, cleaned)
    return cleaned, found


def redaction_notice(field_name: str, found: int) -> list[str]:
    return ([f"{found} phone number(s) or email(s) were removed from the {field_name}: contact details are "
             "shared only through an unlock."] if found else [])


def phone_of(session: Session, contact_id: int | None) -> str | None:
    if contact_id is None:
        return None
    return session.scalar(select(Contact.phone).where(Contact.id == contact_id))


def location_key(location: str) -> str:
    return " ".join(location.lower().split())


def pick(value: str, allowed: tuple[str, ...], what: str) -> str:
    cleaned = value.strip().lower().replace("-", "_").replace(" ", "_")
    if cleaned not in allowed:
        raise InvalidInput(f"{value!r} is not a {what}; use one of {', '.join(allowed)}.")
    return cleaned


ACCOMMODATION_WORDS = {"live_in": "live_in", "livein": "live_in", "live_out": "live_out",
                       "liveout": "live_out", "either": "either", "any": "either", "both": "either"}
AVAILABILITY_WORDS = {"immediate": "immediate", "immediately": "immediate", "now": "immediate",
                      "2_weeks": "two_weeks", "two_weeks": "two_weeks", "1_month": "one_month",
                      "one_month": "one_month", "unavailable": "unavailable"}


def parse_accommodation(raw: object) -> str | None:
    """``Live-in``, ``live_in`` → ``live_in``; None when it is not one we know."""
    key = re.sub(r"[\s\-]+", "_", str(raw or "").strip().lower())
    return ACCOMMODATION_WORDS.get(key) or ACCOMMODATION_WORDS.get(key.replace("_", ""))


def parse_availability(raw: object) -> str | None:
    key = re.sub(r"[\s\-]+", "_", str(raw or "").strip().lower())
    return AVAILABILITY_WORDS.get(key)


def parse_experience(raw: object) -> int | None:
    """Years: ``none`` → 0, ``2 years`` → 2, ``3-5 years`` → 3 (the lower bound), ``5+ years`` → 5."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw if raw >= 0 else None
    text = str(raw or "").strip().lower()
    if text in ("none", "no", "0", "nil"):
        return 0
    match = re.match(r"^(\d{1,2})\s*(?:\+|-\s*\d{1,2})?\s*(?:years?|yrs?)?$", text)
    return int(match.group(1)) if match else None


def parse_whole_amount(raw: object) -> int | None:
    """Whole currency units written as ``7,000``, ``7000`` or 7000; None when it is not one."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw if raw >= 0 else None
    if isinstance(raw, float):
        return int(raw) if raw >= 0 and raw == int(raw) else None
    text = str(raw or "").strip().replace(",", "").replace(" ", "")
    text = re.sub(r"^(kes|ksh|kshs)\.?", "", text, flags=re.I)
    return whole_number(text)


def age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def split_list(raw: object) -> list[str]:
    """Skills or languages from a list or a ``a; b, c`` string, lower-cased, unique, in order."""
    items = raw if isinstance(raw, list) else re.split(r"[;,|]", str(raw or ""))
    seen: list[str] = []
    for item in items:
        word = " ".join(str(item).lower().split())
        if word and word not in seen:
            seen.append(word[:60])
    return seen


@contextmanager
def refused_as_conflict(session: Session, reason: Callable[[], str]) -> Iterator[None]:
    """Make changes in a savepoint; if a unique index refuses them, roll the whole unit of work
    back (nothing half-written stays) and raise :class:`Conflict` with ``reason()``."""
    try:
        with session.begin_nested():
            yield
            session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict(reason()) from None
