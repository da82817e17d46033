"""Every org kind's home is usable at 80×24 and comfortable at 160×48: the main list shows at
least five rows without scrolling, and the keys are reachable (the footer, and `?`)."""

from __future__ import annotations

import pytest
from textual.widgets import Footer

from console.app import OfisiApp
from console.home import HomeScreen
from console.widgets.table import OfisiTable
from console.widgets.help import KeysHelp
from core.actors import Actor
from core.demo import DEMO_ORGS, PASSWORD, seed_demo
from tests.conftest import built_database, copy_of_database
from tests.console_support import until
from tests.test_console import sign_in

KINDS = [d.kind for d in DEMO_ORGS]


def _demo(db) -> None:
    with db.session() as s:
        seed_demo(s, Actor.system_actor("cli:test"))


@pytest.fixture(scope="module")
def built_demo(request, backend, tmp_path_factory):
    """The demo, made once for the module on each backend (it takes seconds)."""
    with built_database(request, backend, tmp_path_factory, _demo) as (url, _):
        yield url


@pytest.fixture
def demo(request, backend, tmp_path, built_demo):
    """A copy of the demo of the test's own."""
    with copy_of_database(request, backend, tmp_path, built_demo) as db:
        yield db


def rows_in_view(screen: HomeScreen) -> int:
    """How many rows of the screen's main list a person sees now (header excluded): the demo's rows
    that fit in the part of the table that is on the screen."""
    table = screen.query_one(screen.MAIN_LIST)
    seen = table.region.intersection(screen.region)
    return min(max(seen.height - 1, 0), table.row_count)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
async def test_every_home_shows_its_main_list_and_its_keys(demo, size):
    for kind in KINDS:
        app = OfisiApp(demo, live_updates=False)
        async with app.run_test(size=size) as pilot:
            email = next(d.staff[0][0] for d in DEMO_ORGS if d.kind == kind)
            await sign_in(pilot, email, PASSWORD)
            await until(pilot, lambda: isinstance(app.screen, HomeScreen) and app.screen.loaded, timeout=15,
                        what=f"the {kind} home")
            screen = app.screen
            await until(pilot, lambda: rows_in_view(screen) >= 5, timeout=8,
                        what=f"five rows of {screen.MAIN_LIST} on the {kind} home at {size}")
            main = screen.query_one(screen.MAIN_LIST).region
            shown = [t for t in screen.query(OfisiTable) if t.region.area and t.id != screen.MAIN_LIST[1:]]
            assert all(main.y <= t.region.y for t in shown), f"{kind}: the main list is first"
            footer = screen.query_one(Footer)
            assert footer.region.height >= 1 and footer.region.bottom == size[1]
            await pilot.press("question_mark")
            await until(pilot, lambda: isinstance(app.screen, KeysHelp), what="the keys")
            assert {"Refresh", "Keys"} <= {k.does for k in app.screen.keys}
