"""The database: SQLAlchemy 2.0 models, the engine and session, Alembic migrations.

Imports only ``config``. Opening a database (:func:`db.engine.open_database`)
migrates an empty one and refuses one whose schema is behind.

The core's tables are in ``db.models``; each area keeps its tables in
``db/models_<area>.py`` and its migrations on a branch of its own.
"""

from __future__ import annotations

import importlib
import pkgutil


def load_all_models() -> None:
    """Import every ``db.models*`` module so the metadata knows every table."""
    import db

    for module in pkgutil.iter_modules(db.__path__):
        if module.name == "models" or module.name.startswith("models_"):
            importlib.import_module(f"db.{module.name}")
