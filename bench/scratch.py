"""The database a benchmark runs on, and nothing left behind afterwards.

A PostgreSQL URL gets a scratch database created beside it and dropped at
the end; no URL gets a fresh SQLite file in a temporary directory.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


@contextmanager
def _scratch_postgres(url: str) -> Iterator[str]:
    name = f"ofisi_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def bench_database(url: str | None):
    """An open, migrated :class:`db.engine.Database` for one benchmark run."""
    from db.engine import open_database

    with ExitStack() as stack:
        if url and make_url(url).get_backend_name() == "postgresql":
            url = stack.enter_context(_scratch_postgres(url))
        elif not url:
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="ofisi-bench-"))
            url = f"sqlite:///{folder}/bench.db"
        db = open_database(url)
        stack.callback(db.dispose)
        yield db
