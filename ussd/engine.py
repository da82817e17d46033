"""The USSD state machine: pure and table-driven, with a thin effectful shell.

A :class:`Machine` is a table of states. Each state says what it shows on
entry and what an input does there; neither touches the database. The pure
:func:`transition` turns (state, carried data, input, facts) into (answer,
next state, carried data, effects). :func:`handle_hop` is the shell around
it: it loads the session and the facts, runs the transition, applies the
effects through core services, and saves the session, all in one
transaction. Any failure becomes a polite ``END`` screen; never a 5xx.

Navigation is the same everywhere: ``0`` goes back, ``00`` goes home, ``98``
shows more of a long list.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import event
from sqlalchemy.orm import Session

from config.errors import OfisiError
from core.ussd_sessions import HopState, Preload, SessionRaced, begin_hop, save_hop
from db.engine import Database
from ussd.screens import BACK, HOME, MORE, Screen, page_of, render

log = logging.getLogger("ofisi.ussd")

SORRY = Screen("Sorry, something went wrong on our side. Please dial again in a few minutes.", end=True)


@dataclass(frozen=True)
class Hop:
    """What a state sees: the input (empty on entry), the carried data and the facts."""

    input: str
    data: Mapping[str, Any]
    facts: Any
    phone: str = ""


@dataclass(frozen=True)
class Menu:
    """A screen of numbered choices or a long list; the engine pages it."""

    title: str
    items: Sequence[str] = ()
    footer: str = f"{BACK} Back"


@dataclass(frozen=True)
class Step:
    """The outcome of an input: where to go, what to remember, what to do."""

    goto: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    effects: tuple[Any, ...] = ()
    notice: str | None = None
    end: str | None = None


@dataclass(frozen=True)
class State:
    show: Callable[[Hop], Screen | Menu]
    handle: Callable[[Hop], Step]


class Machine(Protocol):
    states: Mapping[str, State]
    start: str
    home: str
    # Facts read with the session's row, in the one statement that locks it (None: none).
    preload: Preload | None

    def facts(self, session: Session, hop: HopState) -> Any:
        """What the states may read this hop (read lazily); shared by the transition and ``apply``."""

    def serves(self, facts: Any) -> bool:
        """Whether the caller is one this machine knows (a member, an account holder)."""

    def apply(self, session: Session, hop: HopState, effects: Sequence[Any], facts: Any) -> Mapping[str, Any]:
        """Carry out the transition's effects through core services; returns data to remember."""


@dataclass(frozen=True)
class Transition:
    answer: str
    state: str
    data: dict[str, Any]
    effects: tuple[Any, ...]
    ended: bool


def _show(machine: Machine, state: str, data: Mapping[str, Any], facts: Any, phone: str,
          notice: str | None) -> tuple[str, bool]:
    view = machine.states[state].show(Hop("", data, facts, phone))
    if isinstance(view, Menu):
        text, _more = page_of(view.title, view.items, int(data.get("_page", 0)), footer=view.footer)
        view = Screen(text)
    text = f"{notice}\n{view.text}" if notice else view.text
    return render(Screen(text, end=view.end)), view.end


def transition(machine: Machine, state: str, data: Mapping[str, Any], text: str, facts: Any, *,
               phone: str = "", entering: bool = False) -> Transition:
    """The pure step: no database, no clock, no randomness.

    ``00`` goes home only once the caller has been there (past the PIN), and ``0``
    only where there is somewhere to go back to: otherwise each shows the current
    screen again, so neither can skip the PIN or count as a wrong one. ``98``
    pages only a list; elsewhere it is an answer (an amount of 98).
    """
    carried = dict(data)
    stack: list[str] = list(carried.get("_back", []))
    if entering:
        return _arrive(machine, state, carried, facts, phone, None, ())
    choice = text.strip()
    if choice == HOME:
        if not carried.get("_home"):
            return _arrive(machine, state, carried, facts, phone, None, ())
        carried.update(_back=[], _page=0)
        return _arrive(machine, machine.home, carried, facts, phone, None, ())
    if choice == BACK and not stack:
        return _arrive(machine, state, carried, facts, phone, None, ())
    if choice == BACK:
        previous = stack.pop()
        carried.update(_back=stack, _page=0)
        return _arrive(machine, previous, carried, facts, phone, None, ())
    if choice == MORE and isinstance(machine.states[state].show(Hop("", carried, facts, phone)), Menu):
        carried["_page"] = int(carried.get("_page", 0)) + 1
        return _arrive(machine, state, carried, facts, phone, None, ())
    step = machine.states[state].handle(Hop(choice, carried, facts, phone))
    carried.update(step.data)
    if step.end is not None:
        return Transition(render(Screen(step.end, end=True)), state, carried, step.effects, True)
    target = step.goto or state
    if target != state:
        if target == machine.home:
            stack = []
        else:
            stack.append(state)
        carried.update(_back=stack[-10:], _page=0)
    return _arrive(machine, target, carried, facts, phone, step.notice, step.effects)


def _arrive(machine: Machine, state: str, carried: dict[str, Any], facts: Any, phone: str, notice: str | None,
            effects: tuple[Any, ...]) -> Transition:
    if state == machine.home:
        carried["_home"] = True
    answer, ended = _show(machine, state, carried, facts, phone, notice)
    return Transition(answer, state, carried, effects, ended)


def new_input(last_text: str, text: str) -> str:
    """The latest input: Africa's Talking sends every input so far joined by ``*``."""
    if last_text and text.startswith(last_text + "*"):
        return text[len(last_text) + 1:]
    if last_text and text == last_text:
        return ""
    return text.rsplit("*", 1)[-1] if text else ""


def handle_hop(db: Database, machine: Machine, *, session_id: str, phone: str, service_code: str,
               text: str) -> str:
    """Answer one hop; always a valid screen."""
    try:
        try:
            # A dial with no input is nearly always a new session: its row is not looked for first.
            return _hop(db, machine, session_id, phone, service_code, text, new=not text)
        except SessionRaced:
            # Another hop of the session stored its row first (the network sent the dial twice):
            # this one's work was rolled back; answer it against the stored row.
            return _hop(db, machine, session_id, phone, service_code, text, new=False)
    except OfisiError as exc:
        return render(Screen(str(exc), end=True))
    except Exception:
        log.exception("USSD hop failed (session %s)", session_id)
        return render(SORRY)


def _hop(db: Database, machine: Machine, session_id: str, phone: str, service_code: str, text: str, *,
         new: bool) -> str:
    with db.session() as session:
        _keep_loaded(session)
        hop = begin_hop(session, session_id, phone, service_code, machine.start, getattr(machine, "preload", None),
                        new=new)
        facts = machine.facts(session, hop)
        if hop.is_new:
            result = transition(machine, hop.state, hop.data, "", facts, phone=phone, entering=True)
            # A dial string with inputs (*384*1*2#) plays them in order.
            for piece in [p for p in (text or "").split("*") if p] if not result.ended else []:
                result = transition(machine, result.state, result.data, piece, facts, phone=phone)
                if result.effects:
                    result = _applied(session, machine, hop, result, facts)
                    # What was read with the session's row may be what the effects changed (a PIN).
                    hop.preloaded = hop.pin = None
                    facts = machine.facts(session, hop)
                if result.ended:
                    break
        elif (text or "") == hop.last_text:
            # The network retried a hop it did not hear back from: answer the same screen again.
            result = transition(machine, hop.state, hop.data, "", facts, phone=phone, entering=True)
        else:
            result = transition(machine, hop.state, hop.data, new_input(hop.last_text, text or ""), facts,
                                phone=phone)
            if result.effects:
                result = _applied(session, machine, hop, result, facts)
        hop.state, hop.data, hop.last_text = result.state, result.data, text or ""
        save_hop(session, hop, ended=result.ended)
        session.commit()
        return result.answer


_KEPT = "ussd.kept"


@event.listens_for(Session, "loaded_as_persistent")
def _kept(session: Session, instance: Any) -> None:
    kept = session.info.get(_KEPT)
    if kept is not None:
        kept.append(instance)


def _keep_loaded(session: Session) -> None:
    """Hold every object the hop loads, so the core services it calls find the org and member
    a fact already read in the identity map instead of reading them again (it holds weakly).
    One listener for every session, which holds only for a hop's: a listener of the hop's own
    cost more to set up than the rest of a menu screen."""
    session.info[_KEPT] = []


def _applied(session: Session, machine: Machine, hop: HopState, result: Transition, facts: Any) -> Transition:
    hop.data = result.data
    updates = machine.apply(session, hop, result.effects, facts)
    data = {**result.data, **updates}
    return Transition(result.answer, result.state, data, (), result.ended)
