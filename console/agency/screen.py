"""``AgencyScreen``: the base of the agency's screens over the home (packages, matches, report,
inbox, subscriptions): one org and actor, the presenter that masks workers' numbers, a list focused
on opening, ``load`` run on opening and whenever the org's data changes, Escape back to the home,
and the actions in ``MONEY_ACTIONS`` offered only to a role that may handle the agency's money."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding

from console.base import ConsoleScreen
from console.widgets.present import Presenter
from console.widgets.table import OfisiTable
from core.actors import Actor
from core.orgs import OrgView
from core.permissions import allows
from db.engine import Database


class AgencyScreen(ConsoleScreen):
    SUBTITLE: ClassVar[str] = ""
    MONEY_ACTIONS: ClassVar[tuple[str, ...]] = ()
    CSS_PATH = "agency.tcss"
    BINDINGS = [Binding("escape", "back", "Back", id="agency-screen-back")]

    def __init__(self, database: Database, actor: Actor, org: OrgView, role: str = "") -> None:
        super().__init__(database)
        self.actor, self.org, self.role = actor, org, role
        self.present = Presenter.for_org(org)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.MONEY_ACTIONS:
            return allows(self.org.kind, self.role, "agency.money")
        return True

    def on_mount(self) -> None:
        self.title, self.sub_title = self.org.name, self.SUBTITLE
        self.query_one(OfisiTable).focus()
        self.load()

    def load(self) -> None:
        """Read the screen's records (a thread worker that posts them)."""
        raise NotImplementedError

    def action_refresh(self) -> None:
        self.load()

    def org_data_changed(self) -> None:
        self.load()

    def action_back(self) -> None:
        self.app.pop_screen()
