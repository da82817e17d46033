"""Password hashing with hashlib.scrypt; stored as ``scrypt$n$r$p$salt$hash``.

USSD PINs are hashed the same way unless the gateway has a PIN key (the
``pin_key`` secret): then as ``hmac-sha256$keyid$salt$hash``, an HMAC of the
salted PIN under that key (see :func:`hash_pin`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

N, R, P = 2**14, 8, 1
# A 4-digit PIN has 10,000 values: no hash cost stops an offline search of them,
# the lockout after three tries is what protects it. A cheap cost keeps a USSD
# hop (which the network times out) fast. With a PIN key, a keyed hash is both
# cheaper and safer (see hash_pin).
PIN_N = 2**10
KEYED = "hmac-sha256"
DKLEN = 32
MIN_LENGTH = 8


def hash_password(password: str, *, n: int = N) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=R, p=P, dklen=DKLEN)
    return f"scrypt${n}${R}${P}${_b64(salt)}${_b64(digest)}"


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def key_id(key: bytes) -> str:
    """A name for a PIN key that says nothing about it: which key a stored PIN needs."""
    return hashlib.sha256(b"ofisi pin key\0" + key).hexdigest()[:12]


class PinKeyMissing(RuntimeError):
    """A PIN was hashed under a key this process does not have: the operator's to fix, never the
    member's (it is not a wrong PIN)."""

    def __init__(self, needed: str, have: str | None) -> None:
        super().__init__(
            f"A USSD PIN was set under the PIN key {needed}, but this process has "
            + (f"the key {have}" if have else "no PIN key")
            + ": set the same pin_key secret on every gateway (OFISI_PIN_KEY or `ofisi secrets set pin_key`).")


def hash_pin(pin: str, key: bytes | None = None) -> str:
    """A PIN's hash. Without a key, scrypt at a low cost (see :data:`PIN_N`). With the gateway's
    PIN key, an HMAC-SHA256 of salt and PIN under it: a copy of the database alone then gives no
    way to search the 10,000 PINs (the key is not in it), and checking one costs microseconds
    instead of milliseconds of a USSD hop."""
    if key is None:
        return hash_password(pin, n=PIN_N)
    salt = os.urandom(16)
    digest = hmac.new(key, salt + pin.encode("utf-8"), hashlib.sha256).digest()
    return f"{KEYED}${key_id(key)}${_b64(salt)}${_b64(digest)}"


def verify_pin(pin: str, stored: str | None, key: bytes | None = None) -> bool:
    """Whether ``pin`` is the one ``stored`` was made from; scrypt hashes (set before the key, or
    without one) are checked as passwords. A keyed hash under another key, or with no key here,
    raises :class:`PinKeyMissing`: the PIN cannot be judged, so it must not count as wrong."""
    if not stored or not stored.startswith(KEYED + "$"):
        return verify_password(pin, stored)
    try:
        _scheme, needed, salt, digest = stored.split("$")
        expected, raw_salt = base64.b64decode(digest), base64.b64decode(salt)
    except ValueError:
        return False
    have = key_id(key) if key is not None else None
    if key is None or have != needed:
        raise PinKeyMissing(needed, have)
    return hmac.compare_digest(hmac.new(key, raw_salt + pin.encode("utf-8"), hashlib.sha256).digest(), expected)


def keyed_with(stored: str | None, key: bytes | None) -> bool:
    """Whether ``stored`` is hashed under ``key`` (False for a scrypt hash: it can be rehashed)."""
    return bool(stored) and key is not None and stored.startswith(f"{KEYED}${key_id(key)}$")


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
