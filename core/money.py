"""Money as integer minor units plus an ISO 4217 currency; never a float."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from core.errors import InvalidInput

# Minor-unit exponents for the currencies our organisations use; others default to 2.
EXPONENTS = {"KES": 2, "UGX": 0, "TZS": 2, "RWF": 0, "INR": 2, "NGN": 2, "GHS": 2,
             "ZAR": 2, "ETB": 2, "USD": 2, "EUR": 2, "GBP": 2, "BIF": 0, "JPY": 0}


def exponent(currency: str) -> int:
    return EXPONENTS.get(currency.upper(), 2)


def format_money(minor: int, currency: str) -> str:
    """``format_money(150000, "KES") == "KES 1,500"``; cents show only when there are some."""
    exp = exponent(currency)
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), 10**exp) if exp else (abs(minor), 0)
    text = f"{whole:,}"
    if frac:
        text += f".{frac:0{exp}d}"
    return f"{currency.upper()} {sign}{text}"


_AMOUNT = re.compile(r"^[+-]?\d+(\.\d+)?$")


def parse_money(text: str | int, currency: str) -> int:
    """Parse what a person types (``1,500``, ``KES 1500.50``, ``1 500``) into minor units."""
    if isinstance(text, int):
        return text * 10 ** exponent(currency)
    cleaned = str(text).strip().upper()
    if cleaned.startswith(currency.upper()):
        cleaned = cleaned[len(currency):]
    cleaned = cleaned.replace(",", "").replace(" ", "").replace("_", "")
    if not _AMOUNT.match(cleaned):
        raise InvalidInput(f"{text!r} is not an amount; write it like 1500 or 1,500.50.")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise InvalidInput(f"{text!r} is not an amount; write it like 1500 or 1,500.50.") from None
    exp = exponent(currency)
    minor = value * (10**exp)
    if minor != minor.to_integral_value():
        raise InvalidInput(
            f"{text!r} has more decimals than {currency.upper()} allows ({exp})."
        )
    return int(minor)


def parse_provider_cost(text: object) -> tuple[int, str] | None:
    """A provider's reported price (``"KES 0.8000"``, ``"USD 0.0070"``) as (minor units, currency),
    rounded half up to the currency's minor unit; None when it names no amount or no currency
    (Africa's Talking says ``"0"`` for a message it did not send)."""
    parts = str(text or "").split()
    if len(parts) != 2 or not re.fullmatch(r"[A-Za-z]{3}", parts[0]):
        return None
    try:
        value = Decimal(parts[1].replace(",", ""))
    except InvalidOperation:
        return None
    if not value.is_finite() or value < 0:
        return None
    currency = parts[0].upper()
    minor = (value * 10 ** exponent(currency)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(minor), currency
