"""Serving the gateway (`ofisi serve`): uvicorn, with the limits that belong to the server.

* **Who may serve unsigned.** Without the ``callback_token`` secret anyone who
  can reach the gateway can post as a provider (a STOP, an M-Pesa result, a
  USSD hop that sets a member's PIN), so :func:`serve` refuses any address but
  loopback unless told ``--allow-unsigned-callbacks``.
* **Trusted proxies.** ``X-Forwarded-For`` is believed only from the addresses
  in ``trusted_proxies`` (uvicorn's own proxy-headers knob); from anyone else
  the connection's address is the client's. uvicorn's default believes
  loopback, which let one client behind no proxy claim any address.
* **Timeouts and concurrency.** A request's headers must arrive within
  ``gateway_header_timeout_seconds`` of its first byte (:class:`HeaderDeadline`:
  uvicorn's keep-alive timer restarts on every byte, so a byte a second held a
  connection for ever); the body's own limit is in :func:`ussd.gateway.guarded`.
  ``gateway_max_concurrency`` is uvicorn's ``limit_concurrency``: connections
  and requests past it are answered 503 at once.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import socket
from typing import Any

import uvicorn
from sqlalchemy.engine import make_url
from uvicorn.protocols.http.auto import AutoHTTPProtocol

from config import OfisiError, Settings, get_settings

log = logging.getLogger("ofisi.gateway")


class HeaderDeadline(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
    """uvicorn's HTTP protocol with a deadline on each request's headers: from the connection's
    opening, or from the first byte after the last answer, to the end of the headers. A
    connection still without them then is closed."""

    def __init__(self, config: GatewayConfig, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self._header_timeout = config.header_timeout
        self._header_timer: asyncio.TimerHandle | None = None

    def _between_requests(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _start_header_timer(self) -> None:
        self._header_timer = self.loop.call_later(self._header_timeout, self._headers_too_slow)

    def _stop_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self._between_requests() and not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_header_timer()

    def data_received(self, data: bytes) -> None:
        if self._header_timer is None and self._between_requests():
            self._start_header_timer()
        super().data_received(data)
        if not self._between_requests():
            self._stop_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_timer()
        super().connection_lost(exc)


class GatewayConfig(uvicorn.Config):
    """uvicorn's configuration with the gateway's limits from the settings (module level, so the
    workers of ``--workers N`` can be handed it)."""

    def __init__(self, app: Any, app_settings: Settings, **options: Any) -> None:
        trusted = list(app_settings.trusted_proxies)
        super().__init__(app, http=HeaderDeadline, proxy_headers=bool(trusted), forwarded_allow_ips=trusted or None,
                         limit_concurrency=app_settings.gateway_max_concurrency, access_log=False, **options)
        self.header_timeout = app_settings.gateway_header_timeout_seconds


def is_loopback(host: str) -> bool:
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_callbacks_signed(host: str, app_settings: Settings, *, allow_unsigned: bool) -> None:
    """Refuse to serve unsigned callbacks where others can reach them, unless told to."""
    if app_settings.has_secret("callback_token"):
        return
    if is_loopback(host):
        log.warning("Callbacks are unsigned (no callback_token secret); this is fine on %s only.", host)
        return
    if allow_unsigned:
        log.warning("Callbacks are unsigned (no callback_token secret) on %s, as --allow-unsigned-callbacks "
                    "asks: whatever reaches this address can post as a provider.", host)
        return
    raise OfisiError(
        f"Not serving on {host} without the callback_token secret: anyone who can reach that address could "
        "post an SMS STOP, an M-Pesa result or a USSD hop (and set a member's PIN) as if they were the "
        "provider. Set it (`ofisi secrets set callback_token`, or OFISI_CALLBACK_TOKEN) and register the "
        "callback URLs with ?token=..., or serve on 127.0.0.1, or pass --allow-unsigned-callbacks when "
        "something in front of the gateway already checks who calls.")


def run_workers(factory: str, host: str, port: int, workers: int, *, log_level: str = "info",
                app_settings: Settings | None = None) -> None:
    """Serve the app that ``factory`` ("module:function") makes in ``workers`` processes on one socket.

    This is uvicorn's own supervisor, with one change: the shared socket has
    TCP_NODELAY set. uvicorn creates it without naming the protocol, so asyncio
    does not set the option on the connections it accepts, and every
    kept-alive answer (headers, then body) waited on the client's delayed ACK:
    40 ms a request. Linux passes the option from the listening socket on.
    """
    from uvicorn.supervisors import Multiprocess

    config = GatewayConfig(factory, app_settings or get_settings(), factory=True, host=host, port=port,
                           workers=workers, log_level=log_level)
    sock = config.bind_socket()
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        Multiprocess(config, sockets=[sock]).run()
    except KeyboardInterrupt:
        pass


def serve(host: str, port: int, *, workers: int = 1, database_url: str | None = None,
          allow_unsigned_callbacks: bool = False) -> None:
    """Run the gateway with uvicorn until interrupted; ``workers`` processes share the port.

    Any process can answer any hop or callback (state lives in the database and
    every write behind a callback is idempotent), so on PostgreSQL more
    workers use more cores. SQLite takes one writer at a time: extra processes
    would only queue on its lock, so it is refused there.
    """
    from db.engine import open_database
    from ussd.gateway import create_app

    app_settings = get_settings()
    check_callbacks_signed(host, app_settings, allow_unsigned=allow_unsigned_callbacks)
    url = database_url or app_settings.database_url
    if workers > 1:
        if make_url(url).get_backend_name() != "postgresql":
            raise OfisiError(
                "Several gateway workers need PostgreSQL: SQLite takes one writer at a time, so extra "
                "processes would only wait on each other. Run one worker, or set OFISI_DATABASE_URL to "
                "a PostgreSQL database.")
        open_database(url).dispose()  # the schema check, once, before the workers start
        os.environ["OFISI_DATABASE_URL"] = url
        run_workers("ussd.gateway:app_from_settings", host, port, workers, app_settings=app_settings)
        return
    db = open_database(url)
    try:
        app = create_app(db, app_settings)
        app.state.settle_heap = True
        uvicorn.Server(GatewayConfig(app, app_settings, host=host, port=port, log_level="info")).run()
    except KeyboardInterrupt:
        pass
    finally:
        db.dispose()
