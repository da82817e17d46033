"""People's text never breaks or restyles the console, and no pane leaks what it must hide.

The demo (one org of each kind) gets names, messages, notes, a vendor, a worker's
bio, an event and a campaign written as markup and terminal escapes; then every
org's staff open every screen of their console. The app must still be running
and show each text exactly as written (escapes made visible as ``␛``). The same
walk proves that no agency screen shows a worker's full phone or a sign-in code.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from textual.widgets import TabbedContent

from console.app import OfisiApp
from console.home import HomeScreen
from console.widgets.text import plain
from core import outbox
from core.actors import Actor
from core.agency.employers import EmployerInput, add_employer
from core.agency.workers import WorkerInput, add_worker
from core.campaigns.service import create_campaign
from core.chama.members import add_member
from core.community.events import create_event
from core.contacts import add_contact
from core.demo import DEMO_ORGS, PASSWORD, seed_demo
from core.salon.conversations import record_inbound
from core.salon.leads import LeadDetails, add_lead
from core.vendors.registry import add_vendor
from db.models import Contact
from db.models_agency import AgencyWorker
from tests.conftest import built_database, copy_of_database
from tests.console_support import screen_text, settle, until
from tests.test_console import sign_in

NASTY = ["[/]", "[bold]x", "[link=javascript:x]y[/link]", "\x1b[31mred"]
SHOWN = [plain(n) for n in NASTY]  # what a person must read: the escape as ␛, the rest as typed
CODE = "482913"
SIZE = (200, 50)

# The keys that open each kind's screens, from its home (each path ends with Escape back home).
PATHS: dict[str, list[tuple[str, ...]]] = {
    "salon": [("l",), ("i",), ("y",), ("h",), ("question_mark",)],
    "chama": [("b",), ("b", "enter"), ("g",), ("o",), ("p",), ("question_mark",)],
    "agency": [("s",), ("question_mark",)],
    "campaigns": [("v",), ("v", "enter"), ("n",), ("p",), ("question_mark",)],
    "community": [("c",), ("s",), ("question_mark",)],
}


def _nasty_demo(db):
    """The demo orgs, each with people's text that looks like markup, and a sign-in code in an outbox."""
    cli_actor = Actor.system_actor("cli:test")
    with db.session() as s:
        orgs = {o.kind: o for o in seed_demo(s, cli_actor).orgs}
        for kind, org in orgs.items():
            for i, text in enumerate(NASTY):
                add_contact(s, cli_actor, org.id, name=f"{text} contact", phone=f"+2547300000{i}{len(kind)}",
                            notes=f"note {text}")
        salon = orgs["salon"].id
        add_lead(s, cli_actor, salon, LeadDetails(phone="+254731111111", name="[/] lead",
                                                  service_wanted="[bold]x", message="[link=javascript:x]y[/link]"))
        record_inbound(s, salon, "+254732222222", "Hi [/] price? \x1b[31m")
        add_member(s, cli_actor, orgs["chama"].id, name="[/] \x1b[31mmember", phone="+254733333333")
        add_worker(s, cli_actor, orgs["agency"].id, WorkerInput(
            name="[bold]x worker", phone="+254734444444", bio="[link=javascript:x]y[/link] \x1b[31m",
            location="[/]", skills=["[link=javascript:x]y[/link]"]))
        add_employer(s, cli_actor, orgs["agency"].id, EmployerInput(name="\x1b[31mred employer", phone="+254736666666",
                                                                     household_name="[/] household"))
        outbox.enqueue(s, orgs["agency"].id, to="+254734444444", body=f"Your Ofisi sign-in code is {CODE}",
                       purpose="transactional", secret=True)
        campaigns = orgs["campaigns"].id
        add_vendor(s, cli_actor, campaigns, business_name="[/] Vendor \x1b[31m", owner_name="[bold]x owner",
                   phone="+254735555555", sector="[link=javascript:x]y[/link]")
        create_campaign(s, cli_actor, campaigns, name="[/] campaign \x1b[31m", text="Hi [/] {{ first_name }}")
        starts = datetime.now(orgs["community"].tz).replace(microsecond=0) + timedelta(days=2)
        create_event(s, cli_actor, orgs["community"].id, title="[/] night \x1b[31m", starts_at=starts,
                     ends_at=starts + timedelta(hours=2), capacity=10, venue="[bold]x")
        s.commit()
        full_numbers = set(s.scalars(select(Contact.phone).join(AgencyWorker, AgencyWorker.contact_id == Contact.id)
                                     .where(AgencyWorker.org_id == orgs["agency"].id)))
    return orgs, full_numbers


@pytest.fixture(scope="module")
def built_demo(request, backend, tmp_path_factory):
    """The demo with its nasty text, made once for the module on each backend (it takes seconds)."""
    with built_database(request, backend, tmp_path_factory, _nasty_demo) as built:
        yield built


@pytest.fixture
def demo(request, backend, tmp_path, built_demo):
    """A copy of the built demo of the test's own: its database, the orgs, the agency workers' numbers."""
    url, (orgs, full_numbers) = built_demo
    with copy_of_database(request, backend, tmp_path, url) as db:
        yield db, orgs, full_numbers


async def walk(pilot, kind: str) -> list[str]:
    """Sign in as the kind's demo admin, open every screen, and return what each showed."""
    email = next(d.staff[0][0] for d in DEMO_ORGS if d.kind == kind)
    await sign_in(pilot, email, PASSWORD)
    await until(pilot, lambda: isinstance(pilot.app.screen, HomeScreen) and pilot.app.screen.loaded,
                timeout=15, what=f"the {kind} home")
    home = pilot.app.screen
    await settle(pilot)
    texts = [screen_text(pilot.app)]
    if kind == "agency":
        for tab in ("tab-employers", "tab-placements", "tab-unlocks", "tab-workers"):
            home.query_one(TabbedContent).active = tab
            await settle(pilot)
            texts.append(screen_text(pilot.app))
    for path in PATHS[kind]:
        for key in path:
            await pilot.press(key)
            await settle(pilot)
        assert pilot.app.is_running, f"{kind}: {path} stopped the console"
        texts.append(screen_text(pilot.app))
        for _ in range(4):
            if pilot.app.screen is home:
                break
            await pilot.press("escape")
            await settle(pilot)
        assert pilot.app.screen is home, f"{kind}: Escape did not lead back home from {path}"
    return texts


@pytest.mark.parametrize("kind", list(PATHS))
async def test_every_screen_shows_peoples_text_literally(demo, kind):
    db, _orgs, full_numbers = demo
    app = OfisiApp(db, live_updates=False)
    async with app.run_test(size=SIZE) as pilot:
        texts = await walk(pilot, kind)
        assert app.is_running
    everything = "\n".join(texts)
    assert "\x1b" not in everything
    for shown in SHOWN:
        assert shown in everything, f"{kind}: {shown!r} is not shown as written"
    assert CODE not in everything
    if kind == "agency":
        for number in full_numbers:
            for form in (number, number[1:], number[4:]):
                assert form not in everything.replace(" ", ""), f"a worker's full number {number} is shown"
