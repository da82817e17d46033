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
from sqlalchemy import ColumnElement, FromClause, Select, String, bindparam, literal, null, select, update
from sqlalchemy.orm import Session

from core.errors import InvalidInput
from core.ussd_pins import PIN_COLUMNS, PinState, pin_joined, pin_of
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
    # The phone's PIN, read and locked with the session's row (None when it was not: see Preload).
    pin: PinState | None = None
    # On a session's first hop, the answers to its Preload's questions about the caller (else None).
    answers: dict[str, Any] | None = None


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
    one round trip instead of several. ``columns`` come from ``joined``, outer-joined to the session
    row on ``on(phone)`` (the session's phone column), so a session whose phone has none of them
    is still found; ORM entities among the columns land in the unit of work's identity map as any
    query's do. In the states named by ``pin_states`` the phone's PIN comes too, locked as
    :func:`core.ussd_pins.pin_state` locks it (:attr:`HopState.pin`).

    A session's first hop has no row yet: the same facts are read by the phone alone, with its
    PIN (the first state reads it) and the answers to ``asks``: questions about the caller that
    only a first hop asks, such as which menu is hers (:meth:`asking`; :attr:`HopState.answers`).

    In the states named by ``also_states``, each row also carries the columns of ``also()``: a
    select correlated with the row's tables, such as a member's balances for the screen her next
    input most likely shows. On PostgreSQL it is joined ``LATERAL``; elsewhere, and in other
    states, its columns are NULL and the machine reads what it needs itself.

    Every table is named by its columns, not by an ORM class: a statement that names a class builds
    a row processor per column on every execution, where a table-only statement's result is
    described once (for these rows, that was more than the rest of a menu hop's reads).
    """

    def __init__(self, columns: tuple[Any, ...], joined: FromClause,
                 on: Callable[[ColumnElement[Any]], ColumnElement[bool]], order_by: tuple[Any, ...] = (),
                 *, pin_states: frozenset[str] = frozenset(),
                 asks: tuple[tuple[str, Callable[[ColumnElement[Any]], ColumnElement[Any]]], ...] = (),
                 also: Callable[[], Select[Any]] | None = None, also_states: frozenset[str] = frozenset()) -> None:
        self.columns, self.joined, self.on, self.order_by = columns, joined, on, order_by
        self.pin_states, self.asks, self.also, self.also_states = pin_states, asks, also, also_states
        self.width = len(_SESSIONS.c)
        self.also_width = len(also().selected_columns) if also is not None else 0
        self._built: dict[tuple[str, bool], Any] = {}

    def asking(self, name: str, question: Callable[[ColumnElement[Any]], ColumnElement[Any]]) -> Preload:
        """This preload, asking besides on a session's first hop ``question(phone)`` (a scalar SQL
        expression of the phone), whose answer is ``HopState.answers[name]``."""
        return Preload(self.columns, self.joined, self.on, self.order_by, pin_states=self.pin_states,
                       asks=(*self.asks, (name, question)), also=self.also, also_states=self.also_states)

    def statement(self, dialect: str, *, new: bool = False):
        """Built once per dialect, like _LOCK; only the session's row (and the PIN's) is locked:
        the facts are read, not held."""
        built = self._built.get((dialect, new))
        if built is None:
            built = self._built[dialect, new] = self._build(dialect, new)
        return built

    def _build(self, dialect: str, new: bool):
        if new:
            # One row for the caller whatever she has, for the PIN and the answers to hang on; the facts
            # are found by the phone itself, so the planner starts from its index, not from the row.
            phone = bindparam("phone", type_=String)
            anchor = select(phone.label("phone")).subquery("caller")
        else:
            anchor, phone = _SESSIONS, _SESSIONS.c.phone
        joined = anchor.outerjoin(self.joined, self.on(phone))
        columns: tuple[Any, ...] = self.columns if new else (_SESSIONS, *self.columns)
        if self.also is not None:
            if new or dialect != "postgresql" or not self.also_states:
                columns = (*columns, *(null() for _ in range(self.also_width)))
            else:
                # Read only in its states: elsewhere the sub-select is skipped and its columns are NULL.
                reads = _in_states(self.also_states)
                also = self.also().where(reads).lateral("also")
                joined, columns = joined.outerjoin(also, reads), (*columns, *also.c)
        if self.pin_states:
            reads_pin = None if new else _in_states(self.pin_states)
            pin, pin_on, pin_columns = pin_joined(dialect, phone, reads_pin)
            joined, columns = joined.outerjoin(pin, pin_on), (*columns, *pin_columns)
        if new:
            columns = (*columns, *(question(phone).label(f"ask_{name}") for name, question in self.asks))
        statement = select(*columns).select_from(joined).order_by(*self.order_by)
        if new:
            return statement
        return statement.where(_SESSIONS.c.session_id == bindparam("sid")).with_for_update(of=_SESSIONS)

    def split(self, rows, start: int, *, new: bool):
        """From a statement's rows: the preloaded rows (those whose first fact is not NULL; the
        columns of ``also`` end each), the PIN's columns (None without pin_states) and the answers
        (first hops only)."""
        end = start + len(self.columns) + self.also_width
        facts = [tuple(row[start:end]) for row in rows if row[start] is not None]
        pin = answers = None
        if rows and self.pin_states:
            pin, end = tuple(rows[0][end:end + len(PIN_COLUMNS)]), end + len(PIN_COLUMNS)
        if rows and new:
            answers = {name: rows[0][end + n] for n, (name, _q) in enumerate(self.asks)}
        return facts, pin, answers


def _in_states(states: frozenset[str]) -> ColumnElement[bool]:
    """Whether the session's row is in one of ``states``: one bound value per state, as an expanding
    IN would be rewritten on every execution."""
    return _SESSIONS.c.state.in_([literal(state) for state in sorted(states)])


def _locked(session: Session, session_id: str):
    return session.execute(_LOCK, {"sid": session_id}).first()


def _locked_with(session: Session, session_id: str, preload: Preload):
    """The session's row, the preloaded rows and the PIN's columns, or (None, None, None)."""
    rows = session.execute(preload.statement(session.get_bind().dialect.name), {"sid": session_id}).all()
    if not rows:
        return None, None, None
    facts, pin, _answers = preload.split(rows, preload.width, new=False)
    return rows[0], facts, pin


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
        return _first_hop(session, session_id, phone, service_code, start_state, preload)
    preloaded = pin = None
    if preload is None:
        row = _locked(session, session_id)
    else:
        row, preloaded, pin = _locked_with(session, session_id, preload)
    if row is None:
        return _first_hop(session, session_id, phone, service_code, start_state, preload)
    # A session id belongs to the phone that opened it, and takes no input once it has ended.
    if row.phone != phone:
        raise InvalidInput("this session belongs to another phone")
    if row.ended:
        raise SessionEnded("This session has ended. Please dial again.")
    return HopState(row.session_id, row.phone, row.service_code, row.state, dict(row.data or {}), row.org_id,
                    row.last_text, row.hops, is_new=row.hops == 0, preloaded=preloaded,
                    pin=pin_of(phone, pin) if pin is not None and row.state in preload.pin_states else None)


def _first_hop(session: Session, session_id: str, phone: str, service_code: str, start_state: str,
               preload: Preload | None) -> HopState:
    hop = HopState(session_id, phone, service_code, start_state, stored=False)
    if preload is not None:
        rows = session.execute(preload.statement(session.get_bind().dialect.name, new=True), {"phone": phone}).all()
        hop.preloaded, pin, hop.answers = preload.split(rows, 0, new=True)
        hop.pin = pin_of(phone, pin) if pin is not None else None
    return hop


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
