"""Campaign analytics: per campaign sent, delivered, failed by reason, responses and
their rate, over a period; and a campaign's sends over time (the console's chart)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.actors import Actor
from core.campaigns.service import FAILED, _load
from core.errors import InvalidInput, NotFound
from core.permissions import require
from db.models import Message
from db.models_campaigns import Campaign, CampaignResponse


@dataclass(frozen=True)
class CampaignReportRow:
    id: int
    name: str
    channel: str
    status: str
    runs: int
    messages: int
    sent: int  # reached the provider (sent or delivered)
    delivered: int
    failed: int
    unknown: int
    responses: int
    response_rate: float  # responses per message that reached the provider
    failed_by_reason: dict[str, int] = field(default_factory=dict)


def _reason(error: str | None) -> str:
    return (error or "no reason given").split(";")[0][:80]


def campaign_report(session: Session, actor: Actor, org_id: int, *, start: datetime | None = None,
                    end: datetime | None = None) -> list[CampaignReportRow]:
    """Every campaign created in [start, end) (all when open), newest first."""
    require(session, actor, org_id, "campaigns.read")
    query = select(Campaign).where(Campaign.org_id == org_id)
    if start is not None:
        query = query.where(Campaign.created_at >= start)
    if end is not None:
        query = query.where(Campaign.created_at < end)
    campaigns = session.scalars(query.order_by(Campaign.id.desc())).all()
    ids = [c.id for c in campaigns]
    if not ids:
        return []
    counts: dict[int, Counter[str]] = {i: Counter() for i in ids}
    for cid, status, n in session.execute(select(Message.campaign_id, Message.status, func.count())
                                          .where(Message.campaign_id.in_(ids))
                                          .group_by(Message.campaign_id, Message.status)):
        counts[cid][status] = n
    reasons: dict[int, Counter[str]] = {i: Counter() for i in ids}
    for cid, error, n in session.execute(select(Message.campaign_id, Message.last_error, func.count())
                                         .where(Message.campaign_id.in_(ids), Message.status.in_(FAILED))
                                         .group_by(Message.campaign_id, Message.last_error)):
        reasons[cid][_reason(error)] += n
    responses = dict(session.execute(select(CampaignResponse.campaign_id, func.count())
                                     .where(CampaignResponse.campaign_id.in_(ids))
                                     .group_by(CampaignResponse.campaign_id)).all())
    rows = []
    for c in campaigns:
        n = counts[c.id]
        reached = n["sent"] + n["delivered"]
        answered = responses.get(c.id, 0)
        rows.append(CampaignReportRow(
            c.id, c.name, c.channel, c.status, c.runs, sum(n.values()), reached, n["delivered"],
            sum(n[s] for s in FAILED), n["unknown"], answered, round(answered / reached, 4) if reached else 0.0,
            dict(reasons[c.id].most_common())))
    return rows


def sends_over_time(session: Session, actor: Actor, org_id: int, campaign_id: int, *,
                    buckets: int = 30) -> list[int]:
    """How many of the campaign's messages went out in each of ``buckets`` equal slices
    of its sending time (oldest first): the console's sparkline."""
    require(session, actor, org_id, "campaigns.read")
    _load(session, org_id, campaign_id)
    times = session.scalars(select(Message.sent_at).where(Message.campaign_id == campaign_id,
                                                          Message.sent_at.is_not(None))).all()
    if not times:
        return [0] * buckets
    first, last = min(times), max(times)
    width = max((last - first) / buckets, timedelta(microseconds=1))
    series = [0] * buckets
    for t in times:
        series[min(buckets - 1, int((t - first) / width))] += 1
    return series


@dataclass(frozen=True)
class PlaceReach:
    place: str
    recipients: int  # messages written to vendors of this place
    reached: int     # … that reached the provider (sent or delivered)
    responses: int


def reach_by_place(session: Session, actor: Actor, org_id: int, *, by: str = "district",
                   start: datetime | None = None, end: datetime | None = None) -> list[PlaceReach]:
    """Vendor campaigns' reach and responses per district (or state), most reached first.

    A message names its vendor in its key (``…:vendor:<id>``); messages to contacts count nowhere here.
    """
    from core.vendors import get_vendor

    if by not in ("district", "state"):
        raise InvalidInput("Reach is counted by district or by state.")
    require(session, actor, org_id, "campaigns.read")
    query = (select(Message.idempotency_key, Message.status, Message.to_address)
             .join(Campaign, Campaign.id == Message.campaign_id)
             .where(Campaign.org_id == org_id, Message.idempotency_key.like("campaign:%:vendor:%")))
    if start is not None:
        query = query.where(Campaign.created_at >= start)
    if end is not None:
        query = query.where(Campaign.created_at < end)
    responders = set(session.scalars(select(CampaignResponse.phone).where(CampaignResponse.org_id == org_id)))
    places: dict[int, str] = {}
    totals: dict[str, list[int]] = {}
    for key, status, address in session.execute(query):
        vendor_id = int(key.rsplit(":", 1)[1])
        if vendor_id not in places:
            try:
                places[vendor_id] = getattr(get_vendor(session, actor, org_id, vendor_id), by) or "(none)"
            except NotFound:
                places[vendor_id] = "(removed)"
        row = totals.setdefault(places[vendor_id], [0, 0, 0])
        row[0] += 1
        row[1] += status in ("sent", "delivered")
        row[2] += address in responders
    return sorted((PlaceReach(p, *v) for p, v in totals.items()), key=lambda r: (-r.reached, r.place))
