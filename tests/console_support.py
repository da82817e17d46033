"""Helpers for console tests: wait for a condition, read what a screen shows."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.app import App
from textual.worker import WorkerCancelled


async def until(pilot, predicate: Callable[[], bool], *, timeout: float = 10.0, what: str = "") -> float:
    """Pause until ``predicate()`` holds; returns the seconds it took."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"gave up after {timeout}s waiting for {what or predicate}")
        await pilot.pause(0.05)
    return time.monotonic() - start


def screen_text(app: App) -> str:
    """Every character the top screen shows now, line by line (what a person reads)."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def settle(pilot) -> None:
    """Let the screen's workers finish (a reload may cancel the one before it: that one is done too)."""
    for _ in range(2):
        for _attempt in range(20):
            try:
                await pilot.app.workers.wait_for_complete()
                break
            except WorkerCancelled:
                await pilot.pause(0.05)
        await pilot.pause(0.1)
