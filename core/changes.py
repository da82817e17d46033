"""Telling open consoles that an org's data changed in another process.

Every commit that touched a row with an ``org_id`` announces that org: on
PostgreSQL with ``pg_notify`` inside the transaction (delivered only if it
commits), on SQLite by nothing at all, because ``PRAGMA data_version`` already
changes for every other connection when a commit lands. :class:`ChangeWatcher`
waits for either and is what the console polls from a worker thread.
"""

from __future__ import annotations

import sqlite3
import time
from itertools import chain

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

CHANNEL = "ofisi_changes"
_KEY = "ofisi_changed_orgs"
_NOTIFY = "SELECT pg_notify(%s, %s)"


def mark_changed(session: Session, org_id: int) -> None:
    """Announce ``org_id`` when this unit of work commits (for Core-level updates)."""
    session.info.setdefault(_KEY, set()).add(org_id)


@event.listens_for(Session, "after_flush")
def _collect(session: Session, _ctx) -> None:
    for obj in chain(session.new, session.dirty, session.deleted):
        org_id = getattr(obj, "org_id", None)
        if org_id is not None:
            mark_changed(session, org_id)


@event.listens_for(Session, "before_commit")
def _announce(session: Session) -> None:
    # Releasing a savepoint fires this too; the outer commit announces for it.
    if session.in_nested_transaction():
        return
    # before_commit runs before the commit's own flush; flush now so its rows are counted.
    session.flush()
    orgs = session.info.pop(_KEY, None)
    if not orgs:
        return
    if session.get_bind().dialect.name == "postgresql":
        # On the transaction's connection, as the driver's own statement: a hop that queued an SMS
        # pays for this on its way out, and SQLAlchemy's statement handling cost more than the notify.
        connection = session.connection()
        for org_id in sorted(orgs):
            connection.exec_driver_sql(_NOTIFY, (CHANNEL, str(org_id)))


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_KEY, None)


ANY_ORG = -1


class ChangeWatcher:
    """Blocks until another process commits, then says which orgs changed.

    ``wait`` returns a set of org ids, ``{ANY_ORG}`` when the backend cannot
    tell which org (SQLite), or an empty set on timeout. One watcher per
    thread; it holds its own connection.
    """

    def __init__(self, url: str, poll_seconds: float = 0.25) -> None:
        self.url = url
        self.poll_seconds = poll_seconds
        parsed = make_url(url)
        self.backend = parsed.get_backend_name()
        if self.backend == "sqlite":
            self._sqlite = sqlite3.connect(parsed.database or ":memory:", check_same_thread=False)
            self._version = self._data_version()
        else:
            import psycopg

            conninfo = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
            self._pg = psycopg.connect(conninfo, autocommit=True)
            self._pg.execute(f"LISTEN {CHANNEL}")

    def _data_version(self) -> int:
        return self._sqlite.execute("PRAGMA data_version").fetchone()[0]

    def wait(self, timeout: float) -> set[int]:
        if self.backend == "sqlite":
            deadline = time.monotonic() + timeout
            while True:
                version = self._data_version()
                if version != self._version:
                    self._version = version
                    return {ANY_ORG}
                if time.monotonic() >= deadline:
                    return set()
                time.sleep(self.poll_seconds)
        changed: set[int] = set()
        for note in self._pg.notifies(timeout=timeout, stop_after=1):
            changed.add(int(note.payload))
        # Drain whatever else arrived in the same instant.
        for note in self._pg.notifies(timeout=0.05):
            changed.add(int(note.payload))
        return changed

    def close(self) -> None:
        if self.backend == "sqlite":
            self._sqlite.close()
        else:
            self._pg.close()
