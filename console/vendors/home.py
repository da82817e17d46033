"""The campaigns kind's home with ``v`` for the vendor registry (the campaigns console subclasses it)."""

from __future__ import annotations

from textual.binding import Binding

from console import home
from console.vendors.registry import VendorRegistryScreen


@home.register_home
class CampaignsHome(home.CampaignsHome):
    """The campaign office's home: contacts and messages, and ``v`` for the vendor registry."""

    BINDINGS = [
        Binding("v", "vendors", "Vendors", id="vendors",
                tooltip="The vendor registry: search, filter and import vendors."),
    ]

    def action_vendors(self) -> None:
        self.app.push_screen(VendorRegistryScreen(self.database, self.actor, self.org, self.membership.role))
