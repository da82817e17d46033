"""The WhatsApp Cloud API webhook: the subscription check (GET) and message statuses
(POST), which move outbox messages forward exactly as ``POST /sms/delivery`` does.

Meta verifies the subscription with ``hub.verify_token``, which must equal the
``callback_token`` secret when it is set; status posts carry ``?token=`` like the
other provider callbacks (both checked by :func:`ussd.gateway.guarded`, with
``whatsapp_callback_networks``). A body that is not JSON answers 400; JSON of
another shape is read for what statuses it holds, and anything else in it is
ignored.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from core.outbox import record_delivery_report
from ussd.gateway import KB, Unreadable, read_json, recorded, route


@route("/whatsapp/webhook", methods=["GET"], provider="whatsapp", token_param="hub.verify_token")
async def whatsapp_verify(request: Request) -> Response:
    params = request.query_params
    if params.get("hub.mode") != "subscribe":
        return PlainTextResponse("forbidden", status_code=403)
    return PlainTextResponse(params.get("hub.challenge", ""))


def _dicts(value: Any) -> list[dict]:
    """The objects in a list that should hold objects; nothing for any other shape."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value) if isinstance(value, int) else ""


def statuses(body: object) -> list[tuple[str, str, str | None]]:
    """(message id, status, failure reason) for every well-formed status in a webhook body."""
    found = []
    for entry in _dicts(body.get("entry")) if isinstance(body, dict) else []:
        for change in _dicts(entry.get("changes")):
            value = change.get("value")
            for status in _dicts(value.get("statuses")) if isinstance(value, dict) else []:
                message_id, state = _text(status.get("id")), _text(status.get("status"))
                if message_id and state:
                    reason = "; ".join(_text(e.get("title") or e.get("message") or e.get("code"))
                                       for e in _dicts(status.get("errors")))
                    found.append((message_id, state, reason or None))
    return found


# Meta batches statuses; a page of them stays well under this.
@route("/whatsapp/webhook", methods=["POST"], max_body=1024 * KB, provider="whatsapp")
async def whatsapp_statuses(request: Request) -> Response:
    try:
        body = read_json(await request.body())
    except Unreadable as exc:
        return PlainTextResponse(f"refused: {exc}", status_code=400)
    reports = statuses(body)

    def apply(session: Session) -> str:
        known = sum(record_delivery_report(session, "whatsapp", message_id, status, reason=reason) is not None
                    for message_id, status, reason in reports)
        return f"ok: {known} of {len(reports)} known"

    return await recorded(request, "WhatsApp statuses", apply)  # Meta retries; the reports are idempotent
