"""Staff users, their memberships, and signing in with lockout."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from config.errors import OfisiError
from core import audit, otp
from core.actors import Actor
from core.errors import AccountLocked, AuthenticationFailed, InvalidInput, NotFound, PermissionDenied
from core.orgs import OrgView
from core.passwords import MIN_LENGTH, hash_password, verify_password
from core.permissions import ROLES, require
from core.phones import normalize_phone
from db.models import Membership, Org, StaffOtp, User
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
    otp_required: bool = False
    code_sent_to: str | None = None  # a code to confirm the second factor's address went here
    # What add_user did: made the login, added a membership, and the role it had in the org before.
    created: bool = False
    joined: bool = False
    role_was: str | None = None


@dataclass(frozen=True)
class CodeRequired:
    """The password was right; the sign-in waits for the code sent to ``masked``.

    ``sent`` is False when the hourly limit held the code back; ``next_code_at``
    is when another may be asked for (None: now).
    """

    user_id: int
    email: str
    channel: str
    masked: str
    sent: bool
    expires_at: datetime | None
    next_code_at: datetime | None


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
    otp: bool | None = None,
) -> UserView:
    """Give ``email`` ``role`` in the org (or change it), creating the login if there is none.

    A login that already exists belongs to its holder: adding it to an org
    adds a membership and never touches its password (``password`` only sets
    a new login's; :func:`set_password` changes one). Its name and phone
    (and its second factor, ``otp``) change only for an actor who manages
    every org the login is staff of, so one org's admin cannot rewrite
    another org's staff. The view says what
    happened: ``created``, ``joined`` (the membership is new), ``role_was``.
    ``otp`` turns the second factor on or off (see :func:`set_second_factor`).
    """
    org = require(session, actor, org_id, "users.manage")
    email = normalize_email(email)
    if role not in ROLES[org.kind]:
        raise InvalidInput(
            f"{role!r} is not a role in a {org.kind}; choose one of: {', '.join(ROLES[org.kind])}."
        )
    user = session.scalar(select(User).where(User.email == email))
    created = user is None
    owned = created or _manages_every_org_of(session, actor, user.id)
    if otp is not None and not owned:
        raise PermissionDenied(f"{email} is staff of other organisations too: their sign-in code is theirs to "
                               "turn on or off (or an admin of each of their organisations).")
    if user is None:
        if password is not None:
            check_password_strength(password)
        user = User(
            email=email,
            name=(name or email.split("@")[0]).strip(),
            phone=normalize_phone(phone, org.country) if phone else None,
            password_hash=hash_password(password) if password else None,
        )
        session.add(user)
        session.flush()
        audit.record(session, actor, "user.create", "user", user.id, org_id=org.id, after={"email": email})
    elif (name or phone) and owned:
        before = {"name": user.name, "phone": user.phone}
        if name:
            user.name = name.strip()
        if phone:
            user.phone = normalize_phone(phone, org.country)
        after = {"name": user.name, "phone": user.phone}
        if after != before:
            audit.record(session, actor, "user.update", "user", user.id, org_id=org.id, before=before, after=after)
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
    view = _view(user) if otp is None else set_second_factor(session, actor, email, on=otp)
    return replace(view, created=created, joined=membership is None, role_was=before and before["role"])


def _manages_every_org_of(session: Session, actor: Actor, user_id: int) -> bool:
    """Whether ``actor`` holds ``users.manage`` in every org the login is staff of (the CLI does)."""
    if actor.system:
        return True
    for org_id in session.scalars(select(Membership.org_id).where(Membership.user_id == user_id)):
        try:
            require(session, actor, org_id, "users.manage")
        except OfisiError:
            return False
    return True


def set_password(session: Session, actor: Actor, email: str, password: str, *,
                 current_password: str | None = None) -> UserView:
    """Change a login's password: the login itself, with its current password, or the operator.

    No org's admin can: a login may be staff of several orgs, and taking it
    over in one would open the others. The operator (the CLI, who can reach
    the database anyway) resets a forgotten one. A new password also lifts a lockout.
    """
    email = normalize_email(email)
    user = session.scalar(select(User).where(User.email == email))
    if not actor.system:
        if user is None or actor.user_id != user.id:
            raise PermissionDenied("Only the login itself, or the operator with `ofisi user password`, "
                                   "can change a password.")
        if not verify_password(current_password or "", user.password_hash):
            raise AuthenticationFailed("The current password is wrong.")
    if user is None:
        raise NotFound(f"There is no staff login {email}; add it first with `ofisi user add`.")
    check_password_strength(password)
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    org_id = session.scalar(select(Membership.org_id).where(Membership.user_id == user.id)
                            .order_by(Membership.id).limit(1))
    audit.record(session, actor, "user.password", "user", user.id, org_id=org_id)
    session.commit()
    return _view(user)


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


def second_factor_address(user: User) -> tuple[str, str]:
    """Where a staff login's codes would go: ``("sms", phone)`` when it has one, else ``("email", email)``."""
    return ("sms", user.phone) if user.phone else ("email", user.email)


def _confirmed_address(user: User) -> tuple[str, str]:
    """The address a code was confirmed at when the second factor was turned on; sign-in codes go there."""
    address = user.otp_address or ""
    return ("email" if "@" in address else "sms"), address


def set_second_factor(session: Session, actor: Actor, email: str, *, on: bool, code: str | None = None,
                      now: datetime | None = None) -> UserView:
    """Turn the sign-in code after the password on or off for a staff login.

    Turning it on needs a verified address: the first call sends a code to the
    login's phone (or email when it has none) and leaves it off, saying so in
    ``code_sent_to``; a call with that ``code`` confirms the address and turns
    it on. Later sign-in codes go to the confirmed address, even if the phone
    on the login changes (turn it off and on again to move it).
    A staff actor needs ``users.manage`` in one of that person's orgs; the CLI passes.
    """
    now = now or utcnow()
    email = normalize_email(email)
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        raise NotFound(f"There is no staff login {email}; add it first with `ofisi user add`.")
    org_ids = list(session.scalars(select(Membership.org_id).where(Membership.user_id == user.id)
                                   .order_by(Membership.id)))
    if not actor.system:
        refusal: OfisiError = NotFound(f"There is no staff login {email}; add it first with `ofisi user add`.")
        for org_id in org_ids:
            try:
                require(session, actor, org_id, "users.manage")
                break
            except OfisiError as exc:  # not theirs, or a role without users.manage: say the last reason
                refusal = exc
        else:
            raise refusal
    if on and not org_ids:
        raise InvalidInput(f"{email} is not staff of any organisation yet, so no code could be sent; "
                           "add them to one first (ofisi user add).")
    channel, address = second_factor_address(user)
    if on and user.otp_address != address:
        scope = {"user_id": user.id}
        if code is None:
            otp.send_code(session, StaffOtp, scope, org_id=org_ids[0], channel=channel, address=address,
                          sender="Ofisi", key="staff:otp", now=now)
            session.commit()
            return replace(_view(user), code_sent_to=otp.mask(address))
        try:
            otp.check_code(session, StaffOtp, scope, address, code, now=now)
        except otp.CodeRefused:
            session.commit()  # the try counts
            raise
        user.otp_address = address
        audit.record(session, actor, "user.otp_address", "user", user.id, org_id=org_ids[0],
                     after={"channel": channel, "address": otp.mask(address)})
    if user.otp_required != on:
        audit.record(session, actor, "user.otp", "user", user.id, org_id=org_ids[0] if org_ids else None,
                     before={"otp_required": user.otp_required}, after={"otp_required": on})
        user.otp_required = on
    session.commit()
    return _view(user)


def _view(user: User) -> UserView:
    return UserView(user.id, user.email, user.name, user.phone, user.otp_required)


def _lock_message(minutes: int, why: str) -> str:
    return (f"{why}: this account is locked for {minutes} more minute{'s' if minutes != 1 else ''}. "
            "Wait, or ask an admin to reset the password.")


def _refuse_if_locked(user: User, now: datetime) -> None:
    if user.locked_until is not None and user.locked_until > now:
        minutes = max(1, int((user.locked_until - now).total_seconds() + 59) // 60)
        raise AccountLocked(_lock_message(minutes, "Too many failed sign-ins"))


def _count_failure(session: Session, user: User, now: datetime, why: str) -> None:
    """One more failed sign-in (a wrong password or a wrong code); the fifth locks the login."""
    user.failed_logins += 1
    locked = user.failed_logins >= MAX_FAILED_LOGINS
    if locked:
        user.locked_until = now + LOCKOUT
        user.failed_logins = 0
        audit.record(session, Actor.system_actor("auth"), "user.locked", "user", user.id)
    session.commit()
    if locked:
        raise AccountLocked(_lock_message(int(LOCKOUT.total_seconds()) // 60, why).replace("more ", ""))


def _signed_in(session: Session, user: User, now: datetime) -> SignedIn:
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    session.commit()
    return SignedIn(_view(user), memberships_of(session, user.id))


def authenticate(session: Session, email: str, password: str, *,
                 now: datetime | None = None) -> SignedIn | CodeRequired:
    """Check the password; five failures in a row lock the account for 15 minutes.

    The failure count is committed before refusing, so a lockout survives
    the refusal. The message never says whether the email exists. With a
    second factor on, the right password returns :class:`CodeRequired` (a code
    is on its way) and :func:`verify_second_factor` finishes the sign-in; the
    failure count is only reset then, so the password cannot be used to clear
    the wrong codes counted against the lockout.
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
    _refuse_if_locked(user, now)
    if not verify_password(password, user.password_hash):
        _count_failure(session, user, now, "Too many wrong passwords")
        raise wrong
    if user.otp_required:
        return _send_second_factor(session, user, now)
    return _signed_in(session, user, now)


def _send_second_factor(session: Session, user: User, now: datetime) -> CodeRequired:
    channel, address = _confirmed_address(user)
    org_id = session.scalar(select(Membership.org_id).where(Membership.user_id == user.id)
                            .order_by(Membership.id).limit(1))
    if org_id is None:
        raise AuthenticationFailed(f"You are signed in as {user.email}, but you are not on the staff of any "
                                   "organisation yet, so no sign-in code can be sent. Ask an organisation's admin "
                                   "to add you (ofisi user add).")
    scope = {"user_id": user.id}
    try:
        sent = otp.send_code(session, StaffOtp, scope, org_id=org_id, channel=channel, address=address,
                             sender="Ofisi", key="staff:otp", now=now)
        expires_at, next_at = sent.expires_at, None
    except otp.TooManyCodes as exc:
        expires_at, next_at = None, exc.next_at
    session.commit()
    return CodeRequired(user.id, user.email, channel, otp.mask(address), expires_at is not None, expires_at,
                        next_at or otp.next_code_at(session, StaffOtp, scope, address, now))


def resend_second_factor(session: Session, user_id: int, *, now: datetime | None = None) -> CodeRequired:
    """Another code, for someone who gave the right password within the hour (limits as ever)."""
    now = now or utcnow()
    user = session.get(User, user_id)
    if user is None or not user.is_active or not user.otp_required:
        raise AuthenticationFailed("Sign in again with your email and password.")
    _refuse_if_locked(user, now)
    asked = session.scalar(select(func.max(StaffOtp.created_at)).where(StaffOtp.user_id == user.id))
    if asked is None or asked <= now - otp.RATE_WINDOW:
        raise AuthenticationFailed("Sign in again with your email and password.")
    return _send_second_factor(session, user, now)


def verify_second_factor(session: Session, user_id: int, code: str, *, now: datetime | None = None) -> SignedIn:
    """Finish a sign-in with the code sent after the password.

    A wrong code is a failed sign-in: it counts toward the same lockout as a
    wrong password (five in a row lock the login for 15 minutes), on top of
    the code's own three tries.
    """
    now = now or utcnow()
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise AuthenticationFailed("Sign in again with your email and password.")
    _refuse_if_locked(user, now)
    _channel, address = _confirmed_address(user)
    try:
        otp.check_code(session, StaffOtp, {"user_id": user.id}, address, code, now=now)
    except otp.CodeRefused as exc:
        if exc.reason == "wrong":
            _count_failure(session, user, now, "Too many wrong codes")
        session.commit()
        raise
    return _signed_in(session, user, now)
