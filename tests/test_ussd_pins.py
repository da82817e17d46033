"""USSD PINs: set, check, and three wrong tries lock the phone for 30 minutes."""

from datetime import timedelta

import pytest

from core.errors import InvalidInput
from core.ussd_pins import LOCK_FOR, pin_matches, pin_state, record_right_pin, record_wrong_pin, set_pin
from db.models import AuditEntry
from db.types import utcnow

PHONE = "+254712345678"


def test_set_and_match(session):
    assert pin_state(session, PHONE).pin_hash is None
    set_pin(session, PHONE, "2580")
    state = pin_state(session, PHONE)
    assert pin_matches(state, "2580") and not pin_matches(state, "2581") and not pin_matches(state, "258")
    assert "2580" not in state.pin_hash


@pytest.mark.parametrize("pin, reason", [("123", "4 digits"), ("12a4", "4 digits"), ("1111", "easy"),
                                         ("1234", "easy")])
def test_weak_or_malformed_pins_are_refused(session, pin, reason):
    with pytest.raises(InvalidInput, match=reason):
        set_pin(session, PHONE, pin)


def test_three_wrong_pins_lock_for_thirty_minutes(session):
    set_pin(session, PHONE, "2580")
    now = utcnow()
    assert not record_wrong_pin(session, PHONE, now=now)
    assert not record_wrong_pin(session, PHONE, now=now)
    assert pin_state(session, PHONE).tries_left == 1
    assert record_wrong_pin(session, PHONE, now=now) == now + LOCK_FOR
    state = pin_state(session, PHONE)
    assert state.locked(now + LOCK_FOR - timedelta(seconds=1))
    assert not state.locked(now + LOCK_FOR + timedelta(seconds=1))
    # Tries while locked count for nothing: they neither lock again nor carry over.
    for _ in range(5):
        assert record_wrong_pin(session, PHONE, now=now + timedelta(minutes=1)) is None
    assert pin_state(session, PHONE) == state
    assert session.query(AuditEntry).filter_by(action="ussd.pin_locked").count() == 1


def test_a_right_pin_clears_the_count(session):
    set_pin(session, PHONE, "2580")
    record_wrong_pin(session, PHONE)
    record_wrong_pin(session, PHONE)
    record_right_pin(session, PHONE)
    assert pin_state(session, PHONE).failed_attempts == 0
    assert not record_wrong_pin(session, PHONE)


@pytest.fixture
def pin_key(monkeypatch):
    """The gateway's PIN key, as `OFISI_PIN_KEY` sets it."""
    from config.settings import get_settings

    def use(value: str | None) -> None:
        if value is None:
            monkeypatch.delenv("OFISI_PIN_KEY", raising=False)
        else:
            monkeypatch.setenv("OFISI_PIN_KEY", value)
        get_settings.cache_clear()

    return use


def test_with_a_pin_key_pins_are_keyed_hashes_that_need_the_key(session, pin_key):
    from core.passwords import PinKeyMissing

    pin_key("k1-a-long-random-string")
    set_pin(session, PHONE, "2580")
    state = pin_state(session, PHONE)
    assert state.pin_hash.startswith("hmac-sha256$") and "2580" not in state.pin_hash and not state.rehash
    assert pin_matches(state, "2580") and not pin_matches(state, "2581")
    # Without the key (or with another), a PIN set under it cannot be judged: an error for the
    # operator, never a wrong try for the member.
    for other in (None, "k2-another-key"):
        pin_key(other)
        with pytest.raises(PinKeyMissing, match="pin_key"):
            pin_matches(state, "2580")
        with pytest.raises(PinKeyMissing):
            pin_matches(state, "0000")


def test_a_pin_set_before_the_key_still_works_and_moves_under_it_when_entered_right(session, pin_key):
    pin_key(None)
    set_pin(session, PHONE, "2580")
    before = pin_state(session, PHONE)
    assert before.pin_hash.startswith("scrypt$") and not before.rehash
    pin_key("k1-a-long-random-string")
    state = pin_state(session, PHONE)
    assert state.rehash and pin_matches(state, "2580") and not pin_matches(state, "2581")
    record_right_pin(session, PHONE, "1111")  # not her PIN: nothing is rehashed
    assert pin_state(session, PHONE).pin_hash == before.pin_hash
    record_right_pin(session, PHONE, "2580")
    after = pin_state(session, PHONE)
    assert after.pin_hash.startswith("hmac-sha256$") and not after.rehash and pin_matches(after, "2580")
