"""One-time codes: the one rule for members' sign-in and staff's second factor.

A 6-digit code goes by SMS or email through the outbox; it is valid for five
minutes, may be tried three times, and one address gets at most three codes
an hour. Only an HMAC-SHA256 of the code under a salt of its own is stored.

Where the codes live (decided): members' codes stay in the community table
``community_otps`` (migration m001) and staff codes go in the core table
``staff_otps`` (migration 0003). Moving ``community_otps`` into the core
would need a second community migration to copy and drop it, or an edit of
m001 that databases already upgraded would never see; either breaks the
community branch's one-migration rule. So the rule is kept in one place
instead: these functions are generic over a code table with the same
columns (``address``, ``channel``, ``salt``, ``code_hash``, ``attempts``,
``expires_at``, ``used_at``, ``created_at``) and a *scope* that says whose
codes they are (``{"org_id": …}`` for a community, ``{"user_id": …}`` for
a staff login). Callers check permission first and commit after a success;
after a refusal they commit too, so a wrong try stays counted.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import outbox
from core.errors import AuthenticationFailed, Conflict
from core.phones import mask_phone
from db.engine import transaction_lock
from db.models import Org

VALID_FOR = timedelta(minutes=5)
MAX_ATTEMPTS = 3
MAX_CODES_PER_HOUR = 3
RATE_WINDOW = timedelta(hours=1)


class TooManyCodes(Conflict):
    """The address has had its codes for this hour; ``next_at`` says when one more may go."""

    def __init__(self, message: str, next_at: datetime) -> None:
        super().__init__(message)
        self.next_at = next_at


class CodeRefused(AuthenticationFailed):
    """A code that does not sign anyone in; ``reason`` is none, expired, used_up or wrong."""

    def __init__(self, message: str, reason: str, tries_left: int = 0) -> None:
        super().__init__(message)
        self.reason = reason
        self.tries_left = tries_left


@dataclass(frozen=True)
class CodeSent:
    otp_id: int
    channel: str
    address: str
    expires_at: datetime
    message_id: int


def _digest(salt: str, code: str) -> str:
    return hmac.new(salt.encode(), code.encode(), hashlib.sha256).hexdigest()


def _where(model: Any, scope: dict[str, Any], address: str) -> list:
    return [getattr(model, column) == value for column, value in scope.items()] + [model.address == address]


def next_code_at(session: Session, model: Any, scope: dict[str, Any], address: str, now: datetime) -> datetime | None:
    """When the next code may be sent to ``address`` (None: now)."""
    recent = list(session.scalars(select(model.created_at).where(
        *_where(model, scope, address), model.created_at > now - RATE_WINDOW).order_by(model.created_at)))
    if len(recent) < MAX_CODES_PER_HOUR:
        return None
    return recent[-MAX_CODES_PER_HOUR] + RATE_WINDOW


def send_code(session: Session, model: Any, scope: dict[str, Any], *, org_id: int, channel: str, address: str,
              sender: str, key: str, now: datetime) -> CodeSent:
    """Add a new code for ``address`` and queue it in the outbox (key ``<key>:<otp id>``); no commit.

    Two requests for one address at once queue on a lock, so the second counts the first's code.
    """
    transaction_lock(session, f"otp:{model.__tablename__}:{sorted(scope.items())}:{address}")
    next_at = next_code_at(session, model, scope, address, now)
    if next_at is not None:
        zone = session.scalar(select(Org.timezone).where(Org.id == org_id)) or "UTC"
        local = next_at.astimezone(ZoneInfo(zone))
        raise TooManyCodes(f"{MAX_CODES_PER_HOUR} codes were sent to {address} in the last hour; use the last "
                           f"one or ask again after {local:%H:%M} ({zone}).", next_at)
    code = f"{secrets.randbelow(10 ** 6):06d}"
    salt = secrets.token_hex(16)
    row = model(**scope, address=address, channel=channel, salt=salt, code_hash=_digest(salt, code),
                expires_at=now + VALID_FOR, created_at=now)
    session.add(row)
    session.flush()
    message_id = outbox.enqueue(
        session, org_id, to=address, channel=channel, subject=f"Your {sender} sign-in code",
        purpose="transactional", secret=True,
        body=f"{code} is your {sender} sign-in code. It expires in 5 minutes. Do not share it.",
        idempotency_key=f"{key}:{row.id}")
    return CodeSent(row.id, channel, address, row.expires_at, message_id)


def check_code(session: Session, model: Any, scope: dict[str, Any], address: str, code: str, *,
               now: datetime) -> Any:
    """Mark the latest code for ``address`` used and return its row, or raise :class:`CodeRefused`.

    A wrong try is counted on the row (flushed, not committed: the caller commits
    before letting the refusal go, so the count survives it).
    """
    row = session.scalar(select(model).where(*_where(model, scope, address))
                         .order_by(model.id.desc()).limit(1).with_for_update())
    if row is None or row.used_at is not None:
        raise CodeRefused("No sign-in code is waiting for this address; ask for a new one.", "none")
    if row.expires_at <= now:
        raise CodeRefused("That code has expired (codes last 5 minutes); ask for a new one.", "expired")
    if row.attempts >= MAX_ATTEMPTS:
        raise CodeRefused("That code was tried 3 times; ask for a new one.", "used_up")
    row.attempts += 1
    if not hmac.compare_digest(row.code_hash, _digest(row.salt, (code or "").strip())):
        session.flush()
        left = MAX_ATTEMPTS - row.attempts
        raise CodeRefused(f"That code is not right; {left} tr{'ies' if left != 1 else 'y'} left." if left
                          else "That code is not right, and it was the last try; ask for a new one.", "wrong", left)
    row.used_at = now
    session.flush()
    return row


def mask(address: str) -> str:
    """``+2547•••••123`` or ``w•••@example.com``: enough to recognise, not to copy."""
    if "@" in address:
        local, domain = address.split("@", 1)
        return f"{local[:1]}•••@{domain}"
    return mask_phone(address)
