"""`POST /ussd/callback` and `POST /ussd/events`: Africa's Talking's USSD calls.

The callback answers ``text/plain`` with a ``CON``/``END`` screen, whatever
it is sent: odd input gets a screen, and so does an internal failure.
Which menu answers which caller is said in one place, :mod:`ussd.menus`;
a test may put its own in front (:func:`use_machine`).
"""

from __future__ import annotations

import functools
import logging

import anyio

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from config.errors import OfisiError
from core.ussd_sessions import caller_phone, record_session_end
from db.engine import Database
from ussd.engine import SORRY, Machine, handle_hop
from ussd.gateway import KB, Unreadable, database, read_form, route
from ussd.screens import Screen, render

log = logging.getLogger("ofisi.ussd")

_machine: list[Machine] = []


def use_machine(machine: Machine) -> None:
    """Make ``machine`` answer every dial instead of the gateway's menu (tests do)."""
    _machine[:] = [machine]


def current_machine() -> Machine:
    """The machine that answers: the gateway's menu (:func:`ussd.menus.gateway_menu`), made on first use."""
    if not _machine:
        from ussd.menus import gateway_menu

        _machine[:] = [gateway_menu()]
    return _machine[0]


def answer_dial(db: Database, *, session_id: str, phone: str, service_code: str, text: str) -> str:
    """One hop, from any front end (the gateway, `ofisi ussd dial`)."""
    machine = current_machine()
    if not session_id:
        return render(Screen("Your network did not send a session. Please dial again.", end=True))
    try:
        phone = caller_phone(phone)
    except OfisiError:
        return render(Screen("We could not read your phone number. Please dial again.", end=True))
    return handle_hop(db, machine, session_id=session_id[:100], phone=phone, service_code=service_code[:40],
                      text=text)


# Hops run in a few worker threads of their own, not the shared pool of 40: a hop is mostly
# Python, so 40 threads only take turns at the interpreter lock and each hop waits on all the
# others. SQLite takes one writer at a time in any case (every transaction is BEGIN IMMEDIATE),
# so there one thread runs hops in arrival order; PostgreSQL overlaps a few round trips: three
# threads a process answered about a tenth more hops than four (a hop now makes fewer round trips
# to wait on, so a fourth thread mostly waits for the interpreter lock), and six or eight fewer.
HOP_THREADS = {"sqlite": 1}
DEFAULT_HOP_THREADS = 3


def hop_threads(request: Request) -> anyio.CapacityLimiter:
    state = request.app.state
    if getattr(state, "ussd_hop_threads", None) is None:
        state.ussd_hop_threads = anyio.CapacityLimiter(HOP_THREADS.get(database(request).dialect,
                                                                       DEFAULT_HOP_THREADS))
    return state.ussd_hop_threads


def _plain(text: str) -> Response:
    return PlainTextResponse(text, media_type="text/plain")


UNREADABLE = Screen("We could not read what your network sent. Please dial again.", end=True)
NOT_AVAILABLE = Screen("This service is not available.", end=True)


# A hop is a few short fields: the longest real one is `text`, every input of the session joined by `*`.
@route("/ussd/callback", max_body=8 * KB, provider="africastalking", refused=lambda: _plain(render(NOT_AVAILABLE)))
async def ussd_callback(request: Request) -> Response:
    try:
        form = await read_form(request)
        fields = {key: form.get(key, "") for key in ("sessionId", "serviceCode", "phoneNumber", "text")}
        hop = functools.partial(answer_dial, database(request), session_id=fields["sessionId"],
                                phone=fields["phoneNumber"], service_code=fields["serviceCode"], text=fields["text"])
        answer = await anyio.to_thread.run_sync(hop, limiter=hop_threads(request))
    except Unreadable:
        answer = render(UNREADABLE)
    except Exception:
        log.exception("USSD callback failed")
        answer = render(SORRY)
    return _plain(answer)


@route("/ussd/events", max_body=8 * KB, provider="africastalking")
async def ussd_events(request: Request) -> Response:
    try:
        fields = await read_form(request)
    except Unreadable as exc:
        return PlainTextResponse(f"refused: {exc}", status_code=400)

    def store() -> None:
        with database(request).session() as session:
            record_session_end(session, fields)

    try:
        await run_in_threadpool(store)
    except Exception:
        log.exception("USSD end-of-session event could not be stored")
    return PlainTextResponse("ok")
