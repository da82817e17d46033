"""``POST /mpesa/stk/callback``: Daraja's STK push results.

Always answers 200 with Daraja's acknowledgement, whatever arrives: Daraja
does not act on our answer, and a result we could not use is kept for review
(and the request it may belong to is settled later by STK query). What a
result means is decided once, in ``core.payments.record_stk_callback``.
"""

from __future__ import annotations

import json
import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from core.payments import record_stk_callback
from ussd.gateway import callback_allowed, database, route

log = logging.getLogger("ofisi.gateway.mpesa")

ACCEPTED = {"ResultCode": 0, "ResultDesc": "Accepted"}
MAX_BODY = 64 * 1024  # a real callback is well under 2 kB


@route("/mpesa/stk/callback")
async def stk_callback(request: Request) -> Response:
    token_ok = callback_allowed(request)
    body = await request.body()
    try:
        payload = json.loads(body) if len(body) <= MAX_BODY else body[:2000].decode("utf-8", "replace")
    except ValueError:
        payload = body.decode("utf-8", "replace")

    def record() -> str:
        with database(request).session() as session:
            return record_stk_callback(session, payload, token_ok=token_ok).verdict

    try:
        verdict = await run_in_threadpool(record)
    except Exception:
        # Not even kept: log it whole so an operator can replay it; STK query settles the request meanwhile.
        log.exception("STK callback could not be recorded: %s", body[:4000].decode("utf-8", "replace"))
    else:
        if verdict == "review":
            log.warning("STK callback kept for review (see `ofisi payments results --verdict review`)")
    return JSONResponse(ACCEPTED)
