"""The audit log for an org's admins: who did what, when, to which record.

Opened with ``u`` on a home that carries :data:`AUDIT_BINDING` (and so from the
palette, which lists the screen's bindings) when the signed-in role may read the
audit (``audit.read``). The rows come from ``core.audit.list_entries`` a page
at a time (newest first, keyset paging: the next page is read when the cursor
reaches the last row), never the whole table. ``f`` filters by who, what (an
action or its family, e.g. ``chama.loan``) and since (a day in the org's zone);
``/`` filters by who. Every cell is shown literally.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input, Label, Static

from console.base import ConsoleScreen
from console.widgets.dialog import Dialog
from console.widgets.present import Presenter
from console.widgets.table import Cell, OfisiTable, Row
from console.widgets.text import literal, short
from core import audit
from core.actors import Actor
from core.audit import AuditView
from core.orgs import OrgView
from db.engine import Database

__all__ = ["AUDIT_BINDING", "AuditFilter", "AuditScreen", "open_audit"]

AUDIT_PAGE = 50

AUDIT_BINDING = Binding("u", "audit", "Audit log", id="audit-log",
                        tooltip="Who did what and when in this organisation (admins).")


def open_audit(home) -> None:
    """Open the audit screen from a home (``home.database``, ``home.actor``, ``home.org``)."""
    home.app.push_screen(AuditScreen(home.database, home.actor, home.org))


@dataclass(frozen=True)
class AuditFilter:
    who: str = ""
    what: str = ""
    since: str = ""  # YYYY-MM-DD in the org's zone

    def describe(self) -> str:
        parts = [f"who “{self.who}”" if self.who else "", f"what “{self.what}”" if self.what else "",
                 f"since {self.since}" if self.since else ""]
        return ", ".join(p for p in parts if p) or "everything"


class AuditPage(Message):
    def __init__(self, entries: list[AuditView], more: bool, first: bool) -> None:
        super().__init__()
        self.entries, self.more, self.first = entries, more, first


class FilterDialog(Dialog[AuditFilter]):
    """Who, what and since: each optional."""

    def __init__(self, current: AuditFilter, zone: str) -> None:
        super().__init__("Filter the audit log", confirm_label="Filter")
        self.current, self.zone = current, zone

    def compose_body(self) -> ComposeResult:
        yield Label("Who (part of the email or name, e.g. cli, gateway)")
        yield Input(self.current.who, id="audit-who")
        yield Label("What (an action or its family, e.g. chama.loan)")
        yield Input(self.current.what, id="audit-what")
        yield Label(f"Since (YYYY-MM-DD, {self.zone})")
        yield Input(self.current.since, id="audit-since")

    def on_mount(self) -> None:
        self.query_one("#audit-who", Input).focus()

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        if event.input.id == "audit-since":
            self.action_confirm()
        else:
            self.focus_next()

    def answer(self) -> AuditFilter | None:
        value = lambda key: self.query_one(f"#audit-{key}", Input).value.strip()  # noqa: E731
        since = value("since")
        if since:
            try:
                datetime.strptime(since, "%Y-%m-%d")
            except ValueError:
                self.notify(f"{since!r} is not a day; write it like 2026-12-01.", severity="warning", markup=False)
                return None
        return AuditFilter(value("who"), value("what"), since)


def change_text(entry: AuditView) -> str:
    """The change on one line: ``before → after`` of what the row recorded."""
    shown = lambda d: json.dumps(d, ensure_ascii=False, sort_keys=True, default=str) if d else ""  # noqa: E731
    before, after = shown(entry.before), shown(entry.after)
    return f"{before} → {after}" if before and after else before or after


class AuditScreen(ConsoleScreen):
    """One org's audit rows, newest first, paged through the core."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("f", "filter", "Filter", id="audit-filter", tooltip="Filter by who, what and since."),
        Binding("c", "clear_filter", "Clear filter", id="audit-clear", tooltip="Show every row again."),
    ]

    def __init__(self, database: Database, actor: Actor, org: OrgView) -> None:
        super().__init__(database)
        self.actor, self.org = actor, org
        self.present = Presenter.for_org(org)
        self.filter = AuditFilter()
        self.last_id: int | None = None
        self.more = False
        self.count = 0

    def compose_body(self) -> ComposeResult:
        yield Static("", id="audit-status", markup=False)
        yield OfisiTable(("When", "Who", "What", "Record", "Change"), noun="audit rows", search_in_core=True,
                         empty="No audit rows match: c clears the filter.", id="audit")

    def on_mount(self) -> None:
        self.title, self.sub_title = self.org.name, "Audit log"
        self.query_one("#audit", OfisiTable).focus()
        self.load(None)

    @work(thread=True, exclusive=True, group="audit", exit_on_error=False)
    def load(self, before_id: int | None) -> None:
        f = self.filter
        since = (datetime.strptime(f.since, "%Y-%m-%d").replace(tzinfo=self.org.tz) if f.since else None)
        with self.database.session() as session:
            rows = audit.list_entries(session, self.actor, self.org.id, who=f.who or None, what=f.what or None,
                                      since=since, limit=AUDIT_PAGE + 1, before_id=before_id)
        self.post_from_worker(AuditPage(rows[:AUDIT_PAGE], len(rows) > AUDIT_PAGE, before_id is None))

    def row(self, e: AuditView) -> Row:
        record = f"{e.entity} {e.entity_id}" if e.entity_id else e.entity
        return Row(e.id, (Cell(self.present.time(e.at, "%Y-%m-%d %H:%M"), e.at), e.actor, e.action, record,
                          short(change_text(e), 120)), data=e)

    def on_audit_page(self, message: AuditPage) -> None:
        table = self.query_one("#audit", OfisiTable)
        rows = [self.row(e) for e in message.entries]
        if message.first:
            self.count = 0
            table.reload(rows)
        else:
            table.append(rows)
        self.count += len(rows)
        if message.entries:
            self.last_id = message.entries[-1].id
        self.more = message.more
        self.query_one("#audit-status", Static).update(literal(
            f"{self.count} row(s) shown, newest first; filter: {self.filter.describe()}"
            + (" — more below" if self.more else "") + ". f filters, c clears."))

    @on(OfisiTable.NearEnd, "#audit")
    def _next_page(self) -> None:
        if self.more and self.last_id is not None:
            self.more = False
            self.load(self.last_id)

    @on(OfisiTable.SearchChanged, "#audit")
    def _search(self, event: OfisiTable.SearchChanged) -> None:
        self.apply(AuditFilter(event.text.strip(), self.filter.what, self.filter.since))

    def action_filter(self) -> None:
        self.app.push_screen(FilterDialog(self.filter, self.org.timezone), callback=lambda f: f and self.apply(f))

    def action_clear_filter(self) -> None:
        self.apply(AuditFilter())

    def apply(self, f: AuditFilter) -> None:
        self.filter = f
        self.load(None)
