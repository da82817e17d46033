"""``?``: the keys of the current screen and what they do.

:class:`KeysHelp` lists every binding that works where the person is (the
focused list's, the screen's and the app's), with its description and its
longer tooltip, greyed when it does nothing right now. The app binds ``?`` to
it everywhere (``HELP_BINDING`` and :func:`show_help`); the command palette
keeps its own list of the screen's actions.
"""

from __future__ import annotations

from typing import ClassVar, NamedTuple

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.dom import DOMNode
from textual.screen import Screen

from console.widgets.dialog import Dialog
from console.widgets.table import OfisiTable, Row

__all__ = ["HELP_BINDING", "KeyHelp", "KeysHelp", "keys_of", "show_help"]

HELP_BINDING = Binding("question_mark", "help", "Keys", id="help", tooltip="List this screen's keys.")


class KeyHelp(NamedTuple):
    key: str
    does: str
    more: str
    where: str
    available: bool
    moves: bool = False  # only moves the cursor or scrolls


def _where(node: DOMNode, screen: Screen) -> str:
    if isinstance(node, App):
        return "everywhere"
    if node is screen:
        return "this screen"
    return "this list" if node.id is None else f"{node.id.replace('-', ' ')}"


_MOVING = ("cursor_", "scroll_", "page_")


def keys_of(screen: Screen) -> list[KeyHelp]:
    """The described bindings that reach ``screen`` now, one line per action: what the screen and
    its focused list do first (nearest first), then the keys that only move the cursor."""
    app = screen.app
    seen: set[tuple[int, str]] = set()
    keys: list[KeyHelp] = []
    for namespace, bindings in screen._modal_binding_chain:
        for key, binding in bindings:
            if not binding.description or (id(namespace), binding.action) in seen:
                continue
            seen.add((id(namespace), binding.action))
            state = app._check_action_state(binding.action, namespace)
            shown = ", ".join(app.get_key_display(b) for _, b in bindings
                              if b.action == binding.action and b.description)
            keys.append(KeyHelp(shown or app.get_key_display(binding), binding.description,
                                binding.tooltip or "", _where(namespace, screen), state is not False,
                                binding.action.startswith(_MOVING)))
    return sorted(keys, key=lambda k: k.moves)


class KeysHelp(Dialog[None]):
    """The keys of the screen it was opened over."""

    CONFIRM_LABEL = "Close"
    CANCEL_BUTTON = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "cancel", "Close", id="help-close", tooltip="Back to the screen."),
    ]

    def __init__(self, over: Screen) -> None:
        title = over.title or over.app.title
        super().__init__(f"Keys — {title}", wide=True)
        self.keys = keys_of(over)

    def compose_body(self) -> ComposeResult:
        yield OfisiTable(("Key", "Does", "Where", "More"), empty="No keys here.", noun="keys", id="help-keys")

    def on_mount(self) -> None:
        table = self.query_one("#help-keys", OfisiTable)
        table.reload(Row(index, (k.key, k.does if k.available else f"{k.does} (not now)", k.where, k.more), data=k)
                     for index, k in enumerate(self.keys))
        table.focus()

    def answer(self) -> None:
        self.dismiss(None)
        return None


def show_help(app: App) -> None:
    """Open the keys of the current screen (not over another help)."""
    if not isinstance(app.screen, KeysHelp):
        app.push_screen(KeysHelp(app.screen))
