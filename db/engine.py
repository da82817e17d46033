"""Engine, sessions and the schema check every command goes through.

SQLite runs in WAL mode with foreign keys on, and every transaction starts
with ``BEGIN IMMEDIATE``: the write lock is taken up front, so two writers
queue on the busy timeout instead of failing half way when a read turns into
a write. That one-writer rule is also what makes claim-then-update safe there.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from config import OfisiError, get_settings

SQLITE_BUSY_TIMEOUT_MS = 15_000


class DatabaseStateError(OfisiError):
    """The database cannot be used as it is; the message says what to run."""


def dialect_insert(session_or_bind, table):
    """``INSERT`` for the bound dialect, so it has ``.on_conflict_do_nothing()``,
    ``.on_conflict_do_update()`` and ``.returning()`` (PostgreSQL and SQLite spell them the
    same way; SQLAlchemy has a construct per dialect)."""
    bind = session_or_bind.get_bind() if isinstance(session_or_bind, Session) else session_or_bind
    return insert_for(bind.dialect.name, table)


@lru_cache(maxsize=32)
def insert_unless_present(dialect: str, table, keys: tuple[str, ...], returning):
    """``INSERT … ON CONFLICT (keys) DO NOTHING RETURNING returning`` for ``dialect``, built once:
    on the hot paths that use it (a USSD session's first hop, a keyed outbox message), building
    the statement cost more than running it. Executed with the row's values as parameters; no
    row back means one with those keys was there."""
    return insert_for(dialect, table).on_conflict_do_nothing(index_elements=list(keys)).returning(returning)


def insert_for(dialect: str, table):
    """:func:`dialect_insert` by the dialect's name (``postgresql`` or ``sqlite``), for statements
    built once per dialect."""
    from sqlalchemy.dialects import postgresql, sqlite

    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def transaction_lock(session: Session, key: str) -> None:
    """Make transactions that name the same ``key`` wait for each other until this one ends.

    On PostgreSQL, an advisory transaction lock on a 64-bit hash of the key
    (label keys by area, e.g. ``"salon.diary:3:7"``, so areas never collide).
    SQLite needs nothing: every transaction is ``BEGIN IMMEDIATE``, one writer
    at a time.
    """
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy import text

        session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})


def make_engine(url: str, **kwargs) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs)
        _configure_sqlite(engine)
        return engine
    connect_args = {"cursor_factory": _lazy_description_cursor()} if parsed.get_driver_name() == "psycopg" else {}
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)


@lru_cache(maxsize=1)
def _lazy_description_cursor():
    """psycopg's cursor, except that ``description`` describes the columns only when asked.

    SQLAlchemy reads ``cursor.description`` after every statement, but for a statement it has run
    before (nearly all of them: they are cached) only to see whether rows came back; psycopg builds
    a ``Column`` object per result column each time, which on a USSD hop cost more than its
    statements' own parameters and rows. Here the columns are built from the statement's result
    the first time anything looks at them, and never otherwise.
    """
    from collections.abc import Sequence

    import psycopg
    from psycopg.pq import ExecStatus

    rows_back = (ExecStatus.TUPLES_OK, ExecStatus.SINGLE_TUPLE, ExecStatus.TUPLES_CHUNK)

    class _Result:
        """What ``psycopg.Column`` reads from a cursor, kept for one result."""

        __slots__ = ("pgresult", "adapters", "_encoding")

        def __init__(self, cursor, result) -> None:
            self.pgresult, self.adapters, self._encoding = result, cursor.adapters, cursor._encoding

    class Description(Sequence):
        __slots__ = ("_result", "_width", "_columns")

        def __init__(self, cursor, result) -> None:
            self._result, self._width, self._columns = _Result(cursor, result), result.nfields, None

        def _built(self) -> list:
            if self._columns is None:
                self._columns = [psycopg.Column(self._result, i) for i in range(self._width)]
            return self._columns

        def __len__(self) -> int:
            return self._width

        def __getitem__(self, index):
            return self._built()[index]

        def __iter__(self):
            return iter(self._built())

        def __eq__(self, other) -> bool:
            return list(self) == list(other)

        def __repr__(self) -> str:
            return repr(self._built())

    class Cursor(psycopg.Cursor):
        @property
        def description(self):
            result = self.pgresult
            if result and (result.nfields or result.status in rows_back):
                return Description(self, result)
            return None

    return Cursor


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


@dataclass
class Database:
    """An engine and its session factory; one per process and URL."""

    url: str
    engine: Engine
    sessions: sessionmaker[Session]

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self) -> Session:
        return self.sessions()

    def dispose(self) -> None:
        self.engine.dispose()


def display_url(url: str) -> str:
    """The URL without its password, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def schema_state(engine: Engine) -> tuple[str, str | None, str]:
    """('empty' | 'current' | 'behind' | 'unknown', current revisions, head revisions).

    Revisions are shown joined with '+' when areas have branches of their own.
    """
    from alembic.runtime.migration import MigrationContext

    from db.migrate import head_revisions, known_revisions

    heads = head_revisions()
    head = "+".join(sorted(heads))
    with engine.connect() as conn:
        current = frozenset(MigrationContext.configure(conn).get_current_heads())
        tables = set(inspect(conn).get_table_names()) - {"alembic_version"}
    shown = "+".join(sorted(current)) or None
    if not current:
        return ("empty" if not tables else "unknown"), None, head
    if current == heads:
        return "current", shown, head
    if current <= known_revisions():
        return "behind", shown, head
    return "unknown", shown, head


def open_database(url: str | None = None, *, migrate_empty: bool = True) -> Database:
    """Open the database, migrating an empty one and refusing one that is behind."""
    url = url or get_settings().database_url
    engine = make_engine(url)
    try:
        state, current, head = schema_state(engine)
    except Exception as exc:
        engine.dispose()
        raise DatabaseStateError(f"Cannot open the database at {display_url(url)}: {exc}") from None
    if state == "empty" and migrate_empty:
        from db.migrate import upgrade

        upgrade(engine)
    elif state == "behind":
        engine.dispose()
        raise DatabaseStateError(
            f"The database at {display_url(url)} is at schema {current}; this Ofisi needs {head}. "
            "Back it up, then run `ofisi db upgrade`."
        )
    elif state == "unknown":
        engine.dispose()
        what = f"schema {current}, which this Ofisi does not know" if current else "tables but no Ofisi schema version"
        raise DatabaseStateError(
            f"The database at {display_url(url)} has {what}. "
            "Point OFISI_DATABASE_URL at an Ofisi database, or upgrade Ofisi."
        )
    return Database(url=url, engine=engine, sessions=sessionmaker(engine, expire_on_commit=False))
