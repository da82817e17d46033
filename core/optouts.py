"""Opt-outs: an address that told an org to stop messaging it on a channel.

``STOP`` by SMS or WhatsApp records one for that channel (see :mod:`core.inbound`),
``START`` removes it; :func:`consent_word` is the one reading of those words. The
outbox applies them (:mod:`core.outbox`): service and marketing messages to an
opted-out address are not sent, queued ones included, while transactional ones —
a sign-in code, a receipt, a reply to what the person asked — still go. Areas do
not check opt-outs themselves, except :func:`refuse_if_opted_out` for a message a
person writes to one person, so that the writer hears why.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.errors import Conflict
from db.models import OptOut

# The words that opt out or back in, by how much else the message may say. A message is read
# in capitals with its punctuation gone ("Stop." and "stop!" are STOP). The words of the
# US carriers' rules (CTIA) that nobody uses for anything else, and Swahili's: STOP and
# UNSUBSCRIBE lead a sentence ("stop please", "STOP ALL", "Unsubscribe me"); END, QUIT,
# OPTOUT and ACHA ("leave it") mean other things at the head of a sentence ("end of the
# month", "acha nikupigie": let me call you), so they count only alone. CANCEL is left out:
# salon clients and community members text it about a booking. START and UNSTOP, and
# Swahili ANZA alone, opt back in; YES does not (it answers surveys and confirmations).
STOP_LEADING = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE"})
STOP_ALONE = frozenset({"END", "QUIT", "OPTOUT", "OPT OUT", "ACHA", "ACHA KABISA"})
START_LEADING = frozenset({"START", "UNSTOP"})
START_ALONE = frozenset({"ANZA", "OPTIN", "OPT IN"})
_NOT_A_WORD = re.compile(r"[\W_]+")


def consent_word(text: str) -> str | None:
    """``"STOP"``, ``"START"`` or None: what a message someone sent us says about their consent."""
    words = _NOT_A_WORD.sub(" ", unicodedata.normalize("NFKC", text or "")).upper().split()
    if not words:
        return None
    alone = " ".join(words)
    if words[0] in STOP_LEADING or alone in STOP_ALONE:
        return "STOP"
    if words[0] in START_LEADING or alone in START_ALONE:
        return "START"
    return None


def opt_out(session: Session, org_id: int, channel: str, address: str, *, source: str) -> bool:
    """Record the opt-out; True when it is new. Safe to repeat and to race."""
    if is_opted_out(session, org_id, channel, address):
        return False
    try:
        with session.begin_nested():
            session.add(OptOut(org_id=org_id, channel=channel, address=address, source=source))
    except IntegrityError:
        return False  # another request recorded the same opt-out first
    return True


def opt_in(session: Session, org_id: int, channel: str, address: str) -> bool:
    """Remove the opt-out; True when there was one."""
    result = session.execute(delete(OptOut).where(
        OptOut.org_id == org_id, OptOut.channel == channel, OptOut.address == address))
    return bool(result.rowcount)


def is_opted_out(session: Session, org_id: int, channel: str, address: str) -> bool:
    return session.scalar(select(OptOut.id).where(
        OptOut.org_id == org_id, OptOut.channel == channel, OptOut.address == address)) is not None


def refuse_if_opted_out(session: Session, org_id: int, channel: str, address: str, who: str) -> None:
    """For a message a person writes to one person: say so when that person asked for no more."""
    if is_opted_out(session, org_id, channel, address):
        raise Conflict(f"{who} replied STOP and gets no {channel.upper() if channel == 'sms' else channel} from "
                       "you until they send START; call them instead.")


def opted_out_addresses(session: Session, org_id: int, channel: str) -> set[str]:
    """Every address that opted out of this org's ``channel`` (a campaign reads them once)."""
    return set(session.scalars(select(OptOut.address).where(OptOut.org_id == org_id, OptOut.channel == channel)))


def opted_out_among(session: Session, org_id: int, channel: str, addresses: Iterable[str]) -> set[str]:
    """Which of ``addresses`` opted out (one query per thousand, for audiences)."""
    wanted = list(dict.fromkeys(addresses))
    found: set[str] = set()
    for start in range(0, len(wanted), 1000):
        found.update(session.scalars(select(OptOut.address).where(
            OptOut.org_id == org_id, OptOut.channel == channel, OptOut.address.in_(wanted[start:start + 1000]))))
    return found
