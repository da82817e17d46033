"""`ofisi vendors …`: one vendor of a programme's registry, added or changed from a script.

``add`` takes the business name and a phone, GSTIN or Udyam number (how a later import finds
it); ``update ID`` changes only the fields given, and an empty value (``--email ""``) clears an
optional one. Both are checked as the console's form and an import are (``core.vendors``):
a refusal names the field and exits 1. Many vendors at once: ``ofisi import vendors``.
"""

from __future__ import annotations

from typing import Any, Optional

import typer

from commands.common import err, org_id_for, print_json, unit_of_work

app = typer.Typer(help="The vendor registry: add or change one vendor.", no_args_is_help=True)

ORG = typer.Option(..., "--org", help="Organisation slug.")
JSON = typer.Option(False, "--json", help="Print the vendor as JSON on stdout.")


def _field(flag: str, what: str) -> Any:
    return typer.Option(None, flag, help=what)


# One option per field the registry keeps (core.vendors.registry.VENDOR_FIELDS), the business name aside.
OWNER = _field("--owner", "The owner's name (whom messages greet).")
PHONE = _field("--phone", "Phone, local or +E.164.")
EMAIL = _field("--email", "Email address.")
WHATSAPP = _field("--whatsapp", "WhatsApp number, when not the phone.")
GSTIN = _field("--gstin", "GSTIN (15 characters).")
UDYAM = _field("--udyam", "Udyam registration number (UDYAM-XX-00-0000000).")
PAN = _field("--pan", "PAN (read from the GSTIN when not given).")
SECTOR = _field("--sector", "Sector, e.g. Textiles.")
DISTRICT = _field("--district", "District.")
STATE = _field("--state", "State.")
SIZE = _field("--size", "micro, small or medium.")
STATUS = _field("--status", "active or inactive.")
TAGS = _field("--tags", "Tags, comma-separated (replaces the vendor's tags).")


def _given(**values: Optional[str]) -> dict[str, str]:
    return {name: value for name, value in values.items() if value is not None}


def _show(vendor, verb: str, as_json: bool) -> None:
    if as_json:
        print_json(vendor)
    err(f"Vendor {vendor.id} ({vendor.business_name}) is {verb}.")


@app.command("add")
def add(org: str = ORG, business_name: str = typer.Option(..., "--name", help="The business's name."),
        owner: Optional[str] = OWNER, phone: Optional[str] = PHONE, email: Optional[str] = EMAIL,
        whatsapp: Optional[str] = WHATSAPP, gstin: Optional[str] = GSTIN, udyam: Optional[str] = UDYAM,
        pan: Optional[str] = PAN, sector: Optional[str] = SECTOR, district: Optional[str] = DISTRICT,
        state: Optional[str] = STATE, size: Optional[str] = SIZE, status: Optional[str] = STATUS,
        tags: Optional[str] = TAGS, as_json: bool = JSON) -> None:
    """Add one vendor."""
    from core.vendors import add_vendor

    with unit_of_work() as (session, actor):
        o = org_id_for(session, actor, org)
        vendor = add_vendor(session, actor, o.id, **_given(
            business_name=business_name, owner_name=owner, phone=phone, email=email, whatsapp=whatsapp, gstin=gstin,
            udyam=udyam, pan=pan, sector=sector, district=district, state=state, size=size, status=status,
            tags=tags))
    _show(vendor, "added", as_json)


@app.command("update")
def update(vendor_id: int = typer.Argument(..., help="The vendor's id."), org: str = ORG,
           business_name: Optional[str] = typer.Option(None, "--name", help="The business's name."),
           owner: Optional[str] = OWNER, phone: Optional[str] = PHONE, email: Optional[str] = EMAIL,
           whatsapp: Optional[str] = WHATSAPP, gstin: Optional[str] = GSTIN, udyam: Optional[str] = UDYAM,
           pan: Optional[str] = PAN, sector: Optional[str] = SECTOR, district: Optional[str] = DISTRICT,
           state: Optional[str] = STATE, size: Optional[str] = SIZE, status: Optional[str] = STATUS,
           tags: Optional[str] = TAGS, as_json: bool = JSON) -> None:
    """Change the fields given of one vendor; an empty value clears an optional field."""
    from core.vendors import update_vendor

    values = _given(business_name=business_name, owner_name=owner, phone=phone, email=email, whatsapp=whatsapp,
                    gstin=gstin, udyam=udyam, pan=pan, sector=sector, district=district, state=state, size=size,
                    status=status, tags=tags)
    if not values:
        raise typer.BadParameter("name at least one field to change, e.g. --phone 9876543210")
    with unit_of_work() as (session, actor):
        o = org_id_for(session, actor, org)
        vendor = update_vendor(session, actor, o.id, vendor_id, **values)
    _show(vendor, "saved", as_json)
