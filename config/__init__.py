"""Settings for every part of Ofisi: env vars, then a TOML file, then the OS keyring.

This package imports nothing else from Ofisi; everything else may import it.
"""

from config.errors import OfisiError
from config.settings import (
    SECRETS,
    MissingSecret,
    Secret,
    Settings,
    SettingsError,
    default_database_url,
    delete_secret,
    get_settings,
    load_settings,
    secret_name,
    set_secret,
)

__all__ = [
    "SECRETS",
    "MissingSecret",
    "OfisiError",
    "Secret",
    "Settings",
    "SettingsError",
    "default_database_url",
    "delete_secret",
    "get_settings",
    "load_settings",
    "secret_name",
    "set_secret",
]
