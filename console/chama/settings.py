"""The chama's rules as a treasurer reads them (``core.chama.settings.describe_settings``),
and ``e`` changes the highlighted one where it is a single value (the contribution,
reminder days, approvals, overpayment, SMS receipts) through ``update_settings``,
which refuses a rule that could never be met (say, more approvals than officials).
The rest are changed with ``ofisi chama settings``."""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message

from console.chama.common import OrgListScreen
from console.widgets.dialog import AskText
from console.widgets.table import OfisiTable, Row
from core.chama import settings
from core.errors import InvalidInput
from core.money import parse_money

# label -> (setting, what the answer is)
EDITS = {"contribution": ("contribution_minor", "money"), "reminder": ("reminder_days", "days"),
         "approvals": ("approvals_required", "count"), "overpayment": ("overpayment", "savings or refund"),
         "SMS receipts": ("sms_receipts", "on or off")}


def parse_setting(kind: str, text: str, currency: str) -> Any:
    text = text.strip().lower()
    if kind == "money":
        return parse_money(text, currency)
    if kind in ("days", "count"):
        if not text.isdigit():
            raise InvalidInput(f"{text!r} is not a whole number.")
        return int(text)
    if kind == "on or off":
        if text not in ("on", "off"):
            raise InvalidInput("Answer on or off.")
        return text == "on"
    return text


class SettingsLoaded(Message):
    def __init__(self, lines: list[tuple[str, str]]) -> None:
        super().__init__()
        self.lines = lines


class SettingsScreen(OrgListScreen):
    SUBTITLE, TABLE = "Rules", "settings"
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("e", "edit", "Change", id="setting-edit", tooltip="Change the highlighted rule."),
    ]

    def compose_body(self) -> ComposeResult:
        yield OfisiTable(("Rule", "Now", "Change"), noun="rules", id="settings", empty="No rules yet.")

    @work(thread=True, exclusive=True, group="settings", exit_on_error=False)
    def load(self) -> None:
        with self.database.session() as session:
            lines = settings.describe_settings(settings.get_settings(session, self.actor, self.org.id))
        self.post_from_worker(SettingsLoaded(lines))

    def on_settings_loaded(self, message: SettingsLoaded) -> None:
        self.query_one("#settings", OfisiTable).reload(
            Row(label, (label, value, "e" if label in EDITS else "ofisi chama settings"), data=label)
            for label, value in message.lines)

    def action_edit(self) -> None:
        row = self.query_one("#settings", OfisiTable).selected_row
        if row is None:
            return
        if row.data not in EDITS:
            self.notify(f"Change the {row.data} with `ofisi chama settings`.", markup=False)
            return
        name, kind = EDITS[row.data]
        self.app.push_screen(AskText(f"Change the {row.data} of {self.org.name}", f"Now: {row.cells[1]}. New ({kind}):",
                                     confirm_label="Save"),
                             callback=lambda text: text and self.save(row.data, name, kind, text))

    @work(thread=True, group="settings-save", exit_on_error=False)
    def save(self, label: str, name: str, kind: str, text: str) -> None:
        value = parse_setting(kind, text, self.org.currency)
        with self.database.session() as session:
            settings.update_settings(session, self.actor, self.org.id, **{name: value})
        self.app.call_from_thread(self.notify, f"The {label} is changed.")
        self.app.call_from_thread(self.load)
