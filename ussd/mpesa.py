"""``POST /mpesa/stk/callback``: Daraja's STK push results; ``/mpesa/c2b/validation`` and
``/mpesa/c2b/confirmation``: payments to an org's paybill; ``/mpesa/b2c/result`` and
``/mpesa/b2c/timeout``: what became of money sent out by B2C (and of Transaction Status queries).

A C2B validation is answered with Daraja's result code (``0`` accepts; ``C2B00012``
refuses an account that names no one). Every other path always answers 200 with
Daraja's acknowledgement, whatever arrives (only a
body over the path's limit is refused unread, 413): Daraja does not act on
our answer, and a result we could not use is kept for review (and the
request it may belong to is settled later by STK query). A callback without
the token, or from outside ``mpesa_callback_networks``, is counted and not
kept (:func:`ussd.gateway.guarded`). What a result means is decided once, in
``core.payments`` (``record_stk_callback``, ``c2b``, ``b2c``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from core.payments import record_stk_callback
from core.payments.b2c import record_b2c_result
from core.payments.c2b import OTHER_ERROR, confirm_payment, validate_payment
from ussd.gateway import KB, Unreadable, database, excerpt, read_json, route

log = logging.getLogger("ofisi.gateway.mpesa")

ACCEPTED = {"ResultCode": 0, "ResultDesc": "Accepted"}


def accepted() -> Response:
    return JSONResponse(ACCEPTED)


# A real callback is well under 2 kB.
@route("/mpesa/stk/callback", max_body=16 * KB, provider="mpesa", refused=accepted)
async def stk_callback(request: Request) -> Response:
    # Not even kept, it is logged so an operator can replay it; STK query settles the request meanwhile.
    return await _recorded(request, "STK callback",
                           lambda session, payload: record_stk_callback(session, payload, token_ok=True).verdict)


# ---------------------------------------------------------------- paybill (C2B) and B2C

def rejected() -> Response:
    """A validation whose caller could not show the token: M-Pesa is told not to take the money."""
    return JSONResponse({"ResultCode": OTHER_ERROR, "ResultDesc": "Rejected"})


async def _recorded(request: Request, what: str, record: Callable[[Session, Any], str]) -> Response:
    """Read Daraja's JSON (unreadable: kept for review as the text it was), record it in a worker
    thread, and acknowledge whatever happened: Daraja does not act on our answer."""
    body = await request.body()
    try:
        payload = read_json(body)
    except Unreadable:
        payload = excerpt(body)

    def run() -> str:
        with database(request).session() as session:
            return record(session, payload)

    try:
        verdict = await run_in_threadpool(run)
    except Exception:
        log.exception("%s could not be recorded: %s", what, excerpt(body, 4000))
    else:
        if verdict == "review":
            log.warning("%s kept for review (see `ofisi payments results --verdict review`)", what)
    return accepted()


@route("/mpesa/c2b/validation", max_body=16 * KB, provider="mpesa", refused=rejected)
async def c2b_validation(request: Request) -> Response:
    """Accept the payment only when its account names a member or purpose (Daraja's C2B result codes)."""
    try:
        payload = read_json(await request.body())
    except Unreadable:
        return rejected()

    def check() -> tuple[str, str]:
        with database(request).session() as session:
            answer = validate_payment(session, payload)
            session.commit()
            return answer

    try:
        code, desc = await run_in_threadpool(check)
    except Exception:
        log.exception("C2B validation failed")
        return rejected()
    return JSONResponse({"ResultCode": code, "ResultDesc": desc})


@route("/mpesa/c2b/confirmation", max_body=16 * KB, provider="mpesa", refused=accepted)
async def c2b_confirmation(request: Request) -> Response:
    return await _recorded(request, "C2B confirmation",
                           lambda session, payload: confirm_payment(session, payload).verdict)


@route("/mpesa/b2c/result", max_body=16 * KB, provider="mpesa", refused=accepted)
async def b2c_result(request: Request) -> Response:
    return await _recorded(request, "B2C result", record_b2c_result)


@route("/mpesa/b2c/timeout", max_body=16 * KB, provider="mpesa", refused=accepted)
async def b2c_timeout(request: Request) -> Response:
    return await _recorded(request, "B2C timeout", lambda s, p: record_b2c_result(s, p, timeout=True))
