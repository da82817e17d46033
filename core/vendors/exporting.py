"""Vendors as rows for a file: the columns an import reads back unchanged."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy.orm import Session

from core.actors import Actor
from core.vendors.registry import VENDOR_FIELDS, AudienceFilter, VendorView, audience

EXPORT_COLUMNS = ("id", *VENDOR_FIELDS, "sms_opt_out", "email_opt_out", "whatsapp_opt_out", "created_at", "updated_at")


def vendor_row(vendor: VendorView) -> list[Any]:
    values = [getattr(vendor, name) for name in EXPORT_COLUMNS]
    values[EXPORT_COLUMNS.index("tags")] = list(vendor.tags)  # a list in JSON, "a;b" in a sheet
    for name in ("created_at", "updated_at"):
        values[EXPORT_COLUMNS.index(name)] = getattr(vendor, name).isoformat(timespec="seconds")
    return values


def export_rows(session: Session, actor: Actor, org_id: int, filter: AudienceFilter | None = None) -> Iterator[list[Any]]:
    """Every vendor ``filter`` selects (any status unless it says), a batch at a time."""
    return (vendor_row(v) for v in audience(session, actor, org_id, filter or AudienceFilter(status=None)))
