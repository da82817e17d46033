"""The reports an AGM reads, in the console: the six of ``core.chama.agm``
listed on the left, the chosen one shown in full, and ``e`` writes it to a
.csv, .xlsx or .pdf file at the path the official types (the same
``build_report`` and ``write_report`` that ``ofisi report`` uses)."""

from __future__ import annotations

from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import DataTable

from console.chama.common import OrgListScreen
from console.widgets.dialog import AskText
from console.widgets.table import Cell, OfisiTable, Row
from core.chama.agm import REPORTS, Report, build_report, write_report
from core.errors import InvalidInput

TITLES = {"contributions": "Contribution register", "loans": "Loan book and ageing", "fines": "Fines register",
          "income": "Income and expenditure", "attendance": "Meeting attendance", "shareout": "Share-out statement"}


class AgmReportLoaded(Message):
    def __init__(self, report: Report) -> None:
        super().__init__()
        self.report = report


class AgmReportsScreen(OrgListScreen):
    SUBTITLE, TABLE = "AGM reports", "agm-list"
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("e", "export", "Export", id="agm-export",
                tooltip="Write the report shown to a .csv, .xlsx or .pdf file (the path's ending says which)."),
    ]
    DEFAULT_CSS = "#agm-list { width: 28; } #agm-report { width: 1fr; }"

    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, **kw)
        self.report: Report | None = None

    def compose_body(self) -> ComposeResult:
        with Horizontal():
            yield OfisiTable(("Report",), noun="reports", id="agm-list", empty="No reports.")
            yield OfisiTable(("Report",), noun="rows", id="agm-report", empty="Choose a report on the left.")

    def load(self) -> None:
        self.query_one("#agm-list", OfisiTable).reload(
            Row(name, (TITLES.get(name, name),), data=name) for name in REPORTS)
        self.show("contributions")

    @on(DataTable.RowHighlighted, "#agm-list")
    def _chosen(self) -> None:
        row = self.query_one("#agm-list", OfisiTable).selected_row
        if row is not None and (self.report is None or self.report.name != row.data):
            self.show(row.data)

    @work(thread=True, exclusive=True, group="agm-report", exit_on_error=False)
    def show(self, name: str) -> None:
        with self.database.session() as session:
            report = build_report(session, self.actor, self.org.id, name)
        self.post_from_worker(AgmReportLoaded(report))

    async def on_agm_report_loaded(self, message: AgmReportLoaded) -> None:
        report = self.report = message.report
        self.sub_title = f"AGM reports: {report.title}"
        # Each report has its own columns: a fresh table for it.
        await self.query_one("#agm-report", OfisiTable).remove()
        table = OfisiTable(report.columns, noun="rows", id="agm-report", empty="Nothing in this report yet.")
        await self.query_one(Horizontal).mount(table)
        table.reload(Row(n, tuple(Cell(report.cell_text(i, v), v) for i, v in enumerate(row)), data=row)
                     for n, row in enumerate(report.all_rows()))

    def action_export(self) -> None:
        if (report := self.report) is not None:
            self.app.push_screen(AskText(f"Export {report.title}", "Write it to (ends in .csv, .xlsx or .pdf):",
                                         confirm_label="Export", value=f"{report.name}.xlsx"),
                                 callback=lambda path: path and self.export(report, path))

    @work(thread=True, group="agm-export", exit_on_error=False)
    def export(self, report: Report, path: str) -> None:
        out = Path(path.strip()).expanduser()
        fmt = out.suffix.lower().lstrip(".")
        if fmt not in ("csv", "xlsx", "pdf"):
            raise InvalidInput(f"{out.name} does not end in .csv, .xlsx or .pdf; say which by the file's ending.")
        write_report(report, fmt, out)
        self.app.call_from_thread(self.notify, f"{report.title} written to {out}.", markup=False)
