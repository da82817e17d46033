"""The sign-in screen's code step, driven as a staff member with a second factor would."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import update
from textual.widgets import Input

from console.app import OfisiApp
from console.home import SalonHome
from console.shell.sign_in import SignInScreen
from core.users import add_user
from tests.test_staff_otp import turn_on
from db.models import StaffOtp
from db.types import utcnow
from tests.community_support import messages_to
from tests.test_console import PASSWORD, SIZE, home, sign_in, static_text, until

PHONE = "+254712345123"


@pytest.fixture(autouse=True)
def one_backend(backend):
    if backend != "sqlite":
        pytest.skip("the screen calls the same core services on either backend; the core's tests cover both")


@pytest.fixture
def salon(committed_db, make_org, cli_actor):
    with committed_db.session() as session:
        org = make_org(session, "salon", slug="mama-njeri", name="Mama Njeri Salon", country="KE")
        add_user(session, cli_actor, "wanjiku@example.com", org_id=org.id, role="owner", name="Wanjiku",
                 phone="0712 345 123", password=PASSWORD)
        turn_on(session, cli_actor, "wanjiku@example.com", now=utcnow())
    return org


def last_code(db) -> str:
    with db.session() as session:
        return re.match(r"(\d{6}) ", messages_to(session, PHONE)[-1]).group(1)


async def code_box(pilot) -> SignInScreen:
    screen = pilot.app.screen
    await until(pilot, lambda: screen.query_one("#code-step").display, what="the code box")
    assert not screen.query_one("#password-step").display
    return screen


async def enter_code(pilot, screen, code: str) -> str:
    """Type a code, press enter and return what the screen says under the box."""
    before = static_text(screen, "#sign-in-error")
    box = screen.query_one("#code", Input)
    box.value = code
    await pilot.press("enter")
    await until(pilot, lambda: pilot.app.screen is not screen or (
        not screen.query_one("#verify").disabled and static_text(screen, "#sign-in-error") not in ("", before)),
        what="the answer to the code")
    return static_text(screen, "#sign-in-error") if pilot.app.screen is screen else ""


async def resend(pilot, screen) -> str:
    """Press "Send a new code" and return what the code box says then."""
    prompt = static_text(screen, "#code-prompt")
    await pilot.click("#resend")
    await until(pilot, lambda: static_text(screen, "#code-prompt") != prompt, what="the answer to resend")
    return static_text(screen, "#code-prompt")


async def test_the_password_then_the_code_opens_the_home(committed_db, salon):
    app = OfisiApp(committed_db, live_updates=False)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "wanjiku@example.com")
        screen = await code_box(pilot)
        assert static_text(screen, "#code-prompt").startswith("We sent a 6-digit code by SMS to +2547•••••123")
        assert screen.query_one("#code", Input).has_focus and app.user is None
        code = last_code(committed_db)
        wrong = f"{(int(code) + 1) % 10 ** 6:06d}"
        assert await enter_code(pilot, screen, wrong) == "That code is not right; 2 tries left."
        assert screen.query_one("#code", Input).value == "" and app.user is None
        await enter_code(pilot, screen, code)
        assert isinstance(await home(pilot), SalonHome)
        assert app.user.user.email == "wanjiku@example.com"


async def test_expired_and_used_up_codes_are_said(committed_db, salon):
    app = OfisiApp(committed_db, live_updates=False)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "wanjiku@example.com")
        screen = await code_box(pilot)
        with committed_db.session() as session:
            session.execute(update(StaffOtp).values(expires_at=utcnow() - timedelta(seconds=1)))
            session.commit()
        assert "expired" in await enter_code(pilot, screen, last_code(committed_db))

        assert "new 6-digit code" in await resend(pilot, screen)
        code = last_code(committed_db)
        wrong = f"{(int(code) + 1) % 10 ** 6:06d}"
        assert "2 tries left" in await enter_code(pilot, screen, wrong)
        assert "1 try left" in await enter_code(pilot, screen, wrong)
        assert "last try" in await enter_code(pilot, screen, wrong)
        assert "tried 3 times" in await enter_code(pilot, screen, code)
        assert app.user is None


async def test_resend_honours_the_hourly_limit_and_says_when(committed_db, salon):
    app = OfisiApp(committed_db, live_updates=False)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "wanjiku@example.com")
        screen = await code_box(pilot)
        assert "new 6-digit code" in await resend(pilot, screen)
        # The third code of the hour says when the next may be asked for; a fourth is held back.
        assert "the next one can be asked for after" in await resend(pilot, screen)
        held = await resend(pilot, screen)
        assert held.startswith("3 codes were sent to +2547•••••123 in the last hour") and "ask again after" in held
        await enter_code(pilot, screen, last_code(committed_db))
        await home(pilot)
