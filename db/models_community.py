"""Tables of the community area: accounts with several profiles, one-time sign-in
codes, events and registrations, connections, notifications, posts, comments
and their reports, listings, bookmarks, and the batches of the migration from
the old platform.

Every row carries ``org_id``. Rules the database keeps by itself:

* one primary profile per account: a partial unique index on
  ``community_profiles(account_id) WHERE is_primary`` (both backends);
* an event never has more registered people than places:
  ``CHECK (registered_count <= capacity)`` on the counter that
  ``core.community.events`` moves under the event row's lock;
* one registration per person per event, one connection per unordered pair
  of profiles (``profile_low_id < profile_high_id``, so no self-connection);
* deleting a row never takes other people's rows with it (migration m002): a
  profile with connections, posts, comments or listings cannot be deleted
  until they are dealt with; a removed account leaves its registrations
  (``account_id`` set to NULL: the event's history stays) and a removed post
  leaves its comments (``post_id`` NULL). Only what is a person's own goes
  with their account: profiles, notifications, bookmarks. Events are
  cancelled, never deleted;
* ids are never reused (``AUTOINCREMENT`` on SQLite), so an audit row names
  one row for ever, even after a migration batch is rolled back.

``search_text`` on profiles, events, posts and listings is the lower-cased
text staff search matches; on PostgreSQL it has a trigram index (``pg_trgm``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, BigId, OtpCodeColumns, org_fk
from db.types import utcnow

PROFILE_TYPES = ("innovator", "mentor", "investor", "academic_student", "academic_institution", "organization",
                 "professional")
REGISTRATION_STATUSES = ("registered", "waitlisted", "cancelled", "attended")
CONNECTION_STATUSES = ("pending", "accepted", "rejected", "blocked")
NOTIFICATION_KINDS = ("connection_request", "connection_accepted", "event_reminder", "system")
LISTING_KINDS = ("product", "service")
LISTING_STATUSES = ("active", "sold", "inactive")
# "placeholder": the one "Removed member" per community that keeps others' rows when a batch is rolled back.
ACCOUNT_STATUSES = ("active", "suspended", "placeholder")
NEVER_REUSE_IDS = {"sqlite_autoincrement": True}

def _trigram(table: str) -> Index:
    return Index(f"ix_{table}_search", "search_text", postgresql_using="gin",
                 postgresql_ops={"search_text": "gin_trgm_ops"})


class CommunityAccount(Base):
    """One person: reached by email and/or phone, signed in by one-time codes."""

    __tablename__ = "community_accounts"
    __table_args__ = (
        UniqueConstraint("org_id", "email", name="uq_community_accounts_email"),
        UniqueConstraint("org_id", "phone", name="uq_community_accounts_phone"),
        Index("ix_community_accounts_phone", "phone"),  # is a caller a community's member, in any
        CheckConstraint("email IS NOT NULL OR phone IS NOT NULL OR status = 'placeholder'", name="reachable"),
        CheckConstraint("status IN ('active', 'suspended', 'placeholder')", name="status"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    email_verified: Mapped[bool] = mapped_column(default=False)
    phone_verified: Mapped[bool] = mapped_column(default=False)
    migrated: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(12), default="active", server_default="active")
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[datetime | None]
    last_sign_in_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CommunityProfile(Base):
    """A face of an account (a mentor, an investor …); exactly one is primary."""

    __tablename__ = "community_profiles"
    __table_args__ = (
        UniqueConstraint("org_id", "username", name="uq_community_profiles_username"),
        Index("uq_community_profiles_one_primary", "account_id", unique=True,
              sqlite_where=text("is_primary"), postgresql_where=text("is_primary")),
        Index("ix_community_profiles_account", "account_id"),
        _trigram("community_profiles"),
        CheckConstraint("type IN ('innovator', 'mentor', 'investor', 'academic_student', "
                        "'academic_institution', 'organization', 'professional')", name="type"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    account_id: Mapped[int] = mapped_column(ForeignKey("community_accounts.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(24))
    display_name: Mapped[str] = mapped_column(String(200))
    username: Mapped[str] = mapped_column(String(60))
    bio: Mapped[str] = mapped_column(Text, default="")
    location: Mapped[str] = mapped_column(String(120), default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    avatar_file: Mapped[str] = mapped_column(String(300), default="")
    verified: Mapped[bool] = mapped_column(default=False)
    is_primary: Mapped[bool] = mapped_column(default=False)
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CommunityOtp(OtpCodeColumns, Base):
    """One sign-in code sent to an address; only its salted hash is kept."""

    __tablename__ = "community_otps"
    __table_args__ = (Index("ix_community_otps_address", "org_id", "address", "created_at"), NEVER_REUSE_IDS)

    org_id: Mapped[int] = org_fk()


class CommunityEvent(Base):
    __tablename__ = "community_events"
    __table_args__ = (
        Index("ix_community_events_start", "org_id", "starts_at"),
        _trigram("community_events"),
        CheckConstraint("capacity > 0 AND registered_count >= 0 AND registered_count <= capacity "
                        "AND ends_at > starts_at", name="places"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    organiser_profile_id: Mapped[int | None] = mapped_column(
        ForeignKey("community_profiles.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    type: Mapped[str] = mapped_column(String(40), default="meetup")
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    venue: Mapped[str] = mapped_column(String(200), default="")
    virtual_link: Mapped[str] = mapped_column(String(300), default="")
    capacity: Mapped[int]
    registered_count: Mapped[int] = mapped_column(default=0)
    featured: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(12), default="scheduled")
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CommunityRegistration(Base):
    """A person's place at an event, or their place in its waitlist (by id: first come, first served)."""

    __tablename__ = "community_registrations"
    __table_args__ = (
        UniqueConstraint("event_id", "account_id"),
        Index("ix_community_registrations_status", "event_id", "status", "id"),
        CheckConstraint("status IN ('registered', 'waitlisted', 'cancelled', 'attended')", name="status"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    event_id: Mapped[int] = mapped_column(ForeignKey("community_events.id"))
    # NULL once the person's account is gone: the event keeps its count and its history.
    account_id: Mapped[int | None] = mapped_column(ForeignKey("community_accounts.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(12))
    source: Mapped[str] = mapped_column(String(12), default="console")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    attended_at: Mapped[datetime | None]


class CommunityConnection(Base):
    __tablename__ = "community_connections"
    __table_args__ = (
        UniqueConstraint("profile_low_id", "profile_high_id"),
        CheckConstraint("profile_low_id < profile_high_id", name="pair"),
        CheckConstraint("status IN ('pending', 'accepted', 'rejected', 'blocked')", name="status"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    requester_profile_id: Mapped[int] = mapped_column(ForeignKey("community_profiles.id"))
    profile_low_id: Mapped[int] = mapped_column(ForeignKey("community_profiles.id"))
    profile_high_id: Mapped[int] = mapped_column(ForeignKey("community_profiles.id"))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CommunityNotification(Base):
    __tablename__ = "community_notifications"
    __table_args__ = (Index("ix_community_notifications_account", "account_id", "id"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    account_id: Mapped[int] = mapped_column(ForeignKey("community_accounts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(24))
    body: Mapped[str] = mapped_column(Text)
    read_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CommunityPost(Base):
    __tablename__ = "community_posts"
    __table_args__ = (
        UniqueConstraint("org_id", "legacy_id"),
        _trigram("community_posts"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    author_profile_id: Mapped[int] = mapped_column(ForeignKey("community_profiles.id"))
    type: Mapped[str] = mapped_column(String(20), default="general")
    title: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    hidden: Mapped[bool] = mapped_column(default=False)
    hidden_reason: Mapped[str | None] = mapped_column(Text)
    legacy_id: Mapped[str | None] = mapped_column(String(60))
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CommunityComment(Base):
    __tablename__ = "community_comments"
    __table_args__ = (Index("ix_community_comments_post", "post_id", "id"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    # NULL once the post is gone (a rolled-back migration's): the comment is its author's, and stays.
    post_id: Mapped[int | None] = mapped_column(ForeignKey("community_posts.id", ondelete="SET NULL"))
    author_profile_id: Mapped[int] = mapped_column(ForeignKey("community_profiles.id"))
    body: Mapped[str] = mapped_column(Text)
    hidden: Mapped[bool] = mapped_column(default=False)
    hidden_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CommunityReport(Base):
    """A member's report of a post or comment; open reports are the moderation queue."""

    __tablename__ = "community_reports"
    __table_args__ = (
        Index("ix_community_reports_open", "org_id", "status", "id"),
        CheckConstraint("(post_id IS NULL) <> (comment_id IS NULL)", name="one_target"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    post_id: Mapped[int | None] = mapped_column(ForeignKey("community_posts.id", ondelete="CASCADE"))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("community_comments.id", ondelete="CASCADE"))
    reporter_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("community_accounts.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="open")
    resolution: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]


class CommunityListing(Base):
    __tablename__ = "community_listings"
    __table_args__ = (
        _trigram("community_listings"),
        CheckConstraint("kind IN ('product', 'service') AND status IN ('active', 'sold', 'inactive') "
                        "AND price_minor >= 0", name="sane"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    profile_id: Mapped[int] = mapped_column(ForeignKey("community_profiles.id"))
    kind: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    price_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(10), default="active")
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CommunityBookmark(Base):
    __tablename__ = "community_bookmarks"
    __table_args__ = (UniqueConstraint("account_id", "target_kind", "target_id"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    account_id: Mapped[int] = mapped_column(ForeignKey("community_accounts.id", ondelete="CASCADE"))
    target_kind: Mapped[str] = mapped_column(String(10))
    target_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CommunityImportBatch(Base):
    """One run of the migration from the old platform, with its report."""

    __tablename__ = "community_import_batches"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    file: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(12), default="applied")
    actor: Mapped[str] = mapped_column(String(254))
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    rolled_back_at: Mapped[datetime | None]


class CommunityMigrationRecord(Base):
    """What one batch did with one legacy user: the new account and every row it created for them."""

    __tablename__ = "community_migration_records"
    __table_args__ = (
        UniqueConstraint("batch_id", "legacy_id"),
        Index("ix_community_migration_records_legacy", "org_id", "legacy_id"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    batch_id: Mapped[int] = mapped_column(ForeignKey("community_import_batches.id", ondelete="CASCADE"))
    legacy_id: Mapped[str] = mapped_column(String(60))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("community_accounts.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(12))
    created: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    notes: Mapped[list[str]] = mapped_column(JSON, default=list)


class CommunitySignup(Base):
    """A stranger joining by SMS, between their first message and their account (name, then profile type).

    Nothing else exists for them until the last answer: a wrong or stray
    message from a number that never finishes leaves only this row.
    """

    __tablename__ = "community_signups"
    __table_args__ = (
        UniqueConstraint("org_id", "phone", name="uq_community_signups_phone"),
        CheckConstraint("step IN ('name', 'type')", name="step"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    phone: Mapped[str] = mapped_column(String(20))
    step: Mapped[str] = mapped_column(String(8), default="name")
    name: Mapped[str | None] = mapped_column(String(200))
    # The event they asked to join, registered for once they are a member.
    event_id: Mapped[int | None] = mapped_column(ForeignKey("community_events.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CommunityThread(Base):
    """The staff inbox: one conversation per phone, fed by every SMS no keyword answered."""

    __tablename__ = "community_threads"
    __table_args__ = (
        UniqueConstraint("org_id", "phone", name="uq_community_threads_phone"),
        Index("ix_community_threads_latest", "org_id", "status", "last_message_at"),
        CheckConstraint("status IN ('open', 'closed')", name="status"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    phone: Mapped[str] = mapped_column(String(20))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("community_accounts.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(8), default="open")
    unread: Mapped[int] = mapped_column(default=0)
    last_message_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CommunityThreadMessage(Base):
    """One message of a thread: in from the member (keyed by the inbound SMS) or out from staff."""

    __tablename__ = "community_thread_messages"
    __table_args__ = (
        Index("ix_community_thread_messages_thread", "thread_id", "id"),
        UniqueConstraint("inbound_message_id", name="uq_community_thread_messages_inbound"),
        CheckConstraint("direction IN ('in', 'out')", name="direction"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    thread_id: Mapped[int] = mapped_column(ForeignKey("community_threads.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(3))
    body: Mapped[str] = mapped_column(Text)
    inbound_message_id: Mapped[int | None] = mapped_column(BigId)
    outbox_message_id: Mapped[int | None] = mapped_column(BigId)
    staff: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
