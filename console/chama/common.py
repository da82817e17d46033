"""What the chama screens share: the dialog base bound to the open org, and a
presenter-backed label for a member (``Wanjiru Kamau (no. 007)``)."""

from __future__ import annotations

from textual.binding import Binding

from console.base import ConsoleModal
from console.widgets.present import Presenter
from core.actors import Actor
from core.orgs import OrgView
from db.engine import Database


class OrgModal(ConsoleModal):
    """A dialog about the open org; escape closes it with None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, database: Database, actor: Actor, org: OrgView) -> None:
        super().__init__(database)
        self.actor, self.org = actor, org
        self.present = Presenter.for_org(org)

    def action_cancel(self) -> None:
        self.dismiss(None)


def member_label(name: str, number: str) -> str:
    """How a dialog names a member: the name and the member number."""
    return f"{name} (no. {number})"
