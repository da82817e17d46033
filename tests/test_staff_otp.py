"""Staff second factor on both backends: a code after the password, with the OTP limits and the lockout."""

from __future__ import annotations

import os
import re
from datetime import timedelta

import pytest

from core import otp
from core.actors import Actor
from core.errors import AccountLocked, AuthenticationFailed, InvalidInput, NotFound, PermissionDenied
from core.users import (
    CodeRequired,
    SignedIn,
    add_user,
    authenticate,
    resend_second_factor,
    set_second_factor,
    verify_second_factor,
)
from db.models import AuditEntry, StaffOtp, User
from tests.community_support import NOW, messages_to

PASSWORD = "right-password"
PHONE = "+254712345123"


@pytest.fixture
def staff(session, make_org, cli_actor):
    org = make_org(session, "salon", country="KE")
    add_user(session, cli_actor, "owner@salon.example", org_id=org.id, role="owner", password=PASSWORD,
             phone="0712 345 123")
    turn_on(session, cli_actor, "owner@salon.example")
    return org


def turn_on(session, actor, email: str, address: str = PHONE, *, now=NOW) -> None:
    """Turn the second factor on the way an admin does: a code confirms the address first (two hours ago)."""
    earlier = now - timedelta(hours=2)
    asked = set_second_factor(session, actor, email, on=True, now=earlier)
    assert not asked.otp_required and asked.code_sent_to == otp.mask(address)
    assert set_second_factor(session, actor, email, on=True, code=_code(session, address), now=earlier).otp_required


def _code(session, address: str = PHONE) -> str:
    return re.match(r"(\d{6}) ", messages_to(session, address)[-1]).group(1)


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10 ** 6:06d}"


def test_the_right_password_sends_a_code_and_only_the_code_signs_in(session, staff):
    state = authenticate(session, "owner@salon.example", PASSWORD, now=NOW)
    assert isinstance(state, CodeRequired)
    assert state.sent and state.channel == "sms" and state.masked == "+2547•••••123"
    assert state.expires_at == NOW + otp.VALID_FOR and state.next_code_at is None
    user = session.query(User).filter_by(email="owner@salon.example").one()
    assert user.last_login_at is None  # not signed in yet
    code = _code(session)
    assert "Ofisi sign-in code" in messages_to(session, PHONE)[-1]
    stored = session.get(StaffOtp, state_otp_id(session))
    assert code not in stored.code_hash and len(stored.code_hash) == 64
    signed = verify_second_factor(session, state.user_id, code, now=NOW + timedelta(minutes=4))
    assert isinstance(signed, SignedIn) and signed.user.email == "owner@salon.example"
    assert [m.org.id for m in signed.memberships] == [staff.id]
    session.refresh(user)
    assert user.last_login_at == NOW + timedelta(minutes=4)
    with pytest.raises(AuthenticationFailed, match="No sign-in code is waiting"):
        verify_second_factor(session, state.user_id, code, now=NOW + timedelta(minutes=4))


def state_otp_id(session) -> int:
    return session.query(StaffOtp.id).order_by(StaffOtp.id.desc()).limit(1).scalar()


def test_the_address_must_be_confirmed_and_codes_keep_going_there(session, make_org, cli_actor):
    org = make_org(session, "salon", country="KE")
    add_user(session, cli_actor, "rec@salon.example", org_id=org.id, role="receptionist", password=PASSWORD,
             phone="0712 345 123")
    asked = set_second_factor(session, cli_actor, "rec@salon.example", on=True, now=NOW)
    assert not asked.otp_required and isinstance(authenticate(session, "rec@salon.example", PASSWORD, now=NOW),
                                                 SignedIn)
    with pytest.raises(otp.CodeRefused, match="not right"):
        set_second_factor(session, cli_actor, "rec@salon.example", on=True, code=_wrong(_code(session)), now=NOW)
    assert not session.query(User).filter_by(email="rec@salon.example").one().otp_required
    set_second_factor(session, cli_actor, "rec@salon.example", on=True, code=_code(session), now=NOW)
    # A new phone on the login does not move the codes until it is confirmed in turn.
    add_user(session, cli_actor, "rec@salon.example", org_id=org.id, role="receptionist", phone="0799 000 111")
    assert authenticate(session, "rec@salon.example", PASSWORD, now=NOW + timedelta(minutes=1)).masked == \
        "+2547•••••123"
    moved = set_second_factor(session, cli_actor, "rec@salon.example", on=True, now=NOW + timedelta(minutes=2))
    assert moved.code_sent_to == "+2547•••••111" and moved.otp_required


def test_without_a_phone_the_code_goes_by_email(session, make_org, cli_actor):
    org = make_org(session, "chama")
    add_user(session, cli_actor, "chair@chama.example", org_id=org.id, role="chair", password=PASSWORD)
    turn_on(session, cli_actor, "chair@chama.example", "chair@chama.example")
    state = authenticate(session, "chair@chama.example", PASSWORD, now=NOW)
    assert state.channel == "email" and state.masked == "c•••@chama.example"
    assert isinstance(verify_second_factor(session, state.user_id, _code(session, "chair@chama.example"), now=NOW),
                      SignedIn)


def test_the_code_expires_after_five_minutes(session, staff):
    state = authenticate(session, "owner@salon.example", PASSWORD, now=NOW)
    with pytest.raises(otp.CodeRefused, match="expired") as info:
        verify_second_factor(session, state.user_id, _code(session), now=NOW + timedelta(minutes=5, seconds=1))
    assert info.value.reason == "expired"


def test_three_tries_per_code_and_wrong_codes_count_toward_the_lockout(session, staff):
    state = authenticate(session, "owner@salon.example", PASSWORD, now=NOW)
    code = _code(session)
    for left in (2, 1):
        with pytest.raises(otp.CodeRefused, match=f"{left} tr"):
            verify_second_factor(session, state.user_id, _wrong(code), now=NOW)
    with pytest.raises(otp.CodeRefused, match="last try"):
        verify_second_factor(session, state.user_id, _wrong(code), now=NOW)
    with pytest.raises(otp.CodeRefused, match="tried 3 times"):
        verify_second_factor(session, state.user_id, code, now=NOW)
    user = session.query(User).filter_by(email="owner@salon.example").one()
    assert user.failed_logins == 3
    # The right password does not clear the wrong codes; two more wrong ones lock the login.
    authenticate(session, "owner@salon.example", PASSWORD, now=NOW + timedelta(minutes=1))
    assert user.failed_logins == 3
    code = _code(session)
    with pytest.raises(otp.CodeRefused):
        verify_second_factor(session, state.user_id, _wrong(code), now=NOW + timedelta(minutes=1))
    with pytest.raises(AccountLocked, match="wrong codes.*15 minutes"):
        verify_second_factor(session, state.user_id, _wrong(code), now=NOW + timedelta(minutes=1))
    with pytest.raises(AccountLocked, match="more minutes"):
        verify_second_factor(session, state.user_id, code, now=NOW + timedelta(minutes=2))
    assert session.query(AuditEntry).filter_by(action="user.locked").count() == 1


def test_three_codes_an_hour_then_resend_says_when(session, staff):
    state = authenticate(session, "owner@salon.example", PASSWORD, now=NOW)
    assert resend_second_factor(session, state.user_id, now=NOW + timedelta(minutes=1)).sent
    assert resend_second_factor(session, state.user_id, now=NOW + timedelta(minutes=2)).sent
    held = resend_second_factor(session, state.user_id, now=NOW + timedelta(minutes=3))
    assert not held.sent and held.next_code_at == NOW + timedelta(hours=1)
    assert len(messages_to(session, PHONE)) == 4  # the code that confirmed the phone, then three
    # The password step is held back the same way, and the last code still works.
    again = authenticate(session, "owner@salon.example", PASSWORD, now=NOW + timedelta(minutes=4))
    assert not again.sent and again.next_code_at == NOW + timedelta(hours=1)
    assert verify_second_factor(session, state.user_id, _code(session), now=NOW + timedelta(minutes=4))
    later = authenticate(session, "owner@salon.example", PASSWORD, now=NOW + timedelta(hours=1, seconds=1))
    assert later.sent and len(messages_to(session, PHONE)) == 5


def test_resend_needs_a_recent_password(session, staff):
    user = session.query(User).filter_by(email="owner@salon.example").one()
    with pytest.raises(AuthenticationFailed, match="Sign in again"):
        resend_second_factor(session, user.id, now=NOW)
    authenticate(session, "owner@salon.example", PASSWORD, now=NOW)
    with pytest.raises(AuthenticationFailed, match="Sign in again"):
        resend_second_factor(session, user.id, now=NOW + timedelta(hours=1, minutes=1))


def test_turning_it_off_and_who_may_turn_it(session, staff, cli_actor):
    assert set_second_factor(session, cli_actor, "OWNER@salon.example", on=False).otp_required is False
    assert isinstance(authenticate(session, "owner@salon.example", PASSWORD, now=NOW), SignedIn)
    assert session.query(AuditEntry).filter_by(action="user.otp").count() == 2  # on at add, then off
    with pytest.raises(NotFound, match="ofisi user add"):
        set_second_factor(session, cli_actor, "nobody@salon.example", on=True)
    other = add_user(session, cli_actor, "rec@salon.example", org_id=staff.id, role="receptionist",
                     password=PASSWORD)
    with pytest.raises(PermissionDenied):
        set_second_factor(session, Actor.staff(other.id, other.email), "owner@salon.example", on=True)
    owner = session.query(User).filter_by(email="owner@salon.example").one()
    assert set_second_factor(session, Actor.staff(owner.id, owner.email), "rec@salon.example", on=True).code_sent_to


def test_a_login_without_an_org_cannot_turn_it_on(session, staff, cli_actor):
    from core.users import remove_membership

    add_user(session, cli_actor, "gone@salon.example", org_id=staff.id, role="owner", password=PASSWORD)
    remove_membership(session, cli_actor, "gone@salon.example", org_id=staff.id)
    with pytest.raises(InvalidInput, match="not staff of any organisation"):
        set_second_factor(session, cli_actor, "gone@salon.example", on=True)


def test_mask_shows_enough_to_recognise():
    assert otp.mask("+254712345123") == "+2547•••••123"
    assert otp.mask("wanjiku@example.com") == "w•••@example.com"


def test_the_cli_turns_it_on_and_off(backend, tmp_path, monkeypatch):
    if backend != "sqlite":
        pytest.skip("the command calls the same core service on either backend")
    from typer.testing import CliRunner

    from commands.main import app

    monkeypatch.setenv("OFISI_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    runner = CliRunner()

    def ofisi(*args: str, stdin: str | None = None):
        return runner.invoke(app, list(args), input=stdin)

    ofisi("org", "create", "glow", "--kind", "salon", "--name", "Glow", "--country", "KE")
    added = ofisi("user", "add", "wairimu@glow.example", "--org", "glow", "--role", "owner", "--phone", "0712345123",
                  "--otp", "--password-stdin", stdin="a-long-password\n")
    assert added.exit_code == 0, added.output
    assert "A code went to +2547•••••123" in added.output and "--code CODE" in added.output
    from db.engine import open_database

    db = open_database(os.environ["OFISI_DATABASE_URL"])
    try:
        with db.session() as session:
            code = _code(session)
    finally:
        db.dispose()
    on = ofisi("user", "otp", "wairimu@glow.example", "on", "--code", code)
    assert on.exit_code == 0 and "now needs a sign-in code" in on.output, on.output
    off = ofisi("user", "otp", "wairimu@glow.example", "off")
    assert off.exit_code == 0 and "password alone" in off.output
    assert ofisi("user", "otp", "wairimu@glow.example", "maybe").exit_code == 2
    refused = ofisi("user", "otp", "nobody@glow.example", "on")
    # The root command turns this refusal into one line on stderr (see test_cli.py).
    assert isinstance(refused.exception, NotFound) and "ofisi user add" in str(refused.exception)


def test_codes_asked_for_at_once_still_keep_to_three_an_hour(committed_db, make_org, cli_actor):
    """Six requests for one address at the same moment: the hourly limit holds (on PostgreSQL they
    queue on a lock; SQLite has one writer at a time)."""
    import threading

    with committed_db.session() as session:
        org = make_org(session, "salon", country="KE")
        user = add_user(session, cli_actor, "racer@salon.example", org_id=org.id, role="owner", password=PASSWORD,
                        phone="0712 345 124")
        session.commit()
        org_id, user_id = org.id, user.id
    start, outcomes = threading.Barrier(6, timeout=10), []

    def ask() -> None:
        with committed_db.session() as session:
            start.wait()
            try:
                otp.send_code(session, StaffOtp, {"user_id": user_id}, org_id=org_id, channel="sms",
                              address="+254712345124", sender="Ofisi", key="race", now=NOW)
                session.commit()
                outcomes.append("sent")
            except otp.TooManyCodes:
                session.rollback()
                outcomes.append("held")

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["held"] * 3 + ["sent"] * 3
    with committed_db.session() as session:
        assert session.query(StaffOtp).filter_by(user_id=user_id).count() == 3
