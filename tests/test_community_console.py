"""The community manager's console, driven as a person would with Pilot."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from textual.widgets import DataTable, Input, Sparkline

from console.app import OfisiApp
from console.community import CheckInScreen, CommunityHomeScreen, MemberSearchScreen
from core.community import events, social
from core.community.migration import import_export, read_export
from core.users import add_user
from db.models_community import CommunityImportBatch, CommunityPost, CommunityRegistration
from db.types import utcnow
from tests.community_support import ACTOR, make_event, make_members
from tests.test_console import PASSWORD, SIZE, home, sign_in, until

SAMPLE = Path("/work/shared/data/smilefactory-legacy-export.json")


@pytest.fixture
def community(request, backend, make_org):
    if backend != "sqlite":
        pytest.skip("the screens call the same services, which are tested on both backends; one shows the console")
    committed_db = request.getfixturevalue("committed_db")
    with committed_db.session() as s:
        org = make_org(s, "community", slug="hub", name="Hub Nairobi", country="KE")
        add_user(s, ACTOR, "manager@hub.example", org_id=org.id, role="admin", name="Manager", password=PASSWORD)
        people = make_members(s, org.id, 3)
        event = make_event(s, org.id, capacity=2, title="Demo day", now=utcnow())
        for p in people:
            events.register(s, ACTOR, org.id, event.id, p.id)
        post = social.create_post(s, ACTOR, org.id, people[0].primary.id, body="Buy followers cheap")
        social.report_content(s, ACTOR, org.id, "post", post.id, "spam")
        batch = (import_export(s, ACTOR, org.id, read_export(SAMPLE), file=SAMPLE.name).batch_id
                 if SAMPLE.exists() else None)
    return committed_db, org, event, post, batch


def cells(screen, selector: str) -> list[list[str]]:
    table = screen.query_one(selector, DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_home_check_in_moderation_and_rollback(community):
    committed_db, org, event, post, batch = community
    app = OfisiApp(committed_db, live_updates=False)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "manager@hub.example")
        screen = await home(pilot)
        assert isinstance(screen, CommunityHomeScreen)
        await until(pilot, lambda: screen.query_one("#events", DataTable).row_count == 1, what="the events")
        assert cells(screen, "#events")[0][0] == "Demo day"
        assert cells(screen, "#events")[0][2:] == ["2/2", "1", "100%"]
        assert cells(screen, "#reports")[0][:2] == ["post", "spam"]
        assert screen.query_one("#registrations-chart", Sparkline).data[-1] == 3

        # The door: find Member 1 by name, Enter marks them attended.
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, CheckInScreen), what="the check-in screen")
        door = app.screen
        await until(pilot, lambda: door.query_one("#checkin-table", DataTable).row_count == 3, what="everyone")
        door.query_one("#checkin-search", Input).value = "member 1"
        await until(pilot, lambda: door.query_one("#checkin-table", DataTable).row_count == 1, what="one match")
        await pilot.press("enter")  # from the search box to the table
        await pilot.press("enter")  # marks the row attended
        await until(pilot, lambda: cells(door, "#checkin-table")[0][2] == "attended", what="attended")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, what="home again")

        # Moderation: hide the reported post with a reason.
        screen.query_one("#reports", DataTable).focus()
        await pilot.press("h")
        await pilot.pause()
        app.screen.query_one("#ask-text", Input).value = "Spam"
        await pilot.press("enter")
        await until(pilot, lambda: screen.query_one("#reports", DataTable).row_count == 0, what="the queue emptied")

        # Search members.
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, MemberSearchScreen), what="search")
        finder = app.screen
        finder.query_one("#member-search-input", Input).value = "member 2"
        await until(pilot, lambda: finder.query_one("#member-hits", DataTable).row_count == 1, what="a hit")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, what="home again")

        if batch is not None:
            await until(pilot, lambda: screen.query_one("#batches", DataTable).row_count == 1, what="the batch")
            screen.query_one("#batches", DataTable).focus()
            await pilot.press("b")
            await pilot.pause()
            app.screen.query_one("#ask-text", Input).value = str(batch)
            await pilot.press("enter")
            await until(pilot, lambda: cells(screen, "#batches")[0][2] == "rolled back", what="the rollback")

    with committed_db.session() as s:
        statuses = sorted(s.scalars(select(CommunityRegistration.status)))
        assert statuses == ["attended", "registered", "waitlisted"]
        hidden = s.get(CommunityPost, post.id)
        assert hidden.hidden and hidden.hidden_reason == "Spam"
        if batch is not None:
            assert s.get(CommunityImportBatch, batch).status == "rolled_back"
