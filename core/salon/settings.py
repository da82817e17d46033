"""A salon's booking rules and its staff's preferences.

Booking rules: minimum notice and how far ahead clients may book (clients
only: staff book any time from now on, and walk-ins up to an hour back), the
slot step, reminder times, how long a booking waits for its deposit, the
no-show fee and whether a paid deposit is kept on a no-show, and the salon's
own websites that may post its forms from a browser. A salon that never
changed them has the defaults below (it has no ``salon_settings`` row).

Staff preferences: which of her bookings a professional is told of by SMS
(new, moved, cancelled; all unless she says otherwise), and whether an owner
also takes clients (owners are not bookable unless they say so).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.actors import Actor
from core.errors import InvalidInput
from core.money import parse_money
from core.salon.common import require_for_professional, require_salon
from db.models import Membership, User
from db.models_salon import NOTIFY_KINDS, SalonSettings, SalonStaff

# Steps that divide an hour keep slots on the same marks across a daylight-saving change.
SLOT_STEPS = (5, 10, 15, 20, 30, 60)


@dataclass(frozen=True)
class BookingSettings:
    min_notice_minutes: int = 60
    max_advance_days: int = 60
    slot_step_minutes: int = 15
    reminder_minutes: tuple[int, ...] = (24 * 60, 120)
    deposit_hold_minutes: int = 30
    no_show_fee_minor: int = 0
    keep_deposit_on_no_show: bool = True
    form_origins: tuple[str, ...] = ()

    @property
    def confirm_reminder(self) -> int | None:
        """The reminder that asks the client to reply 1 or 2: the earliest one (24 hours by default)."""
        return max(self.reminder_minutes) if self.reminder_minutes else None


DEFAULTS = BookingSettings()


def load_booking_settings(session: Session, org_id: int) -> BookingSettings:
    """The rules in force, for services that have already checked the actor."""
    row = session.get(SalonSettings, org_id)
    if row is None:
        return DEFAULTS
    return BookingSettings(row.min_notice_minutes, row.max_advance_days, row.slot_step_minutes,
                           tuple(row.reminder_minutes), row.deposit_hold_minutes, row.no_show_fee_minor,
                           row.keep_deposit_on_no_show, tuple(row.form_origins or ()))


def booking_settings(session: Session, actor: Actor, org_id: int) -> BookingSettings:
    require_salon(session, actor, org_id, "salon.bookings.read")
    return load_booking_settings(session, org_id)


_HOST = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$")


def _origin(text: str) -> str:
    """``https://glow.co.ke`` from what a person typed, as a browser writes it in ``Origin`` (lower case,
    punycode, no default port); refused unless it is a web origin and nothing more (it goes into headers)."""
    text = text.strip().rstrip("/")
    wrong = InvalidInput(f"{text!r} is not a website's address; write it like https://glow.co.ke.")
    parts = urlsplit(text)
    if (parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query
            or parts.fragment or parts.username is not None or parts.password is not None):
        raise wrong
    try:
        host, port = parts.hostname.encode("idna").decode("ascii").lower(), parts.port
    except (UnicodeError, ValueError):
        raise wrong from None
    if not _HOST.match(host):
        raise wrong
    default = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None and port != default else "")


def update_booking_settings(
    session: Session,
    actor: Actor,
    org_id: int,
    *,
    min_notice_minutes: int | None = None,
    max_advance_days: int | None = None,
    slot_step_minutes: int | None = None,
    reminder_minutes: Sequence[int] | None = None,
    deposit_hold_minutes: int | None = None,
    no_show_fee: str | int | None = None,
    keep_deposit_on_no_show: bool | None = None,
    form_origins: Sequence[str] | None = None,
) -> BookingSettings:
    """Change some of the rules; the others keep their values. New reminder times apply to bookings made after.

    ``no_show_fee`` is in major units as written (``500``, ``"1,000"``; 0 for none).
    """
    org = require_salon(session, actor, org_id, "salon.settings.manage")
    before = load_booking_settings(session, org.id)

    def chosen(value, old):
        return old if value is None else value

    fee = before.no_show_fee_minor if no_show_fee is None else parse_money(no_show_fee, org.currency)
    after = BookingSettings(
        chosen(min_notice_minutes, before.min_notice_minutes),
        chosen(max_advance_days, before.max_advance_days),
        chosen(slot_step_minutes, before.slot_step_minutes),
        before.reminder_minutes if reminder_minutes is None else tuple(sorted(set(reminder_minutes), reverse=True)),
        chosen(deposit_hold_minutes, before.deposit_hold_minutes),
        fee,
        chosen(keep_deposit_on_no_show, before.keep_deposit_on_no_show),
        before.form_origins if form_origins is None else tuple(dict.fromkeys(_origin(o) for o in form_origins)),
    )
    if not 0 <= after.min_notice_minutes <= 30 * 24 * 60:
        raise InvalidInput("Minimum notice is between 0 minutes and 30 days.")
    if not 1 <= after.max_advance_days <= 366:
        raise InvalidInput("Clients may book between 1 and 366 days ahead.")
    if after.slot_step_minutes not in SLOT_STEPS:
        raise InvalidInput(f"The slot step is one of {', '.join(map(str, SLOT_STEPS))} minutes.")
    if any(not 1 <= m <= 14 * 24 * 60 for m in after.reminder_minutes):
        raise InvalidInput("Reminders go out between 1 minute and 14 days before the appointment.")
    if not 5 <= after.deposit_hold_minutes <= 24 * 60:
        raise InvalidInput("A booking waits for its deposit between 5 minutes and 24 hours.")
    if after.no_show_fee_minor < 0:
        raise InvalidInput("A no-show fee cannot be negative.")
    row = session.get(SalonSettings, org.id)
    if row is None:
        row = SalonSettings(org_id=org.id)
        session.add(row)
    row.min_notice_minutes = after.min_notice_minutes
    row.max_advance_days = after.max_advance_days
    row.slot_step_minutes = after.slot_step_minutes
    row.reminder_minutes = list(after.reminder_minutes)
    row.deposit_hold_minutes = after.deposit_hold_minutes
    row.no_show_fee_minor = after.no_show_fee_minor
    row.keep_deposit_on_no_show = after.keep_deposit_on_no_show
    row.form_origins = list(after.form_origins)
    audit.record(session, actor, "salon.settings", "org", org.id, org_id=org.id,
                 before=_plain(before), after=_plain(after))
    session.commit()
    return after


def _plain(settings: BookingSettings) -> dict:
    data = asdict(settings)
    data["reminder_minutes"] = list(settings.reminder_minutes)
    data["form_origins"] = list(settings.form_origins)
    return data


# ---------------------------------------------------------------- staff preferences

@dataclass(frozen=True)
class StaffSettings:
    user_id: int
    name: str
    role: str
    phone: str | None
    bookable: bool
    notify_on: tuple[str, ...]


def _staff_row(session: Session, org_id: int, user_id: int) -> SalonStaff | None:
    return session.get(SalonStaff, (org_id, user_id))


def notify_on(session: Session, org_id: int, user_id: int) -> tuple[str, ...]:
    """Which of her bookings a professional is told of (for services that checked the actor)."""
    row = _staff_row(session, org_id, user_id)
    return NOTIFY_KINDS if row is None else tuple(row.notify_on)


def list_staff_settings(session: Session, actor: Actor, org_id: int) -> list[StaffSettings]:
    """Every staff member of the salon with her preferences, by name."""
    org = require_salon(session, actor, org_id, "salon.bookings.read")
    rows = session.execute(
        select(User, Membership.role, SalonStaff)
        .join(Membership, Membership.user_id == User.id)
        .outerjoin(SalonStaff, (SalonStaff.org_id == Membership.org_id) & (SalonStaff.user_id == User.id))
        .where(Membership.org_id == org.id).order_by(User.name, User.id))
    return [StaffSettings(u.id, u.name, role, u.phone, role == "professional" or bool(st and st.bookable),
                          NOTIFY_KINDS if st is None else tuple(st.notify_on)) for u, role, st in rows]


def update_staff_settings(session: Session, actor: Actor, org_id: int, user_id: int, *,
                          bookable: bool | None = None, notify: Sequence[str] | None = None) -> StaffSettings:
    """Change a staff member's preferences: which bookings she is told of (her own choice, or the
    owner's and the reception's), and whether an owner takes clients (the owner's choice)."""
    org = require_for_professional(session, actor, org_id, user_id, "salon.schedule.write")
    role = session.scalar(select(Membership.role).where(Membership.org_id == org.id, Membership.user_id == user_id))
    if role is None:
        raise InvalidInput("That person is not staff of this salon.")
    row = _staff_row(session, org.id, user_id)
    before = {"bookable": bool(row and row.bookable), "notify_on": list(notify_on(session, org.id, user_id))}
    if row is None:
        row = SalonStaff(org_id=org.id, user_id=user_id, bookable=False, notify_on=list(NOTIFY_KINDS))
        session.add(row)
    if notify is not None:
        unknown = [k for k in notify if k not in NOTIFY_KINDS]
        if unknown:
            raise InvalidInput(f"{', '.join(unknown)}: a professional can be told of {', '.join(NOTIFY_KINDS)}.")
        row.notify_on = [k for k in NOTIFY_KINDS if k in notify]
    if bookable is not None:
        require_salon(session, actor, org.id, "salon.settings.manage")
        if role != "owner":
            raise InvalidInput(f"Only an owner is made bookable by choice; a {role} "
                               + ("always is." if role == "professional" else "is not: give them the professional role."))
        row.bookable = bookable
    audit.record(session, actor, "salon.staff.settings", "user", user_id, org_id=org.id, before=before,
                 after={"bookable": row.bookable, "notify_on": list(row.notify_on)})
    session.commit()
    return next(s for s in list_staff_settings(session, actor, org.id) if s.user_id == user_id)
