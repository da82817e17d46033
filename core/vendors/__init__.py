"""The vendor registry of campaigns orgs (MSME programmes): vendors, their
validation, bulk import and export, and the audience filters campaigns use.

Owns ``db.models_vendors.Vendor``; may call the shared core (permissions,
audit, phones, spreadsheets). The campaigns area reads recipients through
:func:`audience` with an :class:`AudienceFilter`.
"""

from core.permissions import grant
from core.templates import register_variables
from core.vendors.importing import COLUMNS, VendorImportReport, VendorRows, import_vendors, read_vendor_file
from core.vendors.registry import (
    VENDOR_FIELDS,
    VENDOR_VARIABLES,
    AudienceFilter,
    VendorPage,
    VendorView,
    add_vendor,
    audience,
    count_audience,
    get_vendor,
    list_vendors,
    save_vendor,
    set_opt_out,
    update_vendor,
)

register_variables("campaigns", VENDOR_FIELDS, record=get_vendor)
grant("campaigns", "*", "vendors.read")
grant("campaigns", ("admin", "officer"), "vendors.write", "vendors.import")

__all__ = [
    "COLUMNS", "VENDOR_FIELDS", "VENDOR_VARIABLES", "AudienceFilter", "VendorImportReport", "VendorPage",
    "VendorRows", "VendorView", "add_vendor", "audience", "count_audience", "get_vendor", "import_vendors",
    "list_vendors", "read_vendor_file", "save_vendor", "set_opt_out", "update_vendor",
]
