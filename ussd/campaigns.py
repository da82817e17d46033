"""The one-click unsubscribe page of campaign email (``GET|POST /u/{token}``), and the WhatsApp Cloud API webhook: the subscription check (GET) and message statuses
(POST), which move outbox messages forward exactly as ``POST /sms/delivery`` does.
Messages people send (text, or a template's quick-reply button) go to the same core
inbound handling as SMS, on the whatsapp channel: STOP opts the number out of WhatsApp.

Meta verifies the subscription with ``hub.verify_token``, which must equal the
``callback_token`` secret when it is set; status posts carry ``?token=`` like the
other provider callbacks (both checked by :func:`ussd.gateway.guarded`, with
``whatsapp_callback_networks``). A body that is not JSON answers 400; JSON of
another shape is read for what statuses it holds, and anything else in it is
ignored.
"""

from __future__ import annotations

import html
from typing import Any

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response

from core.campaigns.unsubscribe import unsubscribe, unsubscribe_org
from core.errors import NotFound
from core.inbound import receive
from core.outbox import record_delivery_report
from ussd.gateway import KB, Unreadable, database, read_json, recorded, route

_PAGE = ('<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">'
         "<title>Unsubscribe</title></head><body>{}</body></html>")


@route("/u/{token}", methods=["GET", "POST"], max_body=4 * KB)
async def unsubscribe_link(request: Request) -> Response:
    """GET shows one button (mail scanners that follow links change nothing); POST, from that
    button or from a mail client's one-click ``List-Unsubscribe-Post``, opts the address out."""
    token = request.path_params["token"]

    def run() -> str:
        with database(request).session() as session:
            return (unsubscribe if request.method == "POST" else unsubscribe_org)(session, token)

    try:
        org_name = html.escape(await run_in_threadpool(run))
    except NotFound as exc:
        return HTMLResponse(_PAGE.format(f"<p>{html.escape(str(exc))}</p>"), status_code=404)
    if request.method == "POST":
        return HTMLResponse(_PAGE.format(f"<p>Done: {org_name} will send no more campaign email to this "
                                         "address.</p>"))
    return HTMLResponse(_PAGE.format(
        f"<p>Stop campaign email from {org_name} to this address?</p>"
        f'<form method="post"><button type="submit">Unsubscribe</button></form>'))


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


def messages(body: object) -> list[tuple[str, str, str, str]]:
    """(message id, sender, the business number it was sent to, text), both numbers in E.164, for
    every text or quick-reply button message in a webhook body."""
    found = []
    for entry in _dicts(body.get("entry")) if isinstance(body, dict) else []:
        for change in _dicts(entry.get("changes")):
            value = change.get("value")
            if not isinstance(value, dict) or not isinstance(value.get("messages"), list):
                continue
            metadata = value.get("metadata")
            to = "".join(ch for ch in str(metadata.get("display_phone_number") or "") if ch.isdigit()) \
                if isinstance(metadata, dict) else ""
            for message in _dicts(value["messages"]):
                parts = ((message.get("text"), "body"), (message.get("button"), "text"))  # typed, or a quick reply
                text = next((part[key] for part, key in parts if isinstance(part, dict) and part.get(key)), None)
                message_id, sender = _text(message.get("id")), _text(message.get("from"))
                if isinstance(text, str) and text and message_id and sender:
                    found.append((message_id, f"+{sender.lstrip('+')}", to and f"+{to}", text))
    return found


# Meta batches statuses; a page of them stays well under this.
@route("/whatsapp/webhook", methods=["POST"], max_body=1024 * KB, provider="whatsapp")
async def whatsapp_statuses(request: Request) -> Response:
    try:
        body = read_json(await request.body())
    except Unreadable as exc:
        return PlainTextResponse(f"refused: {exc}", status_code=400)
    reports, received = statuses(body), messages(body)

    def apply(session: Session) -> str:
        known = sum(record_delivery_report(session, "whatsapp", message_id, status, reason=reason) is not None
                    for message_id, status, reason in reports)
        handled = [receive(session, provider="whatsapp", provider_message_id=message_id, from_phone=sender, to=to,
                           text=text, channel="whatsapp").status for message_id, sender, to, text in received]
        return f"ok: {known} of {len(reports)} known" + (f"; messages {', '.join(handled)}" if handled else "")

    return await recorded(request, "WhatsApp statuses", apply)  # Meta retries; the reports are idempotent
