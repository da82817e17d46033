"""Accounts and their profiles: one person, several faces, exactly one primary.

The database keeps the "one primary" rule (a partial unique index); changing
the primary locks the account row first, so two staff changing it at once
queue and the later one wins, and a writer that skips the lock is refused by
the index, never allowed to leave two primaries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import audit
from core.actors import Actor
from core.community.base import community_org, owned, searchable, slug_of
from core.errors import Conflict, InvalidInput, NotFound
from core.phones import normalize_phone
from db.models import Org
from db.models_community import PROFILE_TYPES, CommunityAccount, CommunityProfile

COMPLETION_FIELDS = ("display_name", "username", "bio", "location", "website", "avatar_file")


@dataclass(frozen=True)
class ProfileView:
    id: int
    account_id: int
    type: str
    display_name: str
    username: str
    bio: str
    location: str
    website: str
    avatar_file: str
    verified: bool
    is_primary: bool
    completion: int

    @classmethod
    def of(cls, p: CommunityProfile) -> ProfileView:
        return cls(p.id, p.account_id, p.type, p.display_name, p.username, p.bio, p.location, p.website,
                   p.avatar_file, p.verified, p.is_primary, completion(p))


@dataclass(frozen=True)
class AccountView:
    id: int
    email: str | None
    phone: str | None
    email_verified: bool
    phone_verified: bool
    migrated: bool
    last_sign_in_at: datetime | None
    profiles: list[ProfileView]

    @property
    def primary(self) -> ProfileView | None:
        return next((p for p in self.profiles if p.is_primary), None)


def completion(profile: CommunityProfile) -> int:
    """Percentage of the profile's fields that are filled in."""
    filled = sum(1 for name in COMPLETION_FIELDS if (getattr(profile, name) or "").strip())
    return round(100 * filled / len(COMPLETION_FIELDS))


def check_type(profile_type: str) -> str:
    if profile_type not in PROFILE_TYPES:
        raise InvalidInput(f"{profile_type!r} is not a profile type; use one of {', '.join(PROFILE_TYPES)}.")
    return profile_type


def address_of(org: Org, address: str) -> tuple[str, str]:
    """``("email", "a@b.org")`` or ``("sms", "+2547…")`` from what a person typed."""
    text = (address or "").strip()
    if "@" in text:
        return "email", text.lower()
    return "sms", normalize_phone(text, org.country)


def free_username(session: Session, org_id: int, wanted: str) -> str:
    base = slug_of(wanted)
    taken = set(session.scalars(select(CommunityProfile.username).where(
        CommunityProfile.org_id == org_id, CommunityProfile.username.like(f"{base}%"))))
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def new_profile(session: Session, org_id: int, account_id: int, *, type: str, display_name: str,
                username: str | None = None, primary: bool = False, **fields: str) -> CommunityProfile:
    """Add a profile to the unit of work (no permission check: for services that made theirs)."""
    name = display_name.strip()
    if not name:
        raise InvalidInput("A profile needs a display name.")
    if username and session.scalar(select(CommunityProfile.id).where(
            CommunityProfile.org_id == org_id, CommunityProfile.username == username)) is not None:
        raise Conflict(f"The username {username!r} is taken; choose another.")
    profile = CommunityProfile(org_id=org_id, account_id=account_id, type=check_type(type), display_name=name,
                               username=username or free_username(session, org_id, name), is_primary=primary,
                               **{k: v or "" for k, v in fields.items()})
    profile.search_text = searchable(profile.display_name, profile.username, profile.location, profile.bio)
    session.add(profile)
    session.flush()
    return profile


def new_account(session: Session, org: Org, *, email: str | None = None, phone: str | None = None,
                display_name: str, type: str = "innovator", migrated: bool = False,
                **profile_fields: str) -> tuple[CommunityAccount, CommunityProfile]:
    """An account and its primary profile in the unit of work (no permission check)."""
    email = email.strip().lower() if email and email.strip() else None
    phone = normalize_phone(phone, org.country) if phone and phone.strip() else None
    if email is None and phone is None:
        raise InvalidInput("An account needs an email address or a phone number.")
    if email and "@" not in email:
        raise InvalidInput(f"{email!r} is not an email address.")
    for column, value in (("email", email), ("phone", phone)):
        if value and session.scalar(select(CommunityAccount.id).where(
                CommunityAccount.org_id == org.id, getattr(CommunityAccount, column) == value)) is not None:
            raise Conflict(f"An account with {column} {value} already exists.")
    account = CommunityAccount(org_id=org.id, email=email, phone=phone, migrated=migrated)
    session.add(account)
    session.flush()
    profile = new_profile(session, org.id, account.id, type=type, display_name=display_name, primary=True,
                          **profile_fields)
    return account, profile


def view_account(session: Session, account: CommunityAccount) -> AccountView:
    profiles = session.scalars(select(CommunityProfile).where(CommunityProfile.account_id == account.id)
                               .order_by(CommunityProfile.id))
    return AccountView(account.id, account.email, account.phone, account.email_verified, account.phone_verified,
                       account.migrated, account.last_sign_in_at, [ProfileView.of(p) for p in profiles])


def create_account(session: Session, actor: Actor, org_id: int, *, display_name: str, email: str | None = None,
                   phone: str | None = None, type: str = "innovator", **profile_fields: str) -> AccountView:
    org = community_org(session, actor, org_id, "community.members")
    account, profile = new_account(session, org, email=email, phone=phone, display_name=display_name, type=type,
                                   **profile_fields)
    audit.record(session, actor, "community.account.create", "community_account", account.id, org_id=org_id,
                 after={"email": account.email, "phone": account.phone, "profile_id": profile.id})
    session.commit()
    return view_account(session, account)


def join(session: Session, actor: Actor, org_id: int, *, phone: str, display_name: str, type: str,
         source: str) -> AccountView:
    """A person joins by phone (SMS or USSD): their account, primary profile and a verified phone
    (the network told us who they are)."""
    org = community_org(session, actor, org_id, "community.read")
    name = " ".join(display_name.split())
    if len(name) < 2:
        raise InvalidInput("Please send your name.")
    account, profile = new_account(session, org, phone=phone, display_name=name[:200], type=type)
    account.phone_verified = True
    audit.record(session, actor, "community.account.create", "community_account", account.id, org_id=org_id,
                 after={"by": source, "phone": account.phone, "profile_id": profile.id, "type": type})
    session.flush()
    return view_account(session, account)


def get_account(session: Session, actor: Actor, org_id: int, account_id: int) -> AccountView:
    community_org(session, actor, org_id, "community.read")
    return view_account(session, owned(session, CommunityAccount, org_id, account_id, "account"))


def account_by_address(session: Session, org: Org, address: str) -> CommunityAccount | None:
    channel, value = address_of(org, address)
    column = CommunityAccount.email if channel == "email" else CommunityAccount.phone
    return session.scalar(select(CommunityAccount).where(CommunityAccount.org_id == org.id, column == value))


def find_account(session: Session, actor: Actor, org_id: int, address: str) -> AccountView:
    """The account with this email address or phone number."""
    org = community_org(session, actor, org_id, "community.read")
    account = account_by_address(session, org, address)
    if account is None:
        raise NotFound(f"No member of {org.name} has the address {address}.")
    return view_account(session, account)


def add_profile(session: Session, actor: Actor, org_id: int, account_id: int, *, type: str, display_name: str,
                username: str | None = None, **fields: str) -> ProfileView:
    community_org(session, actor, org_id, "community.members")
    owned(session, CommunityAccount, org_id, account_id, "account", lock=True)
    profile = new_profile(session, org_id, account_id, type=type, display_name=display_name, username=username,
                          **fields)
    audit.record(session, actor, "community.profile.add", "community_profile", profile.id, org_id=org_id,
                 after={"account_id": account_id, "type": type, "display_name": profile.display_name})
    session.commit()
    return ProfileView.of(profile)


def update_profile(session: Session, actor: Actor, org_id: int, profile_id: int, **changes: str) -> ProfileView:
    community_org(session, actor, org_id, "community.members")
    profile = owned(session, CommunityProfile, org_id, profile_id, "profile")
    allowed = {"display_name", "bio", "location", "website", "avatar_file", "type", "verified"}
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidInput(f"These profile fields cannot be changed here: {', '.join(sorted(unknown))}.")
    before = {k: getattr(profile, k) for k in changes}
    if "type" in changes:
        check_type(changes["type"])
    for key, value in changes.items():
        setattr(profile, key, value)
    profile.search_text = searchable(profile.display_name, profile.username, profile.location, profile.bio)
    audit.record(session, actor, "community.profile.update", "community_profile", profile.id, org_id=org_id,
                 before=before, after=changes)
    session.commit()
    return ProfileView.of(profile)


def set_primary(session: Session, actor: Actor, org_id: int, profile_id: int) -> ProfileView:
    """Make ``profile_id`` its account's one primary profile."""
    community_org(session, actor, org_id, "community.members")
    profile = owned(session, CommunityProfile, org_id, profile_id, "profile")
    # The account row is the queue: changes of one account's primary happen one after another.
    owned(session, CommunityAccount, org_id, profile.account_id, "account", lock=True)
    session.refresh(profile)
    before = session.scalar(select(CommunityProfile.id).where(
        CommunityProfile.account_id == profile.account_id, CommunityProfile.is_primary))
    try:
        with session.begin_nested():
            session.execute(update(CommunityProfile)
                            .where(CommunityProfile.account_id == profile.account_id, CommunityProfile.is_primary,
                                   CommunityProfile.id != profile.id)
                            .values(is_primary=False).execution_options(synchronize_session=False))
            session.execute(update(CommunityProfile).where(CommunityProfile.id == profile.id)
                            .values(is_primary=True).execution_options(synchronize_session=False))
    except IntegrityError:
        session.rollback()
        raise Conflict("Another change to this account's primary profile came first; try again.") from None
    audit.record(session, actor, "community.profile.primary", "community_account", profile.account_id,
                 org_id=org_id, before={"primary_profile_id": before}, after={"primary_profile_id": profile.id})
    session.commit()
    session.refresh(profile)
    return ProfileView.of(profile)


def count_accounts(session: Session, actor: Actor, org_id: int) -> int:
    community_org(session, actor, org_id, "community.read")
    return session.scalar(select(func.count()).select_from(CommunityAccount)
                          .where(CommunityAccount.org_id == org_id, CommunityAccount.status != "placeholder")) or 0


REMOVED_MEMBER = "Removed member"


def removed_member(session: Session, org_id: int) -> CommunityProfile:
    """The community's one "Removed member": it keeps rows others built on a removed account
    (a post they commented on stays theirs to read, a connection stays in their list).
    It has no address, signs nobody in, and is never listed as a member."""
    A, P = CommunityAccount, CommunityProfile
    profile = session.scalar(select(P).join(A, A.id == P.account_id)
                             .where(A.org_id == org_id, A.status == "placeholder"))
    if profile is not None:
        return profile
    account = CommunityAccount(org_id=org_id, status="placeholder", status_reason="keeps others' rows")
    session.add(account)
    session.flush()
    profile = CommunityProfile(org_id=org_id, account_id=account.id, type="professional", display_name=REMOVED_MEMBER,
                               username=free_username(session, org_id, "removed-member"), is_primary=True,
                               search_text="")
    session.add(profile)
    session.flush()
    return profile
