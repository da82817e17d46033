"""The sign-in screen: email and password, checked by ``core.users.authenticate``.

A wrong password or a locked account is said on the screen, under the form.
The last email that signed in here is filled in, and the cursor waits in
the password box. When the login has a second factor on, the right password
brings up a code box ("We sent a 6-digit code to +2547•••••123") with a
button for a new code; the hourly limit, an expired code, a wrong one and
too many tries are said under it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Center, Vertical
from textual.widgets import Button, Input, Label, Static
from textual.worker import Worker, WorkerState, get_current_worker

from console.base import ConsoleScreen
from console.messages import CodeRequested, SignInRefused, SignInSucceeded
from console.shell.remembered import last_email, remember_email
if TYPE_CHECKING:
    from core.users import CodeRequired, SignedIn

BUTTONS = ("#sign-in", "#verify", "#resend")


def _clock(moment: datetime) -> str:
    return moment.astimezone().strftime("%H:%M")


def code_prompt(state: CodeRequired, *, again: bool = False) -> str:
    """What the code box says about where the code went, and when another may be asked for."""
    how = "by SMS" if state.channel == "sms" else "by email"
    if state.sent:
        text = f"We sent a{' new' if again else ''} 6-digit code {how} to {state.masked}; it lasts 5 minutes."
    else:
        text = f"3 codes were sent to {state.masked} in the last hour; type the last one"
        text += f", or ask again after {_clock(state.next_code_at)}." if state.next_code_at else "."
    if state.sent and state.next_code_at:
        text += f" That was the last code this hour: the next one can be asked for after {_clock(state.next_code_at)}."
    return text


class SignInScreen(ConsoleScreen):
    """Who is at the keyboard."""

    AUTO_FOCUS = None

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.pending: CodeRequired | None = None

    def compose_body(self) -> ComposeResult:
        with Center(id="sign-in-center"):
            with Vertical(id="sign-in-form"):
                yield Label("Sign in to Ofisi", classes="form-title")
                with Vertical(id="password-step"):
                    yield Label("Email")
                    yield Input(id="email", type="text")
                    yield Label("Password")
                    yield Input(id="password", password=True)
                    yield Button("Sign in", id="sign-in", variant="primary")
                with Vertical(id="code-step"):
                    yield Static("", id="code-prompt", markup=False)
                    yield Label("Code")
                    yield Input(id="code", type="integer", max_length=6)
                    yield Button("Sign in", id="verify", variant="primary")
                    yield Button("Send a new code", id="resend")
                yield Static("", id="sign-in-error", markup=False)
                yield Static("", id="sign-in-database", markup=False)

    def on_mount(self) -> None:
        self.sub_title = "Sign in"
        self.query_one("#code-step").display = False
        self.call_after_refresh(self.name_the_database)
        email = last_email()
        if email:
            self.query_one("#email", Input).value = email
            self.query_one("#password", Input).focus()
        else:
            self.query_one("#email", Input).focus()

    @work(thread=True, exclusive=True, group="database-name", exit_on_error=False)
    def name_the_database(self) -> None:
        """Show which database this is (without its password), once the screen is drawn."""
        from db.engine import display_url

        shown = f"Database: {display_url(self.database.url)}"
        self.app.call_from_thread(self.query_one("#sign-in-database", Static).update, shown)

    @on(Input.Submitted, "#email")
    def _next_field(self) -> None:
        self.query_one("#password", Input).focus()

    @on(Input.Submitted, "#password")
    @on(Button.Pressed, "#sign-in")
    def _submit(self) -> None:
        email = self.query_one("#email", Input).value.strip()
        password = self.query_one("#password", Input).value
        if not email or not password:
            self.show_error("Type your email and your password.")
            return
        self._busy()
        self.check_password(email, password)

    @on(Input.Submitted, "#code")
    @on(Button.Pressed, "#verify")
    def _submit_code(self) -> None:
        code = self.query_one("#code", Input).value.strip()
        if self.pending is None:
            return
        if len(code) != 6:
            self.show_error("Type the 6 digits of the code.")
            return
        self._busy()
        self.check_code(self.pending.user_id, code)

    @on(Button.Pressed, "#resend")
    def _resend(self) -> None:
        if self.pending is not None:
            self._busy()
            self.send_new_code(self.pending.user_id)

    def _busy(self) -> None:
        self.show_error("")
        for selector in BUTTONS:
            self.query_one(selector, Button).disabled = True

    @work(thread=True, exclusive=True, group="sign-in", exit_on_error=False)
    def check_password(self, email: str, password: str) -> None:
        from core.users import authenticate

        self._finish(lambda session: authenticate(session, email, password))

    @work(thread=True, exclusive=True, group="sign-in", exit_on_error=False)
    def check_code(self, user_id: int, code: str) -> None:
        from core.users import verify_second_factor

        self._finish(lambda session: verify_second_factor(session, user_id, code))

    @work(thread=True, exclusive=True, group="sign-in", exit_on_error=False)
    def send_new_code(self, user_id: int) -> None:
        from core.users import resend_second_factor

        self._finish(lambda session: resend_second_factor(session, user_id))

    def _finish(self, step) -> None:
        """Run one sign-in step in this worker and post what came of it."""
        # The core is imported here, in the worker, so the screen is drawn without waiting for it.
        from core.errors import AccountLocked, AuthenticationFailed
        from core.otp import CodeRefused
        from core.users import CodeRequired

        worker = get_current_worker()
        try:
            with self.database.session() as session:
                result = step(session)
        except AuthenticationFailed as exc:
            restart = self.pending is not None and not isinstance(exc, CodeRefused)
            self.post_from_worker(SignInRefused(str(exc), restart=restart or isinstance(exc, AccountLocked)))
            return
        if worker.is_cancelled:
            return
        if isinstance(result, CodeRequired):
            self.post_from_worker(CodeRequested(result))
            return
        remember_email(result.user.email)
        self.post_from_worker(SignInSucceeded(result))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "sign-in" and event.state in (
            WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED
        ):
            for selector in BUTTONS:
                self.query_one(selector, Button).disabled = False

    def on_code_requested(self, message: CodeRequested) -> None:
        again = self.pending is not None
        self.pending = message.state
        self.query_one("#password", Input).value = ""
        self.query_one("#password-step").display = False
        self.query_one("#code-step").display = True
        self.query_one("#code-prompt", Static).update(code_prompt(message.state, again=again))
        code = self.query_one("#code", Input)
        code.value = ""
        code.focus()

    def on_sign_in_refused(self, message: SignInRefused) -> None:
        if message.restart:
            self.back_to_password()
        self.show_error(message.text)
        box = self.query_one("#code" if self.pending else "#password", Input)
        box.value = ""
        box.focus()

    def back_to_password(self) -> None:
        self.pending = None
        self.query_one("#code-step").display = False
        self.query_one("#password-step").display = True

    def on_sign_in_succeeded(self, message: SignInSucceeded) -> None:
        self.query_one("#password", Input).value = ""
        self.query_one("#code", Input).value = ""
        self.ofisi.signed_in(message.signed_in)

    def show_error(self, text: str) -> None:
        self.query_one("#sign-in-error", Static).update(text)

    def show_no_memberships(self, signed_in: SignedIn) -> None:
        self.show_error(
            f"You are signed in as {signed_in.user.email}, but you are not on the staff of any "
            "organisation yet. Ask an organisation's admin to add you (ofisi user add), then sign in again."
        )
