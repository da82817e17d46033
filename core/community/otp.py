"""Sign-in by one-time code for members; the rule itself is ``core.otp``'s.

Verifying a code for an address with no account creates the account and a
primary profile named from the address.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.actors import Actor
from core.community.accounts import account_by_address, address_of, new_account
from core.community.base import clock, community_org
from core.otp import MAX_ATTEMPTS, MAX_CODES_PER_HOUR, VALID_FOR, CodeRefused, CodeSent, TooManyCodes, check_code, send_code
from db.models_community import CommunityOtp, CommunityProfile

__all__ = ["MAX_ATTEMPTS", "MAX_CODES_PER_HOUR", "VALID_FOR", "CodeSent", "SignedIn", "TooManyCodes",
           "request_code", "verify_code"]


@dataclass(frozen=True)
class SignedIn:
    account_id: int
    profile_id: int
    created: bool


def request_code(session: Session, actor: Actor, org_id: int, address: str, *,
                 now: datetime | None = None) -> CodeSent:
    """Send a new sign-in code to ``address`` (an email address or a phone number)."""
    org = community_org(session, actor, org_id, "community.read")
    channel, to = address_of(org, address)
    sent = send_code(session, CommunityOtp, {"org_id": org_id}, org_id=org_id, channel=channel, address=to,
                     sender=org.name, key="community:otp", now=clock(now))
    session.commit()
    return sent


def verify_code(session: Session, actor: Actor, org_id: int, address: str, code: str, *,
                now: datetime | None = None, commit: bool = True) -> SignedIn:
    """Check the latest code sent to ``address``; on success the person is signed in.

    ``commit=False`` leaves the success in the caller's unit of work (a merge
    proves the address this way and commits with its own change).
    """
    org = community_org(session, actor, org_id, "community.read")
    now = clock(now)
    _channel, to = address_of(org, address)
    try:
        otp = check_code(session, CommunityOtp, {"org_id": org_id}, to, code, now=now)
    except CodeRefused:
        session.commit()  # a wrong try counts even though we refuse
        raise
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
    if commit:
        session.commit()
    else:
        session.flush()
    return SignedIn(account.id, profile_id, created)
