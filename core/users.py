"""Staff users, their memberships, and signing in with lockout."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.actors import Actor
from core.errors import AccountLocked, AuthenticationFailed, InvalidInput, NotFound
from core.orgs import OrgView
from core.passwords import MIN_LENGTH, hash_password, verify_password
from core.permissions import ROLES, require
from core.phones import normalize_phone
from db.models import Membership, Org, User
from db.types import utcnow

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class MembershipView:
    org: OrgView
    role: str


@dataclass(frozen=True)
class UserView:
    id: int
    email: str
    name: str
    phone: str | None


@dataclass(frozen=True)
class SignedIn:
    user: UserView
    memberships: list[MembershipView]

    @property
    def actor(self) -> Actor:
        return Actor.staff(self.user.id, self.user.email)


def normalize_email(email: str) -> str:
    email = email.strip().lower()
    if not EMAIL.match(email):
        raise InvalidInput(f"{email!r} is not an email address.")
    return email


def check_password_strength(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"A password needs at least {MIN_LENGTH} characters.")


def add_user(
    session: Session,
    actor: Actor,
    email: str,
    *,
    org_id: int,
    role: str,
    name: str | None = None,
    phone: str | None = None,
    password: str | None = None,
) -> UserView:
    """Create the user if new and give them ``role`` in the org (or change it)."""
    org = require(session, actor, org_id, "users.manage")
    email = normalize_email(email)
    if role not in ROLES[org.kind]:
        raise InvalidInput(
            f"{role!r} is not a role in a {org.kind}; choose one of: {', '.join(ROLES[org.kind])}."
        )
    if password is not None:
        check_password_strength(password)
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(
            email=email,
            name=(name or email.split("@")[0]).strip(),
            phone=normalize_phone(phone, org.country) if phone else None,
            password_hash=hash_password(password) if password else None,
        )
        session.add(user)
        session.flush()
        audit.record(session, actor, "user.create", "user", user.id, org_id=org.id, after={"email": email})
    else:
        if name:
            user.name = name.strip()
        if phone:
            user.phone = normalize_phone(phone, org.country)
        if password:
            user.password_hash = hash_password(password)
            audit.record(session, actor, "user.password", "user", user.id, org_id=org.id)
    membership = session.scalar(
        select(Membership).where(Membership.user_id == user.id, Membership.org_id == org.id)
    )
    before = {"role": membership.role} if membership else None
    if membership is None:
        session.add(Membership(user_id=user.id, org_id=org.id, role=role))
    else:
        membership.role = role
    if before != {"role": role}:
        audit.record(
            session, actor, "membership.set", "user", user.id, org_id=org.id, before=before, after={"role": role}
        )
    session.commit()
    return UserView(user.id, user.email, user.name, user.phone)


def remove_membership(session: Session, actor: Actor, email: str, *, org_id: int) -> None:
    """Take a staff member out of an org; their login stays for their other orgs."""
    org = require(session, actor, org_id, "users.manage")
    email = normalize_email(email)
    membership = session.scalar(
        select(Membership).join(User, User.id == Membership.user_id)
        .where(User.email == email, Membership.org_id == org.id)
    )
    if membership is None:
        raise NotFound(f"{email} is not staff of {org.name}.")
    if actor.user_id == membership.user_id:
        raise InvalidInput("You cannot remove yourself; ask another admin.")
    audit.record(session, actor, "membership.remove", "user", membership.user_id, org_id=org.id,
                 before={"role": membership.role}, after=None)
    session.delete(membership)
    session.commit()


def memberships_of(session: Session, user_id: int) -> list[MembershipView]:
    rows = session.execute(
        select(Org, Membership.role)
        .join(Membership, Membership.org_id == Org.id)
        .where(Membership.user_id == user_id)
        .order_by(Org.name)
    )
    return [MembershipView(OrgView.of(org), role) for org, role in rows]


def authenticate(session: Session, email: str, password: str, *, now: datetime | None = None) -> SignedIn:
    """Check the password; five failures in a row lock the account for 15 minutes.

    The failure count is committed before refusing, so a lockout survives
    the refusal. The message never says whether the email exists.
    """
    now = now or utcnow()
    wrong = AuthenticationFailed("The email or password is wrong.")
    try:
        email = normalize_email(email)
    except InvalidInput:
        raise wrong from None
    user = session.scalar(select(User).where(User.email == email))
    if user is None or not user.is_active:
        verify_password(password, None)
        raise wrong
    if user.locked_until is not None and user.locked_until > now:
        minutes = max(1, int((user.locked_until - now).total_seconds() + 59) // 60)
        raise AccountLocked(
            f"Too many wrong passwords: this account is locked for {minutes} more minute"
            f"{'s' if minutes != 1 else ''}. Wait, or ask an admin to reset the password."
        )
    if not verify_password(password, user.password_hash):
        user.failed_logins += 1
        locked = user.failed_logins >= MAX_FAILED_LOGINS
        if locked:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
            audit.record(session, Actor.system_actor("auth"), "user.locked", "user", user.id)
        session.commit()
        if locked:
            raise AccountLocked(
                "Too many wrong passwords: this account is locked for 15 minutes. "
                "Wait, or ask an admin to reset the password."
            )
        raise wrong
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    session.commit()
    return SignedIn(UserView(user.id, user.email, user.name, user.phone), memberships_of(session, user.id))
