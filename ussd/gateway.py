"""The HTTP gateway (`ofisi serve`): what Africa's Talking, M-Pesa and public
lead forms call.

Handlers parse the provider's own format, call one core service in a worker
thread (core services are synchronous and open their own unit of work), and
answer in the format the provider expects. Provider callbacks never get a
5xx for bad input: a provider that sees errors retries, and a retry must
change nothing (every write behind a callback is idempotent).

Areas add their endpoints with :func:`route`; :func:`create_app` collects them.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from config import OfisiError, Settings, get_settings
from core.inbound import receive
from core.outbox import record_delivery_report
from db.engine import Database

log = logging.getLogger("ofisi.gateway")

Handler = Callable[[Request], Awaitable[Response]]
_AREA_ROUTES: list[tuple[str, Handler, list[str]]] = []

# The gateway modules (e.g. "ussd.callback"); each registers its routes on import.
AREA_MODULES: list[str] = ["ussd.callback", "ussd.mpesa", "ussd.chama", "ussd.salon", "ussd.community",
                           "ussd.campaigns"]


def load_gateway_modules() -> None:
    import importlib

    for name in AREA_MODULES:
        importlib.import_module(name)


def route(path: str, methods: list[str] | None = None) -> Callable[[Handler], Handler]:
    """Register an area's endpoint on the gateway."""
    def register(handler: Handler) -> Handler:
        _AREA_ROUTES.append((path, handler, methods or ["POST"]))
        return handler
    return register


def database(request: Request) -> Database:
    return request.app.state.database


def settings(request: Request) -> Settings:
    return request.app.state.settings


def callback_allowed(request: Request) -> bool:
    """Provider callbacks carry ``?token=…`` when the ``callback_token`` secret is set.

    Africa's Talking and Daraja do not sign their callbacks; a secret in the
    URL we register with them is what keeps strangers from posting reports.
    """
    expected = settings(request).secret("callback_token", required=False)
    if expected is None:
        return True
    given = request.query_params.get("token", "")
    return hmac.compare_digest(given.encode(), expected.reveal().encode())


async def health(request: Request) -> Response:
    def check() -> bool:
        from sqlalchemy import text

        with database(request).session() as session:
            session.execute(text("SELECT 1"))
        return True

    try:
        await run_in_threadpool(check)
    except Exception as exc:
        log.warning("health check: database unreachable: %s", type(exc).__name__)
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


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
                        apply: Callable[[Session, dict[str, str]], str]) -> Response:
    """An Africa's Talking callback: check the token and the fields, then :func:`recorded`."""
    if not callback_allowed(request):
        return PlainTextResponse("forbidden", status_code=403)
    form = {key: str(value) for key, value in (await request.form()).items()}
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

    return await provider_form(request, ("id", "from"), "inbound SMS", apply)


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    """While the gateway runs, a thread pushes M-Pesa payments as soon as members confirm them."""
    from core.payments import PaymentSender
    from core.providers.mpesa import DarajaClient

    app_settings = app.state.settings
    sender = PaymentSender(app.state.database, lambda: DarajaClient.from_settings(app_settings)).start()
    try:
        yield
    finally:
        await run_in_threadpool(sender.stop)
        if getattr(app.state, "owns_database", False):
            app.state.database.dispose()


def create_app(db: Database, app_settings: Settings | None = None) -> Starlette:
    """The gateway for one database; areas' routes are added from their modules."""
    from core.registry import load_areas

    load_areas()
    load_gateway_modules()
    routes = [
        Route("/health", health, methods=["GET"]),
        Route("/sms/delivery", sms_delivery, methods=["POST"]),
        Route("/sms/inbound", sms_inbound, methods=["POST"]),
    ]
    routes += [Route(path, handler, methods=methods) for path, handler, methods in _AREA_ROUTES]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.database = db
    app.state.settings = app_settings or get_settings()
    return app


def app_from_settings() -> Starlette:
    """The gateway on the database the settings name, for each worker process of
    ``ofisi serve --workers N`` (uvicorn imports it by name in every worker)."""
    from db.engine import open_database

    app = create_app(open_database())
    app.state.owns_database = True
    return app


def run_workers(factory: str, host: str, port: int, workers: int, *, log_level: str = "info") -> None:
    """Serve the app that ``factory`` ("module:function") makes in ``workers`` processes on one socket.

    This is uvicorn's own supervisor, with one change: the shared socket has
    TCP_NODELAY set. uvicorn creates it without naming the protocol, so asyncio
    does not set the option on the connections it accepts, and every
    kept-alive answer (headers, then body) waited on the client's delayed ACK:
    40 ms a request. Linux passes the option from the listening socket on.
    """
    import socket

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config(factory, factory=True, host=host, port=port, workers=workers, log_level=log_level,
                            access_log=False)
    sock = config.bind_socket()
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        Multiprocess(config, sockets=[sock]).run()
    except KeyboardInterrupt:
        pass


def serve(host: str, port: int, *, workers: int = 1, database_url: str | None = None) -> None:
    """Run the gateway with uvicorn until interrupted; ``workers`` processes share the port.

    Any process can answer any hop or callback (state lives in the database and
    every write behind a callback is idempotent), so on PostgreSQL more
    workers use more cores. SQLite takes one writer at a time: extra processes
    would only queue on its lock, so it is refused there.
    """
    import os

    import uvicorn

    from db.engine import open_database

    url = database_url or get_settings().database_url
    if workers > 1:
        if make_url(url).get_backend_name() != "postgresql":
            raise OfisiError(
                "Several gateway workers need PostgreSQL: SQLite takes one writer at a time, so extra "
                "processes would only wait on each other. Run one worker, or set OFISI_DATABASE_URL to "
                "a PostgreSQL database.")
        open_database(url).dispose()  # the schema check, once, before the workers start
        os.environ["OFISI_DATABASE_URL"] = url
        run_workers("ussd.gateway:app_from_settings", host, port, workers)
        return
    db = open_database(url)
    try:
        uvicorn.run(create_app(db), host=host, port=port, log_level="info", access_log=False)
    finally:
        db.dispose()
