"""The campaigns kind's home with ``v`` for the vendor registry (the campaigns console subclasses it).

The shared home lists the org's contacts; a programme's people are mostly its vendors, which
live in the registry, not among the contacts. So the contacts keep their own name here and the
count line says how many vendors the registry holds (a home that called its contacts "Vendors"
showed "Vendors: 0" beside a registry of 93).
"""

from __future__ import annotations

from textual import work
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Static

from console import home
from console.vendors.registry import VendorRegistryScreen


class VendorsCounted(Message):
    def __init__(self, contacts: int, vendors: int) -> None:
        super().__init__()
        self.contacts, self.vendors = contacts, vendors


@home.register_home
class CampaignsHome(home.CampaignsHome):
    """The campaign office's home: contacts and messages, and ``v`` for the vendor registry."""

    CONTACTS_LABEL = "Contacts"
    CONTACT_NOUN = "contact"
    BINDINGS = [
        Binding("v", "vendors", "Vendors", id="vendors",
                tooltip="The vendor registry: search, filter and import vendors."),
    ]

    def on_home_loaded(self, message) -> None:
        super().on_home_loaded(message)
        if message.data.org_id == self.org.id:
            self.count_vendors(message.data.contact_count)

    @work(thread=True, exclusive=True, group="vendor-count", exit_on_error=False)
    def count_vendors(self, contacts: int) -> None:
        from core.vendors import AudienceFilter, count_audience

        with self.database.session() as session:
            vendors = count_audience(session, self.actor, self.org.id, AudienceFilter(status=None))
        self.post_from_worker(VendorsCounted(contacts, vendors))

    def on_vendors_counted(self, message: VendorsCounted) -> None:
        self.query_one("#contact-count", Static).update(
            f"Vendors in the registry: {message.vendors:,} (v) · {self.CONTACTS_LABEL}: {message.contacts:,}")

    def action_vendors(self) -> None:
        self.app.push_screen(VendorRegistryScreen(self.database, self.actor, self.org, self.membership.role))
