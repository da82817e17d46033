"""One typed settings object.

Precedence, highest first: ``OFISI_*`` environment variables, the TOML file
(``OFISI_CONFIG`` or ``<user config dir>/ofisi/config.toml``), and for secrets
only, the OS keyring under service ``ofisi``. Secrets are never stored on the
settings object in the clear: they are looked up when asked for and wrapped in
:class:`Secret`, whose ``repr`` hides the value, so tracebacks, logs and
``--json`` output cannot show them.
"""

from __future__ import annotations

import logging
import os
import tomllib
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Mapping

from config.errors import OfisiError

log = logging.getLogger(__name__)

KEYRING_SERVICE = "ofisi"
ENV_PREFIX = "OFISI_"


class SettingsError(OfisiError):
    """A setting is missing or malformed; the message says how to fix it."""


class MissingSecret(SettingsError):
    pass


class Secret:
    """A secret value that never shows itself in repr, str or logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


# Secret names (lower case, as in the TOML file and `ofisi secrets set NAME`)
# and what each one is for, used in the messages that say how to provide it.
SECRETS: dict[str, str] = {
    "at_api_key": "Africa's Talking API key",
    "mpesa_consumer_key": "M-Pesa Daraja consumer key",
    "mpesa_consumer_secret": "M-Pesa Daraja consumer secret",
    "mpesa_passkey": "M-Pesa Daraja STK passkey",
    "mpesa_initiator_name": "M-Pesa B2C initiator name (the API operator on the org portal)",
    "mpesa_security_credential": "M-Pesa B2C security credential (the initiator's password, encrypted)",
    "smtp_url": "SMTP URL (it carries the password)",
    "whatsapp_token": "WhatsApp Cloud API token",
    "callback_token": "token that provider callbacks must carry",
    "pin_key": "key USSD PINs are hashed under (PINs set under it need it to be checked)",
    "exotel_api_key": "Exotel API key (SMS to India)",
    "exotel_api_token": "Exotel API token (SMS to India)",
}


def secret_name(name: str) -> str:
    """Accept ``at_api_key``, ``AT_API_KEY`` or ``OFISI_AT_API_KEY``."""
    key = name.strip().lower()
    if key.startswith(ENV_PREFIX.lower()):
        key = key[len(ENV_PREFIX):]
    if key not in SECRETS:
        known = ", ".join(sorted(SECRETS))
        raise SettingsError(f"There is no secret called {name!r}. Known secrets: {known}.")
    return key


def env_name(key: str) -> str:
    return ENV_PREFIX + key.upper()


def default_config_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir("ofisi", appauthor=False)) / "config.toml"


def default_data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("ofisi", appauthor=False))


def default_database_url() -> str:
    return f"sqlite:///{default_data_dir() / 'ofisi.db'}"


@dataclass(frozen=True)
class Settings:
    """Everything Ofisi can be told, apart from secrets (see :meth:`secret`)."""

    database_url: str = field(default_factory=default_database_url)
    public_url: str = "http://127.0.0.1:8000"
    sms_provider: str = "log"
    sms_sender_id: str | None = None
    at_username: str = "sandbox"
    at_base_url: str | None = None
    mpesa_base_url: str = "https://sandbox.safaricom.co.ke"
    mpesa_shortcode: str | None = None
    # The short code B2C money leaves from (default: mpesa_shortcode).
    mpesa_b2c_shortcode: str | None = None
    whatsapp_base_url: str = "https://graph.facebook.com/v21.0"
    # The outbox: how many to claim at once, how often to retry, and how long a
    # message may sit in "sending" before a dead process is assumed.
    send_batch_size: int = 50
    send_max_attempts: int = 6
    send_retry_base_seconds: float = 30.0
    send_retry_max_seconds: float = 3600.0
    send_stale_after_seconds: float = 300.0
    # How many sends are on the wire at once, and each channel's ceiling in messages per
    # second (0: no ceiling of our own; the provider's 429s still slow us down).
    send_parallel: int = 16
    sms_rate_per_second: float = 0.0
    email_rate_per_second: float = 0.0
    whatsapp_rate_per_second: float = 80.0
    whatsapp_phone_number_id: str | None = None
    # Campaigns' quiet hours, the org's clock, for orgs that set none of their own ("off": none).
    campaign_quiet_hours: str = "21:00-08:00"
    # Where the MTA delivers the bounces (DSNs) of the email Ofisi sends: a maildir.
    bounce_maildir: str | None = None
    # SMS to Indian numbers (+91) go through Exotel when these and its secrets are set.
    exotel_base_url: str = "https://api.exotel.com"
    exotel_account_sid: str | None = None
    exotel_sender_id: str | None = None
    email_from: str = "ofisi@localhost"
    # The gateway (`ofisi serve`). Addresses or networks (CIDR) of the proxies in front of it, whose
    # X-Forwarded-For is believed; the client address of every request (the lead form's per-address
    # limit, the providers' networks below) is read through them, and from no one else.
    trusted_proxies: tuple[str, ...] = ()
    # Where each provider's callbacks may come from (empty: anywhere the token is carried from).
    at_callback_networks: tuple[str, ...] = ()
    mpesa_callback_networks: tuple[str, ...] = ()
    whatsapp_callback_networks: tuple[str, ...] = ()
    # How long a request's headers, then its body, may take to arrive, and how many connections
    # and requests the gateway holds at once (more are answered 503 at once).
    gateway_header_timeout_seconds: float = 10.0
    gateway_body_timeout_seconds: float = 15.0
    gateway_max_concurrency: int = 256
    config_path: Path | None = None
    # Secrets from env and TOML as {name: (value, where from)}; read through secret().
    _secret_sources: Mapping[str, tuple[str, str]] = field(default_factory=dict, repr=False, compare=False)

    def secret(self, name: str, *, required: bool = True) -> Secret | None:
        """Look a secret up: env var, TOML file, then the OS keyring.

        A keyring that is missing or broken (a headless server) counts as
        empty; when nothing provides the secret, the error names the env var
        and the ``ofisi secrets set`` command that would.
        """
        key = secret_name(name)
        value, _origin = self._lookup(key)
        if value:
            return Secret(value)
        if not required:
            return None
        raise MissingSecret(
            f"The {SECRETS[key]} is not set: export {env_name(key)}=… "
            f"or run `ofisi secrets set {key}`."
        )

    def secret_origin(self, name: str) -> str | None:
        """Where a secret would come from: 'environment', 'config file', 'OS keyring' or None."""
        return self._lookup(secret_name(name))[1]

    def _lookup(self, key: str) -> tuple[str | None, str | None]:
        if key in self._secret_sources:
            return self._secret_sources[key]
        value = _keyring_get(key)
        return (value, "OS keyring") if value else (None, None)

    def has_secret(self, name: str) -> bool:
        return self.secret(name, required=False) is not None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


_PLAIN = [f for f in fields(Settings) if not f.name.startswith("_") and f.name != "config_path"]


def _networks(name: str, raw: object) -> tuple[str, ...]:
    """A list of IP addresses or networks: a TOML array, or a string with commas between."""
    import ipaddress

    items = raw if isinstance(raw, (list, tuple)) else str(raw).split(",")
    networks = []
    for item in (str(i).strip() for i in items):
        if not item:
            continue
        try:
            networks.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise SettingsError(f"{env_name(name)}: {item!r} is not an IP address or network "
                                "(write 196.201.214.0/24 or 10.0.0.5, with commas between).") from None
    return tuple(networks)


def _coerce(name: str, raw: object, target: object) -> object:
    if str(target).startswith("tuple"):
        return _networks(name, raw)
    if target in (int, "int"):
        try:
            return int(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise SettingsError(f"{env_name(name)} must be a whole number, not {raw!r}.") from None
    if target in (float, "float"):
        try:
            return float(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise SettingsError(f"{env_name(name)} must be a number, not {raw!r}.") from None
    return str(raw)


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build settings from ``env`` (default: ``os.environ``) and the TOML file."""
    env = os.environ if env is None else env
    explicit = env.get("OFISI_CONFIG")
    path = Path(explicit).expanduser() if explicit else default_config_path()
    file_values: dict[str, object] = {}
    if path.is_file():
        try:
            file_values = {k.lower(): v for k, v in tomllib.loads(path.read_text("utf-8")).items()}
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise SettingsError(f"Cannot read the config file {path}: {exc}") from None
    elif explicit:
        raise SettingsError(f"OFISI_CONFIG points at {path}, which does not exist.")

    values: dict[str, object] = {}
    for f in _PLAIN:
        raw = env.get(env_name(f.name))
        if raw is None or raw == "":
            raw = file_values.get(f.name)
        if raw is not None:
            target = f.type.split("|")[0].strip() if isinstance(f.type, str) else f.type
            values[f.name] = _coerce(f.name, raw, target)

    secrets: dict[str, tuple[str, str]] = {}
    for key in SECRETS:
        if env.get(env_name(key)):
            secrets[key] = (env[env_name(key)], "environment")
        elif file_values.get(key):
            secrets[key] = (str(file_values[key]), "config file")

    provider = str(values.get("sms_provider", "log"))
    if provider not in ("log", "africastalking"):
        raise SettingsError(
            f"OFISI_SMS_PROVIDER must be 'africastalking' or 'log', not {provider!r}."
        )
    return Settings(**values, config_path=path if path.is_file() else None, _secret_sources=secrets)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()


def _keyring_get(key: str) -> str | None:
    try:
        import keyring
        from keyring.errors import KeyringError

        try:
            return keyring.get_password(KEYRING_SERVICE, key)
        except KeyringError as exc:
            log.debug("keyring unavailable for %s: %s", key, type(exc).__name__)
            return None
    except Exception as exc:  # a broken backend must not take the program down
        log.debug("keyring failed for %s: %s", key, type(exc).__name__)
        return None


def _keyring_backend_error(exc: Exception) -> SettingsError:
    return SettingsError(
        "No usable OS keyring on this machine "
        f"({type(exc).__name__}). Set the secret as an environment variable instead."
    )


def set_secret(name: str, value: str) -> str:
    key = secret_name(name)
    try:
        import keyring

        keyring.set_password(KEYRING_SERVICE, key, value)
    except Exception as exc:
        raise _keyring_backend_error(exc) from None
    return key


def delete_secret(name: str) -> bool:
    """Remove a secret from the keyring; False when it was not there."""
    key = secret_name(name)
    try:
        import keyring
        from keyring.errors import PasswordDeleteError

        try:
            keyring.delete_password(KEYRING_SERVICE, key)
        except PasswordDeleteError:
            return False
    except Exception as exc:
        raise _keyring_backend_error(exc) from None
    return True
