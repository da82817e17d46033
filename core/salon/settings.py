"""A salon's booking rules: minimum notice, how far ahead clients may book, the
slot step, and when reminders go out. A salon that never changed them has the
defaults below (it has no ``salon_settings`` row)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from sqlalchemy.orm import Session

from core import audit
from core.actors import Actor
from core.errors import InvalidInput
from core.salon.common import require_salon
from db.models_salon import SalonSettings

# Steps that divide an hour keep slots on the same marks across a daylight-saving change.
SLOT_STEPS = (5, 10, 15, 20, 30, 60)


@dataclass(frozen=True)
class BookingSettings:
    min_notice_minutes: int = 60
    max_advance_days: int = 60
    slot_step_minutes: int = 15
    reminder_minutes: tuple[int, ...] = (24 * 60, 120)


DEFAULTS = BookingSettings()


def load_booking_settings(session: Session, org_id: int) -> BookingSettings:
    """The rules in force, for services that have already checked the actor."""
    row = session.get(SalonSettings, org_id)
    if row is None:
        return DEFAULTS
    return BookingSettings(row.min_notice_minutes, row.max_advance_days, row.slot_step_minutes,
                           tuple(row.reminder_minutes))


def booking_settings(session: Session, actor: Actor, org_id: int) -> BookingSettings:
    require_salon(session, actor, org_id, "salon.bookings.read")
    return load_booking_settings(session, org_id)


def update_booking_settings(
    session: Session,
    actor: Actor,
    org_id: int,
    *,
    min_notice_minutes: int | None = None,
    max_advance_days: int | None = None,
    slot_step_minutes: int | None = None,
    reminder_minutes: Sequence[int] | None = None,
) -> BookingSettings:
    """Change some of the rules; the others keep their values. New reminder times apply to bookings made after."""
    org = require_salon(session, actor, org_id, "salon.settings.manage")
    before = load_booking_settings(session, org.id)
    after = BookingSettings(
        before.min_notice_minutes if min_notice_minutes is None else min_notice_minutes,
        before.max_advance_days if max_advance_days is None else max_advance_days,
        before.slot_step_minutes if slot_step_minutes is None else slot_step_minutes,
        before.reminder_minutes if reminder_minutes is None else tuple(sorted(set(reminder_minutes), reverse=True)),
    )
    if not 0 <= after.min_notice_minutes <= 30 * 24 * 60:
        raise InvalidInput("Minimum notice is between 0 minutes and 30 days.")
    if not 1 <= after.max_advance_days <= 366:
        raise InvalidInput("Clients may book between 1 and 366 days ahead.")
    if after.slot_step_minutes not in SLOT_STEPS:
        raise InvalidInput(f"The slot step is one of {', '.join(map(str, SLOT_STEPS))} minutes.")
    if any(not 1 <= m <= 14 * 24 * 60 for m in after.reminder_minutes):
        raise InvalidInput("Reminders go out between 1 minute and 14 days before the appointment.")
    row = session.get(SalonSettings, org.id)
    if row is None:
        row = SalonSettings(org_id=org.id)
        session.add(row)
    row.min_notice_minutes = after.min_notice_minutes
    row.max_advance_days = after.max_advance_days
    row.slot_step_minutes = after.slot_step_minutes
    row.reminder_minutes = list(after.reminder_minutes)
    audit.record(session, actor, "salon.settings", "org", org.id, org_id=org.id,
                 before=_plain(before), after=_plain(after))
    session.commit()
    return after


def _plain(settings: BookingSettings) -> dict:
    data = asdict(settings)
    data["reminder_minutes"] = list(settings.reminder_minutes)
    return data
