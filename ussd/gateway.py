"""The HTTP gateway (`ofisi serve`): what Africa's Talking, M-Pesa and public
lead forms call.

Handlers parse the provider's own format, call one core service in a worker
thread (core services are synchronous and open their own unit of work), and
answer in the format the provider expects. Provider callbacks never get a
5xx for bad input: a provider that sees errors retries, and a retry must
change nothing (every write behind a callback is idempotent).

Every endpoint is registered with :func:`route` and reached through
:func:`guarded`, the one place the gateway's limits live: the body is read
before the handler runs, at most the endpoint's ``max_body`` bytes (413
beyond) within ``gateway_body_timeout_seconds`` (408 after, and the
connection is closed); a provider's callback is then checked against the
``callback_token`` secret and the provider's networks, and one that fails is
counted and logged, never stored (:class:`Refusals`). Handlers read the body
through :func:`read_form` and :func:`read_json`, which refuse what no
provider sends (NUL bytes, lone surrogates, JSON nested deeper than
:data:`MAX_JSON_DEPTH`). The server's own limits (header timeout,
concurrency, trusted proxies) are in :mod:`ussd.server`.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import logging
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Message, Receive

from config import Secret, Settings, get_settings
from core.inbound import receive
from core.outbox import record_delivery_report
from core.providers.exotel import DELIVERY_PATH as EXOTEL_DELIVERY_PATH
from core.providers.exotel import INBOUND_PATH as EXOTEL_INBOUND_PATH
from core.providers.exotel import delivery_status as exotel_delivery_status
from core.providers.exotel import incoming_sms as exotel_incoming_sms
from db.engine import Database

log = logging.getLogger("ofisi.gateway")

Handler = Callable[[Request], Awaitable[Response]]

KB = 1024
DEFAULT_MAX_BODY = 16 * KB  # Africa's Talking's forms and Daraja's JSON are a few hundred bytes
MAX_JSON_DEPTH = 32  # the deepest real payload (WhatsApp's statuses) is seven levels


def forbidden() -> Response:
    return PlainTextResponse("forbidden", status_code=403)


@dataclass(frozen=True)
class Endpoint:
    """A path of the gateway and its limits.

    ``provider`` names whose callback it is (``africastalking``, ``mpesa``,
    ``whatsapp``): its token (the query parameter ``token_param``) and the
    provider's networks are checked before the handler runs, and ``refused``
    is the answer when they fail.
    """

    path: str
    handler: Handler
    methods: tuple[str, ...] = ("POST",)
    max_body: int = DEFAULT_MAX_BODY
    provider: str | None = None
    token_param: str = "token"
    refused: Callable[[], Response] = forbidden


_AREA_ROUTES: list[Endpoint] = []

# The gateway modules (e.g. "ussd.callback"); each registers its routes on import.
AREA_MODULES: list[str] = ["ussd.callback", "ussd.mpesa", "ussd.chama", "ussd.salon", "ussd.community",
                           "ussd.campaigns", "ussd.agency"]


def load_gateway_modules() -> None:
    import importlib

    for name in AREA_MODULES:
        importlib.import_module(name)


def route(path: str, methods: list[str] | None = None, *, max_body: int = DEFAULT_MAX_BODY,
          provider: str | None = None, token_param: str = "token",
          refused: Callable[[], Response] = forbidden) -> Callable[[Handler], Handler]:
    """Register an area's endpoint on the gateway (see :class:`Endpoint` for the rest)."""
    def register(handler: Handler) -> Handler:
        _AREA_ROUTES.append(Endpoint(path, handler, tuple(methods or ["POST"]), max_body, provider, token_param,
                                     refused))
        return handler
    return register


def database(request: Request) -> Database:
    return request.app.state.database


# ---------------------------------------------------------------- who may call back

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def in_networks(host: str | None, networks: tuple[Network, ...]) -> bool:
    try:
        address = ipaddress.ip_address(host or "")
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # a dual-stack socket shows IPv4 callers as ::ffff:a.b.c.d
    return any(address in network for network in networks)


@dataclass(frozen=True)
class CallbackGate:
    """What a provider's callback must show: the ``callback_token`` secret (when set) and a source
    address in the provider's networks (when listed). Read once, when the app is made."""

    token: Secret | None
    networks: Mapping[str, tuple[Network, ...]] = field(default_factory=dict)
    _expected: bytes = field(default=b"", init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.token is not None:  # encoded once: every callback compares against it
            object.__setattr__(self, "_expected", self.token.reveal().encode())

    @classmethod
    def from_settings(cls, app_settings: Settings) -> CallbackGate:
        listed = {"africastalking": app_settings.at_callback_networks,
                  "mpesa": app_settings.mpesa_callback_networks,
                  "whatsapp": app_settings.whatsapp_callback_networks}
        return cls(app_settings.secret("callback_token", required=False),
                   {name: tuple(ipaddress.ip_network(n) for n in networks) for name, networks in listed.items()
                    if networks})

    @property
    def mode(self) -> str:
        return "signed" if self.token is not None else "unsigned"

    def refusal(self, provider: str, given_token: str, source: str | None) -> str | None:
        """Why a callback is refused, or None when it may go on."""
        networks = self.networks.get(provider)
        if networks and not in_networks(source, networks):
            return f"not from {provider}'s networks"
        if self.token is not None and not hmac.compare_digest(given_token.encode(), self._expected):
            return "without the callback token"
        return None


class Refusals:
    """Refused callbacks: counted (``/health`` shows the total) and logged, at most one line a
    minute per path with how many were refused since the last; their bodies are never kept."""

    LOG_EVERY = 60.0

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.by_path: Counter[str] = Counter()
        self._last_line: dict[str, tuple[float, int]] = {}

    @property
    def total(self) -> int:
        return sum(self.by_path.values())

    def count(self, path: str, source: str | None, size: int, why: str) -> None:
        self.by_path[path] += 1
        now = self.clock()
        last, unlogged = self._last_line.get(path, (None, 0))
        if last is not None and now - last < self.LOG_EVERY:
            self._last_line[path] = (last, unlogged + 1)
            return
        self._last_line[path] = (now, 0)
        log.warning("refused a callback to %s from %s %s (%d bytes, not kept)%s", path, source or "unknown", why,
                    size, f"; {unlogged} more refused there since the last line" if unlogged else "")


# ---------------------------------------------------------------- reading bodies

class Unreadable(ValueError):
    """A body no provider sends: not the format the path takes, NUL bytes, lone surrogates, or
    JSON nested deeper than :data:`MAX_JSON_DEPTH`. The message says which."""


_NOT_TEXT = re.compile("[\x00\ud800-\udfff]")


def readable_text(value: str, what: str) -> str:
    """``value`` unless it holds a NUL byte (PostgreSQL's text refuses it) or a lone surrogate
    (which no encoding can store)."""
    if _NOT_TEXT.search(value):
        raise Unreadable(f"{what} holds a NUL byte or a lone surrogate")
    return value


async def read_form(request: Request) -> dict[str, str]:
    """The request's form fields (the last value of a repeated one; files are ignored)."""
    try:
        form = await request.form()
    except (HTTPException, MultiPartException, ValueError) as exc:  # python-multipart's errors are ValueErrors
        raise Unreadable(f"the form could not be read: {getattr(exc, 'detail', None) or exc}") from None
    return {readable_text(key, "a field name"): readable_text(value, key)
            for key, value in form.items() if isinstance(value, str)}


def read_query(request: Request) -> dict[str, str]:
    """The request's query parameters (the last value of a repeated one), checked as :func:`read_form`'s."""
    return {readable_text(key, "a parameter name"): readable_text(value, key)
            for key, value in request.query_params.items()}


def read_json(body: bytes) -> Any:
    """The JSON in ``body``, checked to its last string."""
    try:
        data = json.loads(body)
    except RecursionError:
        raise Unreadable(f"the JSON is nested deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError:
        raise Unreadable("the body is not JSON") from None
    pending: list[tuple[Any, int]] = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            readable_text(value, "a JSON string")
        elif isinstance(value, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                raise Unreadable(f"the JSON is nested deeper than {MAX_JSON_DEPTH} levels")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str):
                    readable_text(key, "a JSON key")
                pending.append((item, depth + 1))
    return data


def excerpt(body: bytes, limit: int = 2000) -> str:
    """The start of a body that could not be read, fit to keep or log (no NUL, valid text)."""
    return body[:limit].decode("utf-8", "replace").replace("\x00", "")


def _closing(status: int, text: str) -> Response:
    """An answer after which the connection is closed: what is left of the body is not read."""
    return PlainTextResponse(text, status_code=status, headers={"Connection": "close"})


async def _read_body(request: Request, limit: int, timeout: float) -> bytes | Response:
    def too_large() -> Response:
        return _closing(413, f"The body is larger than {request.url.path} takes ({limit // KB or 1} kB at most).")

    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return too_large()
    chunks, size = [], 0
    try:
        # asyncio's own timeout: the server is uvicorn's asyncio loop, and it costs half what anyio's does.
        async with asyncio.timeout(timeout):
            while True:
                message = await request.receive()
                if message["type"] == "http.disconnect":
                    return _closing(400, "The client went away.")
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    return too_large()
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
    except TimeoutError:
        return _closing(408, f"The body did not arrive within {timeout:g} seconds.")
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the body already read, then whatever the connection says next."""
    given = False

    async def replay() -> Message:
        nonlocal given
        if given:
            return await receive()
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def guarded(endpoint: Endpoint) -> Handler:
    """The endpoint's handler behind the gateway's limits (see the module's docstring)."""
    async def handle(request: Request) -> Response:
        state = request.app.state
        body = await _read_body(request, endpoint.max_body, state.settings.gateway_body_timeout_seconds)
        if isinstance(body, Response):
            return body
        request = Request(request.scope, _replay(body, request.receive))
        if endpoint.provider is not None:
            source = request.client.host if request.client else None
            why = state.callback_gate.refusal(endpoint.provider, request.query_params.get(endpoint.token_param, ""),
                                              source)
            if why is not None:
                state.refusals.count(endpoint.path, source, len(body), why)
                return endpoint.refused()
        return await endpoint.handler(request)

    return handle


# ---------------------------------------------------------------- the core's own endpoints

async def health(request: Request) -> Response:
    """The database's state, and whether callbacks must carry the token (``signed``) or not."""
    def check() -> bool:
        from sqlalchemy import text

        with database(request).session() as session:
            session.execute(text("SELECT 1"))
        return True

    state = request.app.state
    mode = {"callbacks": state.callback_gate.mode, "refused_callbacks": state.refusals.total}
    try:
        await run_in_threadpool(check)
    except Exception as exc:
        log.warning("health check: database unreachable: %s", type(exc).__name__)
        return JSONResponse({"status": "unavailable", "database": "unreachable", **mode}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok", **mode})


async def recorded(request: Request, what: str, apply: Callable[[Session], str]) -> Response:
    """Run a provider callback's ``apply`` in a worker thread with a session and answer its text.
    A failure answers 500 so the provider retries; every ``apply`` is idempotent, so the retry
    changes nothing twice."""
    def run() -> str:
        with database(request).session() as session:
            return apply(session)

    try:
        return PlainTextResponse(await run_in_threadpool(run))
    except Exception:
        log.exception("%s could not be handled", what)
        return PlainTextResponse("error", status_code=500)


async def provider_form(request: Request, required: tuple[str, ...], what: str,
                        apply: Callable[[Session, dict[str, str]], str],
                        longest: Mapping[str, int] | None = None) -> Response:
    """An SMS provider's form callback (its token was checked by :func:`guarded`): read and check the
    fields (a GET's are its query parameters; none longer than ``longest`` says), then :func:`recorded`."""
    try:
        form = read_query(request) if request.method == "GET" else await read_form(request)
    except Unreadable as exc:
        return PlainTextResponse(f"refused: {exc}", status_code=400)
    too_long = [name for name, most in (longest or {}).items() if len(form.get(name, "")) > most]
    if too_long:
        return PlainTextResponse(f"refused: {' and '.join(too_long)} too long", status_code=400)
    if not all(form.get(name) for name in required):
        return PlainTextResponse(f"ignored: {' and '.join(required)} are required")
    return await recorded(request, f"{what} {form.get('id')}", lambda session: apply(session, form))


async def sms_delivery(request: Request) -> Response:
    """Africa's Talking delivery report: form fields id, status, phoneNumber, failureReason…"""
    def apply(session: Session, form: dict[str, str]) -> str:
        known = record_delivery_report(session, "africastalking", form["id"], form["status"],
                                       reason=form.get("failureReason") or None)
        return "ok" if known is not None else "ignored: unknown message"

    return await provider_form(request, ("id", "status"), "delivery report", apply)


async def sms_inbound(request: Request) -> Response:
    """Africa's Talking inbound SMS: form fields from, to, text, date, id, linkId. Replies leave
    with the next `ofisi send due` (the scheduler runs it every minute)."""
    def apply(session: Session, form: dict[str, str]) -> str:
        return receive(session, provider="africastalking", provider_message_id=form["id"],
                       from_phone=form["from"], to=form.get("to", ""), text=form.get("text", "")).status

    # The columns they are kept in: a longer value is no provider's.
    return await provider_form(request, ("id", "from"), "inbound SMS", apply, longest={"id": 100, "to": 40})


async def exotel_sms_delivery(request: Request) -> Response:
    """Exotel's SMS StatusCallback (each send names it, with the token): form fields SmsSid, To,
    Status, DetailedStatus, DetailedStatusCode… (see :mod:`core.providers.exotel`)."""
    def apply(session: Session, form: dict[str, str]) -> str:
        status, reason = exotel_delivery_status(form)
        if status is None:
            return "ignored: unknown status"
        known = record_delivery_report(session, "exotel", form["SmsSid"], status, reason=reason)
        return "ok" if known is not None else "ignored: unknown message"

    return await provider_form(request, ("SmsSid", "Status"), "Exotel delivery report", apply,
                               longest={"SmsSid": 100})


async def exotel_sms_inbound(request: Request) -> Response:
    """Exotel's incoming SMS: SmsSid, From, To, Date, Body as query parameters of a GET (after a
    HEAD) or as a POST's form (see :mod:`core.providers.exotel`), into the same inbound pipeline as
    Africa's Talking's. The answer has no body, since Exotel texts a GET's body back to the
    sender: replies leave with the next `ofisi send due`, and the outcome is in ``X-Ofisi-Inbound``."""
    plain = {"Content-Type": "text/plain"}  # what Exotel checks with its HEAD, exactly
    if request.method == "HEAD":
        return Response(b"", headers=plain)

    def apply(session: Session, fields: dict[str, str]) -> str:
        sms = exotel_incoming_sms(fields)
        return receive(session, provider="exotel", provider_message_id=sms.sid, from_phone=sms.sender, to=sms.to,
                       text=sms.text, received_at=sms.received_at).status

    answer = await provider_form(request, ("SmsSid", "From"), "Exotel inbound SMS", apply,
                                 longest={"SmsSid": 100, "To": 40})
    if answer.status_code != 200:
        return answer
    return Response(b"", headers={**plain, "X-Ofisi-Inbound": bytes(answer.body).decode()})


CORE_ENDPOINTS = [
    Endpoint("/health", health, ("GET",), max_body=KB),
    Endpoint("/sms/delivery", sms_delivery, max_body=8 * KB, provider="africastalking"),
    Endpoint("/sms/inbound", sms_inbound, max_body=16 * KB, provider="africastalking"),
    Endpoint(EXOTEL_DELIVERY_PATH, exotel_sms_delivery, max_body=8 * KB, provider="exotel"),
    Endpoint(EXOTEL_INBOUND_PATH, exotel_sms_inbound, ("GET", "POST"), max_body=16 * KB, provider="exotel"),
]


def _settle_heap() -> None:
    """Leave what start-up made (modules, mappers, menus: over 100,000 objects) out of the garbage
    collector's full passes, which otherwise walk all of it (60 ms on a small server) and stop
    every hop in the process meanwhile, whenever the heap has grown by a quarter. Only in a
    process that does nothing but serve (``ofisi serve`` sets ``app.state.settle_heap``): what is
    frozen is never collected."""
    import gc

    gc.collect()
    gc.freeze()


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    """While the gateway runs, a thread pushes M-Pesa payments as soon as members confirm them."""
    from core.payments import PaymentSender
    from core.providers.mpesa import DarajaClient

    from ussd.callback import current_machine

    app_settings = app.state.settings
    current_machine()  # the menus are built before the first caller, not while she waits
    if getattr(app.state, "settle_heap", False):
        _settle_heap()
    sender = PaymentSender(app.state.database, lambda: DarajaClient.from_settings(app_settings)).start()
    try:
        yield
    finally:
        await run_in_threadpool(sender.stop)
        if getattr(app.state, "owns_database", False):
            app.state.database.dispose()


async def no_such_path(request: Request, exc: Exception) -> Response:
    """404 and 405 close the connection: whatever body was sent to a path that takes none is not read."""
    status, detail = getattr(exc, "status_code", 404), getattr(exc, "detail", "Not Found")
    return PlainTextResponse(detail, status_code=status,
                             headers={**(getattr(exc, "headers", None) or {}), "Connection": "close"})


def create_app(db: Database, app_settings: Settings | None = None) -> Starlette:
    """The gateway for one database; areas' routes are added from their modules, every one
    behind :func:`guarded`."""
    from core.registry import load_areas

    load_areas()
    load_gateway_modules()
    routes = [Route(e.path, guarded(e), methods=list(e.methods)) for e in [*CORE_ENDPOINTS, *_AREA_ROUTES]]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={404: no_such_path, 405: no_such_path})
    app.state.database = db
    app.state.settings = app_settings or get_settings()
    app.state.callback_gate = CallbackGate.from_settings(app.state.settings)
    app.state.refusals = Refusals()
    return app


def app_from_settings() -> Starlette:
    """The gateway on the database the settings name, for each worker process of
    ``ofisi serve --workers N`` (uvicorn imports it by name in every worker)."""
    from db.engine import open_database

    app = create_app(open_database())
    app.state.owns_database = app.state.settle_heap = True
    return app
