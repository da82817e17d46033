"""``POST /mpesa/stk/callback``: Daraja's STK push results.

Always answers 200 with Daraja's acknowledgement, whatever arrives (only a
body over the path's limit is refused unread, 413): Daraja does not act on
our answer, and a result we could not use is kept for review (and the
request it may belong to is settled later by STK query). A callback without
the token, or from outside ``mpesa_callback_networks``, is counted and not
kept (:func:`ussd.gateway.guarded`). What a result means is decided once, in
``core.payments.record_stk_callback``.
"""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from core.payments import record_stk_callback
from ussd.gateway import KB, Unreadable, database, excerpt, read_json, route

log = logging.getLogger("ofisi.gateway.mpesa")

ACCEPTED = {"ResultCode": 0, "ResultDesc": "Accepted"}


def accepted() -> Response:
    return JSONResponse(ACCEPTED)


# A real callback is well under 2 kB.
@route("/mpesa/stk/callback", max_body=16 * KB, provider="mpesa", refused=accepted)
async def stk_callback(request: Request) -> Response:
    body = await request.body()
    try:
        payload = read_json(body)
    except Unreadable:
        payload = excerpt(body)  # kept for review as the text it was

    def record() -> str:
        with database(request).session() as session:
            return record_stk_callback(session, payload, token_ok=True).verdict

    try:
        verdict = await run_in_threadpool(record)
    except Exception:
        # Not even kept: log it so an operator can replay it; STK query settles the request meanwhile.
        log.exception("STK callback could not be recorded: %s", excerpt(body, 4000))
    else:
        if verdict == "review":
            log.warning("STK callback kept for review (see `ofisi payments results --verdict review`)")
    return accepted()
