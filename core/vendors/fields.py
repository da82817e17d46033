"""What a vendor's fields may hold, checked with the libraries that know:
GSTIN (with its checksum) and PAN with python-stdnum, phones with
phonenumbers in the org's country, email syntax with email-validator.

Each cleaner takes what a person typed and returns the stored form, or
raises :class:`~core.errors.InvalidInput` saying what is wrong.
"""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError
from stdnum.in_ import gstin as stdnum_gstin
from stdnum.in_ import pan as stdnum_pan

from core.errors import InvalidInput
from core.phones import normalize_phone
from db.models_vendors import SIZES, VENDOR_STATUSES

UDYAM = re.compile(r"UDYAM-[A-Z]{2}-\d{2}-\d{7}")
TAG = re.compile(r"[^a-z0-9]+")


def _why(exc: ValidationError) -> str:
    if isinstance(exc, InvalidChecksum):
        return "its check character is wrong (a mistyped character?)"
    if isinstance(exc, InvalidLength):
        return "it has the wrong number of characters"
    if isinstance(exc, InvalidComponent):
        return "a part of it is not allowed"
    if isinstance(exc, InvalidFormat):
        return "it is not in the right format"
    return "it is not valid"


def clean_gstin(raw: str) -> str:
    try:
        return stdnum_gstin.validate(raw)
    except ValidationError as exc:
        raise InvalidInput(f"{raw!r} is not a valid GSTIN: {_why(exc)}; a GSTIN looks like 27AAPFU0939F1ZV.") from None


def clean_pan(raw: str) -> str:
    try:
        return stdnum_pan.validate(raw)
    except ValidationError as exc:
        raise InvalidInput(f"{raw!r} is not a valid PAN: {_why(exc)}; a PAN looks like AAPFU0939F.") from None


def clean_udyam(raw: str) -> str:
    text = "".join(raw.upper().split())
    if not UDYAM.fullmatch(text):
        raise InvalidInput(f"{raw!r} is not an Udyam registration number; it looks like UDYAM-MH-19-0012345.")
    return text


def clean_email(raw: str) -> str:
    try:
        return validate_email(raw, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidInput(f"{raw!r} is not an email address: {str(exc).rstrip('.')}.") from None


def clean_phone(raw: str, country: str) -> str:
    return normalize_phone(raw, country)


def clean_size(raw: str) -> str:
    size = raw.strip().lower()
    if size not in SIZES:
        raise InvalidInput(f"{raw!r} is not a size; write micro, small or medium.")
    return size


def clean_status(raw: str) -> str:
    status = raw.strip().lower()
    if status not in VENDOR_STATUSES:
        raise InvalidInput(f"{raw!r} is not a status; write {' or '.join(VENDOR_STATUSES)}.")
    return status


def clean_tag(raw: str) -> str:
    return TAG.sub("-", raw.strip().lower()).strip("-")


def clean_tags(raw: str | list[str] | tuple[str, ...]) -> list[str]:
    """``"Women-led; Export"`` becomes ``["export", "women-led"]`` (sorted, no repeats)."""
    parts = raw if isinstance(raw, (list, tuple)) else re.split(r"[;,|]", raw)
    return sorted({tag for part in parts if (tag := clean_tag(part))})


def clean_text(raw: str, limit: int) -> str:
    text = " ".join(raw.split())
    if len(text) > limit:
        raise InvalidInput(f"{text[:30]!r}… is longer than {limit} characters.")
    return text


def check_pan_matches_gstin(gstin: str | None, pan: str | None) -> None:
    # Characters 3–12 of a GSTIN are the holder's PAN.
    if gstin and pan and gstin[2:12] != pan:
        raise InvalidInput(f"the PAN {pan} is not the one inside the GSTIN {gstin} ({gstin[2:12]}).")
