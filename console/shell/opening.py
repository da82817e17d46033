"""``OpeningDatabase``: the console's database while it is still being opened.

Opening a database (SQLAlchemy, the schema check against the migrations) takes
longer than drawing the sign-in screen, and the sign-in screen needs the
database only when the person presses Enter. So ``ofisi console`` draws first
and opens the database in a thread meanwhile; whoever uses the database before
it is open waits for it (in a worker thread, as every database call runs).
Everything a ``db.engine.Database`` has is reached through this object; if
opening failed, using it raises what opening raised.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from db.engine import Database


class OpeningDatabase:
    def __init__(self, url: str) -> None:
        self.url = url  # known before opening: the sign-in screen shows it
        self.error: BaseException | None = None
        self._database: Database | None = None
        self._done = threading.Event()

    def open(self) -> Database:
        """Open it (once; call from a thread); raises what opening raised."""
        try:
            if not self._done.is_set():
                from db.engine import open_database

                self._database = open_database(self.url)
        except BaseException as exc:
            self.error = exc
            raise
        finally:
            self._done.set()
        return self.opened()

    def opened(self) -> Database:
        """The open database, once it is (waits until then)."""
        self._done.wait()
        if self._database is None:
            raise self.error or RuntimeError("The database was not opened.")
        return self._database

    def __getattr__(self, name: str) -> Any:
        return getattr(self.opened(), name)

    def dispose(self) -> None:
        """Close it, once the opening (if it started) has finished."""
        self._done.wait(timeout=10)
        if self._database is not None:
            self._database.dispose()
