"""The chama's ledger, newest first, and reversals: ``z`` undoes the highlighted
entry with a reversal that points at it (asks the reason, naming the entry and
its amount), through ``core.chama.ledger.reverse_entry`` as ``ofisi chama reverse``."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message

from console.chama.common import OrgListScreen
from console.widgets.dialog import AskText
from console.widgets.table import Cell, OfisiTable, Row
from core.chama import ledger
from core.chama.ledger import EntryView


class EntriesLoaded(Message):
    def __init__(self, rows: list[EntryView]) -> None:
        super().__init__()
        self.rows = rows


class LedgerScreen(OrgListScreen):
    SUBTITLE, TABLE = "Ledger", "entries"
    """Recent ledger entries; ``z`` reverses the one under the cursor."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("z", "reverse", "Reverse", id="entry-reverse",
                tooltip="Undo the highlighted entry with a reversal (asks the reason; the member is told)."),
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
