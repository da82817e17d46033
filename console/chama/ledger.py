"""The chama's ledger, newest first, and reversals: ``z`` undoes the highlighted
entry with a reversal that points at it (asks the reason, naming the entry and
its amount), through ``core.chama.ledger.reverse_entry`` as ``ofisi chama reverse``.
``v`` opens the highlighted entry and ``g`` any entry by its number (the ``Ref``
a member reads on her SMS receipt), through ``ledger.get_entry`` as
``ofisi chama entry``."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message

from console.chama.common import OrgListScreen
from console.widgets.dialog import AskText, Dialog
from console.widgets.table import Cell, OfisiTable, Row
from core.chama import ledger
from core.chama.ledger import EntryView
from core.chama.members import get_member


class EntriesLoaded(Message):
    def __init__(self, rows: list[EntryView]) -> None:
        super().__init__()
        self.rows = rows


class EntryShown(Message):
    def __init__(self, entry: EntryView, lines: list[tuple[str, str]]) -> None:
        super().__init__()
        self.entry, self.lines = entry, lines


class EntryDialog(Dialog[None]):
    """One entry's lines (``ledger.entry_details``); it only closes."""

    CONFIRM_LABEL = "Close"
    CANCEL_BUTTON = False
    DEFAULT_CSS = "EntryDialog #entry-lines { height: auto; max-height: 15; }"

    def __init__(self, title: str, lines: list[tuple[str, str]]) -> None:
        super().__init__(title)
        self.lines = lines

    def compose_body(self) -> ComposeResult:
        yield OfisiTable(("", ""), noun="lines", id="entry-lines", empty="Nothing to show.")

    def on_mount(self) -> None:
        lines = self.query_one("#entry-lines", OfisiTable)
        lines.show_header = False  # label and value: a header would take a row 24 lines cannot spare
        lines.reload(Row(label, (label, value), data=label) for label, value in self.lines)
        self.query_one("#dialog-confirm-button").focus()  # Enter closes it, as the footer says

    def answer(self) -> None:
        self.dismiss(None)
        return None


class LedgerScreen(OrgListScreen):
    SUBTITLE, TABLE = "Ledger", "entries"
    """Recent ledger entries; ``z`` reverses the one under the cursor."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("z", "reverse", "Reverse", id="entry-reverse",
                tooltip="Undo the highlighted entry with a reversal (asks the reason; the member is told)."),
        Binding("v", "view", "Open", id="entry-view", tooltip="Everything about the highlighted entry."),
        Binding("g", "find", "Entry no.", id="entry-find",
                tooltip="Open an entry by its number: the Ref on a member's SMS receipt."),
    ]

    def compose_body(self) -> ComposeResult:
        yield OfisiTable(("Entry", "When", "What", "Amount", "Source", "Reference", "Reversed"), noun="entries",
                         id="entries", empty="Nothing on the books yet.")

    @work(thread=True, exclusive=True, group="entries", exit_on_error=False)
    def load(self) -> None:
        with self.database.session() as session:
            rows = ledger.list_entries(session, self.actor, self.org.id, limit=200)
        self.post_from_worker(EntriesLoaded(rows))

    def on_entries_loaded(self, message: EntriesLoaded) -> None:
        p = self.present
        self.query_one("#entries", OfisiTable).reload(
            Row(e.id, (Cell(str(e.id), e.id), Cell(p.time(e.occurred_at), e.occurred_at),
                       ledger.describe(e, self.org.currency), Cell(p.money(e.amount_minor), e.amount_minor),
                       e.source, e.reference or "", f"by {e.reversed_by_id}" if e.reversed_by_id else ""), data=e)
            for e in sorted(message.rows, key=lambda e: e.id, reverse=True))

    def action_view(self) -> None:
        row = self.query_one("#entries", OfisiTable).selected_row
        if row is not None:
            self.open_entry(row.data.id)

    def action_find(self) -> None:
        self.app.push_screen(AskText(f"Open an entry of {self.org.name}", "Entry number (the Ref on an SMS receipt):",
                                     confirm_label="Open"),
                             callback=lambda text: text and self.open_entry_numbered(text))

    def open_entry_numbered(self, text: str) -> None:
        number = text.strip().lstrip("#")
        if not number.isdigit():
            self.notify(f"{text!r} is not an entry number; it is the digits after Ref.", markup=False,
                        severity="warning")
            return
        self.open_entry(int(number))

    @work(thread=True, group="entry-open", exit_on_error=False)
    def open_entry(self, entry_id: int) -> None:
        with self.database.session() as session:
            entry = ledger.get_entry(session, self.actor, self.org.id, entry_id)
            who = get_member(session, self.actor, self.org.id, entry.member_id).label if entry.member_id else None
        self.post_from_worker(EntryShown(entry, ledger.entry_details(entry, self.org.currency, who, self.org.tz)))

    def on_entry_shown(self, message: EntryShown) -> None:
        self.query_one("#entries", OfisiTable).move_to(message.entry.id)
        self.app.push_screen(EntryDialog(f"Entry {message.entry.id} of {self.org.name}", message.lines))

    def action_reverse(self) -> None:
        row = self.query_one("#entries", OfisiTable).selected_row
        if row is None:
            return
        e: EntryView = row.data
        self.app.push_screen(
            AskText(f"Reverse entry {e.id}: {ledger.describe(e, self.org.currency)}",
                    f"Why is this {self.present.money(e.amount_minor)} undone? Kept with the reversal.",
                    confirm_label="Reverse"),
            callback=lambda reason: reason and self.reverse(e.id, reason))

    @work(thread=True, group="entry-reverse", exit_on_error=False)
    def reverse(self, entry_id: int, reason: str) -> None:
        with self.database.session() as session:
            done = ledger.reverse_entry(session, self.actor, self.org.id, entry_id, reason=reason)
        self.app.call_from_thread(self.notify, f"Entry {entry_id} is reversed by entry {done.id}.")
        self.app.call_from_thread(self.load)
