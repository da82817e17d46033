"""One vendor's form: every field and the opt-out per channel; saves through ``core.vendors.save_vendor``
(one unit of work: a refusal of any part writes nothing and stays a notice over the open form)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label, Switch
from textual.worker import Worker, WorkerState

from console.base import ConsoleModal
from console.widgets.text import literal
from core.actors import Actor
from core.orgs import OrgView
from db.engine import Database

if TYPE_CHECKING:
    from core.vendors import VendorView


class VendorSaved(Message):
    def __init__(self, vendor: VendorView) -> None:
        super().__init__()
        self.vendor = vendor


FORM_FIELDS = (  # (field, label, hint)
    ("business_name", "Business name", ""), ("owner_name", "Owner", ""),
    ("phone", "Phone", "read in the org's country"), ("email", "Email", ""),
    ("whatsapp", "WhatsApp", "if not the phone"), ("gstin", "GSTIN", "15 characters"),
    ("udyam", "Udyam number", "UDYAM-XX-00-0000000"), ("pan", "PAN", "from the GSTIN if blank"),
    ("sector", "Sector", ""), ("district", "District", ""), ("state", "State", ""),
    ("size", "Size", "micro, small or medium"), ("status", "Status", "active or inactive"),
    ("tags", "Tags", "separated by ;"),
)
OPT_OUTS = (("sms", "No SMS"), ("email", "No email"), ("whatsapp", "No WhatsApp"))


def form_text(vendor: VendorView | None, name: str) -> str:
    if vendor is None:
        return "active" if name == "status" else ""
    value = getattr(vendor, name)
    return "; ".join(value) if name == "tags" else (value or "")


class VendorFormScreen(ConsoleModal):
    """One vendor's fields and opt-outs; dismisses with the saved ``VendorView`` or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel-vendor"),
                Binding("ctrl+s", "save", "Save", id="save-vendor-key")]

    def __init__(self, database: Database, actor: Actor, org: OrgView, vendor: VendorView | None, *,
                 writable: bool) -> None:
        super().__init__(database)
        self.actor, self.org, self.vendor, self.writable = actor, org, vendor, writable

    def compose(self) -> ComposeResult:
        title = f"{self.vendor.business_name}" if self.vendor else f"A new vendor of {self.org.name}"
        with Vertical(id="vendor-form"):
            yield Label(literal(title + ("" if self.writable else " (read only)")), classes="form-title")
            with Grid(id="vendor-fields"):
                for name, label, hint in FORM_FIELDS:
                    yield Label(label)
                    yield Input(form_text(self.vendor, name), placeholder=hint, id=f"vendor-{name}",
                                disabled=not self.writable)
            with Horizontal(id="vendor-opt-outs"):
                for channel, label in OPT_OUTS:
                    yield Switch(bool(self.vendor and self.vendor.opted_out(channel)), id=f"opt-out-{channel}",
                                 disabled=not self.writable)
                    yield Label(label, classes="switch-label")
            with Horizontal(classes="buttons"):
                if self.writable:
                    yield Button("Save", id="save-vendor", variant="primary")
                yield Button("Close" if not self.writable else "Cancel", id="cancel-vendor")

    def on_mount(self) -> None:
        if self.writable:
            self.query_one("#vendor-business_name", Input).focus()
        else:
            self.query_one("#cancel-vendor", Button).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.writable if action == "save" else True

    @on(Input.Submitted)
    def _next(self) -> None:
        self.focus_next()

    @on(Button.Pressed, "#save-vendor")
    def action_save(self) -> None:
        values = {name: self.query_one(f"#vendor-{name}", Input).value for name, _label, _hint in FORM_FIELDS}
        if self.vendor is not None:  # only what changed: an untouched field is never re-judged
            values = {k: v for k, v in values.items() if v.strip() != form_text(self.vendor, k).strip()}
        else:
            values = {k: v for k, v in values.items() if v.strip()}
        opted = {channel: self.query_one(f"#opt-out-{channel}", Switch).value for channel, _label in OPT_OUTS}
        if self.vendor is None:
            opted = {channel: True for channel, wanted in opted.items() if wanted}
        self.query_one("#save-vendor", Button).disabled = True
        self.save(values, opted)

    @work(thread=True, exclusive=True, group="save-vendor", exit_on_error=False)
    def save(self, values: dict[str, str], opted: dict[str, bool]) -> None:
        from core.vendors import save_vendor

        with self.database.session() as session:
            vendor = save_vendor(session, self.actor, self.org.id, self.vendor.id if self.vendor else None, values,
                                 opted)
        self.post_from_worker(VendorSaved(vendor))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "save-vendor" and event.state in (WorkerState.ERROR, WorkerState.CANCELLED):
            self.query_one("#save-vendor", Button).disabled = False

    def on_vendor_saved(self, message: VendorSaved) -> None:
        self.app.notify(f"{message.vendor.business_name} saved.", markup=False)
        self.dismiss(message.vendor)

    @on(Button.Pressed, "#cancel-vendor")
    def action_cancel(self) -> None:
        self.dismiss(None)

