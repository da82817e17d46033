"""The salon's figures for the last 12 weeks: bookings and revenue per week as
bar charts (labelled weeks, values beside the bars), and the rates below."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from console.salon.common import Rows, RowsLoaded, SalonScreen
from console.widgets.chart import BarChart
from console.widgets.text import literal

if TYPE_CHECKING:
    from core.salon.analytics import SalonAnalytics


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.0%}"


class AnalyticsScreen(SalonScreen):
    """The figures for the last 12 weeks."""

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="analytics"):
            yield Static("", id="figures")
            yield BarChart("Bookings per week", axis="Week of", unit="bookings", id="bookings-chart")
            yield BarChart("Revenue per week", axis="Week of", unit=self.org.currency, id="revenue-chart")

    def on_mount(self) -> None:
        self.title, self.sub_title = self.org.name, "Figures"
        self.action_refresh()

    def action_refresh(self) -> None:
        self.load_figures()

    @work(thread=True, exclusive=True, group="figures", exit_on_error=False)
    def load_figures(self) -> None:
        from core.salon.analytics import salon_analytics

        with self.database.session() as session:
            figures = salon_analytics(session, self.actor, self.org.id)
        self.post_from_worker(RowsLoaded(Rows("figures", [figures])))

    def on_rows_loaded(self, message: RowsLoaded) -> None:
        figures: SalonAnalytics = message.rows.rows[0]
        money = self.present.money
        weeks = [self.present.date(w.week_start, "%d %b") for w in figures.weeks]
        self.query_one("#bookings-chart", BarChart).plot(list(zip(weeks, (w.bookings for w in figures.weeks))))
        self.query_one("#revenue-chart", BarChart).plot(
            list(zip(weeks, (w.revenue_minor for w in figures.weeks))), shown=lambda v: money(int(v)))
        last = figures.weeks[-1]
        lines = [
            f"This week: {last.bookings} bookings, {money(last.revenue_minor)}; "
            f"12 weeks: {sum(w.bookings for w in figures.weeks)} bookings, "
            f"{money(sum(w.revenue_minor for w in figures.weeks))}",
            "Services: " + (", ".join(f"{name} {n}" for name, n in figures.services[:6]) or "none booked yet"),
            f"No-show rate: {_percent(figures.no_show_rate)}",
            f"Clients back within 90 days: {_percent(figures.retention_rate)} "
            f"({figures.retained_clients} of {figures.eligible_clients})",
            f"Lead conversion: {_percent(figures.lead_conversion_rate)}",
        ]
        for source in figures.lead_sources:
            wait = source.median_first_response_minutes
            lines.append(f"  {source.source}: {source.leads} leads, {_percent(source.conversion_rate)} converted, "
                         f"median first response {'—' if wait is None else f'{wait:.0f} min'}")
        self.query_one("#figures", Static).update(literal("\n".join(lines), lines=True))
