"""Public lead forms: what ``POST /forms/{slug}`` accepts, checks and limits.

A submission is checked field by field (every problem is reported at once,
keyed by field name), rate-limited per form by IP address and by phone within
the last hour (the counts live in ``salon_form_hits``, so every gateway
process sees the same ones), and becomes a lead through
:func:`core.salon.leads.capture_lead`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from core import audit
from core.actors import Actor
from core.contacts import _clean_email
from core.errors import Conflict, InvalidInput, NotFound, OfisiError
from core.importing import parse_date
from core.phones import examples, normalize_phone
from core.salon.common import require_salon
from core.salon.leads import LeadDetails, capture_lead
from core.salon.settings import load_booking_settings
from db.models import Org
from db.models_salon import SalonFormHit, SalonLeadForm, SalonService
from db.types import utcnow

# The standard fields every form has; a form's own fields come on top.
STANDARD_FIELDS = ("name", "phone", "email", "service", "preferred_date", "message")
# A field people never see (the page hides it); a program filling every field fills it too. Its dash
# keeps it apart from any form's own fields, whose names have none.
HONEYPOT = "your-website"
WINDOW = timedelta(hours=1)
MAX_MESSAGE = 2000
MAX_CUSTOM = 500
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,78}[a-z0-9]$")
FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class FormInvalid(InvalidInput):
    """The submission has problems; ``errors`` maps each field to what is wrong with it."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{name}: {text}" for name, text in errors.items()))


class Unwanted(OfisiError):
    """A submission that filled the field people never see: answered as if taken, kept nowhere."""


class RateLimited(OfisiError):
    """Too many submissions from one address or phone; ``retry_after`` is in seconds."""

    def __init__(self, what: str, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"Too many submissions from this {what}; try again in {max(1, retry_after // 60)} minutes.")


@dataclass(frozen=True)
class FormView:
    id: int
    slug: str
    title: str
    required: list[str]
    fields: list[dict[str, Any]]
    active: bool
    max_per_ip_hour: int
    max_per_phone_hour: int

    @classmethod
    def of(cls, f: SalonLeadForm) -> FormView:
        return cls(f.id, f.slug, f.title, list(f.required), list(f.fields), f.active, f.max_per_ip_hour,
                   f.max_per_phone_hour)


@dataclass(frozen=True)
class PublicForm:
    """What the form's public page shows and whom its answers are shared with: the salon's name,
    the form's standard and own fields, the salon's services to choose from, and its websites
    (``form_origins``) that may post to it from a browser."""

    slug: str
    title: str
    salon_name: str
    required: tuple[str, ...]
    fields: tuple[dict[str, Any], ...]
    services: tuple[str, ...]
    origins: tuple[str, ...]
    phone_example: str
    today: date


@dataclass(frozen=True)
class Submission:
    lead_id: int
    created: bool
    score: int
    temperature: str


def create_form(session: Session, actor: Actor, org_id: int, *, slug: str, title: str,
                required: tuple[str, ...] = ("name", "phone"), fields: list[dict[str, Any]] | None = None,
                max_per_ip_hour: int = 20, max_per_phone_hour: int = 3) -> FormView:
    """A lead form. ``fields`` are the form's own: ``{"name": "hair_length", "label": …, "required": bool}``."""
    org = require_salon(session, actor, org_id, "salon.forms.manage")
    slug = slug.strip().lower()
    if not SLUG.match(slug):
        raise InvalidInput(f"{slug!r} cannot be a form's address; use 3 to 80 lower-case letters, digits and dashes.")
    _check_required(required)
    own = _own_fields(fields or [])
    if min(max_per_ip_hour, max_per_phone_hour) < 1:
        raise InvalidInput("A form's limits must allow at least one submission an hour.")
    if session.scalar(select(SalonLeadForm.id).where(SalonLeadForm.slug == slug)) is not None:
        raise Conflict(f"There is already a form at /forms/{slug}; choose another slug.")
    form = SalonLeadForm(org_id=org.id, slug=slug, title=title.strip() or slug,
                         required=sorted(set(required) | {"phone"}), fields=own, active=True,
                         max_per_ip_hour=max_per_ip_hour, max_per_phone_hour=max_per_phone_hour)
    session.add(form)
    session.flush()
    audit.record(session, actor, "salon.form.create", "salon_lead_form", form.id, org_id=org.id,
                 after={"slug": slug, "required": form.required, "fields": own})
    session.commit()
    return FormView.of(form)


def _check_required(required) -> None:
    unknown = [name for name in required if name not in STANDARD_FIELDS]
    if unknown:
        raise InvalidInput(f"{', '.join(unknown)} is not a standard field; those are {', '.join(STANDARD_FIELDS)}.")


def _own_fields(fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    own: list[dict[str, Any]] = []
    for field in fields:
        name = str(field.get("name", "")).strip()
        if not FIELD_NAME.match(name) or name in STANDARD_FIELDS:
            raise InvalidInput(f"{name!r} cannot be a field of the form's own; use lower-case letters, digits and _, "
                               "and not a standard field's name.")
        if any(f["name"] == name for f in own):
            raise InvalidInput(f"The form already asks {name}; give the new field another name.")
        own.append({"name": name, "label": str(field.get("label") or name.replace("_", " ").capitalize()),
                    "required": bool(field.get("required", False))})
    return own


def update_form(session: Session, actor: Actor, org_id: int, slug: str, *, title: str | None = None,
                required: tuple[str, ...] | None = None, fields: list[dict[str, Any]] | None = None,
                max_per_ip_hour: int | None = None, max_per_phone_hour: int | None = None,
                active: bool | None = None) -> FormView:
    """Change a form, close it (``active=False``: its address answers 404) or open it again."""
    org = require_salon(session, actor, org_id, "salon.forms.manage")
    form = session.scalar(select(SalonLeadForm).where(SalonLeadForm.org_id == org.id,
                                                      SalonLeadForm.slug == slug.strip().lower()))
    if form is None:
        raise NotFound(f"{org.name} has no form at /forms/{slug}.")
    before = asdict(FormView.of(form))
    if title is not None and title.strip():
        form.title = title.strip()
    if required is not None:
        _check_required(required)
        form.required = sorted(set(required) | {"phone"})
    if fields is not None:
        form.fields = _own_fields(fields)
    for name, value in (("max_per_ip_hour", max_per_ip_hour), ("max_per_phone_hour", max_per_phone_hour)):
        if value is not None:
            if value < 1:
                raise InvalidInput("A form's limits must allow at least one submission an hour.")
            setattr(form, name, value)
    if active is not None:
        form.active = active
    after = asdict(FormView.of(form))
    if after != before:
        audit.record(session, actor, "salon.form.update", "salon_lead_form", form.id, org_id=org.id,
                     before=before, after=after)
    session.commit()
    return FormView.of(form)


def list_forms(session: Session, actor: Actor, org_id: int) -> list[FormView]:
    org = require_salon(session, actor, org_id, "salon.leads.read")
    return [FormView.of(f) for f in session.scalars(
        select(SalonLeadForm).where(SalonLeadForm.org_id == org.id).order_by(SalonLeadForm.slug))]


def public_form(session: Session, slug: str, *, now: datetime | None = None) -> PublicForm:
    """The open form at ``slug`` as the public sees it (no actor: anyone may ask), or :class:`NotFound`."""
    form = session.scalar(select(SalonLeadForm).where(SalonLeadForm.slug == slug.strip().lower()))
    if form is None or not form.active:
        raise NotFound(f"There is no open form at /forms/{slug}.")
    org = session.get(Org, form.org_id)
    assert org is not None
    services = session.scalars(select(SalonService.name).where(SalonService.org_id == org.id,
                                                               SalonService.active.is_(True))
                               .order_by(SalonService.name))
    return PublicForm(form.slug, form.title, org.name, tuple(form.required), tuple(form.fields), tuple(services),
                      load_booking_settings(session, org.id).form_origins, examples(org.country),
                      (now or utcnow()).astimezone(ZoneInfo(org.timezone)).date())


def _text(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    return "" if value is None else str(value).strip()


def check_submission(form: SalonLeadForm, org: Org, data: Mapping[str, Any], today: date) -> LeadDetails:
    """The submission as lead details, or :class:`FormInvalid` with every field's problem."""
    errors: dict[str, str] = {}
    for name in form.required:
        if not _text(data, name):
            errors[name] = "This field is required."
    phone = ""
    if _text(data, "phone"):
        try:
            phone = normalize_phone(_text(data, "phone"), org.country)
        except InvalidInput as exc:
            errors["phone"] = str(exc)
    email = None
    try:
        email = _clean_email(_text(data, "email"))
    except InvalidInput as exc:
        errors["email"] = str(exc)
    preferred = None
    if _text(data, "preferred_date"):
        try:
            preferred = parse_date(_text(data, "preferred_date"))
            if preferred < today:
                errors["preferred_date"] = f"{preferred.isoformat()} has passed; choose today or a later date."
        except InvalidInput as exc:
            errors["preferred_date"] = str(exc)
    if len(_text(data, "name")) > 120:
        errors["name"] = "Keep the name under 120 characters."
    if len(_text(data, "service")) > 120:
        errors["service"] = "Keep the service under 120 characters."
    if len(_text(data, "message")) > MAX_MESSAGE:
        errors["message"] = f"Keep the message under {MAX_MESSAGE} characters."
    custom: dict[str, str] = {}
    for field in form.fields:
        value = _text(data, field["name"])
        if field["required"] and not value:
            errors[field["name"]] = "This field is required."
        elif len(value) > MAX_CUSTOM:
            errors[field["name"]] = f"Keep this under {MAX_CUSTOM} characters."
        elif value:
            custom[field["name"]] = value
    if errors:
        raise FormInvalid(errors)
    return LeadDetails(phone=phone, name=_text(data, "name"), email=email, service_wanted=_text(data, "service"),
                       preferred_date=preferred, message=_text(data, "message"), custom=custom)


def _hits_since(session: Session, form_id: int, column, value: str, since: datetime) -> tuple[int, datetime | None]:
    count, oldest = session.execute(
        select(func.count(), func.min(SalonFormHit.at))
        .where(SalonFormHit.form_id == form_id, column == value, SalonFormHit.at > since)).one()
    return count, oldest


def _limit(session: Session, form: SalonLeadForm, column, value: str, most: int, what: str, now: datetime) -> None:
    count, oldest = _hits_since(session, form.id, column, value, now - WINDOW)
    if count >= most:
        session.rollback()
        raise RateLimited(what, int(((oldest or now) + WINDOW - now).total_seconds()) + 1)


def submit_form(session: Session, slug: str, data: Mapping[str, Any], *, ip: str,
                now: datetime | None = None) -> Submission:
    """A public submission to the form at ``slug``: checked, rate-limited, and made (or merged into) a lead.

    Every attempt within the IP limit counts against it, valid or not; a phone counts once it parses.
    One that fills :data:`HONEYPOT` is refused with :class:`Unwanted`, which front ends answer as thanks.
    """
    now = now or utcnow()
    # The row lock puts one form's submissions in a line, so two processes cannot both pass a limit.
    form = session.scalar(select(SalonLeadForm).where(SalonLeadForm.slug == slug.strip().lower()).with_for_update())
    if form is None or not form.active:
        session.rollback()
        raise NotFound(f"There is no open form at /forms/{slug}.")
    org = session.get(Org, form.org_id)
    assert org is not None
    ip = ip[:64] or "unknown"
    _limit(session, form, SalonFormHit.ip, ip, form.max_per_ip_hour, "address", now)
    session.execute(delete(SalonFormHit).where(SalonFormHit.form_id == form.id, SalonFormHit.at < now - 24 * WINDOW))
    if _text(data, HONEYPOT):
        session.add(SalonFormHit(form_id=form.id, ip=ip, phone=None, at=now))
        session.commit()  # it counts against the address, and nothing else is kept
        raise Unwanted("Thank you, we will be in touch.")
    invalid: FormInvalid | None = None
    try:
        details = check_submission(form, org, data, now.astimezone(ZoneInfo(org.timezone)).date())
    except FormInvalid as exc:
        invalid = exc
    else:
        _limit(session, form, SalonFormHit.phone, details.phone, form.max_per_phone_hour, "phone", now)
    session.add(SalonFormHit(form_id=form.id, ip=ip, phone=None if invalid else details.phone, at=now))
    if invalid is not None:
        session.commit()  # the attempt counts against the address
        raise invalid
    lead, created = capture_lead(session, org, f"form:{form.slug}", details, source="form", now=now, form_id=form.id)
    session.commit()
    return Submission(lead.id, created, lead.score, lead.temperature)
