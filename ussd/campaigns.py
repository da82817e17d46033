"""The WhatsApp Cloud API webhook: the subscription check (GET) and message statuses
(POST), which move outbox messages forward exactly as ``POST /sms/delivery`` does.
Messages people send (text, or a template's quick-reply button) go to the same core
inbound handling as SMS, on the whatsapp channel: STOP opts the number out of WhatsApp.

Meta verifies the subscription with ``hub.verify_token``, which must equal the
``callback_token`` secret when it is set; status posts carry ``?token=`` like the
other provider callbacks.
"""

from __future__ import annotations

import hmac

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from core.inbound import receive
from core.outbox import record_delivery_report
from ussd.gateway import callback_allowed, recorded, route, settings


@route("/whatsapp/webhook", methods=["GET"])
async def whatsapp_verify(request: Request) -> Response:
    params = request.query_params
    expected = settings(request).secret("callback_token", required=False)
    given = params.get("hub.verify_token", "")
    if params.get("hub.mode") != "subscribe" or (
            expected is not None and not hmac.compare_digest(given.encode(), expected.reveal().encode())):
        return PlainTextResponse("forbidden", status_code=403)
    return PlainTextResponse(params.get("hub.challenge", ""))


def statuses(body: object) -> list[tuple[str, str, str | None]]:
    """(message id, status, failure reason) for every status in a webhook body."""
    found = []
    for entry in (body.get("entry") or []) if isinstance(body, dict) else []:
        for change in entry.get("changes") or []:
            for status in (change.get("value") or {}).get("statuses") or []:
                if status.get("id") and status.get("status"):
                    errors = status.get("errors") or []
                    reason = "; ".join(str(e.get("title") or e.get("message") or e.get("code")) for e in errors)
                    found.append((str(status["id"]), str(status["status"]), reason or None))
    return found


def messages(body: object) -> list[tuple[str, str, str, str]]:
    """(message id, sender, the business number it was sent to, text), both numbers in E.164, for
    every text or quick-reply button message in a webhook body."""
    found = []
    for entry in (body.get("entry") or []) if isinstance(body, dict) else []:
        for change in entry.get("changes") or []:
            value = change.get("value")
            if not isinstance(value, dict) or not isinstance(value.get("messages"), list):
                continue
            metadata = value.get("metadata")
            to = "".join(ch for ch in str(metadata.get("display_phone_number") or "") if ch.isdigit()) \
                if isinstance(metadata, dict) else ""
            for message in value["messages"]:
                if not isinstance(message, dict):
                    continue
                parts = ((message.get("text"), "body"), (message.get("button"), "text"))  # typed, or a quick reply
                text = next((part[key] for part, key in parts if isinstance(part, dict) and part.get(key)), None)
                if text and message.get("id") and message.get("from"):
                    found.append((str(message["id"]), f"+{str(message['from']).lstrip('+')}", to and f"+{to}",
                                  str(text)))
    return found


@route("/whatsapp/webhook", methods=["POST"])
async def whatsapp_statuses(request: Request) -> Response:
    if not callback_allowed(request):
        return PlainTextResponse("forbidden", status_code=403)
    try:
        body = await request.json()
    except ValueError:
        return PlainTextResponse("ignored: not JSON")
    reports, received = statuses(body), messages(body)

    def apply(session: Session) -> str:
        known = sum(record_delivery_report(session, "whatsapp", message_id, status, reason=reason) is not None
                    for message_id, status, reason in reports)
        handled = [receive(session, provider="whatsapp", provider_message_id=message_id, from_phone=sender, to=to,
                           text=text, channel="whatsapp").status for message_id, sender, to, text in received]
        return f"ok: {known} of {len(reports)} known" + (f"; messages {', '.join(handled)}" if handled else "")

    return await recorded(request, "WhatsApp statuses", apply)  # Meta retries; the reports are idempotent
