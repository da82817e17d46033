"""The shell around the screens: the theme kept between runs, `ofisi --version`, and the
notices panel on the org's clock."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from typer.testing import CliRunner

from console.app import OfisiApp
from console.shell.notices import NoticesPanel
from console.shell.opening import OpeningDatabase
from console.shell.remembered import config_file, saved_theme
from core.users import add_user
from tests.console_support import screen_text, until
from tests.test_console import PASSWORD, home, sign_in


@pytest.fixture
def far_salon(committed_db, make_org, cli_actor):
    """A salon fourteen hours ahead of UTC, so its clock is never the machine's."""
    with committed_db.session() as s:
        org = make_org(s, "salon", slug="kiritimati", name="Line Islands Salon", timezone="Pacific/Kiritimati")
        add_user(s, cli_actor, "owner@line.example", org_id=org.id, role="owner", name="Teraaka", password=PASSWORD)
    return org


async def test_the_theme_chosen_is_kept_in_the_config_directory(committed_db):
    app = OfisiApp(committed_db, live_updates=False)
    async with app.run_test() as pilot:
        assert app.theme != "nord"
        app.theme = "nord"
        await pilot.pause()
    assert saved_theme() == "nord"
    assert config_file().parent.name == "ofisi" and "config" in str(config_file())
    again = OfisiApp(committed_db, live_updates=False)
    async with again.run_test() as pilot:
        await pilot.pause()
        assert again.theme == "nord"


def test_ofisi_version_prints_the_installed_version():
    from importlib.metadata import version

    from commands.main import app

    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"ofisi {version('ofisi')}"


async def test_the_notices_panel_shows_times_on_the_orgs_clock(committed_db, far_salon):
    app = OfisiApp(committed_db, live_updates=False)
    async with app.run_test(size=(140, 40)) as pilot:
        await sign_in(pilot, "owner@line.example")
        screen = await home(pilot)
        panel = screen.query_one(NoticesPanel)
        await pilot.press("ctrl+n")
        app.notify("Salon [/] notice")
        await until(pilot, lambda: any("Salon [/] notice" in line for line in panel.lines), what="the notice")
        line = next(line for line in panel.lines if "Salon [/] notice" in line)
        shown = datetime.strptime(line[:8], "%H:%M:%S").time()
        now = datetime.now(far_salon.tz)
        nearby = {(now + timedelta(minutes=d)).strftime("%H:%M") for d in (-1, 0, 1)}
        assert shown.strftime("%H:%M") in nearby


async def test_the_first_screen_is_drawn_before_the_areas_load_and_signing_in_still_works(
        committed_db, far_salon, monkeypatch):
    import console.app

    loaded_over: list[str] = []
    real = console.app.load_areas

    def load_areas() -> None:
        loaded_over.append(type(app.screen).__name__)  # what was on screen when the areas began to load
        real()

    monkeypatch.setattr(console.app, "load_areas", load_areas)
    database = OpeningDatabase(committed_db.url)  # as `ofisi console` does: opened behind the first screen
    app = OfisiApp(database, live_updates=False, areas_after_paint=True)
    try:
        async with app.run_test(size=(140, 40)) as pilot:
            await until(pilot, lambda: bool(loaded_over), what="the areas loading")
            assert loaded_over == ["SignInScreen"]
            await until(pilot, lambda: "Database:" in screen_text(app), timeout=30,
                        what="the database named")
            await sign_in(pilot, "owner@line.example")
            screen = await home(pilot)
            assert screen.org.name == "Line Islands Salon"
    finally:
        database.dispose()


async def test_a_database_that_cannot_be_opened_closes_the_console_and_says_why(tmp_path):
    junk = tmp_path / "ofisi.db"
    junk.write_text("a shopping list, not a database\n")
    database = OpeningDatabase(f"sqlite:///{junk}")
    app = OfisiApp(database, live_updates=False)
    async with app.run_test() as pilot:
        await until(pilot, lambda: database.error is not None, timeout=30, what="the opening to fail")
        await until(pilot, lambda: app.return_code == 1, what="the console to close")
    assert "Cannot open the database" in str(database.error)


@pytest.mark.parametrize(("role", "sees"), [("owner", True), ("professional", False)], ids=["admin", "stylist"])
async def test_the_audit_log_is_offered_on_a_salon_home_to_those_who_may_read_it(committed_db, far_salon, cli_actor,
                                                                                  role, sees):
    from console.shell.audit import AuditScreen

    email = f"{role}@line.example"
    if role != "owner":
        with committed_db.session() as s:
            add_user(s, cli_actor, email, org_id=far_salon.id, role=role, name="Tebwa", password=PASSWORD)
    app = OfisiApp(committed_db, live_updates=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, email)
        screen = await home(pilot)
        offered = {b.binding.action for b in screen.active_bindings.values()}
        assert ("audit" in offered) is sees
        await pilot.press("u")
        if sees:
            await until(pilot, lambda: isinstance(app.screen, AuditScreen), what="the audit log")
        else:
            await pilot.pause()
            assert app.screen is screen
