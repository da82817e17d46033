"""Fake provider servers for the tests: real HTTP on loopback, the providers' own formats.

Nothing in the tests reaches the internet; the code under test keeps its real
client and is pointed at one of these through its configurable base URL.
"""

from __future__ import annotations

import time
from collections.abc import Callable


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
