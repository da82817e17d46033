"""Shared fixtures: every database test runs on SQLite, and on PostgreSQL when
``OFISI_TEST_DATABASE_URL`` is set.

* ``session``: a Session joined into an outer transaction that is rolled back
  after the test (services may commit; their commits become savepoints).
* ``committed_db``: a real, committed database for tests that run several
  sessions, threads or processes (fresh SQLite file, or truncated PostgreSQL).
* ``built_database`` and ``copy_of_database``: data that takes seconds to make (the demo)
  is made once for a module, and each test gets a copy of its own (a file copy, or a
  PostgreSQL database made from it as a template).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from core.actors import Actor
from db import load_all_models
from db.engine import Database, open_database
from db.models import Base

PG_URL = os.environ.get("OFISI_TEST_DATABASE_URL")
T = TypeVar("T")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


class MemoryKeyring(KeyringBackend):
    """A keyring that lives in memory, so tests never touch the real one."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.store.get((service, username))

    def set_password(self, service, username, password):
        self.store[(service, username)] = password

    def delete_password(self, service, username):
        if self.store.pop((service, username), None) is None:
            raise PasswordDeleteError("not there")


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch, tmp_path) -> Iterator[MemoryKeyring]:
    """No OFISI_* from the developer's shell, no real keyring, no real user dirs."""
    for name in list(os.environ):
        if name.startswith("OFISI_"):
            monkeypatch.delenv(name)
    for var, sub in (("XDG_DATA_HOME", "data"), ("XDG_CONFIG_HOME", "config"),
                     ("XDG_STATE_HOME", "state"), ("XDG_CACHE_HOME", "cache")):
        monkeypatch.setenv(var, str(tmp_path / "xdg" / sub))
    # Campaigns then send at whatever hour the tests run (and so do the `ofisi` processes they start);
    # the quiet-hours tests set hours of their own.
    monkeypatch.setenv("OFISI_CAMPAIGN_QUIET_HOURS", "off")
    from config.settings import get_settings

    get_settings.cache_clear()
    backend = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)
    get_settings.cache_clear()


@pytest.fixture(scope="session", autouse=True)
def commands_built_once() -> Iterator[None]:
    """Typer's CliRunner builds the whole `ofisi` command tree from its functions' signatures at every
    invoke (about 0.3 s: hundreds of options); the tree is the same every time, so the tests' runners
    build it once per app and run it as often as they like, as a process runs the one it built."""
    import typer.testing

    build = typer.testing._get_command
    built: dict[int, tuple[object, object]] = {}

    def get_command(app):
        if id(app) not in built:
            built[id(app)] = (app, build(app))  # the app is kept, so its id is never another's
        return built[id(app)][1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(typer.testing, "_get_command", get_command)
        yield


def _worker(request) -> str:
    return getattr(request.config, "workerinput", {}).get("workerid", "main")


def create_pg_database(base_url: str, name: str, *, template: str | None = None) -> str:
    """A new PostgreSQL database beside ``base_url``, empty or a copy of the database ``template``;
    returns its URL."""
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    admin.dispose()
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(base_url: str, name: str) -> None:
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def fresh_database_url(request, backend, tmp_path) -> Iterator[str]:
    """An empty, unmigrated database of the current backend."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    name = f"ofisi_fresh_{_worker(request)}_{uuid.uuid4().hex[:8]}"
    url = create_pg_database(PG_URL, name)
    yield url
    drop_pg_database(PG_URL, name)


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def database(request, backend, tmp_path_factory) -> Iterator[Database]:
    """A migrated database shared by the tests of one backend."""
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("db") / "template.db"
        db = open_database(f"sqlite:///{path}")
        yield db
        db.dispose()
        return
    name = f"ofisi_test_{_worker(request)}_{os.getpid()}"
    db = open_database(create_pg_database(PG_URL, name))
    yield db
    db.dispose()
    drop_pg_database(PG_URL, name)


@pytest.fixture
def session(database) -> Iterator[Session]:
    """A session whose every commit is rolled back after the test."""
    connection = database.engine.connect()
    outer = connection.begin()
    sess = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield sess
    finally:
        sess.close()
        outer.rollback()
        connection.close()


def _truncate_all(db: Database) -> None:
    """Empty every table and start every sequence again, as in a new database. Only the tables
    that hold rows are truncated, and only the sequences that were drawn from are restarted:
    truncating all of them costs a new file for each table and index, a large part of a short
    test's time."""
    load_all_models()
    probe = " UNION ALL ".join(f"(SELECT '{t.name}' FROM {t.name} LIMIT 1)" for t in Base.metadata.sorted_tables)
    with db.engine.begin() as conn:
        if used := [row[0] for row in conn.execute(text(probe))]:
            conn.execute(text(f"TRUNCATE {', '.join(used)} RESTART IDENTITY CASCADE"))
        for (sequence,) in conn.execute(text(
                "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename) FROM pg_sequences "
                "WHERE schemaname = current_schema() AND last_value IS NOT NULL")):
            conn.execute(text(f"ALTER SEQUENCE {sequence} RESTART"))


@pytest.fixture
def committed_db(database, backend, tmp_path) -> Iterator[Database]:
    """A database whose commits are real, for tests with several sessions or processes."""
    if backend == "sqlite":
        template = make_url(database.url).database
        path = tmp_path / "committed.db"
        database.engine.dispose()  # checkpoints the WAL into the template file
        shutil.copyfile(template, path)
        url = f"sqlite:///{path}"
        db = open_database(url)
        yield db
        db.dispose()
        return
    _truncate_all(database)
    yield database
    _truncate_all(database)


@contextmanager
def built_database(request, backend: str, tmp_path_factory, build: Callable[[Database], T]) -> Iterator[tuple[str, T]]:
    """A database migrated and filled once by ``build`` (in a fixture of module scope), then closed:
    yields its URL, for :func:`copy_of_database`, and what ``build`` returned."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('built') / 'built.db'}"
        name = None
    else:
        name = f"ofisi_built_{_worker(request)}_{uuid.uuid4().hex[:8]}"
        url = create_pg_database(PG_URL, name)
    db = open_database(url)
    try:
        made = build(db)
    finally:
        db.dispose()  # on SQLite this checkpoints the WAL into the file; on PostgreSQL a template has no sessions
    try:
        yield url, made
    finally:
        if name is not None:
            drop_pg_database(PG_URL, name)


@contextmanager
def copy_of_database(request, backend: str, tmp_path, built_url: str) -> Iterator[Database]:
    """A committed database of a test's own, a copy of one :func:`built_database` made: the test may
    write to it as to ``committed_db``, and no other test sees what it wrote."""
    if backend == "sqlite":
        path = tmp_path / "copy.db"
        shutil.copyfile(make_url(built_url).database, path)
        db = open_database(f"sqlite:///{path}")
        try:
            yield db
        finally:
            db.dispose()
        return
    name = f"ofisi_copy_{_worker(request)}_{uuid.uuid4().hex[:8]}"
    db = open_database(create_pg_database(PG_URL, name, template=make_url(built_url).database))
    try:
        yield db
    finally:
        db.dispose()
        drop_pg_database(PG_URL, name)


@pytest.fixture
def cli_actor() -> Actor:
    return Actor.system_actor("cli:test")


@pytest.fixture
def make_org(cli_actor):
    """Create an org: ``make_org(session, "chama", slug="umoja")``."""
    from core.orgs import create_org

    counter = iter(range(1, 10_000))

    def make(session: Session, kind: str = "salon", *, slug: str | None = None, country: str = "KE", **kw):
        slug = slug or f"{kind}-{next(counter)}"
        return create_org(session, cli_actor, slug, kind=kind, name=kw.pop("name", slug.title()),
                          country=country, **kw)

    return make
