"""The takings: what the salon took over a period (a day, the week to a day, a month, or any
first and last day), line by line, with the totals by payment method, professional and service
(the tips beside).

It reads ``core.salon.takings.takings``, the report ``ofisi report takings`` writes, so its
total is what the appointments closed in that time were paid. Keys: ``[``/``]`` the period
before/after (a day, seven days, a month: as long as the one shown), ``t`` today, ``w`` the day
alone or the seven days to it, ``m`` the month, ``p`` any period (from and to; the core refuses
a last day before the first).
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Label, Static

from console.salon.common import EnterConfirms, Rows, RowsLoaded, SalonScreen
from console.widgets.dialog import Dialog
from console.widgets.table import Cell, OfisiTable, Row
from console.widgets.text import literal
from db.types import utcnow

if TYPE_CHECKING:
    from core.salon.takings import Takings


def _month(day: date, months: int = 0) -> tuple[date, date]:
    """The calendar month ``months`` after the one ``day`` is in, as its first and last day."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month + 1, 1), date(year, month + 1, calendar.monthrange(year, month + 1)[1])


class PeriodDialog(EnterConfirms, Dialog[tuple[date, date]]):
    """The first and last day of a period (both whole)."""

    CONFIRM_LABEL = "Show"

    def __init__(self, title: str, first: date, last: date) -> None:
        super().__init__(title)
        self.first, self.last = first, last

    def compose_body(self) -> ComposeResult:
        yield Label("From the first day to the last, both whole (YYYY-MM-DD):")
        yield Input(self.first.isoformat(), placeholder="From, like 2026-11-01", id="period-from", compact=True)
        yield Input(self.last.isoformat(), placeholder="To, like 2026-11-30", id="period-to", compact=True)

    def answer(self) -> tuple[date, date] | None:
        days = []
        for key in ("from", "to"):
            text = self.query_one(f"#period-{key}", Input).value.strip()
            try:
                days.append(date.fromisoformat(text))
            except ValueError:
                self.app.notify(f"{text!r} is not a date; write it like 2026-11-30.", severity="warning",
                                markup=False)
                return None
        return days[0], days[1]


class TakingsScreen(SalonScreen):
    """The takings over a period: a day at first."""

    BINDINGS = [
        *SalonScreen.BINDINGS,
        Binding("left_square_bracket", "move(-1)", "Back", id="takings-back", tooltip="The period before."),
        Binding("right_square_bracket", "move(1)", "On", id="takings-on", tooltip="The period after."),
        Binding("t", "today", "Today", id="takings-today", tooltip="Back to today."),
        Binding("w", "toggle_week", "Day/week", id="takings-week", tooltip="The day alone, or the seven days to it."),
        Binding("m", "month", "Month", id="takings-month", tooltip="The whole month of the last day shown."),
        Binding("p", "period", "Period", id="takings-period", tooltip="Any period: its first and last day."),
    ]

    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, **kw)
        self.first = self.last = self.today()
        self.wanted = (self.first, self.last)
        self.takings: Takings | None = None

    def today(self) -> date:
        return utcnow().astimezone(self.present.tz).date()

    def compose_body(self) -> ComposeResult:
        yield Label("", id="takings-title", classes="pane-title")
        yield Static("", id="takings-totals")
        yield OfisiTable(("At", "Client", "With", "Service", "For", "Method", "Amount"), noun="payments",
                         empty="Nothing taken: a visit completed or a no-show charged shows here.", id="takings")

    def on_mount(self) -> None:
        self.title, self.sub_title = self.org.name, "Takings"
        self.query_one("#takings", OfisiTable).focus()
        self.action_refresh()

    def show(self, first: date, last: date) -> None:
        """Read the takings from ``first`` to ``last``; the screen keeps the period shown until they come."""
        self.wanted = (first, last)
        self.load(first, last)

    def action_refresh(self) -> None:
        self.show(self.first, self.last)

    def action_move(self, by: int) -> None:
        if (self.first, self.last) == _month(self.last):
            self.show(*_month(self.last, by))
            return
        span = (self.last - self.first).days + 1
        self.show(self.first + timedelta(days=by * span), self.last + timedelta(days=by * span))

    def action_today(self) -> None:
        self.show(self.today(), self.today())

    def action_toggle_week(self) -> None:
        week = self.last - timedelta(days=6)
        self.show(self.last if self.first == week else week, self.last)

    def action_month(self) -> None:
        self.show(*_month(self.last))

    def action_period(self) -> None:
        self.app.push_screen(PeriodDialog("The takings from one day to another", self.first, self.last),
                             callback=lambda period: period and self.show(*period))

    @work(thread=True, exclusive=True, group="takings", exit_on_error=False)
    def load(self, first: date, last: date) -> None:
        from core.salon.takings import takings

        with self.database.session() as session:
            taken = takings(session, self.actor, self.org.id, first, last)
        self.post_from_worker(RowsLoaded(Rows("takings", [taken])))

    def on_rows_loaded(self, message: RowsLoaded) -> None:
        taken: Takings = message.rows.rows[0]
        if (taken.first, taken.last) != self.wanted:
            return  # an older read
        self.takings, self.first, self.last = taken, taken.first, taken.last
        p = self.present
        when = p.date(taken.last, "%a %d %b %Y")
        if taken.first != taken.last:
            same_year = taken.first.year == taken.last.year
            when = f"{p.date(taken.first, '%d %b' if same_year else '%d %b %Y')} to {p.date(taken.last, '%d %b %Y')}"
        at = "%H:%M" if taken.first == taken.last else "%d %b %H:%M"

        def split(what: str) -> str:
            return ", ".join(f"{k} {p.money(v)}" for k, v in taken.by(what).items()) or "—"

        self.query_one("#takings-title", Label).update(literal(
            f"Takings {when}: {p.money(taken.total_minor)}  ([ ] move, w, m, p period)"))
        self.query_one("#takings-totals", Static).update(literal("\n".join([
            f"By method: {split('method')}; tips {p.money(taken.tips_minor)}",
            f"By professional: {split('professional')}",
            f"By service: {split('service')}"]), lines=True))
        self.query_one("#takings", OfisiTable).reload(
            Row(i, (Cell(p.time(line.at, at), line.at), line.client,
                    line.professional, line.service, line.kind, line.method,
                    Cell(p.money(line.amount_minor), line.amount_minor)), data=line)
            for i, line in enumerate(taken.lines))
