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
