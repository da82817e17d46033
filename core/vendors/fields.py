"""What a vendor's fields may hold, checked with the libraries that know:
GSTIN (with its checksum) and PAN with python-stdnum, phones with
phonenumbers in the org's country, email syntax with email-validator.

Each cleaner takes what a person typed and returns the stored form, or
raises :class:`~core.errors.InvalidInput` saying what is wrong.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
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


# Plain addresses (the great majority) that email-validator would accept as they are; it checks the rest.
SIMPLE_EMAIL = re.compile(r"([A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*)"
                          r"@((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+([A-Za-z]{2,63}))")


def clean_email(raw: str) -> str:
    text = raw.strip()
    simple = SIMPLE_EMAIL.fullmatch(text)
    if (simple and len(text) <= 254 and len(simple[1]) <= 64 and "--" not in simple[2]
            and simple[3].lower() not in SPECIAL_USE_DOMAIN_NAMES):
        return f"{simple[1]}@{simple[2].lower()}"
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidInput(f"{raw!r} is not an email address: {str(exc).rstrip('.')}.") from None


PHONE_PUNCTUATION = re.compile(r"[\s().-]")


@lru_cache(maxsize=64)
def _calling(country: str) -> tuple[str, str | None]:
    """The country calling code and its plain trunk prefix ("0"), if it has one."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(country)
    prefix = metadata.national_prefix_for_parsing if metadata else None
    return str(phonenumbers.country_code_for_region(country)), prefix if prefix and prefix.isdigit() else None


def _plain_e164(raw: str, country: str) -> str | None:
    """The number for the common shapes (+91 98765 43210, 098765 43210, 9876543210, 919876543210),
    judged by phonenumbers' own validity rules without its general parser (a tenth of the time);
    None sends everything else to :func:`core.phones.normalize_phone`."""
    text = PHONE_PUNCTUATION.sub("", raw)
    plus = text.startswith("+")
    digits = text[1:] if plus else text
    if not (digits.isascii() and digits.isdigit()):
        return None
    code, prefix = _calling(country)
    if plus or (len(digits) > 10 and not digits.startswith("0")):
        if not digits.startswith(code):
            return None
        national = digits[len(code):]
    elif prefix and digits.startswith(prefix):
        national = digits[len(prefix):]
    else:
        national = digits
    if not national or national.startswith("0"):
        return None
    number = phonenumbers.PhoneNumber(country_code=int(code), national_number=int(national))
    return f"+{code}{national}" if phonenumbers.is_valid_number(number) else None


def clean_phone(raw: str, country: str) -> str:
    return _plain_e164(raw, country.upper()) or normalize_phone(raw, country)


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
    text = raw if raw.isprintable() and "  " not in raw else " ".join(raw.split())
    if len(text) > limit:
        raise InvalidInput(f"{text[:30]!r}… is longer than {limit} characters.")
    return text


def check_pan_matches_gstin(gstin: str | None, pan: str | None) -> None:
    # Characters 3–12 of a GSTIN are the holder's PAN.
    if gstin and pan and gstin[2:12] != pan:
        raise InvalidInput(f"the PAN {pan} is not the one inside the GSTIN {gstin} ({gstin[2:12]}).")
