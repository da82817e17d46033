"""One way to show a person, a phone, money, a time and a message on any console pane.

A :class:`Presenter` is made once per screen from the org (``Presenter.for_org``)
and knows the org's currency, its time zone and its area's phone rule. Every
pane asks it, so no pane can show what its viewer may not see:

- ``phone(e164)`` is masked (``+2547•••••912``) where the area masks phones
  (the agency, whose business sells unlocks of exactly these numbers), unless
  the caller passes ``unlocked=True`` for a number the core has revealed;
  otherwise it is shown readable (``+254 712 345912``). Emails pass through.
- ``person(name, phone)`` is ``Peter Kiptoo, +2547•••••912`` for dialog titles.
- ``money(minor)`` is ``KES 1,500`` (``core.money``, the org's currency).
- ``time(at)`` / ``date(at)`` are in the org's zone, never the machine's.
- ``message_text(message)`` hides secret-bearing outbox rows (a one-time code)
  as ``(one-time code)``; ``message_to(message)`` applies the phone rule.

Everything returned is a plain, safe ``str`` (see ``console.widgets.text``);
wrap it in :func:`console.widgets.text.literal` where a widget wants a ``Text``.
Areas with their own rule register it with :func:`mask_phones_in`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date as Date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from console.widgets.text import plain, short
from core.money import format_money

__all__ = ["Presenter", "mask_phones_in", "SECRET_MESSAGE", "readable_phone"]

SECRET_MESSAGE = "(one-time code)"

# Org kinds whose panes never show a full phone unless the core says it is unlocked.
_MASKED_KINDS: set[str] = {"agency"}


def mask_phones_in(kind: str) -> None:
    """Make every pane of ``kind``'s console mask phones (an area's rule)."""
    _MASKED_KINDS.add(kind)


def readable_phone(address: str | None) -> str:
    """``+254 712 345678`` for an E.164 number; anything else (an email) as it is."""
    if not address:
        return ""
    if not address.startswith("+"):
        return plain(address)
    from core.phones import display_phone  # phonenumbers' metadata: not needed before the first list

    try:
        return display_phone(address)
    except Exception:  # a malformed stored number is still worth showing
        return plain(address)


class _Org(Protocol):
    kind: str
    currency: str

    @property
    def tz(self) -> ZoneInfo: ...


class _Message(Protocol):
    to: str
    body: str
    secret: bool


@dataclass(frozen=True)
class Presenter:
    """How one org's screens show people, phones, money, times and messages."""

    currency: str
    tz: ZoneInfo
    mask_phones: bool = False

    @classmethod
    def for_org(cls, org: _Org) -> Presenter:
        return cls(org.currency, org.tz, org.kind in _MASKED_KINDS)

    # ------------------------------------------------------------ people and phones

    def phone(self, address: str | None, *, unlocked: bool = False) -> str:
        """A phone as this viewer may see it: masked where the area masks phones, unless unlocked.

        A number that already carries the mask (the core masked it) is shown as it is.
        """
        if not address:
            return ""
        if "•" in address:
            return plain(address)
        if self.mask_phones and not unlocked and "@" not in address:
            from core.phones import mask_phone

            return mask_phone(address)
        return readable_phone(address)

    def person(self, name: object, phone: str | None = None, *, unlocked: bool = False) -> str:
        """``Peter Kiptoo, +2547•••••912`` (or just the name when there is no phone)."""
        shown_name = short(name, 60) or "(no name)"
        shown_phone = self.phone(phone, unlocked=unlocked)
        return f"{shown_name}, {shown_phone}" if shown_phone else shown_name

    # ------------------------------------------------------------ money and time

    def money(self, minor: int | None) -> str:
        return "" if minor is None else format_money(minor, self.currency)

    def time(self, at: datetime | None, fmt: str = "%d %b %H:%M") -> str:
        return "" if at is None else f"{at.astimezone(self.tz):{fmt}}"

    def date(self, at: datetime | Date | None, fmt: str = "%d %b %Y") -> str:
        if at is None:
            return ""
        if isinstance(at, datetime):
            at = at.astimezone(self.tz)
        return f"{at:{fmt}}"

    def now(self) -> datetime:
        return datetime.now(self.tz)

    # ------------------------------------------------------------ messages

    def message_text(self, message: _Message, width: int = 40) -> str:
        """The message's text on one line, or ``(one-time code)`` for a secret-bearing one."""
        if getattr(message, "secret", False):
            return SECRET_MESSAGE
        return short(message.body, width)

    def message_to(self, message: _Message) -> str:
        return self.phone(message.to)
