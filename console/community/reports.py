"""The community's reports in the console: member growth, attendance and no-shows per event, and the
most active members, each as a labelled bar chart over its table (the same
:class:`core.community.reports.Report` that ``ofisi report`` writes as CSV, XLSX and JSON).

``1``/``2``/``3`` switch report; ``[`` and ``]`` move the period a month back
or forward (growth always shows the 12 months to the chosen one).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static

from console.base import ConsoleScreen
from console.community.common import CSS
from console.widgets.chart import BarChart
from console.widgets.present import Presenter
from console.widgets.table import Cell, OfisiTable, Row
from console.widgets.text import literal
from core.actors import Actor
from core.community.reports import Report, community_report
from core.orgs import OrgView
from db.engine import Database

# What each report charts: the chart's title, its axis, the label column, the value column and its unit.
CHARTS = {
    "growth": ("Members who joined", "Month", "month", "joined", "members"),
    "attendance": ("No-show rate per event", "Event", "title", "no_show_rate", "%"),
    "active": ("Most active members", "Member", "name", "score", "points"),
}


class ReportLoaded(Message):
    def __init__(self, report: Report) -> None:
        super().__init__()
        self.report = report


def bars_of(report: Report) -> list[tuple[str, float]]:
    """The (label, value) pairs the chart draws: one per row, rates as percentages."""
    _title, _axis, label, value, unit = CHARTS[report.name]
    at_label, at_value = report.columns.index(label), report.columns.index(value)
    scale = 100 if unit == "%" else 1
    return [(str(row[at_label]), float(row[at_value] or 0) * scale) for row in report.rows]


class ReportsScreen(ConsoleScreen):
    """One report at a time: a chart of its main figure, then every row."""

    CSS_PATH = CSS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("1", "show('growth')", "Growth", tooltip="Members who joined each month, and the total."),
        Binding("2", "show('attendance')", "Attendance",
                tooltip="Per event that has ended: places, who came, no-shows and the no-show rate."),
        Binding("3", "show('active')", "Most active",
                tooltip="Members ranked by registrations, attendance (two points), posts and comments."),
        Binding("left_square_bracket", "month(-1)", "Month back", tooltip="The period a month earlier."),
        Binding("right_square_bracket", "month(1)", "Month on", tooltip="The period a month later."),
    ]

    def __init__(self, database: Database, actor: Actor, org: OrgView, *, now: datetime | None = None) -> None:
        super().__init__(database)
        self.actor, self.org = actor, org
        self.present = Presenter.for_org(org)
        self.name_shown = "growth"
        self.until = now or datetime.now(org.tz)

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="community-report"):
            yield Static("", id="report-title")
            yield BarChart("", id="report-chart")
            yield OfisiTable(("Report",), noun="rows", id="report-rows", empty="Loading…")

    def on_mount(self) -> None:
        self.sub_title = "Reports"
        self.load()

    def action_show(self, name: str) -> None:
        self.name_shown = name
        self.load()

    def action_month(self, step: int) -> None:
        self.until += timedelta(days=31 * step)
        self.load()

    @work(thread=True, exclusive=True, group="community-report", exit_on_error=False)
    def load(self) -> None:
        until = self.until
        since = until - timedelta(days=365) if self.name_shown != "growth" else None
        with self.database.session() as session:
            report = community_report(session, self.actor, self.org.id, self.name_shown, since=since,
                                      until=until, now=until)
        self.post_from_worker(ReportLoaded(report))

    async def on_report_loaded(self, message: ReportLoaded) -> None:
        report = message.report
        self.title = report.title
        title, axis, _label, _value, unit = CHARTS[report.name]
        period = self.present.date(self.until, "%d %b %Y")
        self.query_one("#report-title", Static).update(
            literal(f"{report.title}, to {period}   (1 growth · 2 attendance · 3 most active · [ ] month)"))
        chart = self.query_one("#report-chart", BarChart)
        chart.title, chart.axis, chart.unit = title, axis, unit
        chart.plot(bars_of(report)[:15], shown=(lambda v: f"{v:.0f}%") if unit == "%" else (lambda v: f"{v:,.0f}"))
        # Each report has its own columns: a fresh table for it.
        await self.query_one("#report-rows", OfisiTable).remove()
        table = OfisiTable([c.replace("_", " ").capitalize() for c in report.columns], noun="rows",
                           id="report-rows", empty="Nothing in this period yet.")
        await self.query_one("#community-report", VerticalScroll).mount(table)
        table.reload(Row(index, tuple(Cell("" if v is None else str(v), v) for v in row), data=row)
                     for index, row in enumerate(report.rows))
