"""Password hashing with scrypt, and lockout after five failed sign-ins."""

from datetime import timedelta

import pytest

from core.errors import AccountLocked, AuthenticationFailed, InvalidInput
from core.passwords import hash_password, verify_password
from core.users import LOCKOUT, MAX_FAILED_LOGINS, add_user, authenticate
from db.models import AuditEntry, User
from db.types import utcnow


def test_hash_is_salted_scrypt_and_verifies():
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first.startswith("scrypt$") and first != second
    assert verify_password("correct horse", first)
    assert not verify_password("wrong horse", first)
    assert not verify_password("anything", None)
    assert not verify_password("anything", "md5$garbage")


@pytest.fixture
def owner(session, make_org, cli_actor):
    org = make_org(session, "salon")
    return add_user(session, cli_actor, "Owner@Salon.Example", org_id=org.id, role="owner",
                    password="right-password"), org


def test_sign_in_with_any_email_case(session, owner):
    user, org = owner
    signed_in = authenticate(session, "  OWNER@salon.example ", "right-password")
    assert signed_in.user.id == user.id
    assert [(m.org.slug, m.role) for m in signed_in.memberships] == [(org.slug, "owner")]


def test_wrong_password_and_unknown_email_read_the_same(session, owner):
    with pytest.raises(AuthenticationFailed) as wrong:
        authenticate(session, "owner@salon.example", "nope")
    with pytest.raises(AuthenticationFailed) as unknown:
        authenticate(session, "nobody@salon.example", "nope")
    assert str(wrong.value) == str(unknown.value)


def test_lockout_after_five_failures_for_fifteen_minutes(session, owner):
    now = utcnow()
    for _ in range(MAX_FAILED_LOGINS - 1):
        with pytest.raises(AuthenticationFailed) as info:
            authenticate(session, "owner@salon.example", "bad", now=now)
        assert not isinstance(info.value, AccountLocked)
    with pytest.raises(AccountLocked, match="15 minutes"):
        authenticate(session, "owner@salon.example", "bad", now=now)
    # Locked: even the right password is refused, and the message says for how long.
    with pytest.raises(AccountLocked, match="10 more minutes"):
        authenticate(session, "owner@salon.example", "right-password", now=now + timedelta(minutes=5))
    assert session.query(AuditEntry).filter_by(action="user.locked").count() == 1
    # After the lockout the right password works and the count starts again.
    later = now + LOCKOUT + timedelta(seconds=1)
    assert authenticate(session, "owner@salon.example", "right-password", now=later).user.email == "owner@salon.example"
    user = session.query(User).filter_by(email="owner@salon.example").one()
    assert user.failed_logins == 0 and user.locked_until is None


def test_success_resets_the_failure_count(session, owner):
    for _ in range(MAX_FAILED_LOGINS - 1):
        with pytest.raises(AuthenticationFailed):
            authenticate(session, "owner@salon.example", "bad")
    authenticate(session, "owner@salon.example", "right-password")
    for _ in range(MAX_FAILED_LOGINS - 1):
        with pytest.raises(AuthenticationFailed):
            authenticate(session, "owner@salon.example", "bad")
    authenticate(session, "owner@salon.example", "right-password")


def test_roles_must_belong_to_the_org_kind(session, make_org, cli_actor):
    chama = make_org(session, "chama")
    with pytest.raises(InvalidInput, match="chair, treasurer, secretary"):
        add_user(session, cli_actor, "x@chama.example", org_id=chama.id, role="owner", password="long-enough")
    with pytest.raises(InvalidInput, match="at least 8"):
        add_user(session, cli_actor, "x@chama.example", org_id=chama.id, role="chair", password="short")


def test_staff_without_users_manage_cannot_add_staff(session, make_org, cli_actor):
    from core.actors import Actor
    from core.errors import PermissionDenied

    chama = make_org(session, "chama")
    sec = add_user(session, cli_actor, "sec@chama.example", org_id=chama.id, role="secretary", password="long-enough")
    with pytest.raises(PermissionDenied, match="secretary"):
        add_user(session, Actor.staff(sec.id, sec.email), "new@chama.example", org_id=chama.id, role="chair")
