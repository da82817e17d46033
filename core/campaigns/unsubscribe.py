"""One-click unsubscribe from campaign email: the signed link in every campaign email's footer
and ``List-Unsubscribe`` header, and what following it does.

The token carries the org, the channel and the address, signed with HMAC-SHA256 under the
``callback_token`` secret (the one the gateway's callbacks carry), so nobody can forge a
link for another address. Without that secret the gateway serves loopback only (see
``ussd.server``), and the links are signed with a fixed development key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from sqlalchemy.orm import Session

from core.changes import mark_changed
from core.errors import NotFound
from core.optouts import opt_out
from db.models import Org

_PURPOSE = b"ofisi unsubscribe v1:"


def _key() -> bytes:
    from config import get_settings

    secret = get_settings().secret("callback_token", required=False)
    return _PURPOSE + (secret.reveal().encode() if secret is not None else b"development")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _sign(payload: bytes) -> str:
    return _b64(hmac.new(_key(), payload, hashlib.sha256).digest()[:18])


def unsubscribe_token(org_id: int, channel: str, address: str) -> str:
    payload = f"{org_id}:{channel}:{address}".encode()
    return f"{_b64(payload)}.{_sign(payload)}"


def unsubscribe_url(org_id: int, channel: str, address: str) -> str:
    from config import get_settings

    return f"{get_settings().public_url.rstrip('/')}/u/{unsubscribe_token(org_id, channel, address)}"


INVALID = "This unsubscribe link is not valid (it may have been cut short); reply STOP or ask the sender instead."


def _read(token: str) -> tuple[int, str, str]:
    head, _, signature = (token or "").partition(".")
    try:
        payload = base64.urlsafe_b64decode(head + "=" * (-len(head) % 4))
    except (ValueError, TypeError):
        raise NotFound(INVALID) from None
    if not signature or not hmac.compare_digest(signature, _sign(payload)):
        raise NotFound(INVALID)
    org_id, channel, address = payload.decode().split(":", 2)
    return int(org_id), channel, address


def unsubscribe_org(session: Session, token: str) -> str:
    """The name of the organisation a link is from (the page that asks to confirm); NotFound if forged."""
    org = session.get(Org, _read(token)[0])
    if org is None:
        raise NotFound(INVALID)
    return org.name


def unsubscribe(session: Session, token: str) -> str:
    """Opt the link's address out of the org's campaign email (idempotent) and commit; returns the
    org's name. The one door: ``GET|POST /u/{token}`` on the gateway."""
    org_id, channel, address = _read(token)
    org = session.get(Org, org_id)
    if org is None:
        raise NotFound(INVALID)
    if opt_out(session, org_id, channel, address, source="unsubscribe link"):
        mark_changed(session, org_id)
    session.commit()
    return org.name
