"""The chama's rules as a treasurer reads them (``core.chama.settings.describe_settings``),
and ``e`` changes the highlighted one, whatever it holds: a rule of several values
(the contribution's amount, frequency and due day; the late fine and its grace
days; the loan interest and its kind; the late-loan penalty, grace and default)
opens one form with a line for each, filled with what it is now. The answers are
read by ``core.chama.settings.rule_changes`` and saved by ``update_settings``, as
``ofisi chama settings`` does, so a value of the wrong kind or a rule that could
never be met (more approvals than officials) comes back as a notice saying why,
and nothing is half-changed."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Label

from console.chama.common import OrgListScreen
from console.widgets.dialog import Dialog
from console.widgets.table import OfisiTable, Row
from console.widgets.text import literal
from core.chama import settings
from core.chama.settings import RULES, ChamaSettingsView


class SettingsLoaded(Message):
    def __init__(self, view: ChamaSettingsView) -> None:
        super().__init__()
        self.view = view


class RuleForm(Dialog[dict[str, str]]):
    """A line for each value of one rule, filled with what it is now."""

    CONFIRM_LABEL = "Save"
    DEFAULT_CSS = """
    RuleForm .rule-line { height: auto; }
    RuleForm .rule-line Label { width: 1fr; padding: 1 1 0 0; }
    RuleForm .rule-line Input { width: 26; }
    """

    def __init__(self, title: str, label: str, view: ChamaSettingsView) -> None:
        super().__init__(title)
        self.fields = RULES[label]
        self.view = view

    def compose_body(self) -> ComposeResult:
        for rule_field in self.fields:  # a line each, so three values and the buttons fit 24 rows
            with Horizontal(classes="rule-line"):
                yield Label(literal(rule_field.question))
                yield Input(rule_field.now(self.view), id=f"rule-{rule_field.key}")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == f"rule-{self.fields[-1].key}":
            self.action_confirm()
        else:
            self.focus_next()

    def answer(self) -> dict[str, str]:
        return {f.key: self.query_one(f"#rule-{f.key}", Input).value for f in self.fields}


class SettingsScreen(OrgListScreen):
    SUBTITLE, TABLE = "Rules", "settings"
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("e", "edit", "Change", id="setting-edit", tooltip="Change the highlighted rule."),
    ]

    view: ChamaSettingsView | None = None

    def compose_body(self) -> ComposeResult:
        yield OfisiTable(("Rule", "Now"), noun="rules", id="settings", empty="No rules yet.")

    @work(thread=True, exclusive=True, group="settings", exit_on_error=False)
    def load(self) -> None:
        with self.database.session() as session:
            view = settings.get_settings(session, self.actor, self.org.id)
        self.post_from_worker(SettingsLoaded(view))

    def on_settings_loaded(self, message: SettingsLoaded) -> None:
        self.view = message.view
        self.query_one("#settings", OfisiTable).reload(
            Row(label, (label, value), data=label) for label, value in settings.describe_settings(message.view))

    def action_edit(self) -> None:
        row = self.query_one("#settings", OfisiTable).selected_row
        if row is None or self.view is None:
            return
        label = row.data
        self.app.push_screen(RuleForm(f"Change the {label} of {self.org.name}", label, self.view),
                             callback=lambda answers: answers and self.save(label, answers))

    @work(thread=True, group="settings-save", exit_on_error=False)
    def save(self, label: str, answers: dict[str, str]) -> None:
        with self.database.session() as session:
            now = settings.get_settings(session, self.actor, self.org.id)
            changes = settings.rule_changes(now, label, answers)
            after = settings.update_settings(session, self.actor, self.org.id, **changes)
        said = "is changed" if after != now else "is as it was"
        self.app.call_from_thread(self.notify, f"The {label} {said}.", markup=False)
        self.app.call_from_thread(self.load)
