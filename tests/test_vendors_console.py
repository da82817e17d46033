"""The vendor registry in the console: reached with `v` from the campaigns home, paged from the
core, searched and filtered; an import shows every bad row before anything is written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from textual.widgets import Button, DataTable, Input, Static, Switch

from console.app import OfisiApp
from console.vendors import CampaignsHome, VendorImportScreen, VendorRegistryScreen
from core.users import add_user
from db.models_vendors import Vendor
from tests.test_console import PASSWORD, SIZE, home, sign_in, until
from tests.vendors_support import SAMPLE


@pytest.fixture
def committed(backend, request):
    """SQLite only: the screens call the same core services that are tested on both backends,
    and a console run costs seconds."""
    if backend != "sqlite":
        pytest.skip("console tests of the vendor registry run on SQLite")
    return request.getfixturevalue("committed_db")


@pytest.fixture
def programme(committed, make_org, cli_actor):
    from core.vendors import VendorRows, import_vendors

    rows = [(i + 2, {"business_name": f"Enterprise {i:02d}", "phone": f"98765{i:05d}",
                     "sector": "Textiles" if i % 3 == 0 else "Printing", "district": "Pune" if i < 10 else "Nashik",
                     "tags": "women-led" if i % 2 == 0 else ""}) for i in range(60)]
    with committed.session() as session:
        org = make_org(session, "campaigns", slug="biashara", name="Biashara Boost", country="IN")
        add_user(session, cli_actor, "officer@example.in", org_id=org.id, role="officer", name="Irene",
                 password=PASSWORD)
        assert import_vendors(session, cli_actor, org.id, VendorRows("seed", (), rows)).created == 60
    return org


def names(screen) -> list[str]:
    table = screen.query_one("#vendors", DataTable)
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


async def open_registry(pilot, email: str = "officer@example.in") -> VendorRegistryScreen:
    await sign_in(pilot, email)
    screen = await home(pilot)
    assert isinstance(screen, CampaignsHome)
    await pilot.press("v")
    await until(pilot, lambda: isinstance(pilot.app.screen, VendorRegistryScreen) and pilot.app.screen.loaded,
                what="the vendor registry")
    return pilot.app.screen


async def test_registry_pages_searches_and_filters(committed, programme):
    async with OfisiApp(committed, live_updates=False).run_test(size=SIZE) as pilot:
        screen = await open_registry(pilot)
        assert names(screen) == [f"Enterprise {i:02d}" for i in range(50)]
        assert str(screen.query_one("#vendor-count", Static).content) == "Vendors: 50 of 60 shown (m for more)"
        await pilot.press("m")
        await until(pilot, lambda: len(names(screen)) == 60, what="the second page")
        assert screen.after is None

        screen.query_one("#vendor-filter", Input).value = "district=pune,tags=women-led"
        screen.query_one("#vendor-filter", Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: len(names(screen)) == 5, what="the filtered list")
        assert names(screen) == ["Enterprise 00", "Enterprise 02", "Enterprise 04", "Enterprise 06", "Enterprise 08"]

        screen.query_one("#vendor-search-input", Input).value = "enterprise 04"
        screen.query_one("#vendor-search-input", Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: names(screen) == ["Enterprise 04"], what="the search")

        screen.query_one("#vendor-filter", Input).value = "colour=red"
        screen.query_one("#vendor-filter", Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: any("not an audience filter" in str(n.message)
                                       for n in pilot.app._notifications), what="the refusal")
        assert names(screen) == ["Enterprise 04"]
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(pilot.app.screen, CampaignsHome), what="home again")


async def test_import_shows_the_bad_rows_before_writing(committed, programme):
    def vendor_count() -> int:
        with committed.session() as session:
            return session.scalar(select(func.count()).select_from(Vendor).where(Vendor.org_id == programme.id))

    async with OfisiApp(committed, live_updates=False).run_test(size=SIZE) as pilot:
        registry = await open_registry(pilot)
        await pilot.press("i")
        await until(pilot, lambda: isinstance(pilot.app.screen, VendorImportScreen), what="the import dialog")
        dialog = pilot.app.screen
        dialog.query_one("#import-path", Input).value = str(SAMPLE)
        await pilot.click("#check-import")
        await until(pilot, lambda: dialog.checked is not None, what="the check")
        errors = dialog.query_one("#import-errors", DataTable)
        assert [str(errors.get_row_at(i)[0]) for i in range(errors.row_count)] == ["2", "11", "31", "36", "54"]
        assert "5 invalid" in str(dialog.query_one("#import-summary", Static).content)
        assert vendor_count() == 60  # the check wrote nothing
        commit = dialog.query_one("#commit-import", Button)
        assert not commit.disabled and str(commit.label) == "Import 55 vendors"
        await pilot.click("#commit-import")
        await until(pilot, lambda: pilot.app.screen is registry, what="the registry again")
        assert vendor_count() == 115
        await until(pilot, lambda: registry.total == 115, what="the reloaded registry")


async def test_a_vendors_form_changes_fields_and_opt_outs_in_one_save(committed, programme):
    from core.optouts import is_opted_out
    from console.vendors import VendorFormScreen

    async with OfisiApp(committed, live_updates=False).run_test(size=SIZE) as pilot:
        registry = await open_registry(pilot)
        await pilot.press("enter")  # the first row: Enterprise 00
        await until(pilot, lambda: isinstance(pilot.app.screen, VendorFormScreen), what="the vendor's form")
        form = pilot.app.screen
        assert form.query_one("#vendor-business_name", Input).value == "Enterprise 00"
        assert form.query_one("#vendor-tags", Input).value == "women-led"

        # A refusal: the form stays open, says why, and writes nothing (not even the good field).
        form.query_one("#vendor-district", Input).value = "Satara"
        form.query_one("#vendor-email", Input).value = "not-an-email"
        form.query_one("#opt-out-sms", Switch).value = True
        await pilot.press("ctrl+s")
        await until(pilot, lambda: any("is not an email" in str(n.message) for n in pilot.app._notifications),
                    what="the refusal")
        assert pilot.app.screen is form and not form.query_one("#save-vendor", Button).disabled
        with committed.session() as session:
            row = session.scalar(select(Vendor).where(Vendor.business_name == "Enterprise 00"))
            assert row.district == "Pune" and not is_opted_out(session, programme.id, "sms", row.phone)

        form.query_one("#vendor-email", Input).value = "Owner@Enterprise.IN"
        await pilot.click("#save-vendor")
        await until(pilot, lambda: pilot.app.screen is registry, what="the registry again")
        with committed.session() as session:
            row = session.scalar(select(Vendor).where(Vendor.business_name == "Enterprise 00"))
            assert (row.district, row.email) == ("Satara", "Owner@enterprise.in")
            assert is_opted_out(session, programme.id, "sms", row.phone)
        table = registry.query_one("#vendors", DataTable)
        assert "Satara" in [str(cell) for cell in table.get_row_at(0)]
        # Opened again, the form shows the switch as saved.
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, VendorFormScreen), what="the form again")
        assert pilot.app.screen.query_one("#opt-out-sms", Switch).value is True


async def test_add_a_vendor_and_a_viewer_only_reads(committed, programme, cli_actor):
    from console.vendors import VendorFormScreen

    with committed.session() as session:
        add_user(session, cli_actor, "viewer@example.in", org_id=programme.id, role="viewer", name="Vic",
                 password=PASSWORD)
    async with OfisiApp(committed, live_updates=False).run_test(size=SIZE) as pilot:
        registry = await open_registry(pilot)
        await pilot.press("a")
        await until(pilot, lambda: isinstance(pilot.app.screen, VendorFormScreen), what="a new vendor's form")
        form = pilot.app.screen
        form.query_one("#vendor-business_name", Input).value = "Lakshmi Pickles"
        form.query_one("#vendor-phone", Input).value = "98111 22233"
        form.query_one("#vendor-district", Input).value = "Pune"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: pilot.app.screen is registry and registry.total == 61, what="the new vendor")
        with committed.session() as session:
            assert session.scalar(select(Vendor.phone).where(Vendor.business_name == "Lakshmi Pickles")) == \
                "+919811122233"

    async with OfisiApp(committed, live_updates=False).run_test(size=SIZE) as pilot:
        registry = await open_registry(pilot, "viewer@example.in")
        assert registry.check_action("add_vendor", ()) is False
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, VendorFormScreen), what="the read-only form")
        form = pilot.app.screen
        assert form.query_one("#vendor-business_name", Input).disabled and not form.query(Button).filter("#save-vendor")
        await pilot.press("escape")
        await until(pilot, lambda: pilot.app.screen is registry, what="the registry again")


async def test_opt_out_asks_first_and_keeps_the_cursor_on_the_vendor(committed, programme):
    from console.widgets.confirm import Confirm
    from console.widgets.table import OfisiTable

    def sms_opted_out(name: str) -> bool:
        with committed.session() as s:
            from core.vendors import get_vendor
            from tests.agency_support import ACTOR

            vendor_id = s.scalar(select(Vendor.id).where(Vendor.business_name == name))
            return get_vendor(s, ACTOR, programme.id, vendor_id).opted_out("sms")

    async with OfisiApp(committed, live_updates=False).run_test(size=SIZE) as pilot:
        screen = await open_registry(pilot)
        table = screen.query_one("#vendors", OfisiTable)
        table.focus()
        for _ in range(5):
            await pilot.press("down")
        assert table.selected_row.data.business_name == "Enterprise 05"
        await pilot.press("o")
        await until(pilot, lambda: isinstance(pilot.app.screen, Confirm), what="the opt-out question")
        assert pilot.app.screen.dialog_title == "Stop marketing SMS to Enterprise 05?"
        await pilot.press("n")
        await pilot.pause(0.2)
        assert not sms_opted_out("Enterprise 05")
        await pilot.press("o")
        await until(pilot, lambda: isinstance(pilot.app.screen, Confirm), what="the opt-out question")
        await pilot.press("y")
        await until(pilot, lambda: str(table.get_row_at(5)[10]) == "sms", what="the opt-out shown")
        assert sms_opted_out("Enterprise 05")
        assert table.cursor_row == 5 and table.selected_row.data.business_name == "Enterprise 05"

        # '/' goes to the search, which the core answers (the list pages through it).
        await pilot.press("slash")
        search = screen.query_one("#vendor-search-input", Input)
        assert search.has_focus
        search.value = "enterprise 07"
        await pilot.press("enter")
        await until(pilot, lambda: names(screen) == ["Enterprise 07"], what="the search")
