"""The takings: what the salon took on one day, or over the week to it, line by line, with the
totals by payment method, professional and service (the tips beside).

It reads ``core.salon.takings.takings``, the report ``ofisi report takings`` writes, so its
total is what the appointments closed in that time were paid. Keys: ``[``/``]`` a day back/on,
``t`` today, ``w`` the day alone or the seven days to it.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Label, Static

from console.salon.common import Rows, RowsLoaded, SalonScreen
from console.widgets.table import Cell, OfisiTable, Row
from console.widgets.text import literal
from db.types import utcnow

if TYPE_CHECKING:
    from core.salon.takings import Takings


class TakingsScreen(SalonScreen):
    """One day's (or seven days') takings."""

    BINDINGS = [
        *SalonScreen.BINDINGS,
        Binding("left_square_bracket", "move(-1)", "Day back", id="takings-back", tooltip="The day before."),
        Binding("right_square_bracket", "move(1)", "Day on", id="takings-on", tooltip="The next day."),
        Binding("t", "today", "Today", id="takings-today", tooltip="Back to today."),
        Binding("w", "toggle_week", "Day/week", id="takings-week", tooltip="The day alone, or the seven days to it."),
    ]

    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, **kw)
        self.day = self.today()
        self.week = False
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

    def action_refresh(self) -> None:
        self.load(self.day, self.week)

    def action_move(self, days: int) -> None:
        self.day += timedelta(days=days)
        self.action_refresh()

    def action_today(self) -> None:
        self.day = self.today()
        self.action_refresh()

    def action_toggle_week(self) -> None:
        self.week = not self.week
        self.action_refresh()

    @work(thread=True, exclusive=True, group="takings", exit_on_error=False)
    def load(self, day: date, week: bool) -> None:
        from core.salon.takings import takings

        first = day - timedelta(days=6) if week else day
        with self.database.session() as session:
            taken = takings(session, self.actor, self.org.id, first, day)
        self.post_from_worker(RowsLoaded(Rows("takings", [taken])))

    def on_rows_loaded(self, message: RowsLoaded) -> None:
        taken: Takings = message.rows.rows[0]
        if (taken.last, taken.first) != (self.day, self.day - timedelta(days=6) if self.week else self.day):
            return  # an older read
        self.takings = taken
        p = self.present
        when = p.date(taken.last, "%a %d %b %Y")
        if taken.first != taken.last:
            when = f"{p.date(taken.first, '%a %d %b')} to {when}"

        def split(what: str) -> str:
            return ", ".join(f"{k} {p.money(v)}" for k, v in taken.by(what).items()) or "—"

        self.query_one("#takings-title", Label).update(literal(
            f"Takings {when}: {p.money(taken.total_minor)}  ([ ] day, t today, w week)"))
        self.query_one("#takings-totals", Static).update(literal("\n".join([
            f"By method: {split('method')}; tips {p.money(taken.tips_minor)}",
            f"By professional: {split('professional')}",
            f"By service: {split('service')}"]), lines=True))
        self.query_one("#takings", OfisiTable).reload(
            Row(i, (Cell(p.time(line.at, "%d %b %H:%M" if self.week else "%H:%M"), line.at), line.client,
                    line.professional, line.service, line.kind, line.method,
                    Cell(p.money(line.amount_minor), line.amount_minor)), data=line)
            for i, line in enumerate(taken.lines))
