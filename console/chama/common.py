"""What the chama screens share: the dialog base bound to the open org, and a
presenter-backed label for a member (``Wanjiru Kamau (no. 007)``)."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding

from console.base import ConsoleModal, ConsoleScreen
from console.widgets.table import OfisiTable
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


class OrgListScreen(ConsoleScreen):
    """A full screen around one ``OfisiTable`` of the open org: titled, focused and read on mount.

    Subclasses set ``SUBTITLE`` and ``TABLE`` (the table's id) and define ``load()`` (a worker).
    """

    SUBTITLE: ClassVar[str] = ""
    TABLE: ClassVar[str] = ""

    def __init__(self, database: Database, actor: Actor, org: OrgView) -> None:
        super().__init__(database)
        self.actor, self.org = actor, org
        self.present = Presenter.for_org(org)

    def on_mount(self) -> None:
        self.title, self.sub_title = self.org.name, self.SUBTITLE
        self.query_one(f"#{self.TABLE}", OfisiTable).focus()
        self.load()

    def load(self) -> None:
        raise NotImplementedError
