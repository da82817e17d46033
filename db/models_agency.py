"""Tables of the agency area: workers, employers, placements and their money,
and the platform's commerce (subscriptions, contact packages, purchases, unlocks).

Every row carries ``org_id``. A worker or employer is a profile *in one org*
(the agency whose books they are on, or the platform org of the marketplace),
as contacts are; being on an agency's books is the agency membership, with its
verification and membership fee on the worker row. Money is an integer of
minor units. There is no tribe or ethnicity column anywhere, on purpose:
matching on it would be discrimination.

``legacy_id`` keeps the id a row had in the old Domestic Connect export; it is
unique per org, so re-running the import finds the row instead of adding one.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, BigId, org_fk
from db.types import utcnow

# A worker is "taken" while placed or while a placement of theirs is disputed.
ACTIVE_PLACEMENT = "status IN ('placed', 'disputed')"



class AgencyProfile(Base):
    """One row per agency org: what the agency is, and whether it is the platform."""

    __tablename__ = "agency_profiles"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"), unique=True)
    is_platform: Mapped[bool] = mapped_column(default=False)
    license_number: Mapped[str | None] = mapped_column(String(60))
    location: Mapped[str] = mapped_column(String(100), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    verification_status: Mapped[str] = mapped_column(String(12), default="pending")
    rating_tenths: Mapped[int | None]
    services: Mapped[list[Any]] = mapped_column(JSON, default=list)
    placement_fee_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    commission_bp: Mapped[int] = mapped_column(default=0)
    owner_contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    # A replacement placed within this many days of the first one's start carries no new fee.
    guarantee_days: Mapped[int] = mapped_column(default=90, server_default="90")
    legacy_id: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AgencyWorker(Base):
    """A domestic worker on one org's books; the phone lives on the contact and is shown masked."""

    __tablename__ = "agency_workers"
    __table_args__ = (
        UniqueConstraint("org_id", "legacy_id", name="uq_agency_workers_legacy"),
        UniqueConstraint("org_id", "contact_id", name="uq_agency_workers_contact"),
        Index("ix_agency_workers_contact", "contact_id"),  # is a caller an agency's worker (every first dial)
        Index("ix_agency_workers_rank", "org_id", "rank_score", "id"),
        Index("ix_agency_workers_place", "org_id", "location_key", "rank_score", "id"),
        Index("ix_agency_workers_salary", "org_id", "expected_salary_minor"),
        Index("ix_agency_workers_email", "org_id", func.lower(text("email"))),
        CheckConstraint("accommodation IN ('live_in', 'live_out', 'either')", name="accommodation"),
        CheckConstraint("availability IN ('immediate', 'two_weeks', 'one_month', 'unavailable')",
                        name="availability"),
        CheckConstraint("background_check IN ('pending', 'cleared', 'flagged')", name="background_check"),
        CheckConstraint("verification_status IN ('unverified', 'pending', 'verified', 'rejected')",
                        name="verification"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    age_years: Mapped[int | None]
    bio: Mapped[str] = mapped_column(Text, default="")
    location: Mapped[str] = mapped_column(String(100), default="")
    location_key: Mapped[str] = mapped_column(String(100), default="")
    education: Mapped[str] = mapped_column(String(40), default="")
    experience_years: Mapped[int] = mapped_column(default=0)
    expected_salary_minor: Mapped[int | None] = mapped_column(BigInteger)
    accommodation: Mapped[str] = mapped_column(String(10), default="either")
    availability: Mapped[str] = mapped_column(String(12), default="immediate")
    languages: Mapped[list[Any]] = mapped_column(JSON, default=list)
    verification_status: Mapped[str] = mapped_column(String(12), default="pending")
    background_check: Mapped[str] = mapped_column(String(10), default="pending")
    background_checked_on: Mapped[date | None] = mapped_column(Date)
    background_notes: Mapped[str] = mapped_column(Text, default="")
    membership_fee_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    joined_on: Mapped[date | None] = mapped_column(Date)
    # Kept in step by core.agency.workers.rank_of on every write, so search pages by an index.
    rank_score: Mapped[int] = mapped_column(default=0)
    legacy_id: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AgencyWorkerSkill(Base):
    """One skill of one worker, lower-cased, so a skills filter is an index lookup."""

    __tablename__ = "agency_worker_skills"
    __table_args__ = (
        UniqueConstraint("worker_id", "skill"),
        Index("ix_agency_worker_skills_skill", "org_id", "skill", "worker_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    worker_id: Mapped[int] = mapped_column(ForeignKey("agency_workers.id", ondelete="CASCADE"))
    skill: Mapped[str] = mapped_column(String(60))


class AgencyWorkerFile(Base):
    """A photo or training certificate; the bytes are a file under the data dir."""

    __tablename__ = "agency_worker_files"
    __table_args__ = (
        UniqueConstraint("org_id", "legacy_id", name="uq_agency_worker_files_legacy"),
        Index("ix_agency_worker_files_worker", "worker_id", "kind"),
        CheckConstraint("kind IN ('photo', 'certificate')", name="kind"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    worker_id: Mapped[int] = mapped_column(ForeignKey("agency_workers.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(12))
    title: Mapped[str] = mapped_column(String(200), default="")
    # Relative to the data dir; None for a record whose file never reached Ofisi (see legacy_path).
    path: Mapped[str | None] = mapped_column(String(300))
    sha256: Mapped[str | None] = mapped_column(String(64))
    content_type: Mapped[str | None] = mapped_column(String(60))
    size_bytes: Mapped[int | None]
    # A certificate's document type (id, good_conduct, medical, reference) and the day it stops being valid.
    doc_type: Mapped[str | None] = mapped_column(String(20))
    expires_on: Mapped[date | None] = mapped_column(Date)
    legacy_path: Mapped[str | None] = mapped_column(String(300))
    legacy_id: Mapped[str | None] = mapped_column(String(60))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class AgencyEmployer(Base):
    """A household or company; in an agency org, one of the agency's clients."""

    __tablename__ = "agency_employers"
    __table_args__ = (
        UniqueConstraint("org_id", "legacy_id", name="uq_agency_employers_legacy"),
        UniqueConstraint("org_id", "contact_id", name="uq_agency_employers_contact"),
        Index("ix_agency_employers_contact", "contact_id"),
        Index("ix_agency_employers_org", "org_id", "id"),
        Index("ix_agency_employers_email", "org_id", func.lower(text("email"))),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    household_name: Mapped[str] = mapped_column(String(200), default="")
    location: Mapped[str] = mapped_column(String(100), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    requirements: Mapped[str] = mapped_column(Text, default="")
    client_since: Mapped[date | None] = mapped_column(Date)
    legacy_id: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AgencyPlacement(Base):
    """A worker with an employer. The database refuses a worker in two active placements."""

    __tablename__ = "agency_placements"
    __table_args__ = (
        UniqueConstraint("org_id", "legacy_id", name="uq_agency_placements_legacy"),
        Index("uq_agency_placements_active_worker", "worker_id", unique=True,
              sqlite_where=text(ACTIVE_PLACEMENT), postgresql_where=text(ACTIVE_PLACEMENT)),
        Index("ix_agency_placements_org_status", "org_id", "status", "id"),
        CheckConstraint("status IN ('proposed', 'placed', 'ended', 'disputed')", name="status"),
        CheckConstraint("fee_minor >= 0 AND commission_minor >= 0", name="money"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    # None only for placements imported from data that never named the worker.
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("agency_workers.id", ondelete="RESTRICT"))
    employer_id: Mapped[int] = mapped_column(ForeignKey("agency_employers.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(10), default="proposed")
    # The step within the status: proposed → interview (still "proposed"); placed → trial → confirmed
    # (still "placed"); the status alone decides whether the worker is taken.
    stage: Mapped[str | None] = mapped_column(String(12))
    replaces_id: Mapped[int | None]  # the placement this one replaces (within the guarantee: no new fee)
    rating: Mapped[int | None]
    rating_notes: Mapped[str] = mapped_column(Text, default="", server_default="")
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    agreed_salary_minor: Mapped[int | None] = mapped_column(BigInteger)
    fee_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    commission_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    proposed_at: Mapped[datetime] = mapped_column(default=utcnow)
    placed_at: Mapped[datetime | None]
    notes: Mapped[str] = mapped_column(Text, default="")
    legacy_id: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AgencyEntry(Base):
    """The one book of a placement's money: ``charge`` (the fee or commission falls due when the worker
    is placed), ``waiver`` (part of a charge let go), ``payment`` (money in) and ``refund`` (money given
    back). Owed is charge − waiver − payment + refund; every board, report and export sums these rows.
    ``reference_key`` is the reference lower-cased: ``QXY1`` and ``qxy1`` are one M-Pesa code."""

    __tablename__ = "agency_entries"
    __table_args__ = (
        Index("uq_agency_entries_reference", "org_id", "reference_key", unique=True),
        UniqueConstraint("org_id", "legacy_id", name="uq_agency_entries_legacy"),
        Index("ix_agency_entries_placement", "placement_id", "kind"),
        CheckConstraint("kind IN ('charge', 'waiver', 'payment', 'refund')", name="kind"),
        CheckConstraint("item IN ('fee', 'commission')", name="item"),
        CheckConstraint("amount_minor > 0", name="amount"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    placement_id: Mapped[int] = mapped_column(ForeignKey("agency_placements.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))
    item: Mapped[str] = mapped_column(String(12))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    reference: Mapped[str | None] = mapped_column(String(60))
    reference_key: Mapped[str | None] = mapped_column(String(60))
    dispute_id: Mapped[int | None] = mapped_column(ForeignKey("agency_disputes.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by: Mapped[str] = mapped_column(String(254), default="")
    legacy_id: Mapped[str | None] = mapped_column(String(60))


class AgencyChange(Base):
    """History of a worker's or employer's edits (availability and salary among them)."""

    __tablename__ = "agency_changes"
    __table_args__ = (Index("ix_agency_changes_entity", "org_id", "entity", "entity_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    entity: Mapped[str] = mapped_column(String(10))  # worker | employer
    entity_id: Mapped[int]
    field: Mapped[str] = mapped_column(String(40))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    changed_by: Mapped[str] = mapped_column(String(254))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class AgencyInboxMessage(Base):
    """What a worker or employer texted that no keyword answered: the staff inbox, one thread per phone."""

    __tablename__ = "agency_inbox"
    __table_args__ = (
        UniqueConstraint("org_id", "inbound_id", name="uq_agency_inbox_inbound"),
        Index("ix_agency_inbox_phone", "org_id", "phone", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    phone: Mapped[str] = mapped_column(String(20))
    direction: Mapped[str] = mapped_column(String(3))  # in | out
    body: Mapped[str] = mapped_column(Text)
    inbound_id: Mapped[int | None]
    message_id: Mapped[int | None]
    handled: Mapped[bool] = mapped_column(default=False)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class AgencyDispute(Base):
    __tablename__ = "agency_disputes"
    __table_args__ = (
        UniqueConstraint("org_id", "legacy_id", name="uq_agency_disputes_legacy"),
        Index("ix_agency_disputes_placement", "placement_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    placement_id: Mapped[int] = mapped_column(ForeignKey("agency_placements.id", ondelete="CASCADE"))
    notes: Mapped[str] = mapped_column(Text, default="")
    resolution: Mapped[str | None] = mapped_column(Text)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    legacy_id: Mapped[str | None] = mapped_column(String(40))


class AgencySubscription(Base):
    """An agency's subscription to the platform (kept in the agency's org)."""

    __tablename__ = "agency_subscriptions"
    __table_args__ = (
        UniqueConstraint("org_id", "legacy_id", name="uq_agency_subscriptions_legacy"),
        CheckConstraint("status IN ('active', 'expired', 'cancelled')", name="status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    tier: Mapped[str] = mapped_column(String(20))
    monthly_fee_minor: Mapped[int] = mapped_column(BigInteger)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="active")
    features: Mapped[list[Any]] = mapped_column(JSON, default=list)
    legacy_id: Mapped[str | None] = mapped_column(String(40))


class AgencyPayment(Base):
    """What an agency paid the platform (subscription or commission), by reference."""

    __tablename__ = "agency_payments"
    __table_args__ = (
        UniqueConstraint("org_id", "reference", name="uq_agency_payments_reference"),
        UniqueConstraint("org_id", "legacy_id", name="uq_agency_payments_legacy"),
        CheckConstraint("kind IN ('subscription', 'commission')", name="kind"),
        CheckConstraint("status IN ('pending', 'completed', 'failed')", name="status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    kind: Mapped[str] = mapped_column(String(14))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10))
    reference: Mapped[str] = mapped_column(String(60))
    paid_at: Mapped[datetime] = mapped_column(default=utcnow)
    legacy_id: Mapped[str | None] = mapped_column(String(40))


class AgencyContactPackage(Base):
    """What the platform sells employers: N worker phone numbers for a price."""

    __tablename__ = "agency_contact_packages"
    __table_args__ = (UniqueConstraint("org_id", "legacy_id", name="uq_agency_contact_packages_legacy"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    price_minor: Mapped[int] = mapped_column(BigInteger)
    contacts_included: Mapped[int]
    retired_at: Mapped[datetime | None]
    legacy_id: Mapped[str | None] = mapped_column(String(40))


class AgencyPurchase(Base):
    """An employer's purchase of a package; ``credits_left`` is spent by unlocks."""

    __tablename__ = "agency_purchases"
    __table_args__ = (
        Index("uq_agency_purchases_reference", "org_id", "reference_key", unique=True),
        UniqueConstraint("org_id", "legacy_id", name="uq_agency_purchases_legacy"),
        Index("ix_agency_purchases_employer", "employer_id", "status", "id"),
        CheckConstraint("status IN ('pending', 'completed', 'failed')", name="status"),
        CheckConstraint("credits_left >= 0", name="credits"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    employer_id: Mapped[int] = mapped_column(ForeignKey("agency_employers.id", ondelete="CASCADE"))
    package_id: Mapped[int] = mapped_column(ForeignKey("agency_contact_packages.id", ondelete="RESTRICT"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    credits_left: Mapped[int] = mapped_column(default=0)
    purchased_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The M-Pesa receipt or the staff's reference, and the payment request of an STK push.
    reference: Mapped[str | None] = mapped_column(String(60))
    reference_key: Mapped[str | None] = mapped_column(String(60))
    payment_request_id: Mapped[int | None]
    paid_at: Mapped[datetime | None]
    legacy_id: Mapped[str | None] = mapped_column(String(40))


class AgencyUnlock(Base):
    """An employer may see this worker's phone. One row per pair: unlocking twice costs once."""

    __tablename__ = "agency_unlocks"
    __table_args__ = (
        UniqueConstraint("employer_id", "worker_id", name="uq_agency_unlocks_pair"),
        UniqueConstraint("org_id", "legacy_id", name="uq_agency_unlocks_legacy"),
        Index("ix_agency_unlocks_org", "org_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    employer_id: Mapped[int] = mapped_column(ForeignKey("agency_employers.id", ondelete="CASCADE"))
    worker_id: Mapped[int] = mapped_column(ForeignKey("agency_workers.id", ondelete="CASCADE"))
    purchase_id: Mapped[int | None] = mapped_column(ForeignKey("agency_purchases.id", ondelete="SET NULL"))
    unlocked_at: Mapped[datetime] = mapped_column(default=utcnow)
    unlocked_by: Mapped[str] = mapped_column(String(254), default="")
    legacy_id: Mapped[str | None] = mapped_column(String(40))
