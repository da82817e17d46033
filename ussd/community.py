"""The community menu for feature phones: upcoming events, register or cancel, my registrations.

It shares the USSD engine and its one service code with the chama menu:
:class:`SharedMenu` answers a caller who has a community account and is not
a chama member with the community states (prefixed ``community_``) and
everyone else with the machine that was registered before (the chama menu),
so neither area's callers see the other's screens. The area is chosen on the
first hop and kept in the session's data (``_area``).

Registering runs :func:`core.community.events.register`, the function the SMS
``JOIN`` and the console call; the outcome (a place, or the waitlist) is sent
by SMS through the outbox, since the ``END`` screen is decided before it.
"""

from __future__ import annotations

import threading
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import outbox
from core.actors import Actor
from core.community.base import MEMBERS
from core.community.events import cancel_registration, register, upcoming_events
from core.numbers import whole_number
from core.ussd_sessions import HopState
from db.models import Org
from db.models_community import CommunityAccount, CommunityEvent, CommunityRegistration
from ussd.callback import current_machine, use_machine
from ussd.engine import Hop, Machine, Menu, State, Step
from ussd.screens import Screen, picked

GATEWAY = Actor.system_actor("ussd")
PREFIX = "community_"


class CommunityFacts:
    """What the community menu may show, read lazily."""

    def __init__(self, session: Session, hop: HopState) -> None:
        self.session, self.phone = session, hop.phone

    @cached_property
    def accounts(self) -> list[tuple[Org, CommunityAccount]]:
        return list(self.session.execute(
            select(Org, CommunityAccount).join(CommunityAccount, CommunityAccount.org_id == Org.id)
            .where(Org.kind == "community", CommunityAccount.phone == self.phone).order_by(Org.name)))

    def chosen(self, data) -> tuple[Org, CommunityAccount] | None:
        return next(((o, a) for o, a in self.accounts if o.id == data.get("org_id")), None)

    def events(self, data):
        org, _account = self.chosen(data)
        return upcoming_events(self.session, MEMBERS, org.id, limit=20)

    def mine(self, data) -> list[tuple[CommunityEvent, str]]:
        org, account = self.chosen(data)
        return list(self.session.execute(
            select(CommunityEvent, CommunityRegistration.status)
            .join(CommunityRegistration, CommunityRegistration.event_id == CommunityEvent.id)
            .where(CommunityRegistration.account_id == account.id, CommunityEvent.status == "scheduled",
                   CommunityRegistration.status.in_(("registered", "waitlisted")))
            .order_by(CommunityEvent.starts_at)))


def _when(org: Org, moment) -> str:
    return moment.astimezone(ZoneInfo(org.timezone)).strftime("%d %b %H:%M")


def show_entry(hop: Hop) -> Screen | Menu:
    accounts = hop.facts.accounts
    if not accounts:
        return Screen("This number has no community account. Send EVENTS by SMS to see events and join one.",
                      end=True)
    return Menu("Choose your community:", [f"{n} {org.name}" for n, (org, _a) in enumerate(accounts, 1)],
                footer="")


def handle_entry(hop: Hop) -> Step:
    account = picked(hop.input, hop.facts.accounts)
    if account is not None:
        return Step(goto=f"{PREFIX}menu", data={"org_id": account[0].id})
    return Step(notice="Reply with the community's number.")


def show_menu(hop: Hop) -> Menu:
    org, _account = hop.facts.chosen(hop.data)
    return Menu(org.name, ["1 Upcoming events", "2 My registrations"], footer="")


def handle_menu(hop: Hop) -> Step:
    target = {"1": "events", "2": "mine"}.get(hop.input)
    return Step(goto=f"{PREFIX}{target}") if target else Step(notice="Reply 1 or 2.")


def show_events(hop: Hop) -> Menu:
    org, _account = hop.facts.chosen(hop.data)
    events = hop.facts.events(hop.data)
    if not events:
        return Menu("No upcoming events right now.")
    return Menu("Reply with an event's number:",
                [f"{e.id} {e.title} {_when(org, e.starts_at)}" + (" (full)" if e.registered >= e.capacity else "")
                 for e in events])


def handle_events(hop: Hop) -> Step:
    event_id = whole_number(hop.input)
    if event_id in {e.id for e in hop.facts.events(hop.data)}:
        return Step(goto=f"{PREFIX}event", data={"event_id": event_id})
    return Step(notice="Reply with a number from the list.")


def show_event(hop: Hop) -> Screen:
    org, _account = hop.facts.chosen(hop.data)
    event = next((e for e in hop.facts.events(hop.data) if e.id == hop.data.get("event_id")), None)
    if event is None:
        return Screen("That event is no longer open.\n0 Back")
    places = max(0, event.capacity - event.registered)
    return Screen(f"{event.title}\n{_when(org, event.starts_at)} {event.venue or event.virtual_link}\n"
                  f"{places} places left\n1 Register\n2 Cancel my registration\n0 Back")


def handle_event(hop: Hop) -> Step:
    event_id = hop.data.get("event_id")
    if hop.input == "1":
        return Step(effects=(("join", event_id),),
                    end="Thank you. We will SMS you whether you have a place or are on the waitlist.")
    if hop.input == "2":
        return Step(effects=(("leave", event_id),), end="Your registration is cancelled. We will SMS you.")
    return Step(notice="Reply 1 to register, 2 to cancel or 0 to go back.")


def show_mine(hop: Hop) -> Menu:
    org, _account = hop.facts.chosen(hop.data)
    rows = hop.facts.mine(hop.data)
    if not rows:
        return Menu("You have no registrations.")
    return Menu("Your registrations:", [f"{e.id} {e.title} {_when(org, e.starts_at)} {status}" for e, status in rows])


def stay(_hop: Hop) -> Step:
    return Step(notice="Reply 0 to go back or 00 for the main menu.")


class CommunityMachine:
    start, home = f"{PREFIX}entry", f"{PREFIX}menu"
    states = {
        f"{PREFIX}entry": State(show=show_entry, handle=handle_entry),
        f"{PREFIX}menu": State(show=show_menu, handle=handle_menu),
        f"{PREFIX}events": State(show=show_events, handle=handle_events),
        f"{PREFIX}event": State(show=show_event, handle=handle_event),
        f"{PREFIX}mine": State(show=show_mine, handle=stay),
    }

    def facts(self, session: Session, hop: HopState) -> CommunityFacts:
        facts = CommunityFacts(session, hop)
        if hop.is_new and len(facts.accounts) == 1 and "org_id" not in hop.data:
            hop.data["org_id"] = facts.accounts[0][0].id
            hop.state = self.home  # one community: straight to its menu
        return facts

    def serves(self, facts: CommunityFacts) -> bool:
        return bool(facts.accounts)

    def apply(self, session: Session, hop: HopState, effects, facts: CommunityFacts) -> dict[str, Any]:
        org, account = facts.chosen(hop.data)
        hop.org_id = org.id
        for kind, event_id in effects:
            if kind == "join":
                outcome = register(session, GATEWAY, org.id, event_id, account.id, source="ussd")
                text = ("you are registered for" if outcome.status == "registered"
                        else "the event is full; you are on the waitlist for")
            else:
                cancel_registration(session, GATEWAY, org.id, event_id, account.id)
                text = "you have cancelled your registration for"
            title = session.get(CommunityEvent, event_id).title
            outbox.enqueue(session, org.id, to=hop.phone, body=f"{org.name}: {text} {title}.", purpose="transactional",
                           idempotency_key=f"ussd:{hop.session_id}:{kind}:{event_id}")
        return {}


class SharedMenu:
    """One service code, two areas: community callers get the community menu, others the earlier machine."""

    def __init__(self, other: Machine | None, community: CommunityMachine | None = None) -> None:
        self.other, self.community = other, community or CommunityMachine()
        self.states = {**(other.states if other else {}), **self.community.states}
        self.start = other.start if other else self.community.start
        self._area = threading.local()  # each hop runs in one worker thread, start to end

    @property
    def home(self) -> str:
        return self.community.home if getattr(self._area, "name", "") == "community" else self.other.home

    def _has_community_account(self, session: Session, hop: HopState) -> bool:
        return session.scalar(select(CommunityAccount.id).where(CommunityAccount.phone == hop.phone).limit(1)) \
            is not None

    def facts(self, session: Session, hop: HopState) -> Any:
        area = hop.data.get("_area")
        facts = None
        if area is None:
            # The first hop decides, once: the earlier machine's callers keep it; community callers switch.
            facts = self.other.facts(session, hop) if self.other else None
            area = "other" if facts is not None and self.other.serves(facts) else \
                "community" if self.other is None or self._has_community_account(session, hop) else "other"
            hop.data["_area"] = area
            if area == "community":
                hop.state = self.community.start
        self._area.name = area
        if area == "community":
            return self.community.facts(session, hop)
        return facts if facts is not None else self.other.facts(session, hop)

    def serves(self, facts: Any) -> bool:
        machine = self.community if getattr(self._area, "name", "") == "community" else self.other
        return machine.serves(facts)

    def apply(self, session: Session, hop: HopState, effects, facts: Any) -> dict[str, Any]:
        if hop.data.get("_area") == "community":
            return self.community.apply(session, hop, effects, facts)
        return self.other.apply(session, hop, effects, facts)


use_machine(SharedMenu(current_machine()))
