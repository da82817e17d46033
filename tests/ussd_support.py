"""One way for a test to put its own USSD menu in front of the gateway and take it away again.

The gateway's menu is composed in one place (``ussd.menus``); the gateway's modules are loaded first,
and what was there is put back afterwards whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ussd import callback
from ussd.gateway import load_gateway_modules


@contextmanager
def serving_menu(machine: callback.Machine) -> Iterator[None]:
    load_gateway_modules()
    before = callback.current_machine()
    callback.use_machine(machine)
    try:
        yield
    finally:
        callback._machine[:] = [before] if before else []
