"""The platform's commerce: contact packages, purchases, contact unlocks, agency
subscriptions and agency payments.

An unlock is idempotent and safe under concurrency: the employer's row is
locked first (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite already holds the
write lock), an existing unlock of the pair is returned without a charge, the
credit is taken with one conditional ``UPDATE … SET credits_left =
credits_left - 1 WHERE credits_left > 0``, and ``uq_agency_unlocks_pair``
backs it all up: two unlocks of one worker by one employer cost one credit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import audit, outbox
from core.actors import Actor
from core.agency import books
from core.agency.base import agency_org, phone_of, pick, refused_as_conflict, row_of
from core.errors import Conflict, InvalidInput, PermissionDenied
from core.payments import PaymentView, on_success, request_payment
from db.models import Contact, Org
from db.models_agency import (
    AgencyContactPackage, AgencyEmployer, AgencyPayment, AgencyPurchase, AgencySubscription, AgencyUnlock,
    AgencyWorker,
)
from db.types import utcnow


class NoCredits(Conflict):
    """The employer has no completed purchase with contacts left."""


@dataclass(frozen=True)
class PackageView:
    id: int
    name: str
    description: str
    price_minor: int
    contacts_included: int
    retired: bool = False


@dataclass(frozen=True)
class PurchaseView:
    id: int
    employer_id: int
    package_id: int
    amount_minor: int
    status: str
    credits_left: int
    purchased_at: datetime
    reference: str | None = None
    paid_at: datetime | None = None
    payment_request_id: int | None = None


@dataclass(frozen=True)
class UnlockResult:
    unlock_id: int
    worker_id: int
    employer_id: int
    charged: bool  # False when the pair was already unlocked
    credits_left: int


@dataclass(frozen=True)
class UnlockView:
    id: int
    employer_id: int
    employer_name: str
    worker_id: int
    worker_name: str
    unlocked_at: datetime
    unlocked_by: str
    legacy_id: str | None


def _package_view(p: AgencyContactPackage) -> PackageView:
    return PackageView(p.id, p.name, p.description, p.price_minor, p.contacts_included, p.retired_at is not None)


def _purchase_view(p: AgencyPurchase) -> PurchaseView:
    return PurchaseView(p.id, p.employer_id, p.package_id, p.amount_minor, p.status, p.credits_left, p.purchased_at,
                        p.reference, p.paid_at, p.payment_request_id)


def add_package(session: Session, actor: Actor, org_id: int, *, name: str, price_minor: int,
                contacts_included: int, description: str = "") -> PackageView:
    org = agency_org(session, actor, org_id, "agency.money")
    if not name.strip() or price_minor < 0 or contacts_included <= 0:
        raise InvalidInput("A package needs a name, a price of zero or more and at least one contact.")
    package = AgencyContactPackage(org_id=org.id, name=name.strip(), price_minor=price_minor,
                                   contacts_included=contacts_included, description=description)
    session.add(package)
    session.flush()
    audit.record(session, actor, "agency.package.add", "agency_contact_package", package.id, org_id=org.id,
                 after={"name": package.name, "price_minor": price_minor, "contacts": contacts_included})
    session.commit()
    return _package_view(package)


def list_packages(session: Session, actor: Actor, org_id: int, *, include_retired: bool = False) -> list[PackageView]:
    agency_org(session, actor, org_id, "agency.read")
    query = select(AgencyContactPackage).where(AgencyContactPackage.org_id == org_id)
    if not include_retired:
        query = query.where(AgencyContactPackage.retired_at.is_(None))
    return [_package_view(p) for p in session.scalars(query.order_by(AgencyContactPackage.id))]


def change_package(session: Session, actor: Actor, org_id: int, package_id: int, *, price_minor: int | None = None,
                   retire: bool = False) -> PackageView:
    """A new price (purchases already made keep theirs) or the package retired (no longer sold)."""
    org = agency_org(session, actor, org_id, "agency.money")
    package = row_of(session, AgencyContactPackage, org.id, package_id, "That package does not exist.", lock=True)
    before = {"price_minor": package.price_minor, "retired": package.retired_at is not None}
    if price_minor is not None:
        if price_minor < 0:
            raise InvalidInput("A price cannot be negative.")
        package.price_minor = price_minor
    if retire and package.retired_at is None:
        package.retired_at = utcnow()
    audit.record(session, actor, "agency.package.change", "agency_contact_package", package.id, org_id=org.id,
                 before=before, after={"price_minor": package.price_minor, "retired": package.retired_at is not None})
    session.commit()
    return _package_view(package)


def list_purchases(session: Session, actor: Actor, org_id: int, *, employer_id: int | None = None,
                   status: str | None = None, limit: int = 100) -> list[PurchaseView]:
    agency_org(session, actor, org_id, "agency.read")
    query = select(AgencyPurchase).where(AgencyPurchase.org_id == org_id)
    if employer_id is not None:
        query = query.where(AgencyPurchase.employer_id == employer_id)
    if status:
        query = query.where(AgencyPurchase.status == pick(status, ("pending", "completed", "failed"),
                                                          "purchase status"))
    return [_purchase_view(p) for p in session.scalars(query.order_by(AgencyPurchase.id.desc()).limit(limit))]


def buy_package(session: Session, actor: Actor, org_id: int, *, employer_id: int, package_id: int) -> PurchaseView:
    """A pending purchase at the package's price; it gives credits once completed."""
    org = agency_org(session, actor, org_id, "agency.unlock")
    row_of(session, AgencyEmployer, org.id, employer_id, "That employer is not on this platform.")
    package = row_of(session, AgencyContactPackage, org.id, package_id,
                     "That package does not exist; `ofisi agency packages list` shows what is sold.")
    if package.retired_at is not None:
        raise InvalidInput(f"The package {package.name} is retired and no longer sold.")
    purchase = AgencyPurchase(org_id=org.id, employer_id=employer_id, package_id=package.id,
                              amount_minor=package.price_minor, status="pending", credits_left=0)
    session.add(purchase)
    session.flush()
    audit.record(session, actor, "agency.purchase.add", "agency_purchase", purchase.id, org_id=org.id,
                 after={"employer_id": employer_id, "package_id": package.id, "amount_minor": package.price_minor})
    session.commit()
    return _purchase_view(purchase)


def settle_purchase(session: Session, actor: Actor, org_id: int, purchase_id: int, *, paid: bool,
                    reference: str | None = None) -> PurchaseView:
    """Mark a pending purchase completed (its package's contacts become credits, once) or failed; staff give
    the payment's reference (an M-Pesa code is compared ignoring case)."""
    org = agency_org(session, actor, org_id, "agency.money")
    purchase = row_of(session, AgencyPurchase, org.id, purchase_id, "That purchase does not exist.", lock=True)
    if purchase.status != "pending":
        raise Conflict(f"That purchase is already {purchase.status}.")
    _complete(session, actor, org, purchase, paid, reference)
    session.commit()
    return _purchase_view(purchase)


def _complete(session: Session, actor: Actor, org, purchase: AgencyPurchase, paid: bool,
              reference: str | None) -> None:
    package = session.get(AgencyContactPackage, purchase.package_id)
    purchase.status = "completed" if paid else "failed"
    purchase.credits_left = package.contacts_included if paid else 0
    if paid:
        purchase.paid_at = utcnow()
        purchase.reference = (reference or "").strip() or None
        purchase.reference_key = books.reference_key(reference)
        shown = purchase.reference
        with refused_as_conflict(session, lambda: f"The reference {shown} is already recorded in this agency "
                                                  "(references are compared ignoring case)."):
            session.flush()
    audit.record(session, actor, "agency.purchase.settle", "agency_purchase", purchase.id, org_id=org.id,
                 before={"status": "pending"}, after={"status": purchase.status, "credits": purchase.credits_left,
                                                      "reference": purchase.reference})


PURCHASE = "agency.purchase"
MPESA = Actor.system_actor("mpesa")


def pay_by_mpesa(session: Session, actor: Actor, org_id: int, purchase_id: int, *, phone: str | None = None) -> int:
    """Ask the employer's phone (or ``phone``) to pay a pending purchase by M-Pesa STK push; returns the payment
    request's id. The credits come when Daraja reports success (:func:`_credit_purchase`), once."""
    org = agency_org(session, actor, org_id, "agency.unlock")
    purchase = row_of(session, AgencyPurchase, org.id, purchase_id, "That purchase does not exist.", lock=True)
    if purchase.status != "pending":
        raise Conflict(f"That purchase is already {purchase.status}.")
    number = phone or phone_of(session, session.get(AgencyEmployer, purchase.employer_id).contact_id)
    if not number:
        raise InvalidInput("The employer has no phone on record; give the number to prompt (--phone).")
    # A prompt the employer declined or let run out may be sent again; one still open is the same prompt.
    attempt = 0
    if purchase.payment_request_id is not None:
        from db.models_payments import PaymentRequest

        last = session.get(PaymentRequest, purchase.payment_request_id)
        attempt = (last.payload or {}).get("attempt", 0) + (last.status in ("failed", "cancelled", "expired"))
    request_id = request_payment(session, org.id, purpose=PURCHASE, subject_id=purchase.id, phone=number,
                                 amount_minor=purchase.amount_minor, account_reference=f"PKG{purchase.id}",
                                 description="Contacts", payload={"attempt": attempt},
                                 idempotency_key=f"agency.purchase:{purchase.id}:{attempt}")
    purchase.payment_request_id = request_id
    audit.record(session, actor, "agency.purchase.stk", "agency_purchase", purchase.id, org_id=org.id,
                 after={"payment_request_id": request_id, "amount_minor": purchase.amount_minor})
    session.commit()
    return request_id


@on_success(PURCHASE)
def _credit_purchase(session: Session, payment: PaymentView) -> None:
    """Daraja said paid: the purchase completes with the receipt, and the employer is told by SMS. The purchase
    row is locked and a completed one is left alone, so a replayed callback grants nothing more."""
    purchase = session.scalar(select(AgencyPurchase).where(AgencyPurchase.id == payment.subject_id)
                              .with_for_update().execution_options(populate_existing=True))
    if purchase is None or purchase.status == "completed":
        return
    org = session.get(Org, purchase.org_id)
    _complete(session, MPESA, org, purchase, True, payment.receipt_number)
    employer = session.get(AgencyEmployer, purchase.employer_id)
    number = phone_of(session, employer.contact_id)
    if number:
        outbox.enqueue(session, org.id, to=number, contact_id=employer.contact_id, purpose="transactional",
                       body=f"{org.name}: payment {payment.receipt_number} received. You have "
                            f"{credits_left(session, employer.id)} contact credits. Reply UNLOCK <worker number> "
                            "to get a worker's phone.", idempotency_key=f"agency.purchase:{purchase.id}:paid")
    session.commit()


def credits_left(session: Session, employer_id: int) -> int:
    return int(session.scalar(select(func.coalesce(func.sum(AgencyPurchase.credits_left), 0)).where(
        AgencyPurchase.employer_id == employer_id, AgencyPurchase.status == "completed")) or 0)


def unlock_contact(session: Session, actor: Actor, org_id: int, *, employer_id: int, worker_id: int) -> UnlockResult:
    """Let the employer see the worker's phone, for one credit; a second unlock of the pair is free."""
    org = agency_org(session, actor, org_id, "agency.unlock")
    employer = row_of(session, AgencyEmployer, org.id, employer_id, "That employer is not on this platform.",
                      lock=True)
    worker = row_of(session, AgencyWorker, org.id, worker_id, "That worker is not on this platform.")
    existing = session.scalar(select(AgencyUnlock).where(AgencyUnlock.employer_id == employer.id,
                                                         AgencyUnlock.worker_id == worker.id))
    if existing is not None:
        session.commit()
        return UnlockResult(existing.id, worker.id, employer.id, False, credits_left(session, employer.id))
    purchase_id = session.scalar(
        select(AgencyPurchase.id).where(AgencyPurchase.employer_id == employer.id,
                                        AgencyPurchase.status == "completed", AgencyPurchase.credits_left > 0)
        .order_by(AgencyPurchase.id).limit(1).with_for_update())
    taken = purchase_id is not None and session.execute(
        update(AgencyPurchase).where(AgencyPurchase.id == purchase_id, AgencyPurchase.credits_left > 0)
        .values(credits_left=AgencyPurchase.credits_left - 1)).rowcount == 1
    if not taken:
        session.rollback()
        raise NoCredits(f"{employer.name} has no contact credits left: buy a contact package and mark it "
                        "paid before unlocking a worker's number.")
    unlock = AgencyUnlock(org_id=org.id, employer_id=employer.id, worker_id=worker.id, purchase_id=purchase_id,
                          unlocked_by=actor.label)
    session.add(unlock)
    try:
        session.flush()
    except IntegrityError:  # only without the row lock (never on our paths): the pair exists, charge nothing
        session.rollback()
        return unlock_contact(session, actor, org_id, employer_id=employer_id, worker_id=worker_id)
    audit.record(session, actor, "agency.unlock", "agency_unlock", unlock.id, org_id=org.id,
                 after={"employer_id": employer.id, "worker_id": worker.id, "purchase_id": purchase_id})
    session.commit()
    return UnlockResult(unlock.id, worker.id, employer.id, True, credits_left(session, employer.id))


def reveal_phone(session: Session, actor: Actor, org_id: int, *, employer_id: int, worker_id: int) -> str:
    """The worker's phone, for an employer who unlocked it; refused otherwise."""
    agency_org(session, actor, org_id, "agency.unlock")
    row = session.execute(
        select(Contact.phone).select_from(AgencyUnlock)
        .join(AgencyWorker, AgencyWorker.id == AgencyUnlock.worker_id)
        .join(Contact, Contact.id == AgencyWorker.contact_id)
        .where(AgencyUnlock.org_id == org_id, AgencyUnlock.employer_id == employer_id,
               AgencyUnlock.worker_id == worker_id)).first()
    if row is None:
        raise PermissionDenied("That employer has not unlocked this worker's number; unlock it first (one credit).")
    audit.record(session, actor, "agency.reveal", "agency_worker", worker_id, org_id=org_id,
                 after={"employer_id": employer_id})
    session.commit()
    return row[0]


def sms_unlocked_contact(session: Session, actor: Actor, org_id: int, *, employer_id: int, worker_id: int) -> int:
    """Text an employer the number of a worker they unlocked; the message is secret (never listed once sent)."""
    org = agency_org(session, actor, org_id, "agency.unlock")
    number = reveal_phone(session, actor, org_id, employer_id=employer_id, worker_id=worker_id)
    employer = row_of(session, AgencyEmployer, org.id, employer_id, "That employer is not on this platform.")
    worker = row_of(session, AgencyWorker, org.id, worker_id, "That worker is not on this platform.")
    to = phone_of(session, employer.contact_id)
    if not to:
        raise InvalidInput(f"{employer.name} has no phone on record to text the contact to.")
    message_id = outbox.enqueue(session, org.id, to=to, contact_id=employer.contact_id, purpose="transactional",
                                secret=True, body=f"{org.name}: {worker.name} (worker {worker.id}) - call {number}.",
                                idempotency_key=f"agency.unlocked:{employer.id}:{worker.id}")
    session.commit()
    return message_id


def list_unlocks(session: Session, actor: Actor, org_id: int, *, employer_id: int | None = None,
                 before_id: int | None = None, limit: int = 50) -> list[UnlockView]:
    """Unlock history, newest first, keyset-paged by id."""
    agency_org(session, actor, org_id, "agency.read")
    query = (select(AgencyUnlock, AgencyEmployer.name, AgencyWorker.name)
             .join(AgencyEmployer, AgencyEmployer.id == AgencyUnlock.employer_id)
             .join(AgencyWorker, AgencyWorker.id == AgencyUnlock.worker_id)
             .where(AgencyUnlock.org_id == org_id))
    if employer_id is not None:
        query = query.where(AgencyUnlock.employer_id == employer_id)
    if before_id is not None:
        query = query.where(AgencyUnlock.id < before_id)
    rows = session.execute(query.order_by(AgencyUnlock.id.desc()).limit(limit))
    return [UnlockView(u.id, u.employer_id, employer, u.worker_id, worker, u.unlocked_at, u.unlocked_by, u.legacy_id)
            for u, employer, worker in rows]


@dataclass(frozen=True)
class SubscriptionView:
    id: int
    tier: str
    monthly_fee_minor: int
    starts_on: date
    ends_on: date | None
    status: str


def add_subscription(session: Session, actor: Actor, org_id: int, *, tier: str, monthly_fee_minor: int,
                     starts_on: date, ends_on: date | None = None) -> SubscriptionView:
    org = agency_org(session, actor, org_id, "agency.money")
    if ends_on is not None and ends_on < starts_on:
        raise InvalidInput("A subscription cannot end before it starts.")
    sub = AgencySubscription(org_id=org.id, tier=tier.strip().lower(), monthly_fee_minor=monthly_fee_minor,
                             starts_on=starts_on, ends_on=ends_on, status=subscription_status(ends_on))
    session.add(sub)
    session.flush()
    audit.record(session, actor, "agency.subscription.add", "agency_subscription", sub.id, org_id=org.id,
                 after={"tier": sub.tier, "monthly_fee_minor": monthly_fee_minor})
    session.commit()
    return SubscriptionView(sub.id, sub.tier, sub.monthly_fee_minor, sub.starts_on, sub.ends_on, sub.status)


def subscription_status(ends_on: date | None, today: date | None = None) -> str:
    return "expired" if ends_on is not None and ends_on < (today or utcnow().date()) else "active"


def record_agency_payment(session: Session, actor: Actor, org_id: int, *, kind: str, amount_minor: int,
                          reference: str, status: str = "completed", paid_at: datetime | None = None) -> int:
    """A subscription or commission payment by the agency; its reference is used once per agency."""
    org = agency_org(session, actor, org_id, "agency.money")
    kind = pick(kind, ("subscription", "commission"), "payment kind")
    status = pick(status, ("pending", "completed", "failed"), "payment status")
    if amount_minor <= 0 or not reference.strip():
        raise InvalidInput("A payment needs an amount above zero and a reference.")
    if session.scalar(select(AgencyPayment.id).where(AgencyPayment.org_id == org.id,
                                                     func.lower(AgencyPayment.reference) == reference.strip().lower())):
        raise Conflict(f"The reference {reference.strip()} is already recorded for this agency "
                       "(references are compared ignoring case).")
    payment = AgencyPayment(org_id=org.id, kind=kind, amount_minor=amount_minor, status=status,
                            reference=reference.strip(), paid_at=paid_at or utcnow())
    with refused_as_conflict(session, lambda: f"The reference {payment.reference} is already recorded for "
                                              "this agency."):
        session.add(payment)
    audit.record(session, actor, "agency.payment.add", "agency_payment", payment.id, org_id=org.id,
                 after={"kind": kind, "amount_minor": amount_minor, "reference": payment.reference})
    session.commit()
    return payment.id


def list_subscriptions(session: Session, actor: Actor, org_id: int) -> list[SubscriptionView]:
    """The agency's subscriptions, newest first, each with its status as of today."""
    agency_org(session, actor, org_id, "agency.read")
    rows = session.scalars(select(AgencySubscription).where(AgencySubscription.org_id == org_id)
                           .order_by(AgencySubscription.starts_on.desc(), AgencySubscription.id.desc()))
    return [SubscriptionView(s.id, s.tier, s.monthly_fee_minor, s.starts_on, s.ends_on,
                             s.status if s.status == "cancelled" else subscription_status(s.ends_on)) for s in rows]


def cancel_subscription(session: Session, actor: Actor, org_id: int, subscription_id: int) -> SubscriptionView:
    org = agency_org(session, actor, org_id, "agency.money")
    sub = row_of(session, AgencySubscription, org.id, subscription_id, "That subscription does not exist.", lock=True)
    if sub.status == "cancelled":
        raise Conflict("That subscription is already cancelled.")
    before, sub.status = sub.status, "cancelled"
    audit.record(session, actor, "agency.subscription.cancel", "agency_subscription", sub.id, org_id=org.id,
                 before={"status": before}, after={"status": "cancelled"})
    session.commit()
    return SubscriptionView(sub.id, sub.tier, sub.monthly_fee_minor, sub.starts_on, sub.ends_on, sub.status)


@dataclass(frozen=True)
class AgencyPaymentView:
    id: int
    kind: str
    amount_minor: int
    status: str
    reference: str
    paid_at: datetime


def list_agency_payments(session: Session, actor: Actor, org_id: int, *, limit: int = 100) -> list[AgencyPaymentView]:
    """What the agency paid the platform, newest first."""
    agency_org(session, actor, org_id, "agency.read")
    rows = session.scalars(select(AgencyPayment).where(AgencyPayment.org_id == org_id)
                           .order_by(AgencyPayment.paid_at.desc(), AgencyPayment.id.desc()).limit(limit))
    return [AgencyPaymentView(p.id, p.kind, p.amount_minor, p.status, p.reference, p.paid_at) for p in rows]
