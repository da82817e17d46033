"""Which home screen each org kind opens, and the kinds' own names for things.

Area packages subclass their kind's screen, add panels in ``compose_panels``
and register it again with :func:`register_home` (the latest registration wins).
"""

from __future__ import annotations

import importlib

from console.home.screen import HomeScreen

HOME_SCREENS: dict[str, type[HomeScreen]] = {}

# The console modules of the areas (e.g. "console.chama"); each registers its
# home screen with :func:`register_home` on import.
AREA_MODULES: list[str] = ["console.chama", "console.salon", "console.community", "console.agency", "console.vendors",
                           "console.campaigns"]


def load_console_modules() -> None:
    for name in AREA_MODULES:
        importlib.import_module(name)


def register_home(screen: type[HomeScreen]) -> type[HomeScreen]:
    """Make ``screen`` the home screen of its ``KIND`` (the latest registration wins)."""
    HOME_SCREENS[screen.KIND] = screen
    return screen


def home_screen_for(kind: str) -> type[HomeScreen]:
    load_console_modules()
    return HOME_SCREENS.get(kind, HomeScreen)


@register_home
class SalonHome(HomeScreen):
    KIND = "salon"
    DESCRIPTION = "The salon's clients and the messages sent to them."
    CONTACTS_LABEL = "Clients"
    CONTACT_NOUN = "client"
    PANELS_FIRST = True  # today's agenda, in the salon's own panels, is the day's main list
    MAIN_LIST = "#agenda"
    # The day's work starts by picking a client (f, Enter books); on the agenda, i and m would
    # check in and mark a no-show instead of opening the inbox and reading more clients.
    FIRST_FOCUS = "#contacts"


@register_home
class ChamaHome(HomeScreen):
    KIND = "chama"
    DESCRIPTION = "The group's members and the SMS sent to them."
    CONTACTS_LABEL = "Members"
    CONTACT_NOUN = "member"


@register_home
class AgencyHome(HomeScreen):
    """The agency's people are workers and employers, shown by the agency's own lists (which mask
    workers' phones); the shared contacts pane would show them in full, so this home leaves it out."""

    KIND = "agency"
    DESCRIPTION = "Workers and employers on the agency's books, and the messages sent to them."
    CONTACTS_LABEL = "Workers and employers"
    CONTACT_NOUN = "worker or employer"
    PANES = ("messages",)
    MAIN_LIST = "#agency-workers"


@register_home
class CampaignsHome(HomeScreen):
    KIND = "campaigns"
    DESCRIPTION = "The programme's vendors (MSMEs) and the messages sent to them."
    CONTACTS_LABEL = "Vendors"
    CONTACT_NOUN = "vendor"
    PANELS_FIRST = True
    MAIN_LIST = "#campaigns"


@register_home
class CommunityHome(HomeScreen):
    KIND = "community"
    DESCRIPTION = "The community's members and the messages sent to them."
    CONTACTS_LABEL = "Members"
    CONTACT_NOUN = "member"
    PANELS_FIRST = True
    MAIN_LIST = "#events"
