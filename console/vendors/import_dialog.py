"""The vendor import dialog: check a file first (a dry run, nothing written), show every bad row, then import."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label, Static
from textual.worker import Worker, WorkerState

from console.base import ConsoleModal
from console.widgets.table import Cell, OfisiTable, Row
from console.widgets.text import literal
from core.actors import Actor
from core.orgs import OrgView
from db.engine import Database

if TYPE_CHECKING:
    from core.vendors import VendorImportReport


class ImportChecked(Message):
    def __init__(self, report: VendorImportReport, written: bool) -> None:
        super().__init__()
        self.report, self.written = report, written


class VendorImportScreen(ConsoleModal):
    """Check a file (nothing written), show its bad rows, then import the good ones."""

    CSS_PATH = "vendors.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel-import")]

    def __init__(self, database: Database, actor: Actor, org: OrgView) -> None:
        super().__init__(database)
        self.actor, self.org = actor, org
        self.checked: VendorImportReport | None = None
        self.checked_path: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="vendor-import"):
            yield Label(literal(f"Import vendors into {self.org.name}"), classes="form-title")
            yield Label("File (.csv or .xlsx)")
            yield Input(id="import-path", placeholder="/path/to/vendors.csv")
            yield Static("Check the file first: nothing is written until you import.", id="import-summary",
                         markup=False)
            yield OfisiTable(("Line", "Field", "Problem"), noun="problems",
                             empty="No problems found yet: check a file.", id="import-errors")
            with Horizontal(classes="buttons"):
                yield Button("Check", id="check-import", variant="primary")
                yield Button("Import", id="commit-import", variant="success", disabled=True)
                yield Button("Cancel", id="cancel-import")

    def on_mount(self) -> None:
        self.query_one("#import-path", Input).focus()

    @on(Input.Changed, "#import-path")
    def _path_changed(self) -> None:
        self.query_one("#commit-import", Button).disabled = True

    @on(Input.Submitted, "#import-path")
    @on(Button.Pressed, "#check-import")
    def _check(self) -> None:
        path = self.query_one("#import-path", Input).value.strip()
        self.query_one("#check-import", Button).disabled = True
        self.run_import(path, dry_run=True)

    @on(Button.Pressed, "#commit-import")
    def _commit(self) -> None:
        if self.checked_path is None:
            return
        self.query_one("#commit-import", Button).disabled = True
        self.run_import(self.checked_path, dry_run=False)

    @work(thread=True, exclusive=True, group="vendor-import", exit_on_error=False)
    def run_import(self, path: str, *, dry_run: bool) -> None:
        from core.vendors import import_vendors, read_vendor_file

        data = read_vendor_file(Path(path).expanduser())
        with self.database.session() as session:
            report = import_vendors(session, self.actor, self.org.id, data, dry_run=dry_run, skip_invalid=True)
        self.checked_path = path
        self.post_from_worker(ImportChecked(report, written=not dry_run))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "vendor-import" and event.state in (WorkerState.ERROR, WorkerState.CANCELLED):
            self.query_one("#check-import", Button).disabled = False
            self.checked_path = None

    def on_import_checked(self, message: ImportChecked) -> None:
        report = message.report
        if message.written:
            self.app.notify(f"{report.file}: {report.created} created, {report.updated} updated, "
                            f"{report.unchanged} unchanged, {report.invalid} rows skipped.", markup=False)
            self.dismiss(report)
            return
        self.checked = report
        self.query_one("#import-errors", OfisiTable).reload(
            Row(index, (Cell(str(problem.row), problem.row), problem.field.replace("_", " "), problem.message))
            for index, problem in enumerate(report.errors))
        verdict = (f"{report.invalid} rows have problems (listed below) and will be skipped. " if report.invalid
                   else "Every row is fine. ")
        self.query_one("#import-summary", Static).update(
            f"{report.rows} rows: {report.valid} valid, {report.invalid} invalid; would create {report.created}, "
            f"update {report.updated}, leave {report.unchanged} unchanged ({report.duplicates} duplicate rows, "
            f"{report.blank} blank lines). {verdict}Nothing has been written yet.")
        self.query_one("#check-import", Button).disabled = False
        commit = self.query_one("#commit-import", Button)
        commit.disabled = report.valid == 0 or not (report.created or report.updated)
        commit.label = f"Import {report.created + report.updated} vendors"

    @on(Button.Pressed, "#cancel-import")
    def action_cancel(self) -> None:
        self.dismiss(None)
