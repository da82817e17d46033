"""The area packages whose job handlers, planners and permissions load at start.

Each area (``core.chama``, ``core.salon`` …) registers itself on import; add
its module name here when it lands.
"""

from __future__ import annotations

import importlib

AREAS: list[str] = ["core.salon", "core.payments", "core.chama", "core.community", "core.agency", "core.vendors",
                    "core.campaigns"]


def load_areas() -> None:
    for name in AREAS:
        importlib.import_module(name)
