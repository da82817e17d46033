"""Copies of the database, and putting one back, each checked before it is trusted.

SQLite: the online backup API (``sqlite3.Connection.backup``) copies a
consistent snapshot while consoles and the gateway keep working (WAL readers
and writers are not stopped), and the same API writes a copy back into the
live file. PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore --clean
--single-transaction`` (the client tools must be installed; the password, if
the URL has one, goes to them in ``PGPASSWORD``, never on a command line).

A copy is trusted only when it opens: SQLite's integrity check passes and
its schema is the one this Ofisi runs (Alembic's head); for a dump, its
table of contents reads and the ``alembic_version`` it carries is the head.
A backup is written beside its target and renamed into place, so a failed
one never leaves a half file where the last good one was.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from config import OfisiError
from db.engine import display_url, make_engine, schema_state
from db.migrate import head_revision, head_revisions


class BackupError(OfisiError):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


@dataclass(frozen=True)
class Copy:
    path: Path
    size_bytes: int
    schema: str


def backup(url: str, path: Path) -> Copy:
    """Copy the database at ``url`` to ``path`` (SQLite file or pg_dump archive) and check the copy opens."""
    partial = path.with_name(path.name + ".partial")
    path.parent.mkdir(parents=True, exist_ok=True)
    source = _sqlite_file(url, must_exist=True) if _is_sqlite(url) else None
    live_schema = _live_revisions(url)  # a database behind this Ofisi is backed up as it is, before `db upgrade`
    try:
        if source is not None:
            with closing(sqlite3.connect(source)) as live, \
                    closing(sqlite3.connect(partial)) as copy:
                live.backup(copy)
                copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        else:
            _run(url, ["pg_dump", "--format=custom", "--no-owner", "--file", str(partial)])
        schema = check_copy(url, partial, expect=live_schema)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return Copy(path, path.stat().st_size, schema)


def check_copy(url: str, path: Path, *, expect: frozenset[str] | None = None) -> str:
    """The schema of the copy at ``path``, refusing one that does not open or is not at ``expect`` (by
    default this Ofisi's head, which a copy to restore must be at)."""
    if not path.is_file():
        raise BackupError(f"There is no file {path}.")
    if _is_sqlite(url):
        revisions = _sqlite_revisions(path)
    else:
        revisions = _dump_revisions(url, path)
    expect = head_revisions() if expect is None else expect
    shown = "+".join(sorted(revisions)) or "no Ofisi schema"
    if revisions != expect:
        raise BackupError(f"{path} holds {shown}; this Ofisi needs schema {head_revision()}. "
                          "Restore it with the Ofisi version that made it.")
    return shown


def restore(url: str, path: Path) -> Copy:
    """Put the copy at ``path`` back as the database at ``url``, after checking it; check the result too."""
    check_copy(url, path)
    if _is_sqlite(url):
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as copy, \
                closing(sqlite3.connect(_sqlite_file(url, must_exist=False))) as live:
            copy.backup(live)
    else:
        _run(url, ["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
                   "--exit-on-error", str(path)])
    engine = make_engine(url)
    try:
        state, current, head = schema_state(engine)
    finally:
        engine.dispose()
    if state != "current":
        raise BackupError(f"{display_url(url)} is at schema {current or 'nothing'} after the restore, not {head}.")
    return Copy(path, path.stat().st_size, head)


# ---------------------------------------------------------------- the two backends

def _is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_file(url: str, *, must_exist: bool) -> str:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("An in-memory database has nothing to back up or restore.")
    if must_exist and not Path(database).is_file():
        raise BackupError(f"There is no database file {database}.")
    return database


def _live_revisions(url: str) -> frozenset[str]:
    engine = make_engine(url)
    try:
        _state, current, _head = schema_state(engine)
    except Exception as exc:
        raise BackupError(f"Cannot open the database at {display_url(url)}: {exc}") from None
    finally:
        engine.dispose()
    return frozenset(current.split("+")) if current else frozenset()


def _sqlite_revisions(path: Path) -> frozenset[str]:
    """The Alembic revisions of an SQLite copy, after SQLite's own integrity check (read-only: the copy is
    not touched)."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as copy:
            verdict = copy.execute("PRAGMA integrity_check").fetchone()[0]
            if verdict != "ok":
                raise BackupError(f"{path} is damaged (SQLite integrity check: {verdict}).")
            return frozenset(v for (v,) in copy.execute("SELECT version_num FROM alembic_version"))
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not an Ofisi SQLite database ({exc}).") from None


def _run(url: str, command: list[str]) -> str:
    """A PostgreSQL client tool against ``url``; its output, or its complaint as a BackupError."""
    parsed = make_url(url)
    env = {**os.environ}
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    target = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    try:
        done = subprocess.run([*command, "--dbname", target], env=env, capture_output=True, text=True,
                              timeout=6 * 3600)
    except FileNotFoundError:
        raise BackupError(f"{command[0]} is not installed here; install PostgreSQL's client tools.") from None
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no reason given"])[-1]
        raise BackupError(f"{command[0]} failed: {reason}")
    return done.stdout


def _dump_revisions(url: str, path: Path) -> frozenset[str]:
    """The Alembic revisions a pg_dump archive carries, read from its ``alembic_version`` data."""
    try:
        done = subprocess.run(["pg_restore", "--data-only", "--table=alembic_version", "--file=-", str(path)],
                              capture_output=True, text=True, timeout=600)
    except FileNotFoundError:
        raise BackupError("pg_restore is not installed here; install PostgreSQL's client tools.") from None
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no reason given"])[-1]
        raise BackupError(f"{path} is not a pg_dump archive Ofisi can read ({reason}).")
    lines = done.stdout.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("COPY ") and "alembic_version" in line), None)
    if start is None:
        return frozenset()
    versions = []
    for line in lines[start + 1:]:
        if line == "\\.":
            break
        versions.append(line.strip())
    return frozenset(versions)
