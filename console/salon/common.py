"""What the salon's screens share: the messages their workers post, and the base screen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from textual.binding import Binding
from textual.message import Message

from console.base import ConsoleScreen
from console.widgets.present import Presenter
from core.actors import Actor
from core.orgs import OrgView
from db.engine import Database


class SalonPresenter(Presenter):
    """The org's presenter, but a time in the hour the clocks go back over carries its offset
    (``01:30 (+01:00)``, ``01:30 (+00:00)``), as ``core.salon.common.clock`` shows it everywhere else."""

    def time(self, at: datetime | None, fmt: str = "%d %b %H:%M") -> str:
        from core.salon.common import ambiguous

        text = super().time(at, fmt)
        if at is not None and "%H" in fmt:
            local = at.astimezone(self.tz)
            if ambiguous(local.replace(tzinfo=None), self.tz):
                text += f" ({local.isoformat()[-6:]})"
        return text


class SalonChanged(Message):
    """A write went through; ``text`` is what to tell the person, ``record_id`` what it changed."""

    def __init__(self, text: str, record_id: int | None = None) -> None:
        super().__init__()
        self.text = text
        self.record_id = record_id


def next_after(ids: list[int], current: int | None) -> int:
    """The id after ``current`` in ``ids`` (round again at the end; the first when ``current`` is not there)."""
    return ids[(ids.index(current) + 1) % len(ids)] if current in ids else ids[0]


class EnterConfirms:
    """Mixin for a ``Dialog`` with several inputs: Enter in any of them confirms (Tab moves between them)."""

    def on_input_submitted(self, event) -> None:
        event.stop()
        self.action_confirm()  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Rows:
    key: str
    rows: list[Any]
    more: bool = False


class RowsLoaded(Message):
    def __init__(self, rows: Rows) -> None:
        super().__init__()
        self.rows = rows


class SalonScreen(ConsoleScreen):
    """A salon screen over home: escape goes back."""

    CSS_PATH = "salon.tcss"
    BINDINGS = [Binding("escape", "back", "Back", id="back")]

    def __init__(self, database: Database, actor: Actor, org: OrgView) -> None:
        super().__init__(database)
        self.actor = actor
        self.org = org
        self.present = SalonPresenter.for_org(org)

    def action_back(self) -> None:
        self.app.pop_screen()

    def org_data_changed(self) -> None:
        self.action_refresh()

    def action_refresh(self) -> None:
        """Read the screen's data again (each screen says how)."""

    def on_salon_changed(self, message: SalonChanged) -> None:
        self.app.notify(message.text, markup=False)
        self.action_refresh()
