"""The command palette's "this screen" commands.

Every console binding that carries an ``id`` is a screen action; this
provider offers the ones active on the screen the palette was opened from
(the screen's own, then the app's), with the binding's description as the
command and its tooltip as the help. The footer and the palette so always
agree, and a new binding shows up in both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


@dataclass(frozen=True)
class ScreenAction:
    title: str
    help: str
    key: str
    run: Callable[[], object]


def screen_actions(screen) -> Iterator[ScreenAction]:
    """The enabled, described, id-carrying bindings of ``screen`` and the app."""
    seen: set[str] = set()
    app = screen.app
    for key, active in screen.active_bindings.items():
        binding = active.binding
        if not (binding.id and binding.description and active.enabled):
            continue
        if active.node is not screen and active.node is not app:
            continue
        if binding.id in seen:
            continue
        seen.add(binding.id)
        help_text = binding.tooltip or binding.description
        display = app.get_key_display(binding)
        yield ScreenAction(
            title=binding.description,
            help=f"{help_text}  ({display})",
            key=key,
            run=partial(app.run_action, binding.action, active.node),
        )


class ScreenActionsProvider(Provider):
    """Offers the current screen's actions: switch org, add contact, refresh…"""

    async def discover(self) -> Hits:
        for action in screen_actions(self.screen):
            yield DiscoveryHit(action.title, action.run, help=action.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for action in screen_actions(self.screen):
            score = matcher.match(action.title)
            if score > 0:
                yield Hit(score, matcher.highlight(action.title), action.run, text=action.title, help=action.help)
