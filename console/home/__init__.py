"""An org's home screen (``screen``), which one each kind opens (``kinds``), the reads it
needs (``data``) and its add-contact dialog (``contact_form``)."""

from console.home.kinds import (
    AREA_MODULES, HOME_SCREENS, AgencyHome, CampaignsHome, ChamaHome, CommunityHome, SalonHome, home_screen_for,
    load_console_modules, register_home,
)
from console.home.screen import HomeScreen, message_counts_line
from console.widgets.present import readable_phone as shown_phone

__all__ = ["AREA_MODULES", "HOME_SCREENS", "AgencyHome", "CampaignsHome", "ChamaHome", "CommunityHome", "HomeScreen",
           "SalonHome", "home_screen_for", "load_console_modules", "message_counts_line", "register_home",
           "shown_phone"]
