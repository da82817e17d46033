"""The org's campaign settings (``core.campaigns.campaign_settings``): its quiet hours on its
own clock, its DLT entity ID and the DLT template ID of each kind of its own SMS to India
(``core.providers.india.REPLY_KINDS``), as ``ofisi campaigns settings`` shows and changes them.

Each setting is a line of the list, with what it means below the list for the line under the
cursor: a kind with no template registered says that its SMS to India fail. ``e`` (or Enter)
opens one form with every value filled in as it is now; the form saves itself and sends only
what was changed, so the core writes one audit row per part that changed. A refusal (an hour
that is not a time of day, an ID that is not a number) changes nothing, comes back as a notice
naming every problem, and leaves the form open with what was typed. Without ``campaigns.manage``
the screen is read only and says so; the core checks again on every change.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import DataTable, Input, Label, Static

from console.base import ConsoleScreen
from console.widgets.dialog import Dialog
from console.widgets.table import OfisiTable, Row
from console.widgets.text import literal
from core.actors import Actor
from core.campaigns import campaign_settings
from core.campaigns.service import SettingsView
from core.orgs import OrgView
from core.providers.india import REPLY_KINDS
from db.engine import Database

QUIET = ("quiet_from", "quiet_until")
READ_ONLY = "Read only: changing these needs a role that manages campaigns; ask an admin."


def quiet_hours(view: SettingsView, org: OrgView) -> str:
    """``21:00–08:00 (Asia/Kolkata)``, or none when start and end are the same."""
    if view.quiet_from == view.quiet_until:
        return "none: campaigns send at any hour"
    return f"{view.quiet_from}–{view.quiet_until} ({org.timezone})"


def setting_lines(view: SettingsView, org: OrgView) -> list[tuple[str, str, str, str]]:
    """(key, setting, now, what it means) for each line of the screen."""
    lines = [
        ("quiet", "Quiet hours", quiet_hours(view, org),
         f"No campaign message leaves between these times on the org's clock ({org.timezone}); "
         "what would is held until the quiet hours end."),
        ("entity", "DLT entity ID", view.dlt_entity_id or "not set",
         "The org's entity ID on India's DLT register: every SMS to an Indian number names it"
         + ("." if view.dlt_entity_id else "; until it is set, SMS to India fail.")),
    ]
    for kind, what in REPLY_KINDS.items():
        registered = view.dlt_templates.get(kind)
        lines.append((f"dlt-{kind}", f"DLT template: {kind}", registered or "not registered",
                      f"The DLT template of the org's {what} to India"
                      + (". " if registered else ": not registered, so SMS of this kind to India fail. ")
                      + "Register the template with DLT, then type its ID here."))
    return lines


class SettingsLoaded(Message):
    def __init__(self, view: SettingsView) -> None:
        super().__init__()
        self.view = view


class SettingsForm(Dialog[SettingsView]):
    """Every campaign setting on one line each, filled with what it is now; it saves itself and
    stays open, with what was typed, when the core refuses."""

    CONFIRM_LABEL = "Save"
    DEFAULT_CSS = """
    SettingsForm .setting-line { height: 1; }
    SettingsForm .setting-line Label { width: 29; }
    SettingsForm .setting-line Input { width: 1fr; }
    SettingsForm #settings-hint { color: $text-muted; margin-bottom: 1; width: 100%; height: auto; }
    """

    def __init__(self, database: Database, actor: Actor, org: OrgView, view: SettingsView) -> None:
        super().__init__(f"Campaign settings of {org.name}")
        self.database, self.actor, self.org, self.view = database, actor, org, view

    def fields(self) -> list[tuple[str, str, str]]:
        """(input id, question, value now, shown when empty)."""
        view = self.view
        return [("quiet_from", "Quiet hours start", view.quiet_from, "21:00"),
                ("quiet_until", "Quiet hours end", view.quiet_until, "08:00"),
                ("dlt_entity_id", "DLT entity ID", view.dlt_entity_id or "", "not set"),
                *((f"dlt-{kind}", f"DLT template: {kind}", view.dlt_templates.get(kind, ""), "not registered")
                  for kind in REPLY_KINDS)]

    def compose_body(self) -> ComposeResult:
        yield Label(literal(f"Times on the org's clock ({self.org.timezone}), as 21:00; the same start and "
                            "end: no quiet hours. An empty ID removes it."), id="settings-hint")
        for key, question, now, empty in self.fields():
            with Horizontal(classes="setting-line"):
                yield Label(literal(question))
                yield Input(now, id=f"setting-{key}", placeholder=empty, compact=True)

    def on_mount(self) -> None:
        # Eight lines, the hint and the buttons fit 24 rows without the box's top and bottom padding
        # (the app's stylesheet sets it for every dialog, so only an inline style overrides it).
        self.query_one("#dialog").styles.padding = (0, 2)
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_confirm()

    def changes(self) -> dict:
        """What the form changes: only the values that differ from what they are now."""
        typed = {key: self.query_one(f"#setting-{key}", Input).value.strip() for key, *_ in self.fields()}
        now = {key: value for key, _q, value, _e in self.fields()}
        changed = {key: value for key, value in typed.items() if value != now[key]}
        kwargs: dict = {key: changed.pop(key) for key in (*QUIET, "dlt_entity_id") if key in changed}
        if changed:
            kwargs["dlt_templates"] = {key.removeprefix("dlt-"): value for key, value in changed.items()}
        return kwargs

    def answer(self) -> SettingsView | None:
        changes = self.changes()
        if not changes:
            self.dismiss(self.view)
            return None
        self.save(changes)
        return None  # the save dismisses the form once the core took it

    @work(thread=True, exclusive=True, group="campaign-settings-save", exit_on_error=False)
    def save(self, changes: dict) -> None:
        with self.database.session() as session:
            saved = campaign_settings(session, self.actor, self.org.id, **changes)
        self.app.call_from_thread(self.dismiss, saved)


class CampaignSettingsScreen(ConsoleScreen):
    """The org's quiet hours and DLT registration, each with what it means; ``e`` changes them."""

    BINDINGS = [
        Binding("e", "edit", "Change", id="campaign-settings-edit",
                tooltip="Change the quiet hours, the DLT entity ID or the DLT template IDs."),
        Binding("r,f5", "refresh", "Refresh", id="campaign-settings-refresh"),
        Binding("escape", "back", "Back", id="campaign-settings-back"),
    ]
    DEFAULT_CSS = """
    #campaign-settings { height: auto; max-height: 1fr; }
    #campaign-setting-meaning { height: auto; padding: 1 1 0 1; }
    #campaign-settings-read-only { color: $warning; padding: 0 1; }
    """

    def __init__(self, database: Database, actor: Actor, org: OrgView, *, writable: bool) -> None:
        super().__init__(database)
        self.actor, self.org, self.writable = actor, org, writable
        self.view: SettingsView | None = None
        self.meanings: dict[str, str] = {}

    def compose_body(self) -> ComposeResult:
        yield Label("Campaign settings" + ("" if self.writable else " (read only)"), classes="pane-title")
        yield OfisiTable(("Setting", "Now"), noun="settings", id="campaign-settings", empty="Reading the settings…")
        yield Static("", id="campaign-setting-meaning")
        if not self.writable:
            yield Static(READ_ONLY, id="campaign-settings-read-only", markup=False)

    @property
    def table(self) -> OfisiTable:
        return self.query_one("#campaign-settings", OfisiTable)

    def on_mount(self) -> None:
        self.title, self.sub_title = self.org.name, "Campaign settings"
        self.table.focus()
        self.action_refresh()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "edit":
            return self.writable
        return True

    def org_data_changed(self) -> None:
        self.action_refresh()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_refresh(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="campaign-settings", exit_on_error=False)
    def load(self) -> None:
        with self.database.session() as session:
            view = campaign_settings(session, self.actor, self.org.id)
        self.post_from_worker(SettingsLoaded(view))

    def on_settings_loaded(self, message: SettingsLoaded) -> None:
        self.show(message.view)

    def show(self, view: SettingsView) -> None:
        self.view = view
        lines = setting_lines(view, self.org)
        self.meanings = {key: meaning for key, _s, _n, meaning in lines}
        self.table.reload(Row(key, (setting, now)) for key, setting, now, _m in lines)
        self._show_meaning()

    @on(DataTable.RowHighlighted, "#campaign-settings")
    def _show_meaning(self) -> None:
        row = self.table.selected_row
        meaning = "" if row is None else self.meanings.get(str(row.id), "")
        self.query_one("#campaign-setting-meaning", Static).update(literal(meaning))

    @on(DataTable.RowSelected, "#campaign-settings")
    def _open(self) -> None:
        if self.writable:
            self.action_edit()

    def action_edit(self) -> None:
        if self.view is not None:
            self.app.push_screen(SettingsForm(self.database, self.actor, self.org, self.view), callback=self._saved)

    def _saved(self, view: SettingsView | None) -> None:
        if view is not None and view != self.view:
            self.show(view)
            self.notify(" ".join(filter(None, ("Campaign settings saved.", view.released_note()))), markup=False)


__all__ = ["CampaignSettingsScreen", "SettingsForm", "setting_lines"]
