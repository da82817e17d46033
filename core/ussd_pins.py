"""USSD PINs: four digits, hashed, three wrong tries lock the phone for 30 minutes.

The lock counts across sessions (hanging up does not reset it) and is read
on every hop that reads a PIN. The PIN's row is read under a row lock, so
guesses sent at once from many sessions are weighed one after another: three
count, then the lock. The check itself is pure (:func:`pin_matches`), so a
USSD state can decide from the facts; recording a wrong try is the effect
that may lock the phone, and a try while locked counts for nothing.

With the ``pin_key`` secret set, PINs are hashed under it (:func:`core.passwords.hash_pin`):
new PINs at once, older ones the next time their member enters them right.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, FromClause, and_, bindparam, select, true
from sqlalchemy.orm import Session

from core import audit
from core.actors import Actor
from core.errors import InvalidInput
from core.numbers import whole_number
from core.passwords import hash_pin, keyed_with, verify_pin
from db.models_ussd import UssdPin
from db.types import utcnow

MAX_WRONG = 3
LOCK_FOR = timedelta(minutes=30)
WEAK = {"0000", "1111", "2222", "3333", "4444", "5555", "6666", "7777", "8888", "9999", "1234", "4321"}


_KEY: list[Any] = [None, None]  # [the settings it was read from, the key]


def pin_key() -> bytes | None:
    """The gateway's PIN key (the ``pin_key`` secret), or None; read once per settings (a keyring
    lookup costs more than a hop)."""
    from config import get_settings

    settings = get_settings()
    if _KEY[0] is not settings:
        secret = settings.secret("pin_key", required=False)
        _KEY[:] = [settings, secret.reveal().encode("utf-8") if secret is not None else None]
    return _KEY[1]


def hash_new_pin(pin: str) -> str:
    """A PIN's hash as it is stored (and as a USSD session carries one to confirm)."""
    return hash_pin(pin, pin_key())


def same_pin(pin: str, stored: str | None) -> bool:
    return verify_pin(pin, stored, pin_key())


@dataclass(frozen=True)
class PinState:
    phone: str
    pin_hash: str | None
    failed_attempts: int
    locked_until: datetime | None

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now

    @property
    def tries_left(self) -> int:
        return MAX_WRONG - self.failed_attempts

    @property
    def rehash(self) -> bool:
        return _rehash(self.pin_hash)


def _rehash(pin_hash: str | None) -> bool:
    """Whether a right PIN should be hashed again: there is a PIN key and it is not under it."""
    key = pin_key()
    return key is not None and pin_hash is not None and not keyed_with(pin_hash, key)


# What a PinState is made of (pin_of), as :func:`pin_state` and :func:`pin_joined` read it.
# The table's columns, not the class's attributes: a statement that names no ORM class has its result
# described once, not a row processor per column on every execution (the preload carries these).
_PINS = UssdPin.__table__
PIN_COLUMNS = (_PINS.c.pin_hash, _PINS.c.failed_attempts, _PINS.c.locked_until)
# Built once, and columns rather than the row's object: the PIN hops are the gateway's hot path.
_PIN = select(*PIN_COLUMNS).where(_PINS.c.phone == bindparam("phone")).with_for_update()


def pin_joined(dialect: str, phone: ColumnElement[Any], when: ColumnElement[bool] | None = None
               ) -> tuple[FromClause, ColumnElement[bool], tuple[ColumnElement[Any], ...]]:
    """The phone's PIN row for another statement to outer-join (when ``when`` holds): what to join,
    on what, and the columns :func:`pin_of` reads. On PostgreSQL the row is locked as
    :func:`pin_state` locks it (a ``LATERAL`` sub-select ``FOR UPDATE``: the row lock cannot be
    taken on the nullable side of an outer join); SQLite has one writer at a time already."""
    where = [_PINS.c.phone == phone] + ([when] if when is not None else [])
    if dialect == "postgresql":
        pin = select(*PIN_COLUMNS).where(*where).with_for_update().lateral("pin")
        return pin, true(), tuple(pin.c[column.key] for column in PIN_COLUMNS)
    return _PINS, and_(*where), PIN_COLUMNS


def pin_of(phone: str, values: tuple[Any, ...] | None) -> PinState:
    """The :class:`PinState` from the values of :data:`PIN_COLUMNS` (None, or NULLs from an outer
    join, for a phone with no PIN)."""
    pin_hash, failed, locked_until = values or (None, 0, None)
    return PinState(phone, pin_hash, failed or 0, locked_until)


def pin_state(session: Session, phone: str) -> PinState:
    """The phone's PIN, read for this hop's transaction under a row lock (until the hop commits)."""
    return pin_of(phone, session.execute(_PIN, {"phone": phone}).first())


def check_new_pin(pin: str) -> str | None:
    """Why a new PIN is not acceptable, or None."""
    if len(pin) != 4 or whole_number(pin) is None:
        return "A PIN is 4 digits."
    if pin in WEAK:
        return "That PIN is too easy to guess. Choose another."
    return None


def pin_matches(state: PinState, pin: str) -> bool:
    return len(pin) == 4 and whole_number(pin) is not None and same_pin(pin, state.pin_hash)


def set_pin(session: Session, phone: str, pin: str) -> None:
    """Set or change the PIN; part of the caller's unit of work."""
    problem = check_new_pin(pin)
    if problem:
        raise InvalidInput(problem)
    row = session.get(UssdPin, phone)
    if row is None:
        session.add(UssdPin(phone=phone, pin_hash=hash_new_pin(pin), failed_attempts=0, set_at=utcnow()))
    else:
        row.pin_hash, row.failed_attempts, row.locked_until, row.set_at = hash_new_pin(pin), 0, None, utcnow()
    audit.record(session, Actor.system_actor("ussd"), "ussd.pin_set", "phone", phone)


def record_wrong_pin(session: Session, phone: str, *, now: datetime | None = None) -> datetime | None:
    """Count a wrong PIN; when this one locked the phone, the time it is locked until (which names
    the lock: one SMS per lock). A try while the phone is locked counts for nothing."""
    now = now or utcnow()
    row = session.scalar(select(UssdPin).where(UssdPin.phone == phone).with_for_update())
    if row is None or (row.locked_until is not None and row.locked_until > now):
        return None
    row.failed_attempts += 1
    if row.failed_attempts >= MAX_WRONG:
        row.failed_attempts, row.locked_until = 0, now + LOCK_FOR
        audit.record(session, Actor.system_actor("ussd"), "ussd.pin_locked", "phone", phone)
        return row.locked_until
    return None


def record_right_pin(session: Session, phone: str, pin: str | None = None) -> None:
    """Clear earlier wrong tries; given the (right) ``pin``, hash it under the PIN key if it is not yet."""
    row = session.get(UssdPin, phone)
    if row is None:
        return
    if row.failed_attempts:
        row.failed_attempts = 0
    if pin is not None and _rehash(row.pin_hash) and same_pin(pin, row.pin_hash):
        row.pin_hash = hash_new_pin(pin)
