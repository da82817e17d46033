"""Sign-in by one-time code, for members (and as staff's second factor).

A 6-digit code goes by SMS (or email) through the outbox; it is valid for
five minutes, may be tried three times, and an address gets at most three
codes an hour. Only an HMAC-SHA256 of the code under a salt of its own is
stored. Verifying a code for an address with no account creates the
account and a primary profile named from the address.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit, outbox
from core.actors import Actor
from core.community.accounts import account_by_address, address_of, new_account
from core.community.base import clock, community_org
from core.errors import AuthenticationFailed, Conflict
from db.models_community import CommunityOtp, CommunityProfile

VALID_FOR = timedelta(minutes=5)
MAX_ATTEMPTS = 3
MAX_CODES_PER_HOUR = 3


class TooManyCodes(Conflict):
    pass


@dataclass(frozen=True)
class CodeSent:
    otp_id: int
    channel: str
    address: str
    expires_at: datetime
    message_id: int


@dataclass(frozen=True)
class SignedIn:
    account_id: int
    profile_id: int
    created: bool


def _digest(salt: str, code: str) -> str:
    return hmac.new(salt.encode(), code.encode(), hashlib.sha256).hexdigest()


def request_code(session: Session, actor: Actor, org_id: int, address: str, *,
                 now: datetime | None = None) -> CodeSent:
    """Send a new sign-in code to ``address`` (an email address or a phone number)."""
    org = community_org(session, actor, org_id, "community.read")
    now = clock(now)
    channel, to = address_of(org, address)
    recent = session.scalar(select(func.count()).select_from(CommunityOtp).where(
        CommunityOtp.org_id == org_id, CommunityOtp.address == to,
        CommunityOtp.created_at > now - timedelta(hours=1))) or 0
    if recent >= MAX_CODES_PER_HOUR:
        raise TooManyCodes(f"{MAX_CODES_PER_HOUR} codes were sent to {to} in the last hour; "
                           "use the last one or wait an hour.")
    code = f"{secrets.randbelow(10 ** 6):06d}"
    salt = secrets.token_hex(16)
    otp = CommunityOtp(org_id=org_id, address=to, channel=channel, salt=salt, code_hash=_digest(salt, code),
                       expires_at=now + VALID_FOR, created_at=now)
    session.add(otp)
    session.flush()
    message_id = outbox.enqueue(
        session, org_id, to=to, channel=channel, subject=f"Your {org.name} sign-in code",
        body=f"{code} is your {org.name} sign-in code. It expires in 5 minutes. Do not share it.",
        idempotency_key=f"community:otp:{otp.id}")
    session.commit()
    return CodeSent(otp.id, channel, to, otp.expires_at, message_id)


def verify_code(session: Session, actor: Actor, org_id: int, address: str, code: str, *,
                now: datetime | None = None) -> SignedIn:
    """Check the latest code sent to ``address``; on success the person is signed in."""
    org = community_org(session, actor, org_id, "community.read")
    now = clock(now)
    _channel, to = address_of(org, address)
    otp = session.scalar(select(CommunityOtp).where(CommunityOtp.org_id == org_id, CommunityOtp.address == to)
                         .order_by(CommunityOtp.id.desc()).limit(1).with_for_update())
    if otp is None or otp.used_at is not None:
        raise AuthenticationFailed("No sign-in code is waiting for this address; ask for a new one.")
    if otp.expires_at <= now:
        raise AuthenticationFailed("That code has expired (codes last 5 minutes); ask for a new one.")
    if otp.attempts >= MAX_ATTEMPTS:
        raise AuthenticationFailed("That code was tried 3 times; ask for a new one.")
    otp.attempts += 1
    if not hmac.compare_digest(otp.code_hash, _digest(otp.salt, (code or "").strip())):
        left = MAX_ATTEMPTS - otp.attempts
        session.commit()  # the failed attempt counts even though we refuse
        raise AuthenticationFailed(f"That code is not right; {left} tr{'ies' if left != 1 else 'y'} left."
                                   if left else "That code is not right, and it was the last try; "
                                                "ask for a new one.")
    otp.used_at = now
    account = account_by_address(session, org, to)
    created = account is None
    if account is None:
        name = to.split("@")[0] if otp.channel == "email" else to
        account, profile = new_account(session, org, display_name=name,
                                       **({"email": to} if otp.channel == "email" else {"phone": to}))
        audit.record(session, actor, "community.account.create", "community_account", account.id, org_id=org_id,
                     after={"by": "sign-in code", "address": to})
    if otp.channel == "email":
        account.email_verified = True
    else:
        account.phone_verified = True
    account.last_sign_in_at = now
    profile_id = session.scalar(select(CommunityProfile.id).where(
        CommunityProfile.account_id == account.id, CommunityProfile.is_primary))
    session.commit()
    return SignedIn(account.id, profile_id, created)
