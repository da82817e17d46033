"""Fake provider servers for the tests: real HTTP on loopback, the providers' own formats.

Nothing in the tests reaches the internet; the code under test keeps its real
client and is pointed at one of these through its configurable base URL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from http.server import ThreadingHTTPServer


def wait_until(condition: Callable[[], object], timeout: float = 10.0, interval: float = 0.01, what: str = "") -> object:
    """Poll ``condition`` until it is truthy; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}")
        time.sleep(interval)


class Clock:
    """A clock for ``clock=`` arguments: frozen at ``start`` until moved with :meth:`advance`."""

    def __init__(self, start=None) -> None:
        from db.types import utcnow

        self.now = start or utcnow()

    def __call__(self):
        return self.now

    def advance(self, **delta) -> Clock:
        from datetime import timedelta

        self.now += timedelta(**delta)
        return self


def phone(i: int) -> str:
    """The ``i``-th of a run of valid Kenyan mobile numbers in E.164."""
    return f"+25471{i:07d}"


def reply_json(handler, status: int, payload: object, headers: dict[str, str] | None = None) -> None:
    """Answer a request with ``payload`` as JSON (a fake provider's reply)."""
    import json

    data = json.dumps(payload).encode()
    handler.send_response(status)
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


class LoopbackHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        # A client that gave up (read timeout, killed process) leaves a broken pipe: expected here.
        pass


class LoopbackFake:
    """What the fake servers share: serving on a loopback port in a daemon thread, and stopping.

    A subclass names its thread (``thread_name``) and gives its request handler
    from ``handler()``: a ``BaseHTTPRequestHandler`` whose ``owner`` is set to
    the fake. ``_release`` lets hung replies go; :meth:`stop` sets it first.
    """

    thread_name = "fake-provider"

    def __init__(self) -> None:
        self._release = threading.Event()
        self._server: LoopbackHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self):
        fake = self

        class Handler(self.handler()):
            owner = fake
            # Headers and body leave in separate writes; with Nagle's algorithm the body then
            # waits for the client's delayed ACK (40 ms) on every kept-alive request.
            disable_nagle_algorithm = True

        self._server = LoopbackHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=self.thread_name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    def release(self) -> None:
        """Let hung replies go (they answer normally)."""
        self._release.set()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"
