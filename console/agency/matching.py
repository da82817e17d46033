"""Matching from the console: an employer's needs asked in a form, then the available, verified
workers ranked against them (:func:`core.agency.matching.match_workers`) with the reasons.

``t`` on an employer opens :func:`requirements_form` (skills, languages, town, accommodation,
the salary range, the start date; the town starts as the employer's); :class:`MatchScreen` lists
the best matches, phones masked as on every agency pane, and Enter (or ``o``) on one returns that
worker so the home proposes her to the employer with the fee.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Label, Static

from console.agency.forms import Field, FormDialog, day_of
from console.agency.screen import AgencyScreen
from console.widgets.table import OfisiTable, Row
from console.widgets.text import literal
from core.actors import Actor
from core.agency.employers import EmployerView
from core.agency.matching import Match, Requirements
from core.money import parse_money
from core.orgs import OrgView
from db.engine import Database

ACCOMMODATION = [("any", ""), ("live in", "live_in"), ("live out", "live_out")]
MATCHES = 20


def requirements_form(who: str, employer: EmployerView, currency: str) -> FormDialog:
    return FormDialog(f"Match workers for {who}", [
        Field("skills", "Skills", placeholder="cooking, childcare"),
        Field("languages", "Languages", placeholder="English, Swahili"),
        Field("location", "Town", employer.location),
        Field("accommodation", "Accommodation", "", options=ACCOMMODATION),
        Field("salary_min", "Salary from", placeholder=f"{currency} a month"),
        Field("salary_max", "Salary up to", placeholder=f"{currency} a month"),
        Field("start", "Start by", placeholder="YYYY-MM-DD")],
        note=f"What they need: {employer.requirements}" if employer.requirements else "", confirm_label="Match")


def requirements_of(values: dict, currency: str) -> Requirements:
    """The form's text as requirements; a salary or a date that cannot be read is refused, saying why."""
    def listed(key: str) -> tuple[str, ...]:
        return tuple(x.strip() for x in values[key].split(",") if x.strip())

    def money(key: str) -> int | None:
        return parse_money(values[key], currency) if values[key] else None

    start = day_of(values["start"], "Start by")
    return Requirements(accommodation=values["accommodation"] or None, skills=listed("skills"),
                        languages=listed("languages"), location=values["location"] or None,
                        salary_min_minor=money("salary_min"), salary_max_minor=money("salary_max"), start_date=start)


class MatchesLoaded(Message):
    def __init__(self, matches: list[Match]) -> None:
        super().__init__()
        self.matches = matches


class MatchScreen(AgencyScreen):
    """The best matches for one employer, best first; dismisses with the worker chosen (or None)."""

    BINDINGS = [
        Binding("o", "choose", "Propose", id="match-propose",
                tooltip="Propose the worker under the cursor to this employer (asks the fee)."),
    ]

    def __init__(self, database: Database, actor: Actor, org: OrgView, employer: EmployerView,
                 wanted: Requirements) -> None:
        super().__init__(database, actor, org)
        self.employer, self.wanted = employer, wanted
        self.SUBTITLE = f"Matches for {employer.name}"

    def compose_body(self) -> ComposeResult:
        yield Label(literal(f"Best matches for {self.employer.name}"), id="match-title", classes="pane-title")
        yield OfisiTable(("Worker", "Score", "Why"), noun="matches",
                         empty="No available, verified worker matches: verify workers (v) or ask for less.",
                         id="agency-matches")
        yield Static("", id="match-why", markup=False)

    @work(thread=True, exclusive=True, group="matches", exit_on_error=False)
    def load(self) -> None:
        from core.agency.matching import match_workers

        with self.database.session() as session:
            found = match_workers(session, self.actor, self.org.id, self.employer.id, self.wanted, limit=MATCHES)
        self.post_from_worker(MatchesLoaded(found))

    def on_matches_loaded(self, message: MatchesLoaded) -> None:
        self.query_one(OfisiTable).reload(
            Row(m.worker.id, (self.present.person(m.worker.name, m.worker.phone), m.score, "; ".join(m.reasons)),
                data=m.worker) for m in message.matches)

    @on(OfisiTable.RowHighlighted)
    def _why(self) -> None:
        """The reasons in full under the list (the column is cut at 80 columns)."""
        table = self.query_one(OfisiTable)
        row = table.selected_row
        self.query_one("#match-why", Static).update(
            literal(f"{row.data.name}: {row.cells[-1]}.") if row is not None else "")

    @on(OfisiTable.RowSelected)
    def _chosen(self) -> None:
        self.action_choose()

    def action_choose(self) -> None:
        row = self.query_one(OfisiTable).selected_row
        if row is not None:
            self.dismiss(row.data)

    def action_back(self) -> None:
        self.dismiss(None)
