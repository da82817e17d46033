"""Tables of the salon area: services, professionals' hours, exceptions and
blocks, booking settings, appointments with their history, and client records.

Every row carries ``org_id``. Money is an integer of minor units in the org's
currency; instants are :class:`~db.types.UTCDateTime`; weekly hours are
minutes after local midnight in the org's time zone, because "09:00" means
nine in the morning in summer and in winter.

An appointment occupies its professional from ``blocked_start`` to
``blocked_end``: the service time plus the service's buffers. On PostgreSQL
the exclusion constraint ``ex_salon_appointments_no_overlap`` refuses two
non-cancelled appointments of one professional whose blocked ranges overlap;
on SQLite ``core.salon.bookings`` checks and inserts inside one
``BEGIN IMMEDIATE`` transaction.
"""

from __future__ import annotations

from datetime import date, datetime
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
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, BigId, org_fk
from db.types import utcnow

APPOINTMENT_STATUSES = ("pending", "confirmed", "completed", "cancelled", "no_show")
SOURCES = ("console", "sms", "form")
BLOCK_REASONS = ("leave", "training", "other")
PAYMENT_METHODS = ("cash", "mpesa", "card")
# deposit: paid ahead (M-Pesa); visit: taken at completion; no_show_fee: a no-show's fee; refund: money owed back.
PAYMENT_KINDS = ("deposit", "visit", "no_show_fee", "refund")
NOTIFY_KINDS = ("booked", "moved", "cancelled")



class SalonService(Base):
    """Something the salon sells by the appointment: a haircut, braids, a manicure."""

    __tablename__ = "salon_services"
    __table_args__ = (
        UniqueConstraint("org_id", "name"),
        CheckConstraint("minutes > 0 AND buffer_before >= 0 AND buffer_after >= 0 AND price_minor >= 0",
                        name="sane"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    name: Mapped[str] = mapped_column(String(120))
    category: Mapped[str] = mapped_column(String(80), default="")
    minutes: Mapped[int]
    price_minor: Mapped[int] = mapped_column(BigInteger)
    buffer_before: Mapped[int] = mapped_column(default=0)
    buffer_after: Mapped[int] = mapped_column(default=0)
    # Paid by M-Pesa when a client books by SMS or a form (0: none); counts toward the bill.
    deposit_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SalonSettings(Base):
    """Booking rules of one salon; a salon without a row uses the defaults in core.salon.settings."""

    __tablename__ = "salon_settings"

    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True)
    min_notice_minutes: Mapped[int]
    max_advance_days: Mapped[int]
    slot_step_minutes: Mapped[int]
    # Minutes before the start at which a reminder goes out, e.g. [1440, 120].
    reminder_minutes: Mapped[list[int]] = mapped_column(JSON)
    # How long a client's booking waits for its deposit before the time is freed.
    deposit_hold_minutes: Mapped[int] = mapped_column(default=30, server_default=text("30"))
    # Charged when a client does not come; a paid deposit counts toward it when it is kept.
    no_show_fee_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    keep_deposit_on_no_show: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    # The salon's own websites that may post its forms from a browser (CORS), e.g. ["https://glow.co.ke"].
    form_origins: Mapped[list[str]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SalonStaff(Base):
    """A staff member's salon preferences: whether an owner also takes clients, and which
    bookings of hers she is told of by SMS. Without a row: professionals are bookable and told of all."""

    __tablename__ = "salon_staff"

    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    bookable: Mapped[bool] = mapped_column(default=False)
    notify_on: Mapped[list[str]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SalonWeeklyHours(Base):
    """One stretch of a professional's usual week: ``work`` time, or a ``break`` inside it.

    A professional with no ``work`` rows keeps the salon default (Monday to
    Saturday, 09:00 to 18:00) until their week is set.
    """

    __tablename__ = "salon_weekly_hours"
    __table_args__ = (
        Index("ix_salon_weekly_hours_pro", "org_id", "professional_id"),
        CheckConstraint("weekday BETWEEN 0 AND 6 AND start_minute >= 0 AND end_minute <= 1440 "
                        "AND start_minute < end_minute AND kind IN ('work', 'break')", name="sane"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    professional_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    weekday: Mapped[int]  # 0 Monday … 6 Sunday
    start_minute: Mapped[int]
    end_minute: Mapped[int]
    kind: Mapped[str] = mapped_column(String(8), default="work")


class SalonDateException(Base):
    """Hours that replace the usual week on one date (``start_minute`` NULL: closed all day).

    ``professional_id`` NULL applies to the whole salon (a public holiday); a
    professional's own exception on the same date wins over the salon's.
    """

    __tablename__ = "salon_date_exceptions"
    __table_args__ = (
        Index("ix_salon_date_exceptions_day", "org_id", "day"),
        CheckConstraint("(start_minute IS NULL AND end_minute IS NULL) OR "
                        "(start_minute >= 0 AND end_minute <= 1440 AND start_minute < end_minute)", name="sane"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    professional_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    day: Mapped[date]
    start_minute: Mapped[int | None]
    end_minute: Mapped[int | None]
    note: Mapped[str] = mapped_column(String(200), default="")


class SalonTimeBlock(Base):
    """Time a professional cannot be booked: leave, training, anything else."""

    __tablename__ = "salon_time_blocks"
    __table_args__ = (
        Index("ix_salon_time_blocks_pro", "org_id", "professional_id", "starts_at"),
        CheckConstraint("starts_at < ends_at", name="ordered"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    professional_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(20), default="other")
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SalonAppointment(Base):
    """A client's appointment with one professional for one service.

    ``starts_at``/``ends_at`` is the service itself; ``blocked_start``/
    ``blocked_end`` adds the buffers and is what may never overlap.
    ``price_minor`` is the service's price when it was booked. ``revision``
    counts reschedules, so each time's reminders have keys of their own.
    """

    __tablename__ = "salon_appointments"
    __table_args__ = (
        Index("ix_salon_appointments_pro_time", "org_id", "professional_id", "blocked_start"),
        Index("ix_salon_appointments_org_start", "org_id", "starts_at"),
        CheckConstraint("blocked_start <= starts_at AND starts_at < ends_at AND ends_at <= blocked_end",
                        name="ordered"),
        CheckConstraint("status IN ('pending', 'confirmed', 'completed', 'cancelled', 'no_show')", name="status"),
        # The database's own refusal of double bookings (PostgreSQL; SQLite relies on BEGIN IMMEDIATE).
        ExcludeConstraint(
            (text("org_id"), "="),
            (text("professional_id"), "="),
            (func.tstzrange(text("blocked_start"), text("blocked_end"), text("'[)'")), "&&"),
            name="ex_salon_appointments_no_overlap",
            using="gist",
            where=text("status <> 'cancelled'"),
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    professional_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("salon_services.id"))
    # A deleted contact leaves the appointment in the books without a name.
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    blocked_start: Mapped[datetime]
    blocked_end: Mapped[datetime]
    price_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(12), default="confirmed")
    source: Mapped[str] = mapped_column(String(10), default="console")
    notes: Mapped[str] = mapped_column(Text, default="")
    cancel_reason: Mapped[str | None] = mapped_column(String(300))
    revision: Mapped[int] = mapped_column(default=0)
    walk_in: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    checked_in_at: Mapped[datetime | None]
    client_confirmed_at: Mapped[datetime | None]  # the client answered the reminder with 1
    closed_at: Mapped[datetime | None]  # completed or marked a no-show
    discount_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    tip_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    # What the client owes for it once closed: price less discount plus tip, or the no-show fee.
    charged_minor: Mapped[int | None] = mapped_column(BigInteger)
    deposit_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    # A booking waiting for its deposit is freed at this time unless paid.
    hold_until: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SalonPayment(Base):
    """Money taken (or owed back) for an appointment: its deposit, the visit, a no-show's fee, a refund.

    ``amount_minor`` includes any tip; a refund is negative. A deposit paid
    through M-Pesa carries its ``payment_request_id``, unique, so a replayed
    callback records it once.
    """

    __tablename__ = "salon_payments"
    __table_args__ = (
        Index("ix_salon_payments_org_at", "org_id", "at"),
        CheckConstraint("method IN ('cash', 'mpesa', 'card') AND "
                        "kind IN ('deposit', 'visit', 'no_show_fee', 'refund')", name="sane"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    appointment_id: Mapped[int] = mapped_column(ForeignKey("salon_appointments.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    method: Mapped[str] = mapped_column(String(6))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    reference: Mapped[str | None] = mapped_column(String(40))
    # The M-Pesa request (core.payments) a deposit came by; a key, not a reference, as areas keep no foreign
    # keys into the payments tables.
    payment_request_id: Mapped[int | None] = mapped_column(BigId, unique=True)
    recorded_by: Mapped[str] = mapped_column(String(254))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class SalonAppointmentEvent(Base):
    """The history of an appointment: booked, confirmed, rescheduled, cancelled, completed, no-show."""

    __tablename__ = "salon_appointment_events"
    __table_args__ = (Index("ix_salon_appointment_events_appt", "appointment_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    appointment_id: Mapped[int] = mapped_column(ForeignKey("salon_appointments.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(254))
    from_start: Mapped[datetime | None]
    to_start: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(String(300))
    details: Mapped[dict[str, Any] | None]
    at: Mapped[datetime] = mapped_column(default=utcnow)


class SalonClient(Base):
    """What the salon knows of a contact as a client; written when an appointment is completed."""

    __tablename__ = "salon_clients"
    __table_args__ = (UniqueConstraint("org_id", "contact_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    first_visit_at: Mapped[datetime]
    last_visit_at: Mapped[datetime]
    visit_count: Mapped[int] = mapped_column(default=0)
    lifetime_spend_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# ---------------------------------------------------------------- leads, follow-ups, conversations

LEAD_STATUSES = ("new", "contacted", "qualified", "converted", "lost")
LEAD_SOURCES = ("form", "sms", "import", "console")
TEMPERATURES = ("hot", "warm", "cold")


class SalonLeadForm(Base):
    """A public lead form, answered at ``POST /forms/{slug}``.

    ``fields`` lists the form's own (custom) fields beyond the standard ones,
    each ``{"name", "label", "required"}``; ``required`` names the standard
    fields this form insists on. The rate limits are per form, per hour.
    """

    __tablename__ = "salon_lead_forms"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(120))
    required: Mapped[list[str]] = mapped_column(JSON)
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(default=True)
    max_per_ip_hour: Mapped[int] = mapped_column(default=20)
    max_per_phone_hour: Mapped[int] = mapped_column(default=3)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SalonFormHit(Base):
    """One submission attempt to a form, by IP and (when valid) phone: the rate limiter's memory.

    It lives in the database so that every gateway process counts the same hits.
    """

    __tablename__ = "salon_form_hits"
    __table_args__ = (
        Index("ix_salon_form_hits_ip", "form_id", "ip", "at"),
        Index("ix_salon_form_hits_phone", "form_id", "phone", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("salon_lead_forms.id", ondelete="CASCADE"))
    ip: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class SalonLead(Base):
    """Someone who may become a client: one row per phone per salon; repeat contacts merge into it."""

    __tablename__ = "salon_leads"
    __table_args__ = (
        UniqueConstraint("org_id", "phone"),
        Index("ix_salon_leads_org_status", "org_id", "status", "id"),
        CheckConstraint("status IN ('new', 'contacted', 'qualified', 'converted', 'lost')", name="status"),
        CheckConstraint("status <> 'lost' OR lost_reason IS NOT NULL", name="lost_reason"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    form_id: Mapped[int | None] = mapped_column(ForeignKey("salon_lead_forms.id", ondelete="SET NULL"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(120), default="")
    phone: Mapped[str] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    service_wanted: Mapped[str] = mapped_column(String(120), default="")
    preferred_date: Mapped[date | None]
    message: Mapped[str] = mapped_column(Text, default="")
    custom: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    source: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default="new")
    lost_reason: Mapped[str | None] = mapped_column(String(300))
    score: Mapped[int] = mapped_column(default=0)
    temperature: Mapped[str] = mapped_column(String(4))
    contacts_count: Mapped[int] = mapped_column(default=1)
    first_response_at: Mapped[datetime | None]
    converted_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SalonLeadActivity(Base):
    """What happened with a lead: created, contacted again, called, messaged, status changed, task done."""

    __tablename__ = "salon_lead_activities"
    __table_args__ = (Index("ix_salon_lead_activities_lead", "lead_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    lead_id: Mapped[int] = mapped_column(ForeignKey("salon_leads.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(254))
    note: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any] | None]
    at: Mapped[datetime] = mapped_column(default=utcnow)


class SalonTask(Base):
    """A follow-up to do by ``due_at``; priority 1 is the most urgent."""

    __tablename__ = "salon_tasks"
    __table_args__ = (Index("ix_salon_tasks_org_due", "org_id", "done_at", "due_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("salon_leads.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    priority: Mapped[int]
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    due_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SalonConversationMessage(Base):
    """One SMS in a person's thread with the salon, in or out; an outgoing one points at its outbox row,
    whose status is the delivery status shown."""

    __tablename__ = "salon_conversation_messages"
    __table_args__ = (
        Index("ix_salon_conversation_phone", "org_id", "phone", "id"),
        CheckConstraint("direction IN ('in', 'out')", name="direction"),
        # An inbound SMS redelivered after a crash lands in the thread once.
        UniqueConstraint("org_id", "inbound_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = org_fk()
    phone: Mapped[str] = mapped_column(String(20))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("salon_leads.id", ondelete="SET NULL"))
    direction: Mapped[str] = mapped_column(String(3))
    body: Mapped[str] = mapped_column(Text)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    inbound_id: Mapped[int | None] = mapped_column(BigId)  # the core's inbound_messages row, if it came by SMS
    actor: Mapped[str | None] = mapped_column(String(254))
    at: Mapped[datetime] = mapped_column(default=utcnow)
