"""The agency menu for feature phones: a worker sets her availability, answers an interview invitation
and asks where her placement stands; an employer buys a contact package (the M-Pesa prompt follows)
and sees her credits, and gets an unlocked worker's number by SMS.

The caller is a worker or employer of an agency when her phone is on its books
(:func:`core.agency.sms.agency_caller`); anyone else gets the menu it wraps (the chama's,
the community's: :mod:`ussd.menus` composes them). Every answer goes through the same core
functions as the SMS keywords.
"""

from __future__ import annotations

import threading
from functools import cached_property
from typing import Any

from sqlalchemy.orm import Session

from core.actors import Actor
from core.agency import commerce, placements
from core.agency.sms import (agency_caller, buy_by_phone, invitation_text, is_agency_phone, set_availability,
                             status_text)
from core.money import format_money
from core.ussd_sessions import HopState
from db.models import Org
from ussd.engine import Hop, Machine, Menu, State, Step
from ussd.screens import Screen

PREFIX = "agency_"
GATEWAY = Actor.system_actor("ussd")
CHOICES = {"1": "immediate", "2": "two_weeks", "3": "one_month", "4": "unavailable"}


class AgencyFacts:
    def __init__(self, session: Session, hop: HopState) -> None:
        self.session, self.phone = session, hop.phone

    @cached_property
    def caller(self):
        return agency_caller(self.session, self.phone)

    @cached_property
    def status(self) -> str:
        return status_text(self.session, self.caller.org_id, self.caller.worker_id)

    @cached_property
    def invitation(self) -> str | None:
        return invitation_text(self.session, self.caller.org_id, self.caller.worker_id)

    @cached_property
    def packages(self):
        return commerce.list_packages(self.session, GATEWAY, self.caller.org_id)

    @cached_property
    def currency(self) -> str:
        return self.session.get(Org, self.caller.org_id).currency

    @cached_property
    def credits(self) -> int:
        return commerce.credits_left(self.session, self.caller.employer_id)


def show_menu(hop: Hop) -> Menu:
    c = hop.facts.caller
    if c.worker_id is not None:
        return Menu(f"{c.org_name}: hello {c.name.split()[0]}",
                    ["1 My availability", "2 My placement", "3 Interview invitation"], footer="")
    return Menu(f"{c.org_name}: hello {c.name.split()[0]}", ["1 Buy contacts", "2 My credits",
                                                              "3 Get a worker's number"], footer="")


def handle_menu(hop: Hop) -> Step:
    worker = hop.facts.caller.worker_id is not None
    targets = ({"1": "availability", "2": "status", "3": "invitation"} if worker
               else {"1": "buy", "2": "credits", "3": "unlock"})
    if hop.input not in targets:
        return Step(notice="Choose one of the numbers.")
    return Step(goto=PREFIX + targets[hop.input])


def show_availability(_hop: Hop) -> Menu:
    return Menu("When can you start work?", ["1 Now", "2 In 2 weeks", "3 In a month", "4 Not available"])


def handle_availability(hop: Hop) -> Step:
    if hop.input not in CHOICES:
        return Step(notice="Choose 1 to 4.")
    return Step(effects=(("availability", CHOICES[hop.input]),), end="Saved. Thank you.")


def show_status(hop: Hop) -> Screen:
    return Screen(hop.facts.status, end=True)


def show_invitation(hop: Hop) -> Screen | Menu:
    text = hop.facts.invitation
    if text is None:
        return Screen("No interview invitation is waiting for you.", end=True)
    return Menu(text, ["1 Accept", "2 Decline"])


def handle_invitation(hop: Hop) -> Step:
    if hop.input not in ("1", "2"):
        return Step(notice="Choose 1 to accept or 2 to decline.")
    yes = hop.input == "1"
    return Step(effects=(("interview", yes),),
                end="Thank you; we will call you about the interview." if yes else "Thank you; we have told them.")


def show_buy(hop: Hop) -> Screen | Menu:
    offered = hop.facts.packages
    if not offered:
        return Screen("No contact packages are sold just now.", end=True)
    return Menu("Choose a package:", [f"{n} {p.name}: {p.contacts_included} for "
                                      f"{format_money(p.price_minor, hop.facts.currency)}"
                                      for n, p in enumerate(offered, 1)])


def handle_buy(hop: Hop) -> Step:
    offered = hop.facts.packages
    if not hop.input.isdigit() or not 1 <= int(hop.input) <= len(offered):
        return Step(notice="Choose a package's number.")
    return Step(effects=(("buy", offered[int(hop.input) - 1].id),),
                end="Check your phone for the M-Pesa prompt. The credits come with the payment.")


def show_credits(hop: Hop) -> Screen:
    return Screen(f"You have {hop.facts.credits} contact credits. Text UNLOCK and a worker's number to get "
                  "her phone.", end=True)


def show_unlock(_hop: Hop) -> Screen:
    return Screen("Enter the worker's number from our list (one contact credit; free if you have it already):")


def handle_unlock(hop: Hop) -> Step:
    if not hop.input.isascii() or not hop.input.isdigit():
        return Step(notice="Enter the worker's number in digits.")
    return Step(effects=(("unlock", int(hop.input)),), end="The worker's phone number comes to you by SMS.")


def stay(_hop: Hop) -> Step:
    return Step()


class AgencyMachine:
    start = home = f"{PREFIX}menu"
    preload = None
    states = {
        f"{PREFIX}menu": State(show=show_menu, handle=handle_menu),
        f"{PREFIX}availability": State(show=show_availability, handle=handle_availability),
        f"{PREFIX}status": State(show=show_status, handle=stay),
        f"{PREFIX}invitation": State(show=show_invitation, handle=handle_invitation),
        f"{PREFIX}buy": State(show=show_buy, handle=handle_buy),
        f"{PREFIX}credits": State(show=show_credits, handle=stay),
        f"{PREFIX}unlock": State(show=show_unlock, handle=handle_unlock),
    }

    def facts(self, session: Session, hop: HopState) -> AgencyFacts:
        return AgencyFacts(session, hop)

    def serves(self, facts: AgencyFacts) -> bool:
        return facts.caller is not None

    def apply(self, session: Session, hop: HopState, effects, facts: AgencyFacts) -> dict[str, Any]:
        c = facts.caller
        hop.org_id = c.org_id
        for kind, value in effects:
            if kind == "availability":
                set_availability(session, c.org_id, c.worker_id, value)
            elif kind == "interview":
                placements.answer_interview(session, GATEWAY, c.org_id, c.worker_id, value)
            elif kind == "buy":
                buy_by_phone(session, c.org_id, c.employer_id, value, hop.phone)
            elif kind == "unlock":
                commerce.unlock_contact(session, GATEWAY, c.org_id, employer_id=c.employer_id, worker_id=value)
                commerce.sms_unlocked_contact(session, GATEWAY, c.org_id, employer_id=c.employer_id,
                                              worker_id=value)
        return {}


class AgencyFirst:
    """One service code: agency workers and employers get the agency menu, everyone else the menu
    it wraps."""

    def __init__(self, other: Machine | None, agency: AgencyMachine | None = None) -> None:
        self.other, self.agency = other, agency or AgencyMachine()
        self.states = {**(other.states if other else {}), **self.agency.states}
        # Most callers are the wrapped machine's: its facts come with the session's row, and whether
        # the caller is the agency's comes with them on the first hop.
        self.preload = other.preload.asking("agency", is_agency_phone) if other and other.preload else None
        self.start = other.start if other else self.agency.start
        self._area = threading.local()

    def _mine(self) -> bool:
        return getattr(self._area, "name", "") == "agency"

    @property
    def home(self) -> str:
        return self.agency.home if self._mine() or self.other is None else self.other.home

    def facts(self, session: Session, hop: HopState) -> Any:
        area = hop.data.get("_agency")
        if area is None:
            known = (hop.answers or {}).get("agency")
            mine = agency_caller(session, hop.phone) is not None if known is None else bool(known)
            area = "agency" if mine or self.other is None else "other"
            hop.data["_agency"] = area
            if area == "agency":
                hop.state = self.agency.start
        self._area.name = area
        return self.agency.facts(session, hop) if area == "agency" else self.other.facts(session, hop)

    def serves(self, facts: Any) -> bool:
        return self.agency.serves(facts) if self._mine() else self.other.serves(facts)

    def apply(self, session: Session, hop: HopState, effects, facts: Any) -> dict[str, Any]:
        if hop.data.get("_agency") == "agency":
            return self.agency.apply(session, hop, effects, facts)
        return self.other.apply(session, hop, effects, facts)

