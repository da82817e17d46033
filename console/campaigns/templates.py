"""The org's stored message templates (``core.templates``): list, add, edit, preview, delete.

``a`` adds a template, Enter or ``e`` edits the one under the cursor (its name is
the key: saving under the same name changes it), ``p`` shows it as the first vendor
in the registry would receive it, with its SMS parts, and ``d`` deletes it after
asking (the core refuses while an unfinished campaign uses it, naming them). A template the core refuses
(an unknown variable, an email without a subject) keeps the form open and the
notice names every problem.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Input, Label, Select, TextArea

from console.base import ConsoleScreen
from console.widgets.confirm import Confirm
from console.widgets.dialog import Dialog
from console.widgets.present import Presenter
from console.widgets.table import Cell, OfisiTable, Row
from console.widgets.text import short
from core.actors import Actor
from core.orgs import OrgView
from core.permissions import allows
from db.engine import Database

CHANNEL_OPTIONS = [("SMS", "sms"), ("Email", "email"), ("WhatsApp", "whatsapp")]


class TemplatesLoaded(Message):
    def __init__(self, templates: list) -> None:
        super().__init__()
        self.templates = templates


class TemplateForm(Dialog[object]):
    """A template's name, channel, subject and text; it saves itself and stays open on a refusal."""

    CONFIRM_LABEL = "Save"
    DEFAULT_CSS = "#template-body { height: 6; }"

    def __init__(self, database: Database, actor: Actor, org: OrgView, title: str, template=None) -> None:
        super().__init__(title)
        self.database, self.actor, self.org = database, actor, org
        self.template = template

    def compose_body(self) -> ComposeResult:
        t = self.template
        yield Label("Name")
        yield Input(t.name if t else "", id="template-name", placeholder="e.g. Scheme reminder")
        yield Select(CHANNEL_OPTIONS, value=t.channel if t else "sms", allow_blank=False, id="template-channel")
        yield Input((t.subject or "") if t else "", id="template-subject", placeholder="Email subject (email only)")
        yield TextArea(t.body if t else "", id="template-body")
        yield Label("{{ first_name }}, {{ business_name }} … are filled in for each recipient. "
                    "Ctrl+S or the button saves.", id="template-hint")

    BINDINGS = [Binding("ctrl+s", "confirm", "Save", id="template-save")]

    def on_mount(self) -> None:
        self.query_one("#template-name", Input).focus()

    def answer(self) -> object | None:
        channel = self.query_one("#template-channel", Select).value
        self.save({"name": self.query_one("#template-name", Input).value.strip(),
                   "channel": channel if isinstance(channel, str) else "sms",
                   "subject": self.query_one("#template-subject", Input).value.strip() or None,
                   "body": self.query_one("#template-body", TextArea).text})
        return None  # the save dismisses the form once the core took it

    @work(thread=True, exclusive=True, group="template-save", exit_on_error=False)
    def save(self, values: dict) -> None:
        from core.templates import save_template

        with self.database.session() as session:
            saved = save_template(session, self.actor, self.org.id, **values)
        self.app.call_from_thread(self.dismiss, saved)


class TemplatesScreen(ConsoleScreen):
    """Every template of the org, with its channel, SMS parts and when it last changed."""

    BINDINGS = [
        Binding("a", "add", "Add", id="template-add", tooltip="Write a new template."),
        Binding("e", "edit", "Edit", id="template-edit", tooltip="Change the template under the cursor."),
        Binding("p", "preview", "Preview", id="template-preview",
                tooltip="The template as the first vendor in the registry would receive it."),
        Binding("d", "delete", "Delete", id="template-delete", tooltip="Delete the template under the cursor (asks)."),
        Binding("r,f5", "refresh", "Refresh", id="template-refresh"),
        Binding("escape", "back", "Back", id="template-back"),
    ]
    DEFAULT_CSS = "#templates { height: 1fr; }"

    def __init__(self, database: Database, actor: Actor, org: OrgView, role: str) -> None:
        super().__init__(database)
        self.actor, self.org, self.role = actor, org, role
        self.present = Presenter.for_org(org)

    def compose_body(self) -> ComposeResult:
        yield Label("Message templates", classes="pane-title")
        yield OfisiTable(("Name", "Channel", "SMS parts", "Changed", "Text"), noun="templates",
                         empty="No templates yet: press a to write one.", id="templates")

    @property
    def table(self) -> OfisiTable:
        return self.query_one("#templates", OfisiTable)

    def on_mount(self) -> None:
        self.title, self.sub_title = self.org.name, "Templates"
        self.table.focus()
        self.action_refresh()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("add", "edit", "delete"):
            return allows(self.org.kind, self.role, "messages.send")
        return True

    def org_data_changed(self) -> None:
        self.action_refresh()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_refresh(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="templates", exit_on_error=False)
    def load(self) -> None:
        from core.templates import list_templates

        with self.database.session() as session:
            templates = list_templates(session, self.actor, self.org.id)
        self.post_from_worker(TemplatesLoaded(templates))

    def on_templates_loaded(self, message: TemplatesLoaded) -> None:
        from core.templates import sms_segments

        rows = []
        for t in message.templates:
            parts = sms_segments(t.body).segments if t.channel == "sms" else None
            rows.append(Row(t.id, (t.name, t.channel, Cell("" if parts is None else str(parts), parts or 0),
                                   Cell(self.present.time(t.updated_at), t.updated_at), short(t.body, 50)), data=t))
        self.table.reload(rows)

    def _template(self):
        row = self.table.selected_row
        return None if row is None else row.data

    def action_add(self) -> None:
        self.app.push_screen(TemplateForm(self.database, self.actor, self.org, "New template"), callback=self._saved)

    def action_edit(self) -> None:
        if (t := self._template()) is not None:
            self.app.push_screen(TemplateForm(self.database, self.actor, self.org, f"Edit template “{t.name}”", t),
                                 callback=self._saved)

    @on(DataTable.RowSelected, "#templates")
    def _open(self) -> None:
        self.action_edit()

    def _saved(self, saved) -> None:
        if saved is not None:
            self.notify(f"Template “{saved.name}” saved.")
            self.action_refresh()

    def action_delete(self) -> None:
        if (t := self._template()) is not None:
            self.app.push_screen(Confirm(f"Delete the template “{t.name}”?",
                                         "Campaigns that have finished keep what they sent.", confirm_label="Delete"),
                                 callback=lambda yes: yes and self.delete(t))

    @work(thread=True, group="templates-delete", exit_on_error=False)
    def delete(self, t) -> None:
        from core.templates import delete_template

        with self.database.session() as session:
            delete_template(session, self.actor, self.org.id, t.id)
        self.app.call_from_thread(self.notify, f"Template “{t.name}” deleted.", markup=False)
        self.app.call_from_thread(self.action_refresh)

    def action_preview(self) -> None:
        if (t := self._template()) is not None:
            self.preview(t)

    @work(thread=True, group="templates-preview", exit_on_error=False)
    def preview(self, t) -> None:
        from core.errors import InvalidInput
        from core.templates import preview_template
        from core.vendors import list_vendors

        with self.database.session() as session:
            page = list_vendors(session, self.actor, self.org.id, limit=1)
            if not page.vendors:
                raise InvalidInput("Add a vendor first: a preview shows the template as a vendor would receive it.")
            vendor = page.vendors[0]
            shown = preview_template(session, self.actor, self.org.id, t.id, vendor.id)
        lines = [f"To {self.present.person(vendor.business_name, vendor.phone)}:"]
        if shown.subject:
            lines.append(f"Subject: {shown.subject}")
        lines.append(shown.text)
        if shown.sms is not None:
            lines.append(f"{shown.sms.length} characters, {shown.sms.segments} SMS part"
                         f"{'s' if shown.sms.segments != 1 else ''} ({shown.sms.encoding}).")
        self.app.call_from_thread(self.app.push_screen, Confirm(f"Preview of “{t.name}”", lines, confirm_label="OK"))


__all__ = ["TemplatesScreen", "TemplateForm"]
