"""Alembic, driven from code: the migrations ship inside the package.

Each area may keep its own branch of revisions (``branch_labels``) growing
from the core's; the schema is current when the database is at every head.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


@lru_cache(maxsize=1)
def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revisions() -> frozenset[str]:
    return frozenset(_script().get_heads())


def head_revision() -> str:
    """The heads as one readable string, for messages."""
    return "+".join(sorted(head_revisions()))


def known_revisions() -> set[str]:
    return {rev.revision for rev in _script().walk_revisions()}


def upgrade(engine: Engine, revision: str = "heads") -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str) -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
