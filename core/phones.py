"""Phone numbers: stored E.164, parsed with the org's country as default region."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers

from core.errors import InvalidInput


@lru_cache(maxsize=8192)
def normalize_phone(raw: str, country: str) -> str:
    """Turn how people write numbers (``0712 345 678``, ``254712345678``,
    ``+91 98765-43210``) into E.164, or refuse with a reason. Remembered: the same numbers come
    back all day (a USSD caller's receipts, a campaign's list), and parsing one costs as much as
    a database round trip."""
    text = (raw or "").strip()
    if not text:
        raise InvalidInput("A phone number is needed.")
    candidates = [text]
    digits = "".join(ch for ch in text if ch.isdigit())
    # "2547…" or "9198…" written without the plus: try it as international too.
    if not text.startswith(("+", "0")) and len(digits) > 10:
        candidates.insert(0, "+" + digits)
    if text.startswith("00"):
        candidates.insert(0, "+" + digits[2:])
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, country.upper())
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    raise InvalidInput(f"{raw!r} is not a valid phone number for {country.upper()}; write it like {examples(country)}.")


def examples(country: str) -> str:
    """``0712 345 678 or +254 712 345 678``: a mobile number of ``country`` as people write it at home and abroad."""
    number = phonenumbers.example_number_for_type(country.upper(), phonenumbers.PhoneNumberType.MOBILE)
    if number is None:
        return "+ and the country code, then the number"
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    international = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return f"{national} or {international}"


def to_daraja(e164: str) -> str:
    """Daraja wants ``2547…``: the E.164 digits without the plus."""
    return e164.lstrip("+")


def display_phone(e164: str) -> str:
    number = phonenumbers.parse(e164, None)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def mask_phone(phone: str | None) -> str:
    """``+2547•••••678``: enough to tell numbers apart, not enough to call."""
    if not phone:
        return ""
    keep_head = 5 if len(phone) > 9 else 2
    return phone[:keep_head] + "•" * max(len(phone) - keep_head - 3, 1) + phone[-3:]
