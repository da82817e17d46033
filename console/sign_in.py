"""The sign-in screen: email and password, checked by ``core.users.authenticate``.

A wrong password or a locked account is said on the screen, under the form.
The last email that signed in here is filled in, and the cursor waits in
the password box.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Center, Vertical
from textual.widgets import Button, Input, Label, Static
from textual.worker import Worker, WorkerState, get_current_worker

from console.base import ConsoleScreen
from console.messages import SignInRefused, SignInSucceeded
from console.remembered import last_email, remember_email
from core.errors import AuthenticationFailed
from core.users import SignedIn, authenticate
from db.engine import display_url


class SignInScreen(ConsoleScreen):
    """Who is at the keyboard."""

    AUTO_FOCUS = None

    def compose_body(self) -> ComposeResult:
        with Center(id="sign-in-center"):
            with Vertical(id="sign-in-form"):
                yield Label("Sign in to Ofisi", classes="form-title")
                yield Label("Email")
                yield Input(id="email", type="text")
                yield Label("Password")
                yield Input(id="password", password=True)
                yield Button("Sign in", id="sign-in", variant="primary")
                yield Static("", id="sign-in-error", markup=False)
                yield Static(f"Database: {display_url(self.database.url)}", id="sign-in-database", markup=False)

    def on_mount(self) -> None:
        self.sub_title = "Sign in"
        email = last_email()
        if email:
            self.query_one("#email", Input).value = email
            self.query_one("#password", Input).focus()
        else:
            self.query_one("#email", Input).focus()

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
        self.show_error("")
        self.query_one("#sign-in", Button).disabled = True
        self.check_password(email, password)

    @work(thread=True, exclusive=True, group="sign-in", exit_on_error=False)
    def check_password(self, email: str, password: str) -> None:
        worker = get_current_worker()
        try:
            with self.database.session() as session:
                signed_in = authenticate(session, email, password)
        except AuthenticationFailed as exc:
            self.post_from_worker(SignInRefused(str(exc)))
            return
        remember_email(signed_in.user.email)
        if not worker.is_cancelled:
            self.post_from_worker(SignInSucceeded(signed_in))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "sign-in" and event.state in (
            WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED
        ):
            self.query_one("#sign-in", Button).disabled = False

    def on_sign_in_refused(self, message: SignInRefused) -> None:
        self.show_error(message.text)
        password = self.query_one("#password", Input)
        password.value = ""
        password.focus()

    def on_sign_in_succeeded(self, message: SignInSucceeded) -> None:
        self.query_one("#password", Input).value = ""
        self.ofisi.signed_in(message.signed_in)

    def show_error(self, text: str) -> None:
        self.query_one("#sign-in-error", Static).update(text)

    def show_no_memberships(self, signed_in: SignedIn) -> None:
        self.show_error(
            f"You are signed in as {signed_in.user.email}, but you are not on the staff of any "
            "organisation yet. Ask an organisation's admin to add you (ofisi user add), then sign in again."
        )
