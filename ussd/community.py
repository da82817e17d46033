"""The community menu for feature phones: upcoming events, register or cancel, my registrations,
recent posts (and reporting one), help; and joining a community for a newcomer.

It shares the USSD engine and its one service code with the chama menu:
:class:`SharedMenu` answers a chama member with the machine it wraps (the
chama menu; :mod:`ussd.menus` composes them), a caller with a community account with
the community states (prefixed ``community_``), and a newcomer, when there
is a community to join, with the community's welcome: choose a community,
give your name and what describes you, and you are a member (the same
:func:`core.community.accounts.join` the SMS sign-up ends in). The area is
chosen on the first hop and kept in the session's data (``_area``).

Registering runs :func:`core.community.events.register`, the function the SMS
``JOIN`` and the console call; it sends the confirmation (a place, or the
waitlist) by SMS, since the ``END`` screen is decided before it. A suspended
member is told so, politely, and offered nothing else.
"""

from __future__ import annotations

import threading
from functools import cached_property
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.actors import Actor
from core.community.accounts import join
from core.community.base import MEMBERS, when
from core.community.events import cancel_registration, register, upcoming_events
from core.community.social import recent_posts, report_content
from core.numbers import whole_number
from core.ussd_sessions import HopState
from db.models import Org
from db.models_community import PROFILE_TYPES, CommunityAccount, CommunityEvent, CommunityRegistration
from ussd.engine import Hop, Machine, Menu, State, Step
from ussd.screens import Screen, picked

GATEWAY = Actor.system_actor("ussd")
PREFIX = "community_"
TYPE_NAMES = ("Innovator", "Mentor", "Investor", "Student", "Institution", "Organisation", "Professional")
REASONS = ("Spam", "Abuse or harassment", "False information", "Something else")


class CommunityFacts:
    """What the community menu may show, read lazily."""

    def __init__(self, session: Session, hop: HopState) -> None:
        self.session, self.phone = session, hop.phone

    @cached_property
    def accounts(self) -> list[tuple[Org, CommunityAccount]]:
        return list(self.session.execute(
            select(Org, CommunityAccount).join(CommunityAccount, CommunityAccount.org_id == Org.id)
            .where(Org.kind == "community", CommunityAccount.phone == self.phone,
                   CommunityAccount.status != "placeholder").order_by(Org.name)))

    @cached_property
    def communities(self) -> list[Org]:
        """Communities a newcomer may join."""
        return list(self.session.scalars(select(Org).where(Org.kind == "community").order_by(Org.name)))

    def org(self, data) -> Org | None:
        return next((o for o in self.communities if o.id == data.get("org_id")), None)

    def chosen(self, data) -> tuple[Org, CommunityAccount] | None:
        return next(((o, a) for o, a in self.accounts if o.id == data.get("org_id")), None)

    def events(self, data):
        org, _account = self.chosen(data)
        return upcoming_events(self.session, MEMBERS, org.id, limit=20)

    def posts(self, data):
        org, _account = self.chosen(data)
        return recent_posts(self.session, MEMBERS, org.id, limit=10)

    def mine(self, data) -> list[tuple[CommunityEvent, str]]:
        org, account = self.chosen(data)
        return list(self.session.execute(
            select(CommunityEvent, CommunityRegistration.status)
            .join(CommunityRegistration, CommunityRegistration.event_id == CommunityEvent.id)
            .where(CommunityRegistration.account_id == account.id, CommunityEvent.status == "scheduled",
                   CommunityRegistration.status.in_(("registered", "waitlisted")))
            .order_by(CommunityEvent.starts_at)))


def _when(org: Org, moment) -> str:
    return when(org, moment, "%d %b %H:%M")


# ---------------------------------------------------------------- entry and joining

def show_entry(hop: Hop) -> Screen | Menu:
    facts: CommunityFacts = hop.facts
    if not facts.accounts:
        if not facts.communities:
            return Screen("There is no community to join on this number yet.", end=True)
        return Menu("Welcome! Choose a community to join:",
                    [f"{n} {org.name}" for n, org in enumerate(facts.communities, 1)], footer="")
    return Menu("Choose your community:", [f"{n} {org.name}" for n, (org, _a) in enumerate(facts.accounts, 1)],
                footer="")


def handle_entry(hop: Hop) -> Step:
    facts: CommunityFacts = hop.facts
    if not facts.accounts:
        org = picked(hop.input, facts.communities)
        if org is not None:
            return Step(goto=f"{PREFIX}join_name", data={"org_id": org.id})
        return Step(notice="Reply with the community's number.")
    account = picked(hop.input, facts.accounts)
    if account is not None:
        return Step(goto=f"{PREFIX}menu", data={"org_id": account[0].id})
    return Step(notice="Reply with the community's number.")


def show_join_name(hop: Hop) -> Screen:
    org = hop.facts.org(hop.data)
    return Screen(f"Join {org.name}.\nYour full name:\n0 Back")


def handle_join_name(hop: Hop) -> Step:
    name = " ".join(hop.input.split())
    if len(name) < 2 or not any(ch.isalpha() for ch in name):
        return Step(notice="Please type your full name.")
    return Step(goto=f"{PREFIX}join_type", data={"name": name[:100]})


def show_join_type(hop: Hop) -> Menu:
    return Menu("What describes you best?", [f"{n} {name}" for n, name in enumerate(TYPE_NAMES, 1)])


def handle_join_type(hop: Hop) -> Step:
    choice = whole_number(hop.input)
    if choice is None or not 1 <= choice <= len(PROFILE_TYPES):
        return Step(notice=f"Reply 1 to {len(PROFILE_TYPES)}.")
    org = hop.facts.org(hop.data)
    first = str(hop.data.get("name", "")).split()[0]
    return Step(effects=(("signup", PROFILE_TYPES[choice - 1]),),
                end=f"Welcome to {org.name}, {first}! Dial again to see events and register, or SMS HELP.")


# ---------------------------------------------------------------- members

def show_menu(hop: Hop) -> Screen | Menu:
    org, account = hop.facts.chosen(hop.data)
    if account.status == "suspended":
        return Screen(f"Sorry, your membership of {org.name} is suspended, so the menu is closed. "
                      "SMS us to talk to our staff.", end=True)
    return Menu(org.name, ["1 Upcoming events", "2 My registrations", "3 Recent posts", "4 Help"], footer="")


def handle_menu(hop: Hop) -> Step:
    target = {"1": "events", "2": "mine", "3": "posts", "4": "help"}.get(hop.input)
    return Step(goto=f"{PREFIX}{target}") if target else Step(notice="Reply 1 to 4.")


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
    return Screen(f"{event.title}\n{_when(org, event.starts_at)} {event.place}\n"
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


def show_posts(hop: Hop) -> Menu:
    posts = hop.facts.posts(hop.data)
    if not posts:
        return Menu("No posts yet.")
    return Menu("Reply with a post's number to read or report it:",
                [f"{p.id} {name}: {(p.title or p.body)[:30]}" for p, name in posts])


def handle_posts(hop: Hop) -> Step:
    post_id = whole_number(hop.input)
    if post_id in {p.id for p, _name in hop.facts.posts(hop.data)}:
        return Step(goto=f"{PREFIX}post", data={"post_id": post_id})
    return Step(notice="Reply with a number from the list.")


def show_post(hop: Hop) -> Screen:
    post = next(((p, n) for p, n in hop.facts.posts(hop.data) if p.id == hop.data.get("post_id")), None)
    if post is None:
        return Screen("That post is no longer shown.\n0 Back")
    p, name = post
    return Screen(f"{name}: {(p.title + ' ' if p.title else '')}{p.body}"[:120] + "\n1 Report this post\n0 Back")


def handle_post(hop: Hop) -> Step:
    if hop.input == "1":
        return Step(goto=f"{PREFIX}report")
    return Step(notice="Reply 1 to report it or 0 to go back.")


def show_report(hop: Hop) -> Menu:
    return Menu("Why are you reporting it?", [f"{n} {reason}" for n, reason in enumerate(REASONS, 1)])


def handle_report(hop: Hop) -> Step:
    reason = picked(hop.input, REASONS)
    if reason is None:
        return Step(notice=f"Reply 1 to {len(REASONS)}.")
    return Step(effects=(("report", hop.data.get("post_id"), reason),),
                end="Thank you. A moderator will look at this post.")


def show_help(hop: Hop) -> Screen:
    org, _account = hop.facts.chosen(hop.data)
    number = f" to {org.sms_number}" if org.sms_number else ""
    return Screen(f"By SMS{number}: EVENTS, JOIN 4, LEAVE 4, MY EVENTS, POSTS, REPORT 12. "
                  "Any other message reaches our staff.\n0 Back")


def stay(_hop: Hop) -> Step:
    return Step(notice="Reply 0 to go back or 00 for the main menu.")


class CommunityMachine:
    start, home = f"{PREFIX}entry", f"{PREFIX}menu"
    preload = None
    states = {
        f"{PREFIX}entry": State(show=show_entry, handle=handle_entry),
        f"{PREFIX}join_name": State(show=show_join_name, handle=handle_join_name),
        f"{PREFIX}join_type": State(show=show_join_type, handle=handle_join_type),
        f"{PREFIX}menu": State(show=show_menu, handle=handle_menu),
        f"{PREFIX}events": State(show=show_events, handle=handle_events),
        f"{PREFIX}event": State(show=show_event, handle=handle_event),
        f"{PREFIX}mine": State(show=show_mine, handle=stay),
        f"{PREFIX}posts": State(show=show_posts, handle=handle_posts),
        f"{PREFIX}post": State(show=show_post, handle=handle_post),
        f"{PREFIX}report": State(show=show_report, handle=handle_report),
        f"{PREFIX}help": State(show=show_help, handle=stay),
    }

    def facts(self, session: Session, hop: HopState) -> CommunityFacts:
        facts = CommunityFacts(session, hop)
        if hop.is_new and len(facts.accounts) == 1 and "org_id" not in hop.data:
            hop.data["org_id"] = facts.accounts[0][0].id
            hop.state = self.home  # one community: straight to its menu
        return facts

    def serves(self, facts: CommunityFacts) -> bool:
        return bool(facts.accounts) or bool(facts.communities)

    def apply(self, session: Session, hop: HopState, effects, facts: CommunityFacts) -> dict[str, Any]:
        if effects and effects[0][0] == "signup":
            org = facts.org(hop.data)
            hop.org_id = org.id
            join(session, GATEWAY, org.id, phone=hop.phone, display_name=str(hop.data.get("name", "")),
                 type=effects[0][1], source="ussd")
            return {}
        org, account = facts.chosen(hop.data)
        hop.org_id = org.id
        for kind, target, *rest in effects:
            if kind == "join":
                register(session, GATEWAY, org.id, target, account.id, source="ussd")
            elif kind == "leave":
                cancel_registration(session, GATEWAY, org.id, target, account.id)
            elif kind == "report":
                report_content(session, GATEWAY, org.id, "post", target, rest[0], reporter_account_id=account.id)
        return {}


class SharedMenu:
    """One service code, two areas: chama members get the wrapped machine, community members and
    newcomers (when there is a community to join) the community menu, anyone else the wrapped machine."""

    def __init__(self, other: Machine | None, community: CommunityMachine | None = None) -> None:
        self.other, self.community = other, community or CommunityMachine()
        self.states = {**(other.states if other else {}), **self.community.states}
        self.preload = other.preload if other else None  # most callers are the wrapped machine's
        self.start = other.start if other else self.community.start
        self._area = threading.local()  # each hop runs in one worker thread, start to end

    @property
    def home(self) -> str:
        return self.community.home if getattr(self._area, "name", "") == "community" else self.other.home

    def _community_answers(self, session: Session, hop: HopState) -> bool:
        """A community member, or a newcomer while there is a community to join."""
        return session.scalar(select(CommunityAccount.id).where(CommunityAccount.phone == hop.phone).limit(1)) \
            is not None or session.scalar(select(Org.id).where(Org.kind == "community").limit(1)) is not None

    def facts(self, session: Session, hop: HopState) -> Any:
        area = hop.data.get("_area")
        facts = None
        if area is None:
            # The first hop decides, once: the wrapped machine's callers keep it; community callers switch.
            facts = self.other.facts(session, hop) if self.other else None
            area = "other" if facts is not None and self.other.serves(facts) else \
                "community" if self.other is None or self._community_answers(session, hop) else "other"
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

