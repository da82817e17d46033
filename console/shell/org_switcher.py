"""The org switcher: pick which of your organisations to work in.

Shown after sign-in to staff with several memberships, and later with
ctrl+o or the command palette. It dismisses with the chosen
``MembershipView`` (or ``None`` when cancelled).
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from console.widgets.text import literal
from core.permissions import KINDS
from core.users import MembershipView


def membership_line(membership: MembershipView) -> str:
    org = membership.org
    return f"{org.name}  ·  {KINDS.get(org.kind, org.kind)}  ·  {membership.role}"


class OrgSwitcherScreen(ModalScreen[MembershipView | None]):
    """A list of the signed-in person's organisations with kind and role."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel-switch")]

    def __init__(self, memberships: list[MembershipView], *, current_org_id: int | None = None,
                 cancellable: bool = True) -> None:
        super().__init__()
        self.memberships = memberships
        self.current_org_id = current_org_id
        self.cancellable = cancellable

    def compose(self) -> ComposeResult:
        with Vertical(id="org-switcher"):
            yield Label("Choose an organisation", classes="form-title")
            yield OptionList(
                *(Option(literal(membership_line(m) + ("  (open)" if m.org.id == self.current_org_id else "")),
                         id=str(m.org.id))
                  for m in self.memberships),
                id="org-list",
            )
            yield Label("Enter opens it" + (", Esc goes back." if self.cancellable else "."), classes="hint")

    def on_mount(self) -> None:
        options = self.query_one("#org-list", OptionList)
        current = next((i for i, m in enumerate(self.memberships) if m.org.id == self.current_org_id), 0)
        options.highlighted = current
        options.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel":
            return self.cancellable
        return True

    @on(OptionList.OptionSelected, "#org-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        org_id = int(event.option_id or 0)
        self.dismiss(next(m for m in self.memberships if m.org.id == org_id))

    def action_cancel(self) -> None:
        self.dismiss(None)
