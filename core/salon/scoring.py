"""How warm a new lead is: the one place the weights live.

A lead's score is the sum of the weights of the signals it shows; the score
maps to a temperature, and the temperature decides when the follow-up task is
due and its priority. Change a weight here and every way a lead arrives
(form, SMS, import) scores the same way.

A text message is read for intent, not length: a service named (the salon's
own, or a word of the trade), a day or date, a question about price.
"knotless braids this Saturday? How much?" names all three. A repeat contact
counts once a day: a lead who texts five times in an hour is not five times keener.
"""

from __future__ import annotations

import re
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
    "mentions_service": 20,   # intent: their message names a service
    "mentions_day": 15,       # intent: their message names a day or a date
    "asks_price": 15,         # intent: they ask what it costs
    "repeat_contact": 20,     # they came back (another day) before anyone answered them
}
# Words of the trade that name a service, in English and Swahili.
SERVICE_WORDS = (
    "braid", "braids", "knotless", "cornrow", "cornrows", "twist", "twists", "locs", "dreadlocks", "dreads",
    "weave", "wig", "wigs", "relaxer", "retouch", "perm", "haircut", "cut", "trim", "shave", "blow", "blowdry",
    "colour", "color", "dye", "highlights", "treatment", "steam", "wash", "silk", "press", "manicure", "pedicure",
    "nails", "gel", "acrylic", "acrylics", "lashes", "brows", "eyebrows", "makeup", "make-up", "facial", "massage",
    "wax", "waxing", "threading", "kusuka", "nywele", "kucha", "rasta", "matuta", "bridal",
)
DAY_WORDS = (
    "today", "tomorrow", "tonight", "weekend", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
    "sunday", "mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun", "leo", "kesho", "jumamosi",
    "jumapili", "jumatatu", "jumanne", "jumatano", "alhamisi", "ijumaa", "morning", "afternoon", "evening",
)
PRICE = re.compile(r"how much|\bprice|\bcost|\bcharge|\brates?\b|\bbei\b|\bngapi\b|\bkiasi\b|\bksh|\bkes\b")
DATE = re.compile(r"\b\d{1,2}[/.-]\d{1,2}\b|\b\d{1,2}(st|nd|rd|th)\b|\b\d{1,2}(:\d{2})?\s?(am|pm)\b|\b\d{1,2}:\d{2}\b")
WORD = re.compile(r"[a-z][a-z-]*")
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
    previous_contacts: int = 0  # contacts on earlier days
    services: tuple[str, ...] = ()  # the salon's own service names


@dataclass(frozen=True)
class Score:
    points: int
    temperature: str
    signals: tuple[str, ...]


def _mentions_service(text: str, services: tuple[str, ...]) -> bool:
    words = set(WORD.findall(text))
    return bool(words & set(SERVICE_WORDS)) or any(name.lower() in text for name in services if name.strip())


def signals_of(lead: LeadSignals, today: date) -> tuple[str, ...]:
    message = " ".join(lead.message.split())
    text = message.lower()
    shown = {
        "has_name": bool(lead.name.strip()),
        "has_email": bool(lead.email),
        "message": len(message) >= MESSAGE_MIN,
        "detailed_message": len(message) >= DETAILED_MIN,
        "service_wanted": bool(lead.service_wanted.strip()),
        "preferred_date": lead.preferred_date is not None,
        "date_within_week": lead.preferred_date is not None and today <= lead.preferred_date <= today + timedelta(days=7),
        "mentions_service": not lead.service_wanted.strip() and _mentions_service(text, lead.services),
        "mentions_day": lead.preferred_date is None and (bool(set(WORD.findall(text)) & set(DAY_WORDS))
                                                         or DATE.search(text) is not None),
        "asks_price": PRICE.search(text) is not None,
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
