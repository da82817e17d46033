"""How warm a new lead is: the one place the weights live.

A lead's score is the sum of the weights of the signals it shows; the score
maps to a temperature, and the temperature decides when the follow-up task is
due and its priority. Change a weight here and every way a lead arrives
(form, SMS, import) scores the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

# signal -> points. Completeness, substance, intent and date, and repeat contact.
WEIGHTS: dict[str, int] = {
    "has_name": 10,           # completeness: we know who to ask for
    "has_email": 10,          # completeness: a second way to reach them
    "message": 10,            # substance: they wrote something (12+ characters)
    "detailed_message": 10,   # substance: they wrote enough to act on (60+ characters)
    "service_wanted": 20,     # intent: they named a service
    "preferred_date": 15,     # intent: they named a date
    "date_within_week": 15,   # intent: and it is within the next 7 days
    "repeat_contact": 20,     # they came back before anyone answered them
}
MESSAGE_MIN = 12
DETAILED_MIN = 60

# Lowest score of each temperature, hottest first.
THRESHOLDS: tuple[tuple[str, int], ...] = (("hot", 60), ("warm", 30), ("cold", 0))

# temperature -> (follow-up due after arrival, task priority; 1 is the most urgent)
FOLLOW_UP: dict[str, tuple[timedelta, int]] = {
    "hot": (timedelta(0), 1),
    "warm": (timedelta(hours=24), 2),
    "cold": (timedelta(days=3), 3),
}


@dataclass(frozen=True)
class LeadSignals:
    name: str = ""
    email: str | None = None
    message: str = ""
    service_wanted: str = ""
    preferred_date: date | None = None
    previous_contacts: int = 0


@dataclass(frozen=True)
class Score:
    points: int
    temperature: str
    signals: tuple[str, ...]


def signals_of(lead: LeadSignals, today: date) -> tuple[str, ...]:
    message = " ".join(lead.message.split())
    shown = {
        "has_name": bool(lead.name.strip()),
        "has_email": bool(lead.email),
        "message": len(message) >= MESSAGE_MIN,
        "detailed_message": len(message) >= DETAILED_MIN,
        "service_wanted": bool(lead.service_wanted.strip()),
        "preferred_date": lead.preferred_date is not None,
        "date_within_week": lead.preferred_date is not None and today <= lead.preferred_date <= today + timedelta(days=7),
        "repeat_contact": lead.previous_contacts > 0,
    }
    return tuple(name for name in WEIGHTS if shown[name])


def temperature_of(points: int) -> str:
    return next(name for name, lowest in THRESHOLDS if points >= lowest)


def score_lead(lead: LeadSignals, today: date) -> Score:
    """The lead's points, temperature and the signals that earned them (``today`` in the salon's zone)."""
    signals = signals_of(lead, today)
    points = min(100, sum(WEIGHTS[s] for s in signals))
    return Score(points, temperature_of(points), signals)


def follow_up_due(temperature: str, arrived_at: datetime) -> tuple[datetime, int]:
    """When the follow-up task is due and its priority."""
    after, priority = FOLLOW_UP[temperature]
    return arrived_at + after, priority
