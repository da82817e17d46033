"""One member's statement: opening balance, every entry, closing balance."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Label

from console.chama.common import OrgModal
from console.widgets.table import LiteralTable
from console.widgets.text import literal
from core.actors import Actor
from core.chama import statements
from core.orgs import OrgView
from db.engine import Database


class StatementModal(OrgModal):
    """One member's statement: opening balance, every entry, closing balance."""

    def __init__(self, database: Database, actor: Actor, org: OrgView, member_id: int) -> None:
        super().__init__(database, actor, org)
        self.member_id = member_id

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide", id="statement"):
            yield Label("", id="statement-title", classes="form-title")
            yield LiteralTable(id="statement-lines", zebra_stripes=True)

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exit_on_error=False)
    def load(self) -> None:
        with self.database.session() as session:
            st = statements.statement(session, self.actor, self.org.id, member_id=self.member_id)
        table = statements.table_as_text(st)
        self.app.call_from_thread(self.show, st.title, table)

    def show(self, title: str, table) -> None:
        self.query_one("#statement-title", Label).update(literal(title))
        lines = self.query_one("#statement-lines", DataTable)
        lines.add_columns(*table.columns)
        for row in table.rows:
            lines.add_row(*(str(cell) for cell in row))
        lines.focus()

