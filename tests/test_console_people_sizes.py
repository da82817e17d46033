"""The chama and community screens at 80×24 and 160×48: the lists an official works in
show at least five rows with the footer below, and the audit log is an admin's only
(its key and its palette entry are there for the chair, not for the treasurer)."""

from __future__ import annotations

import pytest
from textual.widgets import Footer

from console.app import OfisiApp
from console.chama import MembersScreen
from console.community import DirectoryScreen
from console.shell.audit import AuditScreen
from console.shell.palette import screen_actions
from console.widgets.table import OfisiTable
from core.chama import ledger
from core.users import add_user
from tests.chama_support import ACTOR, make_chama
from tests.community_support import make_members
from tests.test_console import PASSWORD, home, sign_in, until

SIZES = [(80, 24), (160, 48)]


@pytest.fixture(autouse=True)
def one_backend(backend):
    if backend != "sqlite":
        pytest.skip("the screens call the same core services on either backend; the core's tests cover both")


def rows_in_view(screen, table: OfisiTable) -> int:
    seen = table.region.intersection(screen.region)
    return min(table.row_count, max(seen.height - 1, 0))


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "160x48"])
async def test_chama_members_fit_and_the_audit_log_is_the_chairs(committed_db, make_org, size):
    with committed_db.session() as session:
        group = make_chama(session, make_org, extra_members=9)
        add_user(session, ACTOR, "chair@example.com", org_id=group.id, role="chair", password=PASSWORD)
        add_user(session, ACTOR, "treasurer@example.com", org_id=group.id, role="treasurer", password=PASSWORD)
        ledger.record_contribution(session, ACTOR, group.id, group.chair.id, 100_000, source="cash", reference="R")
    for email, admin in (("chair@example.com", True), ("treasurer@example.com", False)):
        app = OfisiApp(committed_db, live_updates=False)
        async with app.run_test(size=size) as pilot:
            await sign_in(pilot, email)
            office = await home(pilot)
            assert ("Audit log" in {a.title for a in screen_actions(office)}) is admin
            if not admin:
                await pilot.press("u")
                await pilot.pause(0.2)
                assert app.screen is office
                continue
            await pilot.press("u")
            await until(pilot, lambda: isinstance(app.screen, AuditScreen), what="the audit log")
            audit_rows = app.screen.query_one("#audit", OfisiTable)
            await until(pilot, lambda: rows_in_view(app.screen, audit_rows) >= 5, what="five audit rows")
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is office, what="home")
            await pilot.press("b")
            await until(pilot, lambda: isinstance(app.screen, MembersScreen), what="the members")
            table = app.screen.query_one("#members", OfisiTable)
            await until(pilot, lambda: rows_in_view(app.screen, table) >= 5, what="five members in view")
            footer = app.screen.query_one(Footer)
            assert footer.region.bottom == size[1]


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "160x48"])
async def test_the_community_directory_fits(committed_db, make_org, size):
    with committed_db.session() as s:
        org = make_org(s, "community", slug="hub", name="Hub Nairobi", country="KE")
        add_user(s, ACTOR, "manager@hub.example", org_id=org.id, role="admin", name="Manager", password=PASSWORD)
        make_members(s, org.id, 12)
    app = OfisiApp(committed_db, live_updates=False)
    async with app.run_test(size=size) as pilot:
        await sign_in(pilot, "manager@hub.example")
        screen = await home(pilot)
        assert "Audit log" in {a.title for a in screen_actions(screen)}
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, DirectoryScreen), what="the directory")
        table = app.screen.query_one("#directory", OfisiTable)
        await until(pilot, lambda: rows_in_view(app.screen, table) >= 5, what="five members in view")
        assert app.screen.query_one(Footer).region.bottom == size[1]
