"""What the console remembers between runs: the last signed-in email.

It lives in a small JSON file in the user's state directory (XDG on Linux),
never a password. A file that cannot be read or written is only logged: the
console works the same without it.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import platformdirs

log = logging.getLogger("ofisi.console")


def state_file() -> Path:
    return Path(platformdirs.user_state_dir("ofisi", appauthor=False)) / "console.json"


def _read() -> dict:
    try:
        data = json.loads(state_file().read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("Cannot read %s: %s", state_file(), exc)
        return {}
    return data if isinstance(data, dict) else {}


def last_email() -> str:
    """The email of the last person who signed in here, or ``""``."""
    email = _read().get("last_email", "")
    return email if isinstance(email, str) else ""


def remember_email(email: str) -> None:
    path = state_file()
    data = _read()
    data["last_email"] = email
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".json.new")
        partial.write_text(json.dumps(data, indent=2), encoding="utf-8")
        os.replace(partial, path)  # a crash mid-write leaves the old file whole
    except OSError as exc:
        log.warning("Cannot write %s: %s", path, exc)
