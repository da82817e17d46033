"""The home screen's reads now live in ``console.home.data``; this name stays for callers outside the console."""

from console.home.data import CONTACTS_PAGE, RECENT_MESSAGES, contacts_page, home_data

__all__ = ["CONTACTS_PAGE", "RECENT_MESSAGES", "contacts_page", "home_data"]
