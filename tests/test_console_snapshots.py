"""What each org kind's home looks like at 80×24 and 160×48, kept as SVG snapshots
(``tests/__snapshots__/test_console_snapshots/``). A change to a home's layout shows up here as a
picture to review; accept it with ``pytest tests/test_console_snapshots.py --snapshot-update``.

The pictures must not change from run to run or day to day: the demo is built, and the console
run, with the clock stopped at one instant (``FROZEN``), and the picture is taken only when every
loader has finished and the tables have their rows (their column widths depend on them). The
cursor's list must be the same one each time too: a focused table is drawn in other colours (its
cursor row, its header, its zebra stripes), so the home puts its first focus back once the contacts
list has loaded (a loading list refuses focus). The database is SQLite whatever backend the other
tests use: a picture does not depend on it.
"""

from __future__ import annotations

import shutil
import time
from datetime import datetime, timezone

import pytest
import time_machine
from textual.widgets import DataTable

import console.home.screen as home_screen
from console.app import OfisiApp
from console.home import HomeScreen
from console.widgets.table import OfisiTable
from core.actors import Actor
from core.demo import DEMO_ORGS, PASSWORD, seed_demo
from db.engine import open_database
from tests.console_support import settle, until
from tests.test_console import sign_in

# A Wednesday, 10:00 in Nairobi and 12:30 in Pune: the salon's first client has been, the rest are to come.
FROZEN = datetime(2026, 3, 4, 7, 0, tzinfo=timezone.utc)
SIZES = [(80, 24), (160, 48)]


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory):
    """The demo, built once at ``FROZEN`` into a SQLite file that each test copies."""
    path = tmp_path_factory.mktemp("snapshots") / "demo.db"
    with time_machine.travel(FROZEN, tick=False):
        database = open_database(f"sqlite:///{path}")
        with database.session() as session:
            seed_demo(session, Actor.system_actor("cli:snapshots"))
        database.dispose()
    return path


def tables_settled(screen) -> bool:
    """Every table has its rows and has measured them: DataTable sizes its columns to new rows on
    its next idle, so a picture taken before that shows the columns cut to their headers' width."""
    return all(not t.loading and not t._require_update_dimensions for t in screen.query(DataTable))


async def settled_home(pilot, kind: str) -> None:
    """Sign in as the kind's first staff member and wait until the home has stopped changing."""
    app = pilot.app
    await sign_in(pilot, next(d.staff[0][0] for d in DEMO_ORGS if d.kind == kind), PASSWORD)
    await until(pilot, lambda: isinstance(app.screen, HomeScreen) and app.screen.loaded, timeout=15,
                what=f"the {kind} home")
    screen = app.screen
    await until(pilot, lambda: screen.query_one(screen.MAIN_LIST, OfisiTable).row_count >= 5, timeout=15,
                what=f"the rows of {screen.MAIN_LIST}")
    await settle(pilot)
    app.clear_notifications()
    await settle(pilot)
    await until(pilot, lambda: tables_settled(screen), what="the tables' column widths")
    first = screen.query_one(screen.FIRST_FOCUS or screen.MAIN_LIST)
    await until(pilot, lambda: screen.focused is first, timeout=5, what=f"the cursor in {first.id}")
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
@pytest.mark.parametrize("kind", [d.kind for d in DEMO_ORGS])
def test_home_looks_as_it_did(demo_file, tmp_path, snap_compare, kind, size):
    path = tmp_path / "demo.db"
    shutil.copyfile(demo_file, path)
    database = open_database(f"sqlite:///{path}")
    try:
        with time_machine.travel(FROZEN, tick=False):
            app = OfisiApp(database, live_updates=False)
            assert snap_compare(app, terminal_size=size, run_before=lambda pilot: settled_home(pilot, kind))
    finally:
        database.dispose()


async def test_a_slow_first_load_still_starts_the_cursor_in_the_contacts_list(demo_file, tmp_path, monkeypatch):
    """The contacts list refuses focus while it loads; when the first read is slower than the
    screen's mount, the home takes its first focus again once the rows are in."""
    def slow_home_data(*args, **kwargs):
        time.sleep(0.4)  # runs in the loader's thread: the mount's focus comes first
        return read_home(*args, **kwargs)

    read_home = home_screen.home_data
    monkeypatch.setattr(home_screen, "home_data", slow_home_data)
    path = tmp_path / "demo.db"
    shutil.copyfile(demo_file, path)
    database = open_database(f"sqlite:///{path}")
    try:
        app = OfisiApp(database, live_updates=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await sign_in(pilot, next(d.staff[0][0] for d in DEMO_ORGS if d.kind == "chama"), PASSWORD)
            await until(pilot, lambda: isinstance(app.screen, HomeScreen) and app.screen.loaded, timeout=15,
                        what="the chama home")
            contacts = app.screen.query_one("#contacts", OfisiTable)
            await until(pilot, lambda: app.screen.focused is contacts, timeout=5, what="the cursor in #contacts")
            assert contacts.row_count >= 5
    finally:
        database.dispose()
