"""Connections, notifications, posts and comments with moderation, listings, bookmarks.

A connection is one row per unordered pair of profiles (the lower id first),
so A→B and B→A are the same connection and a profile cannot connect to
itself; the database refuses both. Moderation hides a post or comment with
a reason (never deletes it), can restore it, and resolves the open reports
about it; open reports are the moderation queue, oldest first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import audit
from core.actors import Actor
from core.community.base import clock, community_org, member, notify, owned, searchable, tell
from core.errors import Conflict, InvalidInput, NotFound
from db.models_community import (
    LISTING_KINDS,
    CommunityAccount,
    LISTING_STATUSES,
    CommunityBookmark,
    CommunityComment,
    CommunityConnection,
    CommunityEvent,
    CommunityListing,
    CommunityNotification,
    CommunityPost,
    CommunityProfile,
    CommunityReport,
)


@dataclass(frozen=True)
class ConnectionView:
    id: int
    requester_profile_id: int
    other_profile_id: int
    status: str


@dataclass(frozen=True)
class NotificationView:
    id: int
    account_id: int
    kind: str
    body: str
    read_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class PostView:
    id: int
    author_profile_id: int
    type: str
    title: str
    body: str
    hidden: bool
    hidden_reason: str | None
    created_at: datetime


@dataclass(frozen=True)
class ReportView:
    id: int
    target: str  # "post" or "comment"
    target_id: int
    excerpt: str
    reason: str
    status: str
    created_at: datetime
    author_account_id: int | None = None
    author: str = ""
    reporter: str = ""


@dataclass(frozen=True)
class ListingView:
    id: int
    profile_id: int
    kind: str
    title: str
    price_minor: int
    status: str


def _connection_view(c: CommunityConnection) -> ConnectionView:
    other = c.profile_high_id if c.requester_profile_id == c.profile_low_id else c.profile_low_id
    return ConnectionView(c.id, c.requester_profile_id, other, c.status)


def request_connection(session: Session, actor: Actor, org_id: int, from_profile_id: int,
                       to_profile_id: int) -> ConnectionView:
    community_org(session, actor, org_id, "community.read")
    if from_profile_id == to_profile_id:
        raise InvalidInput("A profile cannot connect to itself.")
    sender = owned(session, CommunityProfile, org_id, from_profile_id, "profile")
    receiver = owned(session, CommunityProfile, org_id, to_profile_id, "profile")
    low, high = sorted((sender.id, receiver.id))
    existing = session.scalar(select(CommunityConnection).where(
        CommunityConnection.profile_low_id == low, CommunityConnection.profile_high_id == high))
    if existing is not None:
        raise Conflict(f"{sender.display_name} and {receiver.display_name} already have a connection "
                       f"({existing.status}).")
    connection = CommunityConnection(org_id=org_id, requester_profile_id=sender.id, profile_low_id=low,
                                     profile_high_id=high, status="pending")
    try:
        with session.begin_nested():
            session.add(connection)
    except IntegrityError:
        raise Conflict("That connection was just made by someone else.") from None
    notify(session, org_id, receiver.account_id, "connection_request",
           f"{sender.display_name} would like to connect with you.")
    session.commit()
    return _connection_view(connection)


def respond_connection(session: Session, actor: Actor, org_id: int, connection_id: int, status: str) -> ConnectionView:
    """Accept, reject or block a connection."""
    community_org(session, actor, org_id, "community.read")
    if status not in ("accepted", "rejected", "blocked"):
        raise InvalidInput("Answer a connection with accepted, rejected or blocked.")
    connection = owned(session, CommunityConnection, org_id, connection_id, "connection", lock=True)
    if connection.status == "blocked" and status != "blocked":
        raise Conflict("That connection is blocked.")
    connection.status = status
    if status == "accepted":
        requester = session.get(CommunityProfile, connection.requester_profile_id)
        other = session.get(CommunityProfile, _connection_view(connection).other_profile_id)
        notify(session, org_id, requester.account_id, "connection_accepted",
               f"{other.display_name} accepted your connection.")
    session.commit()
    return _connection_view(connection)


def list_notifications(session: Session, actor: Actor, org_id: int, account_id: int, *,
                       before_id: int | None = None, limit: int = 50) -> list[NotificationView]:
    community_org(session, actor, org_id, "community.read")
    N = CommunityNotification
    query = select(N).where(N.org_id == org_id, N.account_id == account_id)
    if before_id is not None:
        query = query.where(N.id < before_id)
    return [NotificationView(n.id, n.account_id, n.kind, n.body, n.read_at, n.created_at)
            for n in session.scalars(query.order_by(N.id.desc()).limit(limit))]


def mark_read(session: Session, actor: Actor, org_id: int, account_id: int, *, now: datetime | None = None) -> int:
    community_org(session, actor, org_id, "community.read")
    N = CommunityNotification
    count = session.execute(update(N).where(N.org_id == org_id, N.account_id == account_id, N.read_at.is_(None))
                            .values(read_at=clock(now))).rowcount
    session.commit()
    return count


# ---------------------------------------------------------------- posts, comments, moderation

def _post_view(p: CommunityPost) -> PostView:
    return PostView(p.id, p.author_profile_id, p.type, p.title, p.body, p.hidden, p.hidden_reason, p.created_at)


def create_post(session: Session, actor: Actor, org_id: int, profile_id: int, *, body: str, title: str = "",
                type: str = "general") -> PostView:
    community_org(session, actor, org_id, "community.read")
    owned(session, CommunityProfile, org_id, profile_id, "profile")
    if not body.strip():
        raise InvalidInput("A post needs some text.")
    post = CommunityPost(org_id=org_id, author_profile_id=profile_id, type=type, title=title, body=body,
                         search_text=searchable(title, body))
    session.add(post)
    session.commit()
    return _post_view(post)


def add_comment(session: Session, actor: Actor, org_id: int, post_id: int, profile_id: int, body: str) -> int:
    community_org(session, actor, org_id, "community.read")
    post = owned(session, CommunityPost, org_id, post_id, "post")
    owned(session, CommunityProfile, org_id, profile_id, "profile")
    if post.hidden:
        raise Conflict("That post is hidden; it takes no comments.")
    if not body.strip():
        raise InvalidInput("A comment needs some text.")
    comment = CommunityComment(org_id=org_id, post_id=post.id, author_profile_id=profile_id, body=body)
    session.add(comment)
    session.commit()
    return comment.id


def _target(session: Session, org_id: int, kind: str, target_id: int):
    if kind == "post":
        return owned(session, CommunityPost, org_id, target_id, "post", lock=True)
    if kind == "comment":
        return owned(session, CommunityComment, org_id, target_id, "comment", lock=True)
    raise InvalidInput("Only posts and comments can be reported or moderated.")


def report_content(session: Session, actor: Actor, org_id: int, kind: str, target_id: int, reason: str, *,
                   reporter_account_id: int | None = None) -> int:
    """A member's report of a post or comment; it waits in the moderation queue. Reporting one thing
    twice is one report."""
    community_org(session, actor, org_id, "community.read")
    row = _target(session, org_id, kind, target_id)
    if row.hidden:
        raise Conflict(f"That {kind} is already hidden; thank you.")
    if not reason.strip():
        raise InvalidInput("Say why this is being reported.")
    column = CommunityReport.post_id if kind == "post" else CommunityReport.comment_id
    if reporter_account_id is not None:
        earlier = session.scalar(select(CommunityReport.id).where(
            column == target_id, CommunityReport.reporter_account_id == reporter_account_id,
            CommunityReport.status == "open"))
        if earlier is not None:
            return earlier
    report = CommunityReport(org_id=org_id, reason=reason.strip(), reporter_account_id=reporter_account_id,
                             **{f"{kind}_id": target_id})
    session.add(report)
    session.commit()
    return report.id


def moderation_queue(session: Session, actor: Actor, org_id: int, *, after_id: int | None = None,
                     limit: int = 50) -> list[ReportView]:
    """Open reports, oldest first."""
    community_org(session, actor, org_id, "community.moderate")
    R = CommunityReport
    query = (select(R, CommunityPost.body, CommunityComment.body,
                    func.coalesce(CommunityPost.author_profile_id, CommunityComment.author_profile_id))
             .outerjoin(CommunityPost, CommunityPost.id == R.post_id)
             .outerjoin(CommunityComment, CommunityComment.id == R.comment_id)
             .where(R.org_id == org_id, R.status == "open"))
    if after_id is not None:
        query = query.where(R.id > after_id)
    views = []
    for r, post_body, comment_body, author_id in session.execute(query.order_by(R.id).limit(limit)):
        target, target_id, text = (("post", r.post_id, post_body) if r.post_id is not None
                                   else ("comment", r.comment_id, comment_body))
        author = session.get(CommunityProfile, author_id)
        reporter = session.scalar(select(CommunityProfile.display_name).where(
            CommunityProfile.account_id == r.reporter_account_id, CommunityProfile.is_primary)) \
            if r.reporter_account_id else None
        views.append(ReportView(r.id, target, target_id, (text or "")[:120], r.reason, r.status, r.created_at,
                                author.account_id, author.display_name, reporter or "staff"))
    return views


def _resolve_reports(session: Session, org_id: int, kind: str, target_id: int, resolution: str,
                     now: datetime) -> None:
    column = CommunityReport.post_id if kind == "post" else CommunityReport.comment_id
    session.execute(update(CommunityReport)
                    .where(CommunityReport.org_id == org_id, column == target_id, CommunityReport.status == "open")
                    .values(status="resolved", resolution=resolution, resolved_at=now))


def hide(session: Session, actor: Actor, org_id: int, kind: str, target_id: int, reason: str, *,
         now: datetime | None = None) -> None:
    """Hide a post or comment from members, with the reason (told to its author); its open reports are resolved."""
    org = community_org(session, actor, org_id, "community.moderate")
    if not reason.strip():
        raise InvalidInput("Give the reason for hiding it; the author may ask.")
    row = _target(session, org_id, kind, target_id)
    if row.hidden:
        raise Conflict(f"That {kind} is already hidden.")
    before = {"hidden": row.hidden, "hidden_reason": row.hidden_reason}
    row.hidden, row.hidden_reason = True, reason.strip()
    _resolve_reports(session, org_id, kind, target_id, "hidden", clock(now))
    author = session.get(CommunityAccount, session.get(CommunityProfile, row.author_profile_id).account_id)
    if author.status != "placeholder":
        excerpt = (row.body or "")[:40] + ("…" if len(row.body or "") > 40 else "")
        tell(session, org, author, f"{org.name}: your {kind} \u201c{excerpt}\u201d was hidden: {row.hidden_reason}. "
             "Reply to this message if you think it should not have been.",
             key=f"community:{kind}:{row.id}:hidden:{int(clock(now).timestamp())}",
             subject=f"Your {kind} was hidden")
    audit.record(session, actor, f"community.{kind}.hide", f"community_{kind}", target_id, org_id=org_id,
                 before=before, after={"hidden": True, "hidden_reason": row.hidden_reason})
    session.commit()


def restore(session: Session, actor: Actor, org_id: int, kind: str, target_id: int) -> None:
    """Show a hidden post or comment again."""
    community_org(session, actor, org_id, "community.moderate")
    row = _target(session, org_id, kind, target_id)
    if not row.hidden:
        raise Conflict(f"That {kind} is not hidden.")
    before = {"hidden": True, "hidden_reason": row.hidden_reason}
    row.hidden, row.hidden_reason = False, None
    audit.record(session, actor, f"community.{kind}.restore", f"community_{kind}", target_id, org_id=org_id,
                 before=before, after={"hidden": False})
    session.commit()


def suspend_author(session: Session, actor: Actor, org_id: int, report_id: int, reason: str, *,
                   now: datetime | None = None) -> int:
    """From the queue: hide the reported post or comment and suspend its author (both told); returns the account."""
    from core.community.members import set_status

    community_org(session, actor, org_id, "community.members")
    report = owned(session, CommunityReport, org_id, report_id, "report")
    kind, target_id = ("post", report.post_id) if report.post_id is not None else ("comment", report.comment_id)
    row = _target(session, org_id, kind, target_id)
    account_id = session.get(CommunityProfile, row.author_profile_id).account_id
    member(session, org_id, account_id)
    if not row.hidden:
        hide(session, actor, org_id, kind, target_id, reason, now=now)
    set_status(session, actor, org_id, account_id, "suspended", reason=reason, now=now)
    return account_id


def dismiss_report(session: Session, actor: Actor, org_id: int, report_id: int, *,
                   now: datetime | None = None) -> None:
    """Leave the content as it is and take the report off the queue."""
    community_org(session, actor, org_id, "community.moderate")
    report = owned(session, CommunityReport, org_id, report_id, "report", lock=True)
    if report.status != "open":
        raise Conflict("That report is already resolved.")
    report.status, report.resolution, report.resolved_at = "resolved", "dismissed", clock(now)
    audit.record(session, actor, "community.report.dismiss", "community_report", report.id, org_id=org_id,
                 after={"resolution": "dismissed"})
    session.commit()


# ---------------------------------------------------------------- listings and bookmarks

def create_listing(session: Session, actor: Actor, org_id: int, profile_id: int, *, kind: str, title: str,
                   price_minor: int = 0, description: str = "") -> ListingView:
    community_org(session, actor, org_id, "community.read")
    owned(session, CommunityProfile, org_id, profile_id, "profile")
    if kind not in LISTING_KINDS:
        raise InvalidInput("A listing is a product or a service.")
    if price_minor < 0:
        raise InvalidInput("A price cannot be negative.")
    listing = CommunityListing(org_id=org_id, profile_id=profile_id, kind=kind, title=title.strip(),
                               description=description, price_minor=price_minor,
                               search_text=searchable(title, description, kind))
    session.add(listing)
    session.commit()
    return ListingView(listing.id, profile_id, kind, listing.title, price_minor, listing.status)


def set_listing_status(session: Session, actor: Actor, org_id: int, listing_id: int, status: str) -> ListingView:
    community_org(session, actor, org_id, "community.read")
    if status not in LISTING_STATUSES:
        raise InvalidInput(f"A listing is {', '.join(LISTING_STATUSES)}.")
    listing = owned(session, CommunityListing, org_id, listing_id, "listing")
    listing.status = status
    session.commit()
    return ListingView(listing.id, listing.profile_id, listing.kind, listing.title, listing.price_minor, status)


BOOKMARKABLE = {"post": CommunityPost, "event": CommunityEvent, "listing": CommunityListing, "profile": CommunityProfile}


def bookmark(session: Session, actor: Actor, org_id: int, account_id: int, kind: str, target_id: int) -> bool:
    """Bookmark a post, event, listing or profile; False when it was already bookmarked."""
    community_org(session, actor, org_id, "community.read")
    if kind not in BOOKMARKABLE:
        raise InvalidInput(f"Only {', '.join(BOOKMARKABLE)} can be bookmarked.")
    owned(session, BOOKMARKABLE[kind], org_id, target_id, kind)
    try:
        with session.begin_nested():
            session.add(CommunityBookmark(org_id=org_id, account_id=account_id, target_kind=kind,
                                          target_id=target_id))
    except IntegrityError:
        return False
    session.commit()
    return True


def remove_bookmark(session: Session, actor: Actor, org_id: int, account_id: int, kind: str, target_id: int) -> None:
    community_org(session, actor, org_id, "community.read")
    row = session.scalar(select(CommunityBookmark).where(
        CommunityBookmark.org_id == org_id, CommunityBookmark.account_id == account_id,
        CommunityBookmark.target_kind == kind, CommunityBookmark.target_id == target_id))
    if row is None:
        raise NotFound("That is not bookmarked.")
    session.delete(row)
    session.commit()


def bookmarks_of(session: Session, actor: Actor, org_id: int, account_id: int) -> list[tuple[str, int]]:
    community_org(session, actor, org_id, "community.read")
    return [(k, i) for k, i in session.execute(select(CommunityBookmark.target_kind, CommunityBookmark.target_id)
                                               .where(CommunityBookmark.org_id == org_id,
                                                      CommunityBookmark.account_id == account_id)
                                               .order_by(CommunityBookmark.id))]


def recent_posts(session: Session, actor: Actor, org_id: int, *, limit: int = 5) -> list[tuple[PostView, str]]:
    """The latest posts members can see, with their authors' names (for SMS and USSD)."""
    community_org(session, actor, org_id, "community.read")
    T, P = CommunityPost, CommunityProfile
    rows = session.execute(select(T, P.display_name).join(P, P.id == T.author_profile_id)
                           .where(T.org_id == org_id, T.hidden.is_(False)).order_by(T.id.desc()).limit(limit))
    return [(_post_view(post), name) for post, name in rows]
