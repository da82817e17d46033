"""The agency home driven as agency staff would: filters, the check workflow, SMS, the board."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from textual.widgets import DataTable

from console.agency import AgencyConsoleHome
from console.base import AskText
from console.app import OfisiApp
from core.agency import placements
from core.users import add_user
from db.models import Message
from db.models_agency import AgencyWorker
from tests.agency_support import ACTOR, employer, worker
from tests.fakes import phone
from tests.test_console import PASSWORD, SIZE, home, sign_in, static_text, type_into, until


@pytest.fixture
def agency(committed_db, make_org, cli_actor):
    with committed_db.session() as s:
        org = make_org(s, "agency", slug="nyumbani", name="Nyumbani Agency")
        add_user(s, cli_actor, "agent@nyumbani.example", org_id=org.id, role="agent", name="Beatrice",
                 password=PASSWORD)
        w1 = worker(s, org.id, 1, location="Nakuru", skills=["childcare"])
        worker(s, org.id, 2, location="Nairobi")
        e = employer(s, org.id)
        placements.add_placement(s, ACTOR, org.id, worker_id=w1.id, employer_id=e.id, fee_minor=500_000,
                                 commission_minor=100_000, status="placed")
        worker(s, org.id, 3, location="Nakuru", skills=["cooking"])
    return org


def rows(screen, selector: str) -> list[list[str]]:
    table = screen.query_one(selector, DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_the_agency_home_filters_checks_and_sends_sms(committed_db, agency):
    app = OfisiApp(committed_db, live_updates=False)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "agent@nyumbani.example")
        screen = await home(pilot)
        assert isinstance(screen, AgencyConsoleHome)
        await until(pilot, lambda: screen.agency is not None, what="the agency data")
        # Placed workers are not offered; phones are masked.
        shown = rows(screen, "#agency-workers")
        assert sorted(r[0] for r in shown) == ["Worker 2", "Worker 3"]
        assert all("•" in r[1] and phone(502) not in r[1] for r in shown)
        assert "1 placed" in static_text(screen, "#placement-board")
        assert static_text(screen, "#fees-owed") == "Fees and commission owed: KES 6,000"

        await pilot.press("slash")
        await type_into(pilot, "#filter-location", "nakuru")
        await pilot.press("enter")
        await until(pilot, lambda: [r[0] for r in rows(screen, "#agency-workers")] == ["Worker 3"],
                    what="the filtered workers")

        screen.query_one("#agency-workers", DataTable).focus()
        await pilot.press("v")
        await until(pilot, lambda: rows(screen, "#agency-workers")[0][8] == "verified", what="verification")
        await pilot.press("x")
        await until(pilot, lambda: isinstance(pilot.app.screen, AskText), what="the notes prompt")
        await type_into(pilot, "#ask-text", "Reference did not answer")
        await pilot.press("enter")
        await until(pilot, lambda: rows(screen, "#agency-workers") and
                    rows(screen, "#agency-workers")[0][9] == "flagged", what="the flagged check")

        await pilot.press("s")
        await until(pilot, lambda: isinstance(pilot.app.screen, AskText), what="the SMS prompt")
        await type_into(pilot, "#ask-text", "Interview on Monday at 10")
        await pilot.press("enter")

        def queued():
            with committed_db.session() as s:
                return s.scalar(select(Message.to_address).where(Message.body == "Interview on Monday at 10"))
        await until(pilot, lambda: queued() == phone(503), what="the queued SMS")
    with committed_db.session() as s:
        w3 = s.scalar(select(AgencyWorker).where(AgencyWorker.name == "Worker 3"))
        assert (w3.verification_status, w3.background_check, w3.background_notes) == \
            ("verified", "flagged", "Reference did not answer")
