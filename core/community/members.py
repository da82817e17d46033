"""The member directory and a member's page; changing contact details, verifying, suspending,
reinstating, and merging two accounts that are one person.

The directory pages through the core (keyset on the primary profile's name,
then id) and searches every profile's name and username, the phone's digits
and the email. A member's page gathers what staff need in one read: profiles,
contact details, registrations with attendance, posts, connections,
listings, notifications and the moderation history (reports on their posts
and comments, what was hidden or restored, suspensions).

A suspended member keeps their account and registrations; SMS and USSD
answer them with a polite refusal, and staff cannot register them.

Merging takes two accounts of one person and keeps one: the other's profiles
(no longer primary), registrations (where both had one for an event, the
better of the two: attended, registered, waitlisted, cancelled), posts,
connections, listings, notifications, bookmarks, reports and inbox thread
move over, and its address comes along where the kept account has none.
Staff prove that the person owns the address being merged with a sign-in
code sent to it (:func:`start_merge`, then :func:`finish_merge` with the
code): the code is the person's consent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from core import audit
from core.actors import Actor
from core.community.accounts import AccountView, account_by_address, address_of, view_account
from core.community.base import clock, community_org, member, tell, when
from core.community.events import fill_places
from core.community.otp import CodeSent, request_code, verify_code
from core.errors import Conflict, InvalidInput
from core.phones import normalize_phone
from db.models import AuditEntry, Org
from db.models_community import (
    CommunityAccount,
    CommunityBookmark,
    CommunityComment,
    CommunityConnection,
    CommunityEvent,
    CommunityListing,
    CommunityMigrationRecord,
    CommunityNotification,
    CommunityPost,
    CommunityProfile,
    CommunityRegistration,
    CommunityReport,
    CommunityThread,
)

PAGE = 50


@dataclass(frozen=True)
class MemberRow:
    id: int
    name: str
    type: str
    phone: str | None
    email: str | None
    status: str
    verified: bool
    migrated: bool
    joined_at: datetime
    profiles: int

    @property
    def cursor(self) -> tuple[str, int]:
        """Pass as ``after`` for the next page."""
        return self.name.lower(), self.id


def _escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_members(session: Session, actor: Actor, org_id: int, *, search: str = "", status: str | None = None,
                 after: tuple[str, int] | None = None, limit: int = PAGE) -> list[MemberRow]:
    """One page of the directory, by name; ``search`` matches any profile's name or username, the phone or email."""
    community_org(session, actor, org_id, "community.read")
    A, P = CommunityAccount, CommunityProfile
    each = aliased(CommunityProfile)
    profiles = select(func.count()).select_from(each).where(each.account_id == A.id).scalar_subquery()
    name = func.lower(P.display_name)
    query = (select(A, P.display_name, P.type, P.verified, profiles)
             .join(P, (P.account_id == A.id) & P.is_primary)
             .where(A.org_id == org_id, A.status != "placeholder"))
    if status:
        query = query.where(A.status == status)
    term = search.strip().lower()
    if term:
        pattern = f"%{_escape(term)}%"
        # The join's P is the primary profile; this looks at every profile of the account.
        any_profile = aliased(CommunityProfile)
        matches = [exists().where(any_profile.account_id == A.id,
                                  any_profile.search_text.like(pattern, escape="\\")),
                   func.lower(A.email).like(pattern, escape="\\")]
        digits = "".join(ch for ch in term if ch.isdigit())
        if len(digits) >= 3:
            matches.append(A.phone.like(f"%{digits.lstrip('0')}%"))
        query = query.where(or_(*matches))
    if after is not None:
        query = query.where(or_(name > after[0], and_(name == after[0], A.id > after[1])))
    rows = session.execute(query.order_by(name, A.id).limit(min(max(limit, 1), 500)))
    return [MemberRow(a.id, display, type_, a.phone, a.email, a.status, verified, a.migrated, a.created_at, n)
            for a, display, type_, verified, n in rows]


def count_members(session: Session, actor: Actor, org_id: int, *, status: str | None = None) -> int:
    community_org(session, actor, org_id, "community.read")
    A = CommunityAccount
    query = select(func.count()).select_from(A).where(A.org_id == org_id, A.status != "placeholder")
    if status:
        query = query.where(A.status == status)
    return session.scalar(query) or 0


# ---------------------------------------------------------------- a member's page

@dataclass(frozen=True)
class MemberRegistration:
    id: int
    event_id: int
    title: str
    starts_at: datetime
    event_status: str
    status: str
    attended_at: datetime | None


@dataclass(frozen=True)
class MemberPost:
    id: int
    kind: str  # "post" or "comment"
    profile: str
    text: str
    hidden: bool
    hidden_reason: str | None
    created_at: datetime


@dataclass(frozen=True)
class MemberConnection:
    id: int
    profile: str
    other: str
    status: str


@dataclass(frozen=True)
class ModerationEntry:
    at: datetime
    what: str
    detail: str


@dataclass(frozen=True)
class MemberPage:
    account: AccountView
    status: str
    status_reason: str | None
    joined_at: datetime
    registrations: list[MemberRegistration]
    attended: int
    no_shows: int
    posts: list[MemberPost]
    connections: list[MemberConnection]
    listings: list[tuple[int, str, str, int]]  # id, title, status, price_minor
    notifications: list[tuple[datetime, str]]
    moderation: list[ModerationEntry]

    @property
    def name(self) -> str:
        return self.account.primary.display_name if self.account.primary else ""


def member_page(session: Session, actor: Actor, org_id: int, account_id: int, *,
                now: datetime | None = None) -> MemberPage:
    community_org(session, actor, org_id, "community.read")
    account = member(session, org_id, account_id)
    view = view_account(session, account)
    profile_ids = [p.id for p in view.profiles]
    names = {p.id: p.display_name for p in view.profiles}
    now = clock(now)
    R, E = CommunityRegistration, CommunityEvent
    registrations = [MemberRegistration(r.id, e.id, e.title, e.starts_at, e.status, r.status, r.attended_at)
                     for r, e in session.execute(select(R, E).join(E, E.id == R.event_id)
                                                 .where(R.account_id == account.id)
                                                 .order_by(E.starts_at.desc()).limit(100))]
    attended = sum(1 for r in registrations if r.status == "attended")
    no_shows = sum(1 for r in registrations if r.status == "registered" and r.event_status == "scheduled"
                   and session.get(CommunityEvent, r.event_id).ends_at <= now)
    T, C = CommunityPost, CommunityComment
    posts = [MemberPost(p.id, "post", names[p.author_profile_id], p.title or p.body, p.hidden, p.hidden_reason,
                        p.created_at)
             for p in session.scalars(select(T).where(T.author_profile_id.in_(profile_ids))
                                      .order_by(T.id.desc()).limit(30))]
    posts += [MemberPost(c.id, "comment", names[c.author_profile_id], c.body, c.hidden, c.hidden_reason,
                         c.created_at)
              for c in session.scalars(select(C).where(C.author_profile_id.in_(profile_ids))
                                       .order_by(C.id.desc()).limit(30))]
    posts.sort(key=lambda p: p.created_at, reverse=True)
    K, P = CommunityConnection, CommunityProfile
    connections = []
    for k in session.scalars(select(K).where(or_(K.profile_low_id.in_(profile_ids), K.profile_high_id.in_(profile_ids)))
                             .order_by(K.id.desc()).limit(100)):
        mine, other = ((k.profile_low_id, k.profile_high_id) if k.profile_low_id in names
                       else (k.profile_high_id, k.profile_low_id))
        connections.append(MemberConnection(k.id, names[mine], session.get(P, other).display_name, k.status))
    L = CommunityListing
    listings = [(lid, title, status, price) for lid, title, status, price in session.execute(
        select(L.id, L.title, L.status, L.price_minor).where(L.profile_id.in_(profile_ids)).order_by(L.id.desc()))]
    N = CommunityNotification
    notifications = [tuple(row) for row in session.execute(select(N.created_at, N.body).where(N.account_id == account.id)
                                          .order_by(N.id.desc()).limit(10))]
    return MemberPage(view, account.status, account.status_reason, account.created_at, registrations, attended,
                      no_shows, posts, connections, listings, notifications,
                      _moderation(session, org_id, account.id, profile_ids))


def _moderation(session: Session, org_id: int, account_id: int, profile_ids: list[int]) -> list[ModerationEntry]:
    """Reports on the member's posts and comments, what moderators did to them, and suspensions."""
    T, C, REP = CommunityPost, CommunityComment, CommunityReport
    post_ids = list(session.scalars(select(T.id).where(T.author_profile_id.in_(profile_ids))))
    comment_ids = list(session.scalars(select(C.id).where(C.author_profile_id.in_(profile_ids))))
    entries = [ModerationEntry(r.created_at, f"reported ({r.status}{', ' + r.resolution if r.resolution else ''})",
                               f"{'post ' + str(r.post_id) if r.post_id else 'comment ' + str(r.comment_id)}: "
                               f"{r.reason}")
               for r in session.scalars(select(REP).where(REP.org_id == org_id, or_(
                   REP.post_id.in_(post_ids or [0]), REP.comment_id.in_(comment_ids or [0]))))]
    Au = AuditEntry
    # A merged account's history is this member's too.
    accounts = [str(account_id)] + [str((before or {}).get("merged")) for before in session.scalars(
        select(Au.before).where(Au.org_id == org_id, Au.action == "community.member.merge",
                                Au.entity_id == str(account_id)))]
    done = session.scalars(select(Au).where(Au.org_id == org_id, or_(
        and_(Au.entity == "community_post", Au.entity_id.in_([str(i) for i in post_ids] or ["-"])),
        and_(Au.entity == "community_comment", Au.entity_id.in_([str(i) for i in comment_ids] or ["-"])),
        and_(Au.entity == "community_account", Au.entity_id.in_(accounts),
             Au.action.in_(("community.member.suspend", "community.member.reinstate"))))))
    for row in done:
        reason = (row.after or {}).get("hidden_reason") or (row.after or {}).get("reason") or ""
        what = row.action.removeprefix("community.").replace(".", " ")
        entries.append(ModerationEntry(row.at, what, f"{row.entity.removeprefix('community_')} {row.entity_id}"
                                       + (f": {reason}" if reason else "") + f" (by {row.actor})"))
    return sorted(entries, key=lambda e: e.at, reverse=True)


# ---------------------------------------------------------------- changes

def update_contact(session: Session, actor: Actor, org_id: int, account_id: int, *, email: str | None = None,
                   phone: str | None = None) -> AccountView:
    """Change a member's email or phone ("" removes it; one of the two must stay)."""
    org = community_org(session, actor, org_id, "community.members")
    account = member(session, org_id, account_id, lock=True)
    before = {"email": account.email, "phone": account.phone}
    wanted = dict(before)
    if email is not None:
        wanted["email"] = email.strip().lower() or None
        if wanted["email"] and "@" not in wanted["email"]:
            raise InvalidInput(f"{email!r} is not an email address.")
    if phone is not None:
        wanted["phone"] = normalize_phone(phone, org.country) if phone.strip() else None
    if wanted["email"] is None and wanted["phone"] is None:
        raise InvalidInput("A member needs an email address or a phone number.")
    for column, value in wanted.items():
        if value and value != before[column] and session.scalar(select(CommunityAccount.id).where(
                CommunityAccount.org_id == org_id, getattr(CommunityAccount, column) == value)) is not None:
            raise Conflict(f"Another member has {column} {value}; merge the two accounts instead.")
    if wanted["email"] != account.email:
        account.email, account.email_verified = wanted["email"], False
    if wanted["phone"] != account.phone:
        account.phone, account.phone_verified = wanted["phone"], False
    audit.record(session, actor, "community.member.contact", "community_account", account.id, org_id=org_id,
                 before=before, after={"email": account.email, "phone": account.phone})
    session.commit()
    return view_account(session, account)


def set_status(session: Session, actor: Actor, org_id: int, account_id: int, status: str, *, reason: str = "",
               now: datetime | None = None) -> AccountView:
    """Suspend (with a reason, told to the member) or reinstate a member."""
    org = community_org(session, actor, org_id, "community.members")
    if status not in ("active", "suspended"):
        raise InvalidInput("A member is active or suspended.")
    account = member(session, org_id, account_id, lock=True)
    if account.status == status:
        raise Conflict(f"This member is already {status}.")
    if status == "suspended" and not reason.strip():
        raise InvalidInput("Give the reason for the suspension; the member is told.")
    before = {"status": account.status, "reason": account.status_reason}
    account.status, account.status_reason, account.status_changed_at = status, reason.strip() or None, clock(now)
    stamp = int(account.status_changed_at.timestamp())
    body = (f"{org.name}: your membership is suspended: {account.status_reason}. Reply to this message to talk "
            "to us." if status == "suspended" else f"{org.name}: your membership is active again. Welcome back.")
    tell(session, org, account, body, key=f"community:member:{account.id}:{status}:{stamp}",
         subject=f"Your {org.name} membership")
    action = "suspend" if status == "suspended" else "reinstate"
    audit.record(session, actor, f"community.member.{action}", "community_account", account.id, org_id=org_id,
                 before=before, after={"status": status, "reason": account.status_reason})
    session.commit()
    return view_account(session, account)


def start_merge(session: Session, actor: Actor, org_id: int, keep_id: int, address: str, *,
                now: datetime | None = None) -> CodeSent:
    """Send a sign-in code to ``address`` (the account to merge into ``keep_id``); its owner reads it to staff."""
    org = community_org(session, actor, org_id, "community.members")
    keep = member(session, org_id, keep_id)
    other = account_by_address(session, org, address)
    _mergeable(keep, other, address)
    return request_code(session, actor, org_id, address, now=now)


def _mergeable(keep: CommunityAccount, other: CommunityAccount | None, address: str) -> CommunityAccount:
    if other is None or other.status == "placeholder":
        raise InvalidInput(f"No other member has the address {address}.")
    if other.id == keep.id:
        raise InvalidInput(f"{address} is this member's own address; give the other account's.")
    return other


_RANK = {"attended": 3, "registered": 2, "waitlisted": 1, "cancelled": 0}


def finish_merge(session: Session, actor: Actor, org_id: int, keep_id: int, address: str, code: str, *,
                 now: datetime | None = None) -> AccountView:
    """Check the code sent to ``address`` and fold that account into ``keep_id`` (see the module docstring)."""
    org = community_org(session, actor, org_id, "community.members")
    now = clock(now)
    keep = member(session, org_id, keep_id)
    other = _mergeable(keep, account_by_address(session, org, address), address)
    verify_code(session, actor, org_id, address, code, now=now, commit=False)
    for account_id in sorted((keep.id, other.id)):  # both locked, always in the same order
        member(session, org_id, account_id, lock=True)
    session.refresh(keep)
    session.refresh(other)
    channel, _value = address_of(org, address)
    before = {"kept": keep.id, "merged": other.id, "merged_email": other.email, "merged_phone": other.phone}
    _move_registrations(session, org, keep, other, now)
    P = CommunityProfile
    session.execute(update(P).where(P.account_id == other.id).values(account_id=keep.id, is_primary=False)
                    .execution_options(synchronize_session=False))
    for model, column in ((CommunityNotification, CommunityNotification.account_id),
                          (CommunityReport, CommunityReport.reporter_account_id),
                          (CommunityThread, CommunityThread.account_id),
                          (CommunityMigrationRecord, CommunityMigrationRecord.account_id)):
        session.execute(update(model).where(column == other.id).values({column.key: keep.id})
                        .execution_options(synchronize_session=False))
    BM = CommunityBookmark
    held = {tuple(row) for row in session.execute(select(BM.target_kind, BM.target_id)
                                                      .where(BM.account_id == keep.id))}
    for bookmark in session.scalars(select(BM).where(BM.account_id == other.id)):
        if (bookmark.target_kind, bookmark.target_id) in held:
            session.delete(bookmark)
        else:
            bookmark.account_id = keep.id
    email, phone = other.email, other.phone
    email_ok, phone_ok = other.email_verified, other.phone_verified
    keep.migrated = keep.migrated or other.migrated
    if other.status == "suspended" and keep.status == "active":
        keep.status, keep.status_reason, keep.status_changed_at = "suspended", other.status_reason, now
    session.flush()
    session.delete(other)
    session.flush()
    if keep.email is None and email:
        keep.email, keep.email_verified = email, email_ok or channel == "email"
    if keep.phone is None and phone:
        keep.phone, keep.phone_verified = phone, phone_ok or channel == "sms"
    audit.record(session, actor, "community.member.merge", "community_account", keep.id, org_id=org_id,
                 before=before, after={"email": keep.email, "phone": keep.phone, "proven": channel})
    session.commit()
    return view_account(session, keep)


def _move_registrations(session: Session, org: Org, keep: CommunityAccount, other: CommunityAccount,
                        now: datetime) -> None:
    R = CommunityRegistration
    kept = {r.event_id: r for r in session.scalars(select(R).where(R.account_id == keep.id))}
    for theirs in list(session.scalars(select(R).where(R.account_id == other.id))):
        mine = kept.get(theirs.event_id)
        if mine is None:
            theirs.account_id = keep.id
            continue
        event = session.scalar(select(CommunityEvent).where(CommunityEvent.id == theirs.event_id).with_for_update())
        session.refresh(event)
        better, worse = (theirs, mine) if _RANK[theirs.status] > _RANK[mine.status] else (mine, theirs)
        if worse.status in ("registered", "attended"):
            event.registered_count -= 1  # one person, one place
        session.delete(worse)
        session.flush()
        better.account_id = keep.id
        session.flush()
        fill_places(session, org, event, now)


def verify_member(session: Session, actor: Actor, org_id: int, account_id: int, *,
                  verified: bool = True) -> AccountView:
    """Mark the member's primary profile verified (or not)."""
    from core.community.accounts import update_profile

    community_org(session, actor, org_id, "community.members")
    account = member(session, org_id, account_id)
    primary = session.scalar(select(CommunityProfile.id).where(CommunityProfile.account_id == account.id,
                                                               CommunityProfile.is_primary))
    update_profile(session, actor, org_id, primary, verified=verified)
    return view_account(session, account)


def describe(org: Org, page: MemberPage) -> list[str]:
    """The page as lines of text (the CLI prints them; times on the community's clock)."""
    a = page.account
    lines = [f"{page.name} (member {a.id}) {page.status}" + (f": {page.status_reason}" if page.status_reason else ""),
             f"phone {a.phone or '-'}{' (verified)' if a.phone_verified else ''}  email {a.email or '-'}"
             f"{' (verified)' if a.email_verified else ''}  joined {when(org, page.joined_at, '%Y-%m-%d')}"
             + ("  migrated" if a.migrated else "")]
    lines += ["Profiles:"] + [f"  {p.id} {p.display_name} @{p.username} {p.type}"
                              + (" primary" if p.is_primary else "") + (" verified" if p.verified else "")
                              for p in a.profiles]
    lines += [f"Registrations ({page.attended} attended, {page.no_shows} no-shows):"]
    lines += [f"  {r.event_id} {r.title} {when(org, r.starts_at, '%Y-%m-%d %H:%M')} {r.status}"
              + (" (event cancelled)" if r.event_status == "cancelled" else "") for r in page.registrations]
    lines += ["Posts and comments:"] + [f"  {p.kind} {p.id} {p.text[:60]}" + (f" [hidden: {p.hidden_reason}]"
                                                                            if p.hidden else "") for p in page.posts]
    lines += ["Connections:"] + [f"  {c.profile} - {c.other} ({c.status})" for c in page.connections]
    lines += ["Listings:"] + [f"  {i} {t} ({s})" for i, t, s, _p in page.listings]
    lines += ["Moderation:"] + [f"  {when(org, m.at, '%Y-%m-%d %H:%M')} {m.what}: {m.detail}" for m in page.moderation]
    return lines
