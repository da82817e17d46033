"""Where USSD sessions keep their state between hops (the machine itself is in ``ussd``).

A hop locks its session row (``FOR UPDATE`` on PostgreSQL; SQLite already
serialises writers), so two hops of one session never interleave, and saves
the new state in the same transaction as whatever the hop changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import phonenumbers
from sqlalchemy import ColumnElement, FromClause, bindparam, select, update
from sqlalchemy.orm import Session

from core.errors import InvalidInput
from db.engine import insert_unless_present
from db.models_ussd import UssdEvent, UssdSession
from db.types import utcnow


class SessionEnded(InvalidInput):
    """A hop for a session that has already ended (its END screen was sent, or the network closed it)."""


class SessionRaced(Exception):
    """A new session's row was stored by another hop of it while this one ran (the network sent
    its first hop twice at once): roll back and answer the hop again, against the stored row."""


@dataclass
class HopState:
    session_id: str
    phone: str
    service_code: str
    state: str
    data: dict[str, Any] = field(default_factory=dict)
    org_id: int | None = None
    last_text: str = ""
    hops: int = 0
    is_new: bool = True
    # The rows a machine's :class:`Preload` read with the session's own (None when it was not read:
    # the session's first hop, or a machine that preloads nothing).
    preloaded: list[tuple[Any, ...]] | None = None
    # Whether the session's row exists: a new session's is inserted by save_hop, with its state.
    stored: bool = True


@lru_cache(maxsize=4096)
def caller_phone(raw: str, default_country: str = "KE") -> str:
    """Africa's Talking sends ``+2547…``; anything else is parsed as the default country's.
    Remembered: a session's every hop brings the same number, and parsing it costs as much as
    a menu screen."""
    try:
        number = phonenumbers.parse(raw.strip(), None if raw.strip().startswith("+") else default_country)
    except phonenumbers.NumberParseException:
        raise InvalidInput(f"{raw!r} is not a phone number") from None
    if not phonenumbers.is_possible_number(number):
        raise InvalidInput(f"{raw!r} is not a phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_SESSIONS = UssdSession.__table__
# Built once: a statement's construction costs more than SQLite takes to run it.
_LOCK = select(_SESSIONS).where(_SESSIONS.c.session_id == bindparam("sid")).with_for_update()
_SAVE = update(_SESSIONS).where(_SESSIONS.c.session_id == bindparam("sid"))


class Preload:
    """Facts a machine reads on nearly every hop, read by the statement that locks the session row:
    one round trip instead of two. ``columns`` come from ``joined``, outer-joined to the session
    row on ``on(phone)`` (the session's phone column), so a session whose phone has none of them
    is still found; ORM entities among the columns land in the unit of work's identity map as any
    query's do."""

    def __init__(self, columns: tuple[Any, ...], joined: FromClause,
                 on: Callable[[ColumnElement[Any]], ColumnElement[bool]], order_by: tuple[Any, ...] = ()) -> None:
        self.width = len(_SESSIONS.c)
        # Built once, like _LOCK; only the session's row is locked (the facts are read, not held).
        self.statement = (select(_SESSIONS, *columns)
                          .select_from(_SESSIONS.outerjoin(joined, on(_SESSIONS.c.phone)))
                          .where(_SESSIONS.c.session_id == bindparam("sid")).order_by(*order_by)
                          .with_for_update(of=_SESSIONS))


def _locked(session: Session, session_id: str):
    return session.execute(_LOCK, {"sid": session_id}).first()


def _locked_with(session: Session, session_id: str, preload: Preload):
    """The session's row and the preloaded rows (those whose first fact is not NULL), or (None, None)."""
    rows = session.execute(preload.statement, {"sid": session_id}).all()
    if not rows:
        return None, None
    width = preload.width
    return rows[0], [tuple(row[width:]) for row in rows if row[width] is not None]


def begin_hop(session: Session, session_id: str, phone: str, service_code: str, start_state: str,
              preload: Preload | None = None, *, new: bool = False) -> HopState:
    """Lock the session's row and read its state; a session that has ended is refused. A session
    without a row starts at ``start_state``, its row inserted by :func:`save_hop`; with ``new``
    (a dial with no input yet: nearly always a session's first hop) the row is not even looked
    for, and a row found then by the insert raises :class:`SessionRaced`.

    The session is a row, not an ORM object: a hop reads one row and writes it
    back, and is the gateway's hottest path, so it pays for no identity map or
    unit of work for it. With a ``preload``, the facts it names come back in the same round trip
    (:attr:`HopState.preloaded`); a session's first hop has none, as its row
    did not exist yet.
    """
    if new:
        return HopState(session_id, phone, service_code, start_state, stored=False)
    preloaded = None
    if preload is None:
        row = _locked(session, session_id)
    else:
        row, preloaded = _locked_with(session, session_id, preload)
    if row is None:
        return HopState(session_id, phone, service_code, start_state, stored=False)
    # A session id belongs to the phone that opened it, and takes no input once it has ended.
    if row.phone != phone:
        raise InvalidInput("this session belongs to another phone")
    if row.ended:
        raise SessionEnded("This session has ended. Please dial again.")
    return HopState(row.session_id, row.phone, row.service_code, row.state, dict(row.data or {}), row.org_id,
                    row.last_text, row.hops, is_new=row.hops == 0, preloaded=preloaded)


def save_hop(session: Session, hop: HopState, *, ended: bool) -> None:
    """Store the state after a hop; part of the hop's unit of work. A new session's row is inserted
    with it (one statement for its first hop); :class:`SessionRaced` when another hop of the
    session stored it first."""
    now = utcnow()
    values = {"state": hop.state, "data": hop.data, "org_id": hop.org_id, "last_text": hop.last_text,
              "hops": hop.hops + 1, "ended": ended, "updated_at": now}
    if hop.stored:
        session.execute(_SAVE, {"sid": hop.session_id, **values})
        return
    opened = session.execute(insert_unless_present(session.get_bind().dialect.name, _SESSIONS, ("session_id",),
                                                   _SESSIONS.c.session_id), {
        "session_id": hop.session_id, "phone": hop.phone, "service_code": hop.service_code, "created_at": now,
        **values}).first()
    if opened is None:
        raise SessionRaced(hop.session_id)
    hop.stored = True


def record_session_end(session: Session, form: dict[str, str]) -> None:
    """Keep Africa's Talking's end-of-session notification and close the session."""
    session_id = form.get("sessionId", "")[:100]
    session.add(UssdEvent(session_id=session_id, phone=form.get("phoneNumber", "")[:20] or None,
                          status=(form.get("status") or "")[:40] or None,
                          error_message=form.get("errorMessage") or None, raw=dict(form)))
    row = session.get(UssdSession, session_id)
    if row is not None:
        row.ended, row.end_status = True, (form.get("status") or "")[:40] or None
    session.commit()
