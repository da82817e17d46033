"""The agency's report in the console: placements and their money by the month each worker was
placed, and the total, read from the one book (:func:`core.agency.reports.agency_report`), so the
board, this screen and the export agree.

``x`` writes the placements to a ``.csv`` or ``.xlsx`` file whose path the person gives (money in
the currency's own units, phones masked, as ``ofisi export placements``); ``r`` reads again.
"""

from __future__ import annotations

from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Label, Static

from console.agency.screen import AgencyScreen
from console.widgets.dialog import AskText
from console.widgets.table import Cell, OfisiTable, Row
from console.widgets.text import literal
from core.agency.reports import AgencyReport, MonthRow


class ReportLoaded(Message):
    def __init__(self, report: AgencyReport) -> None:
        super().__init__()
        self.report = report


class Exported(Message):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


def received(row: MonthRow) -> int:
    return row.fee_received_minor + row.commission_received_minor


class ReportScreen(AgencyScreen):
    """Fees charged, received, refunded, waived and owed, a month a row, with the total under them."""

    SUBTITLE = "Report"
    BINDINGS = [
        Binding("x", "export", "Export placements", id="report-export",
                tooltip="Write every placement with its money to a .csv or .xlsx file."),
        Binding("r,f5", "refresh", "Refresh", id="report-refresh"),
    ]

    def compose_body(self) -> ComposeResult:
        yield Label("Placements and money by month placed", classes="pane-title")
        yield OfisiTable(("Month", "Placed", "Charged", "Received", "Refunded", "Waived", "Owed", "Days"),
                         noun="months", empty="No placements with money yet.", id="agency-report-months")
        yield Static("", id="report-total", markup=False)
        yield Static("", id="report-status", markup=False)

    @work(thread=True, exclusive=True, group="agency-report", exit_on_error=False)
    def load(self) -> None:
        from core.agency.reports import agency_report

        with self.database.session() as session:
            report = agency_report(session, self.actor, self.org.id)
        self.post_from_worker(ReportLoaded(report))

    def on_report_loaded(self, message: ReportLoaded) -> None:
        money = self.present.money

        def cells(r: MonthRow) -> tuple:
            charged = r.fee_minor + r.commission_minor
            days = r.average_days_to_placement
            return (r.month, r.placed, Cell(money(charged), charged), Cell(money(received(r)), received(r)),
                    Cell(money(r.refunded_minor), r.refunded_minor), Cell(money(r.waived_minor), r.waived_minor),
                    Cell(money(r.owed_minor), r.owed_minor), "" if days is None else days)

        report = message.report
        self.query_one(OfisiTable).reload(Row(r.month, cells(r), data=r) for r in report.months)
        t = report.total
        self.query_one("#report-total", Static).update(literal(
            f"Total: {t.placed} placed, charged {money(t.fee_minor + t.commission_minor)}, received "
            f"{money(received(t))}, refunded {money(t.refunded_minor)}, waived {money(t.waived_minor)}, "
            f"owed {money(t.owed_minor)}."))
        self.query_one("#report-status", Static).update(literal(
            "Placements now: " + (", ".join(f"{n} {status}" for status, n in sorted(report.by_status.items()))
                                  or "none") + "."))

    def action_export(self) -> None:
        self.app.push_screen(
            AskText("Export the placements", "Write to which file? (.csv or .xlsx)",
                    value=str(Path.cwd() / f"placements-{self.org.slug}.csv"), confirm_label="Export"),
            callback=lambda path: path and self.export(path))

    @work(thread=True, group="agency-report-write", exit_on_error=False)
    def export(self, path: str) -> None:
        from core.agency.exports import write_export
        from core.errors import InvalidInput

        target = Path(path).expanduser()
        with self.database.session() as session:
            try:
                count = write_export(session, self.actor, self.org.id, "placements", target)
            except OSError as failed:
                raise InvalidInput(f"Could not write {target} ({failed.strerror or failed}): "
                                   "choose a folder you can write to.") from None
        self.post_from_worker(Exported(f"{count} placement{'' if count == 1 else 's'} written to {target}."))

    def on_exported(self, message: Exported) -> None:
        self.notify(message.text, markup=False)
