"""The vendor registry of a campaigns org (search, add, edit, opt-outs, import) and the campaigns home's ``v``.

Importing the package registers the campaigns kind's home screen with the registry key.
"""

from console.vendors.registry import CampaignsHome, VendorFormScreen, VendorImportScreen, VendorRegistryScreen

__all__ = ["CampaignsHome", "VendorFormScreen", "VendorImportScreen", "VendorRegistryScreen"]
