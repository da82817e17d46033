"""Run the real gateway (uvicorn + Starlette) on a loopback port for a test."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from config import Settings, load_settings
from db.engine import Database
from ussd.gateway import create_app
from ussd.server import GatewayConfig


@contextmanager
def running_gateway(db: Database, settings: Settings | None = None) -> Iterator[str]:
    """Yield the base URL of a gateway serving ``db`` as `ofisi serve` does (its limits included);
    stop it afterwards."""
    settings = settings or load_settings({})
    app = create_app(db, settings)
    server = uvicorn.Server(GatewayConfig(app, settings, host="127.0.0.1", port=0, log_level="warning",
                                          lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the gateway did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
