"""Password hashing with hashlib.scrypt; stored as ``scrypt$n$r$p$salt$hash``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

N, R, P = 2**14, 8, 1
# A 4-digit PIN has 10,000 values: no hash cost stops an offline search of them,
# the lockout after three tries is what protects it. A cheap cost keeps a USSD
# hop (which the network times out) fast.
PIN_N = 2**10
DKLEN = 32
MIN_LENGTH = 8


def hash_password(password: str, *, n: int = N) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=R, p=P, dklen=DKLEN)
    b64 = lambda b: base64.b64encode(b).decode("ascii")  # noqa: E731
    return f"scrypt${n}${R}${P}${b64(salt)}${b64(digest)}"


def hash_pin(pin: str) -> str:
    return hash_password(pin, n=PIN_N)


def verify_password(password: str, stored: str | None) -> bool:
    """Constant-time check; a missing or malformed hash never matches."""
    if not stored:
        # Spend the same time so a missing account cannot be told apart.
        hashlib.scrypt(password.encode("utf-8"), salt=b"0" * 16, n=N, r=R, p=P, dklen=DKLEN)
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)
