"""What the console remembers between runs.

- the last signed-in email, in ``console.json`` in the user's state directory
  (``~/.local/state/ofisi`` on Linux): it is state, not a setting;
- the theme chosen (ctrl+p → "Change theme"), in ``console.json`` in the user's
  config directory (``~/.config/ofisi`` on Linux): it is a setting.

Never a password. A file that cannot be read or written is only logged: the
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


def config_file() -> Path:
    return Path(platformdirs.user_config_dir("ofisi", appauthor=False)) / "console.json"


def _read(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("Cannot read %s: %s", path, exc)
        return {}
    return data if isinstance(data, dict) else {}


def _remember(path: Path, key: str, value: str) -> None:
    data = _read(path)
    if data.get(key) == value:
        return
    data[key] = value
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".json.new")
        partial.write_text(json.dumps(data, indent=2), encoding="utf-8")
        os.replace(partial, path)  # a crash mid-write leaves the old file whole
    except OSError as exc:
        log.warning("Cannot write %s: %s", path, exc)


def _text(path: Path, key: str) -> str:
    value = _read(path).get(key, "")
    return value if isinstance(value, str) else ""


def last_email() -> str:
    """The email of the last person who signed in here, or ``""``."""
    return _text(state_file(), "last_email")


def remember_email(email: str) -> None:
    _remember(state_file(), "last_email", email)


def saved_theme() -> str:
    """The theme chosen last time, or ``""`` for the default."""
    return _text(config_file(), "theme")


def remember_theme(theme: str) -> None:
    _remember(config_file(), "theme", theme)
