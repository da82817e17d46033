"""Who is acting: a signed-in staff user, or a trusted system front end."""

from __future__ import annotations

import getpass
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """The person or process behind a service call.

    Staff actors carry only their user id; their role is looked up in the
    database on every check, so a membership removed a minute ago stops
    working at once. System actors (the CLI, which trusts whoever can reach
    the database as ``psql`` does, cron, the gateway) pass every check and are
    recorded under their label in the audit log.
    """

    label: str
    user_id: int | None = None
    system: bool = False

    @classmethod
    def staff(cls, user_id: int, email: str) -> Actor:
        return cls(label=email, user_id=user_id)

    @classmethod
    def system_actor(cls, label: str) -> Actor:
        return cls(label=label, system=True)

    @classmethod
    def cli(cls) -> Actor:
        try:
            who = getpass.getuser()
        except Exception:  # no login name in some containers
            who = "unknown"
        return cls.system_actor(f"cli:{who}")
