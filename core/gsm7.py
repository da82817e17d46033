"""The GSM 03.38 alphabet: what an SMS can carry in 7-bit characters.

Shared by the USSD screens (which must stay in the basic set) and SMS
templates (which count segments: a character outside both sets turns the
whole message into UCS-2).
"""

from __future__ import annotations

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Sent as an escape plus a character, so each costs two of the 160.
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")


def gsm7_septets(text: str) -> int | None:
    """How many 7-bit characters ``text`` takes, or None if it needs UCS-2."""
    count = 0
    for ch in text:
        if ch in GSM7_BASIC:
            count += 1
        elif ch in GSM7_EXTENDED:
            count += 2
        else:
            return None
    return count
