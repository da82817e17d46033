"""Search profiles (and events, posts, listings: ctrl+k switches the kind); Enter on a
person is found in the member directory (p on the home)."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Label

from console.base import ConsoleScreen
from console.community.common import CSS
from console.widgets.table import OfisiTable, Row
from console.widgets.text import literal
from core.actors import Actor
from core.community import search
from core.community.search import Hit
from core.orgs import OrgView
from db.engine import Database


class HitsLoaded(Message):
    def __init__(self, hits: list[Hit]) -> None:
        super().__init__()
        self.hits = hits


class MemberSearchScreen(ConsoleScreen):
    """Search profiles (and events, posts, listings with Tab between kinds)."""

    CSS_PATH = CSS
    BINDINGS = [Binding("escape", "app.pop_screen", "Back", id="search-back"),
                Binding("ctrl+k", "next_kind", "Next kind", id="search-kind",
                        tooltip="Search profiles, events, posts or listings.")]

    def __init__(self, database: Database, actor: Actor, org: OrgView) -> None:
        super().__init__(database)
        self.actor, self.org, self.kind = actor, org, "profile"

    def compose_body(self) -> ComposeResult:
        with Vertical(id="member-search"):
            yield Label("Search: profile", id="search-kind-label", classes="pane-title")
            yield Input(placeholder="Two letters or more", id="member-search-input")
            yield OfisiTable(("Name or title", "Detail"), noun="results", id="member-hits",
                             empty="Type two letters or more; ctrl+k searches another kind.")

    def on_mount(self) -> None:
        self.title, self.sub_title = self.org.name, "Search"
        self.query_one("#member-search-input", Input).focus()

    def action_next_kind(self) -> None:
        self.kind = search.KINDS[(search.KINDS.index(self.kind) + 1) % len(search.KINDS)]
        self.query_one("#search-kind-label", Label).update(literal(f"Search: {self.kind}"))
        self.load_hits(self.query_one("#member-search-input", Input).value)

    @on(Input.Changed, "#member-search-input")
    def _changed(self, event: Input.Changed) -> None:
        self.load_hits(event.value)

    @work(thread=True, exclusive=True, group="member-search", exit_on_error=False)
    def load_hits(self, text: str) -> None:
        if len(text.strip()) < 2:
            self.post_from_worker(HitsLoaded([]))
            return
        with self.database.session() as session:
            hits = search.search(session, self.actor, self.org.id, text, kind=self.kind)
        self.post_from_worker(HitsLoaded(hits))

    def on_hits_loaded(self, message: HitsLoaded) -> None:
        self.query_one("#member-hits", OfisiTable).reload(
            Row(f"{hit.kind}:{hit.id}", (hit.title, hit.detail), data=hit) for hit in message.hits)

