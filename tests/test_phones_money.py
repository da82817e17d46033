"""Phones in their common written forms become E.164; money stays in minor units."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import InvalidInput
from core.money import format_money, parse_money
from core.phones import normalize_phone, to_daraja


@pytest.mark.parametrize("written", [
    "0712345678", "0712 345 678", "0712-345-678", "712345678", "+254712345678", "+254 712 345 678",
    "254712345678", "00254712345678", "(0712) 345678", " 0712345678 ",
])
def test_kenyan_forms(written):
    assert normalize_phone(written, "KE") == "+254712345678"


@pytest.mark.parametrize("written", ["0110 123456", "0110123456", "+254110123456"])
def test_kenyan_011_numbers(written):
    assert normalize_phone(written, "KE") == "+254110123456"


@pytest.mark.parametrize("written", [
    "9876543210", "98765 43210", "09876543210", "+91 98765 43210", "+91-98765-43210", "919876543210",
    "0091 9876543210",
])
def test_indian_forms(written):
    assert normalize_phone(written, "IN") == "+919876543210"


def test_a_foreign_number_keeps_its_country():
    assert normalize_phone("+91 98765 43210", "KE") == "+919876543210"
    assert normalize_phone("+256 772 123456", "KE") == "+256772123456"


@pytest.mark.parametrize("bad", ["", "12345", "not a phone", "0712", "+254 12"])
def test_invalid_numbers_are_refused_with_a_reason(bad):
    with pytest.raises(InvalidInput, match="phone"):
        normalize_phone(bad, "KE")


def test_daraja_edge_format():
    assert to_daraja("+254712345678") == "254712345678"


@pytest.mark.parametrize("minor, currency, shown", [
    (150000, "KES", "KES 1,500"), (200050, "INR", "INR 2,000.50"), (5, "KES", "KES 0.05"),
    (-150000, "KES", "KES -1,500"), (250000, "UGX", "UGX 250,000"),
])
def test_format_money(minor, currency, shown):
    assert format_money(minor, currency) == shown


@pytest.mark.parametrize("typed, minor", [
    ("1500", 150000), ("1,500", 150000), ("KES 1,500.50", 150050), ("1 500", 150000), (1500, 150000),
])
def test_parse_money(typed, minor):
    assert parse_money(typed, "KES") == minor


@pytest.mark.parametrize("bad", ["1.005", "abc", "1,5,0.0.0", ""])
def test_parse_money_refuses(bad):
    with pytest.raises(InvalidInput):
        parse_money(bad, "KES")


@given(st.integers(min_value=-10**12, max_value=10**12), st.sampled_from(["KES", "INR", "UGX"]))
def test_format_then_parse_round_trips(minor, currency):
    assert parse_money(format_money(minor, currency), currency) == minor
