"""The one book of placements' money: ``agency_entries``.

A placement's fee and commission are agreed on the placement; they fall due
as ``charge`` entries when the worker is placed (a proposal owes nothing, and
a replacement within the guarantee is charged nothing). Money in is a
``payment``, money given back a ``refund``, a part of a charge let go a
``waiver``. For every placement and every total:

    owed = charged − waived − received + refunded

The placements list, the console's board, ``ofisi report agency`` and the
exports all read :func:`sums`, so they cannot disagree. A reference (the M-Pesa
code or receipt number) is used once per agency whatever its case:
``reference_key`` is it lower-cased, behind a unique index.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.actors import Actor
from core.agency.base import refused_as_conflict
from core.errors import InvalidInput
from db.models_agency import AgencyEntry, AgencyPlacement
from db.types import utcnow

ITEMS = ("fee", "commission")


@dataclass
class Sums:
    """What one placement (or a total) has in the book, in minor units."""

    charged: int = 0
    waived: int = 0
    received: int = 0
    refunded: int = 0
    by_item: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def owed(self) -> int:
        return self.charged - self.waived - self.received + self.refunded

    def item(self, item: str, kind: str) -> int:
        return self.by_item.get(item, {}).get(kind, 0)

    def item_owed(self, item: str) -> int:
        return (self.item(item, "charge") - self.item(item, "waiver") - self.item(item, "payment")
                + self.item(item, "refund"))

    def add(self, kind: str, item: str, amount: int) -> None:
        name = {"charge": "charged", "waiver": "waived", "payment": "received", "refund": "refunded"}[kind]
        setattr(self, name, getattr(self, name) + amount)
        per = self.by_item.setdefault(item, {})
        per[kind] = per.get(kind, 0) + amount


def sums(session: Session, org_id: int, placement_ids: Iterable[int] | None = None) -> dict[int, Sums]:
    """Each placement's sums (every placement of the org when ``placement_ids`` is None)."""
    query = (select(AgencyEntry.placement_id, AgencyEntry.kind, AgencyEntry.item, func.sum(AgencyEntry.amount_minor))
             .where(AgencyEntry.org_id == org_id)
             .group_by(AgencyEntry.placement_id, AgencyEntry.kind, AgencyEntry.item))
    if placement_ids is not None:
        ids = list(placement_ids)
        if not ids:
            return {}
        query = query.where(AgencyEntry.placement_id.in_(ids))
    out: dict[int, Sums] = {}
    for pid, kind, item, total in session.execute(query):
        out.setdefault(pid, Sums()).add(kind, item, int(total))
    return out


def reference_key(reference: str | None) -> str | None:
    cleaned = (reference or "").strip()
    return cleaned.lower() or None


def _entry(session: Session, actor: Actor, p: AgencyPlacement, kind: str, item: str, amount_minor: int, *,
           reference: str | None = None, dispute_id: int | None = None, note: str = "",
           at: datetime | None = None, legacy_id: str | None = None) -> AgencyEntry:
    if item not in ITEMS:
        raise InvalidInput(f"{item!r} is not fee or commission.")
    entry = AgencyEntry(org_id=p.org_id, placement_id=p.id, kind=kind, item=item, amount_minor=amount_minor,
                        reference=(reference or "").strip() or None, reference_key=reference_key(reference),
                        dispute_id=dispute_id, note=note, at=at or utcnow(), recorded_by=actor.label,
                        legacy_id=legacy_id)
    if entry.reference_key is None:
        session.add(entry)
        session.flush()
        return entry
    shown = entry.reference
    with refused_as_conflict(session, lambda: f"The reference {shown} is already recorded in this agency "
                                              "(references are compared ignoring case)."):
        session.add(entry)
    return entry


def _charge(session: Session, actor: Actor, p: AgencyPlacement, *, note: str = "") -> None:
    """The placement's fee and commission fall due (once: a placement already charged is left alone)."""
    if sums(session, p.org_id, [p.id]).get(p.id, Sums()).charged:
        return
    for item, amount in (("fee", p.fee_minor), ("commission", p.commission_minor)):
        if amount > 0:
            _entry(session, actor, p, "charge", item, amount, note=note)
