"""Tables of the chama area: members, settings, the ledger, loans, payouts,
meetings, the merry-go-round and share-outs.

Every row carries ``org_id``. Money is an integer of minor units; rates are
integers of basis points (1% = 100). ``chama_ledger`` is append-only: the
migration adds triggers that refuse UPDATE, and DELETE unless the org itself
is being deleted. Each ledger row stores the signed change it makes to each
balance (savings, loan principal, interest owed, fines owed, pool, earnings),
so every balance is a plain sum over the ledger; ``core.chama.ledger`` is the
one place that decides those changes.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, BigId, org_fk
from db.types import utcnow


class ChamaSettings(Base):
    """One row per chama; also the row that money-moving services lock."""

    __tablename__ = "chama_settings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"), unique=True)
    contribution_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    frequency: Mapped[str] = mapped_column(String(10), default="monthly")
    # monthly: day of the month (1–31, clamped to the month's end); weekly: 0 = Monday … 6 = Sunday.
    due_day: Mapped[int] = mapped_column(default=5)
    contributions_start: Mapped[date | None] = mapped_column(Date)
    reminder_days: Mapped[int] = mapped_column(default=2)
    grace_days: Mapped[int] = mapped_column(default=3)
    fine_kind: Mapped[str] = mapped_column(String(10), default="flat")
    fine_flat_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    fine_percent_bp: Mapped[int] = mapped_column(default=0)
    interest_kind: Mapped[str] = mapped_column(String(10), default="reducing")
    interest_rate_bp: Mapped[int] = mapped_column(default=100)
    loan_limit_percent: Mapped[int] = mapped_column(default=300)
    approvals_required: Mapped[int] = mapped_column(default=2)
    sms_receipts: Mapped[bool] = mapped_column(default=True)
    # What a payment beyond what is owed becomes: "savings", or "refund" (paid back through the approvals).
    overpayment: Mapped[str] = mapped_column(String(10), default="savings", server_default="savings")
    loan_grace_days: Mapped[int] = mapped_column(default=7, server_default="7")
    loan_penalty_bp: Mapped[int] = mapped_column(default=0, server_default="0")
    default_after_missed: Mapped[int] = mapped_column(default=3, server_default="3")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ChamaMember(Base):
    """A contact who belongs to the chama, with a member number and a role."""

    __tablename__ = "chama_members"
    __table_args__ = (
        UniqueConstraint("org_id", "contact_id"),
        Index("ix_chama_members_contact", "contact_id"),  # a caller's chamas, from her contacts
        UniqueConstraint("org_id", "member_number", name="uq_chama_members_number"),
        Index("uq_chama_members_user", "org_id", "user_id", unique=True,
              sqlite_where=text("user_id IS NOT NULL"), postgresql_where=text("user_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    member_number: Mapped[str] = mapped_column(String(20))
    role: Mapped[str] = mapped_column(String(12), default="member")
    status: Mapped[str] = mapped_column(String(12), default="active")
    joined_on: Mapped[date] = mapped_column(Date)
    exited_on: Mapped[date | None] = mapped_column(Date)
    exit_reason: Mapped[str | None] = mapped_column(Text)
    # The staff login that is this member (an official), linked explicitly: approvals know people by it.
    user_id: Mapped[int | None] = mapped_column(BigId)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ChamaLoan(Base):
    """A loan's request, terms and decision; its money lives in the ledger."""

    __tablename__ = "chama_loans"
    __table_args__ = (Index("ix_chama_loans_org_status", "org_id", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    member_id: Mapped[int] = mapped_column(ForeignKey("chama_members.id", ondelete="CASCADE"))
    principal_minor: Mapped[int] = mapped_column(BigInteger)
    months: Mapped[int]
    interest_kind: Mapped[str] = mapped_column(String(10))
    interest_rate_bp: Mapped[int]
    approvals_required: Mapped[int]
    purpose: Mapped[str] = mapped_column(Text, default="")
    # requested → approved → disbursed, or requested → rejected.
    status: Mapped[str] = mapped_column(String(12), default="requested")
    requester_key: Mapped[str | None] = mapped_column(String(40))
    requested_by: Mapped[str] = mapped_column(String(254))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    disbursed_at: Mapped[datetime | None]
    defaulted_at: Mapped[datetime | None]
    first_due_on: Mapped[date | None] = mapped_column(Date)


class ChamaGuarantor(Base):
    """A member who pledges part of their savings behind another member's loan."""

    __tablename__ = "chama_guarantors"
    __table_args__ = (UniqueConstraint("loan_id", "member_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    loan_id: Mapped[int] = mapped_column(ForeignKey("chama_loans.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("chama_members.id", ondelete="CASCADE"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    # asked → accepted or declined; the loan is paid out only when every guarantor accepted.
    status: Mapped[str] = mapped_column(String(10), default="asked", server_default="accepted")


class ChamaPayout(Base):
    """Money out of the pool to a member or a payee, after officials approve it."""

    __tablename__ = "chama_payouts"
    __table_args__ = (Index("ix_chama_payouts_org_status", "org_id", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    member_id: Mapped[int | None] = mapped_column(ForeignKey("chama_members.id", ondelete="CASCADE"))
    payee: Mapped[str] = mapped_column(String(200))
    # payout (from earnings), exit (a leaver's settlement) or refund (an overpayment handed back).
    kind: Mapped[str] = mapped_column(String(10), default="payout", server_default="payout")
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    purpose: Mapped[str] = mapped_column(Text, default="")
    approvals_required: Mapped[int]
    # requested → approved → paid, or requested → rejected.
    status: Mapped[str] = mapped_column(String(12), default="requested")
    requester_key: Mapped[str | None] = mapped_column(String(40))
    requested_by: Mapped[str] = mapped_column(String(254))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    paid_at: Mapped[datetime | None]


class ChamaApproval(Base):
    """One official's decision on a loan or a payout; one per official per request."""

    __tablename__ = "chama_approvals"
    __table_args__ = (
        UniqueConstraint("loan_id", "approver_key", name="uq_chama_approvals_loan_approver"),
        UniqueConstraint("payout_id", "approver_key", name="uq_chama_approvals_payout_approver"),
        CheckConstraint("(loan_id IS NULL) <> (payout_id IS NULL)", name="one_subject"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("chama_loans.id", ondelete="CASCADE"))
    payout_id: Mapped[int | None] = mapped_column(ForeignKey("chama_payouts.id", ondelete="CASCADE"))
    # "m<member id>" or "u<user id>": the same person always has the same key.
    approver_key: Mapped[str] = mapped_column(String(40))
    approver_member_id: Mapped[int | None] = mapped_column(ForeignKey("chama_members.id", ondelete="CASCADE"))
    approver_user_id: Mapped[int | None] = mapped_column(BigId)
    approver_label: Mapped[str] = mapped_column(String(254))
    approver_name: Mapped[str] = mapped_column(String(200))
    approver_role: Mapped[str] = mapped_column(String(12))
    decision: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)


class ChamaShareout(Base):
    """An end-of-cycle share-out; its per-member payments are ledger entries."""

    __tablename__ = "chama_shareouts"
    # A chama's share-outs so far (count and last), read with every balance.
    __table_args__ = (Index("ix_chama_shareouts_org", "org_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    pool_minor: Mapped[int] = mapped_column(BigInteger)
    savings_minor: Mapped[int] = mapped_column(BigInteger)
    earnings_minor: Mapped[int] = mapped_column(BigInteger)
    members: Mapped[int]
    fingerprint: Mapped[str] = mapped_column(String(20))
    committed_by: Mapped[str] = mapped_column(String(254))
    committed_at: Mapped[datetime] = mapped_column(default=utcnow)


# Entries that record money paid in: each receipt (source + reference) is recorded once.
PAYMENT_KINDS = ("contribution", "fine_payment", "loan_repayment")
PAYMENT_REFERENCE = f"reference IS NOT NULL AND kind IN ({', '.join(repr(k) for k in PAYMENT_KINDS)})"


class ChamaLedgerEntry(Base):
    """Append-only. ``amount_minor`` is what moved or was charged (always
    positive); the ``*_minor`` deltas are its signed effect on each balance."""

    __tablename__ = "chama_ledger"
    __table_args__ = (
        UniqueConstraint("org_id", "idempotency_key"),
        UniqueConstraint("reverses_id"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("(kind = 'reversal') = (reverses_id IS NOT NULL)", name="reversal_points_back"),
        Index("ix_chama_ledger_member", "org_id", "member_id", "id"),
        Index("ix_chama_ledger_occurred", "org_id", "occurred_at"),
        Index("ix_chama_ledger_loan", "loan_id"),
        # A receipt (source + reference) pays for one thing, however it reaches us.
        Index("uq_chama_ledger_payment_reference", "org_id", "source", text("upper(replace(reference, ' ', ''))"),
              "part", unique=True,
              sqlite_where=text(PAYMENT_REFERENCE), postgresql_where=text(PAYMENT_REFERENCE)),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    member_id: Mapped[int | None] = mapped_column(ForeignKey("chama_members.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    savings_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    principal_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    interest_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    fines_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    pool_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    earnings_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("chama_loans.id", ondelete="CASCADE"))
    payout_id: Mapped[int | None] = mapped_column(ForeignKey("chama_payouts.id", ondelete="CASCADE"))
    shareout_id: Mapped[int | None] = mapped_column(ForeignKey("chama_shareouts.id", ondelete="CASCADE"))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("chama_ledger.id", ondelete="CASCADE"))
    period: Mapped[str | None] = mapped_column(String(10))
    # Which part of one receipt this entry is (a receipt split across a repayment and savings).
    part: Mapped[int] = mapped_column(default=0, server_default="0")
    source: Mapped[str] = mapped_column(String(12))
    reference: Mapped[str | None] = mapped_column(String(100))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    memo: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(254))
    recorded_by_user_id: Mapped[int | None] = mapped_column(BigId)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChamaInvoice(Base):
    """A member's contribution due for one period (``2030-03`` or ``2030-W10``)."""

    __tablename__ = "chama_invoices"
    __table_args__ = (UniqueConstraint("org_id", "member_id", "period"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    member_id: Mapped[int] = mapped_column(ForeignKey("chama_members.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(10))
    due_on: Mapped[date] = mapped_column(Date)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChamaMeeting(Base):
    __tablename__ = "chama_meetings"
    __table_args__ = (Index("ix_chama_meetings_org_starts", "org_id", "starts_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    starts_at: Mapped[datetime]
    venue: Mapped[str] = mapped_column(String(200))
    agenda: Mapped[str] = mapped_column(Text, default="")
    minutes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), default="scheduled")
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ChamaAttendance(Base):
    __tablename__ = "chama_attendance"
    __table_args__ = (UniqueConstraint("meeting_id", "member_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    meeting_id: Mapped[int] = mapped_column(ForeignKey("chama_meetings.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("chama_members.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(10))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ChamaRotationSlot(Base):
    """A member's place in a merry-go-round round; done when its payout is paid."""

    __tablename__ = "chama_rotation"
    __table_args__ = (
        UniqueConstraint("org_id", "round_no", "position", name="uq_chama_rotation_position"),
        UniqueConstraint("org_id", "round_no", "member_id", name="uq_chama_rotation_member"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    round_no: Mapped[int]
    position: Mapped[int]
    member_id: Mapped[int] = mapped_column(ForeignKey("chama_members.id", ondelete="CASCADE"))
    payout_id: Mapped[int | None] = mapped_column(ForeignKey("chama_payouts.id", ondelete="CASCADE"))
