"""The vendor registry of a campaigns org (search, add, edit, opt-outs, import) and the campaigns home's ``v``.

Importing the package registers the campaigns kind's home screen with the registry key.
"""

from console.vendors.form import VendorFormScreen
from console.vendors.home import CampaignsHome
from console.vendors.import_dialog import VendorImportScreen
from console.vendors.registry import VendorRegistryScreen

__all__ = ["CampaignsHome", "VendorFormScreen", "VendorImportScreen", "VendorRegistryScreen"]
