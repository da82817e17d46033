"""The add-contact form: name, phone and an optional email.

The phone is written however people write it (``0712 345 678``) and
``core.contacts.add_contact`` turns it into E.164 with the org's country, or
refuses with a reason that is shown as a notice while the form stays open.
The form dismisses with the new ``ContactView``, or ``None`` when cancelled.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label
from textual.worker import Worker, WorkerState

from console.base import ConsoleModal
from console.messages import ContactSaved
from core.actors import Actor
from core.contacts import add_contact
from core.orgs import OrgView
from db.engine import Database


class AddContactScreen(ConsoleModal):
    """A dialog that adds one contact to the open org."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel-contact")]

    def __init__(self, database: Database, actor: Actor, org: OrgView, *, noun: str = "contact") -> None:
        super().__init__(database)
        self.actor = actor
        self.org = org
        self.noun = noun

    def compose(self) -> ComposeResult:
        with Vertical(id="contact-form"):
            yield Label(f"Add a {self.noun} to {self.org.name}", classes="form-title")
            yield Label("Name")
            yield Input(id="contact-name")
            yield Label(f"Phone (numbers without a country code are read as {self.org.country})")
            yield Input(id="contact-phone", type="text")
            yield Label("Email (optional)")
            yield Input(id="contact-email")
            with Horizontal(classes="buttons"):
                yield Button("Save", id="save-contact", variant="primary")
                yield Button("Cancel", id="cancel-contact")

    def on_mount(self) -> None:
        self.query_one("#contact-name", Input).focus()

    @on(Input.Submitted)
    def _enter(self, event: Input.Submitted) -> None:
        if event.input.id == "contact-email":
            self._submit_form()
        else:
            self.focus_next()

    @on(Button.Pressed, "#save-contact")
    def _submit_form(self) -> None:
        name = self.query_one("#contact-name", Input).value
        phone = self.query_one("#contact-phone", Input).value
        email = self.query_one("#contact-email", Input).value
        self.query_one("#save-contact", Button).disabled = True
        self.save_contact(name, phone, email or None)

    @work(thread=True, exclusive=True, group="add-contact", exit_on_error=False)
    def save_contact(self, name: str, phone: str, email: str | None) -> None:
        with self.database.session() as session:
            contact = add_contact(session, self.actor, self.org.id, name=name, phone=phone, email=email)
        self.post_from_worker(ContactSaved(contact))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "add-contact" and event.state in (WorkerState.ERROR, WorkerState.CANCELLED):
            self.query_one("#save-contact", Button).disabled = False

    def on_contact_saved(self, message: ContactSaved) -> None:
        self.app.notify(f"{message.contact.name} ({message.contact.phone}) added.", markup=False)
        self.dismiss(message.contact)

    @on(Button.Pressed, "#cancel-contact")
    def action_cancel(self) -> None:
        self.dismiss(None)
