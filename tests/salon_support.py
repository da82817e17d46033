"""A salon to test with: an org, a professional, a service and a client, made
through the real services, and small helpers for times on the salon's clock."""

from __future__ import annotations

import itertools
import os
import subprocess
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from core.actors import Actor
from core.contacts import ContactView, upsert_contact
from core.orgs import OrgView, create_org
from core.salon.common import ProfessionalView, find_professional
from core.salon.services import ServiceView, add_service
from core.salon.settings import update_booking_settings
from core.users import add_user
from tests.test_cli import BASE_CMD

SYSTEM = Actor.system_actor("cli:test")
_serial = itertools.count(1)


@dataclass(frozen=True)
class Salon:
    org: OrgView
    pro: ProfessionalView
    service: ServiceView
    client: ContactView

    @property
    def tz(self) -> ZoneInfo:
        return self.org.tz

    def at(self, day: date, hh_mm: str) -> datetime:
        """An aware time on the salon's wall clock."""
        return datetime.combine(day, time.fromisoformat(hh_mm), tzinfo=self.tz)


def make_salon(
    session: Session,
    *,
    timezone: str = "Africa/Nairobi",
    country: str = "KE",
    minutes: int = 60,
    price: str = "1500",
    buffer_before: int = 0,
    buffer_after: int = 0,
    **settings,
) -> Salon:
    """A new salon with one professional (Aisha), one service and one client.

    Keyword ``settings`` (``min_notice_minutes``, ``slot_step_minutes`` …) go to
    :func:`update_booking_settings`.
    """
    n = next(_serial)
    org = create_org(session, SYSTEM, f"salon-t{n}", kind="salon",
                     name=f"Salon {n}", timezone=timezone, country=country)
    email = f"aisha.{org.slug}@example.com"
    add_user(session, SYSTEM, email, org_id=org.id, role="professional", name="Aisha Mohamed")
    pro = find_professional(session, SYSTEM, org.id, email)
    service = add_service(session, SYSTEM, org.id, name="Braids", minutes=minutes, price=price,
                          buffer_before=buffer_before, buffer_after=buffer_after)
    phone = "+254712345678" if country == "KE" else "+447911123456" if country == "GB" else "+919876543210"
    client = upsert_contact(session, SYSTEM, org.id, name="Wanjiku Kamau", phone=phone)
    if settings:
        update_booking_settings(session, SYSTEM, org.id, **settings)
    return Salon(org, pro, service, client)


def add_staff(session: Session, salon: Salon, role: str, name: str) -> Actor:
    """Another staff member of the salon, as the actor the console would sign in."""
    email = f"{name.lower()}.{salon.org.slug}@example.com"
    user = add_user(session, SYSTEM, email, org_id=salon.org.id, role=role, name=name)
    return Actor.staff(user.id, email)


def add_client(session: Session, salon: Salon, name: str, phone: str, email: str | None = None) -> ContactView:
    return upsert_contact(session, SYSTEM, salon.org.id, name=name, phone=phone, email=email)


def hhmm(slots: list[datetime]) -> list[str]:
    return [f"{s:%H:%M}" for s in slots]


# ---------------------------------------------------------------- the real `ofisi` executable

def cli_env(database_url: str, tmp_path, **extra: str) -> dict[str, str]:
    """The environment of an `ofisi` run on ``database_url``: nothing from the developer's shell,
    no keyring, its own user directories (as in tests/test_cli.py)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OFISI_")}
    env.update(OFISI_DATABASE_URL=database_url, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
               XDG_DATA_HOME=str(tmp_path / "data"), XDG_CONFIG_HOME=str(tmp_path / "config"),
               XDG_STATE_HOME=str(tmp_path / "state"), COLUMNS="200", **extra)
    return env


class Cli:
    """Runs `ofisi` with one environment: ``cli("bookings", "list", …)``, or ``cli.start(…)`` for a Popen."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def __call__(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*BASE_CMD, *args], capture_output=True, text=True, timeout=90, env=self.env)

    def start(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen([*BASE_CMD, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=self.env)


class InProcessCli:
    """`ofisi` run in this process on ``database_url`` (a new interpreter per command costs a second or
    more): a domain refusal exits 1 with one line on stderr, as `commands.main.run` does; a bug is raised."""

    def __init__(self, database_url: str, monkeypatch) -> None:
        from config.settings import get_settings

        monkeypatch.setenv("OFISI_DATABASE_URL", database_url)
        monkeypatch.setenv("COLUMNS", "200")
        get_settings.cache_clear()

    def __call__(self, *args: str) -> subprocess.CompletedProcess:
        from typer.testing import CliRunner

        from commands.main import app
        from config.errors import OfisiError

        from config.settings import get_settings

        try:
            result = CliRunner().invoke(app, list(args))
        finally:
            get_settings.cache_clear()  # read again after the test, when its environment is gone
        if isinstance(result.exception, OfisiError):
            return subprocess.CompletedProcess(args, result.exception.exit_code, result.stdout,
                                               result.stderr + f"ofisi: {result.exception}\n")
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)
