"""Pushing pending requests to Daraja: by a run (`ofisi payments send`) or by the
thread that `ofisi serve` keeps, which a USSD handler wakes after committing a request.

Each request is claimed alone, marked ``sending`` and committed before
Daraja is called; its outcome is committed after. A stale ``sending`` row
becomes ``unknown``, never pushed again by itself.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.outbox import RetryPolicy, worker_name
from core.payments.checks import CHECK_AFTER
from core.payments.results import hold_checkout, locked_request, parse_stk_callback, settle_result
from core.providers import AmbiguousSendError, PermanentSendError, ProviderUnavailable, SendError, TransientSendError
from core.providers.mpesa import DarajaClient
from db.engine import Database
from db.models_payments import PaymentCallback, PaymentRequest
from db.types import utcnow

log = logging.getLogger("ofisi.payments")

# A push that has not left this long after the member asked would surprise them: expire it.
EXPIRE_AFTER = timedelta(minutes=5)
# Longer than the slowest Daraja call (token and push, each 5 s to connect and 30 s to read, twice on a 401).
STALE_AFTER = timedelta(minutes=5)
# Transient failures are retried quickly: the member is waiting with the phone in hand.
RETRY = RetryPolicy(max_attempts=4, base_seconds=2.0, max_seconds=20.0)
# After a setting problem (credentials, short code) the sender waits this long before trying Daraja again.
PAUSE_AFTER_SETTING_PROBLEM_S = 30.0


@dataclass
class PaymentSendSummary:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    unknown: int = 0
    expired: int = 0
    stale_unknown: int = 0
    stopped: str | None = None

    def line(self) -> str:
        return (f"{self.sent} pushed, {self.retried} to retry, {self.failed} failed, "
                f"{self.unknown + self.stale_unknown} unknown, {self.expired} expired")


@dataclass(frozen=True)
class _Push:
    id: int
    phone: str
    amount_minor: int
    currency: str
    account_reference: str
    description: str
    attempts: int


def recover_stale_payments(
    db: Database, *, clock: Callable[[], datetime] = utcnow, stale_after: timedelta = STALE_AFTER,
    expire_after: timedelta = EXPIRE_AFTER,
) -> tuple[int, int]:
    """Settle what no live sender will: a ``sending`` row whose call started more
    than ``stale_after`` ago becomes ``unknown`` (never pushed again); a ``pending``
    row older than ``expire_after`` becomes ``expired``. Returns (unknown, expired)."""
    now = clock()
    with db.session() as session:
        def stale(*where) -> list[int]:
            # Rows another run is settling at this moment are locked: leave them to it.
            return session.scalars(select(PaymentRequest.id).where(*where).with_for_update(skip_locked=True)).all()

        def move(ids: list[int], **values) -> int:
            if not ids:
                return 0
            return session.execute(update(PaymentRequest).where(PaymentRequest.id.in_(ids))
                                   .values(updated_at=now, **values)
                                   .execution_options(synchronize_session=False)).rowcount

        unknown = move(stale(PaymentRequest.status == "sending", PaymentRequest.sending_at < now - stale_after),
                       status="unknown", last_error="the sender stopped before Daraja answered, so the member may "
                       "have been prompted; check the M-Pesa statement, then settle it")
        expired = move(stale(PaymentRequest.status == "pending", PaymentRequest.created_at < now - expire_after),
                       status="expired", completed_at=now,
                       last_error=f"not sent within {int(expire_after.total_seconds() // 60)} minutes of the "
                       "member's request; they can ask again")
        session.commit()
    return unknown, expired


def send_pending_payments(
    db: Database,
    client: DarajaClient,
    *,
    limit: int | None = None,
    clock: Callable[[], datetime] = utcnow,
    policy: RetryPolicy = RETRY,
    stale_after: timedelta = STALE_AFTER,
    expire_after: timedelta = EXPIRE_AFTER,
    worker: str | None = None,
) -> PaymentSendSummary:
    """Push every pending request that is due, one at a time; safe to run in several processes.

    Each request is marked ``sending`` and committed before Daraja is
    called, and its outcome is committed after: ``awaiting`` with the
    CheckoutRequestID, ``pending`` again later (transient error), ``failed``
    (refused) or ``unknown`` (ambiguous). A ``ProviderUnavailable`` (a
    setting to fix) gives the request back untouched and stops the run.
    """
    worker = worker or worker_name()
    summary = PaymentSendSummary()
    summary.stale_unknown, summary.expired = recover_stale_payments(
        db, clock=clock, stale_after=stale_after, expire_after=expire_after)
    with db.session() as session:
        while limit is None or summary.sent + summary.retried + summary.failed + summary.unknown < limit:
            push = _claim(session, worker, clock())
            if push is None:
                break
            summary.stopped = _push(session, client, push, worker, policy, clock, summary)
            if summary.stopped:
                break
    return summary


def _claim(session: Session, worker: str, now: datetime) -> _Push | None:
    row = session.scalars(
        select(PaymentRequest)
        .where(PaymentRequest.status == "pending", PaymentRequest.next_attempt_at <= now)
        .order_by(PaymentRequest.next_attempt_at, PaymentRequest.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    ).first()
    if row is None:
        session.commit()
        return None
    row.status, row.attempts, row.sending_at, row.claimed_by = "sending", row.attempts + 1, now, worker
    push = _Push(row.id, row.phone, row.amount_minor, row.currency, row.account_reference, row.description,
                 row.attempts)
    session.commit()  # the durable "sending" before anything leaves
    return push


def _push(session: Session, client: DarajaClient, push: _Push, worker: str, policy: RetryPolicy,
          clock: Callable[[], datetime], summary: PaymentSendSummary) -> str | None:
    try:
        accepted = client.stk_push(phone=push.phone, amount_minor=push.amount_minor, currency=push.currency,
                                   account_reference=push.account_reference, description=push.description)
    except ProviderUnavailable as exc:
        _record(session, push.id, worker, clock(), status="pending", attempts=push.attempts - 1, claimed_by=None,
                last_error=str(exc))
        return str(exc)
    except PermanentSendError as exc:
        _record(session, push.id, worker, clock(), status="failed", completed_at=clock(), last_error=str(exc))
        summary.failed += 1
        return None
    except TransientSendError as exc:
        if push.attempts >= policy.max_attempts:
            _record(session, push.id, worker, clock(), status="failed", completed_at=clock(),
                    last_error=f"gave up after {push.attempts} attempts: {exc}")
            summary.failed += 1
        else:
            _record(session, push.id, worker, clock(), status="pending", claimed_by=None, last_error=str(exc),
                    next_attempt_at=clock() + policy.delay(push.attempts))
            summary.retried += 1
        return None
    except (AmbiguousSendError, SendError, OSError) as exc:
        _record(session, push.id, worker, clock(), status="unknown", last_error=f"{exc or type(exc).__name__}; "
                "the member may have been prompted: check the M-Pesa statement, then settle it")
        summary.unknown += 1
        return None
    except BaseException as exc:
        # A client bug, or Ctrl-C, while the push may be on the wire: say so now, then stop.
        try:
            session.rollback()
            _record(session, push.id, worker, clock(), status="unknown",
                    last_error=f"interrupted while pushing ({type(exc).__name__}: {exc}); check the M-Pesa statement")
            summary.unknown += 1
        except Exception:
            log.exception("payment %s: could not record it as unknown; it becomes unknown when stale", push.id)
        raise
    now = clock()
    if _record(session, push.id, worker, now, accept_unknown=True, checkout=accepted.checkout_request_id,
               status="awaiting",
               checkout_request_id=accepted.checkout_request_id, merchant_request_id=accepted.merchant_request_id,
               sent_at=now, next_check_at=now + CHECK_AFTER, last_error=None, result_desc=accepted.customer_message):
        summary.sent += 1
        _apply_early_callbacks(session, accepted.checkout_request_id)
    return None


def _record(session: Session, request_id: int, worker: str, now: datetime, *, accept_unknown: bool = False,
            checkout: str | None = None, **values) -> bool:
    """Move our own ``sending`` row on and commit; False when it is no longer ours.

    ``accept_unknown``: Daraja's acceptance also lands on a row that a
    recovery run took for dead (``unknown``) while we waited, because the
    CheckoutRequestID is what lets the callback find it; ``checkout`` (that ID)
    takes the lock that a callback for it takes too (:func:`hold_checkout`).
    """
    if checkout is not None:
        hold_checkout(session, checkout)
    statuses = ("sending", "unknown") if accept_unknown else ("sending",)
    row = locked_request(session, request_id=request_id)
    if row is None or row.claimed_by != worker or row.status not in statuses:
        log.warning("payment %s changed hands while its push was on the wire (%s); leaving it as it is",
                    request_id, row.status if row else "gone")
        session.commit()
        return False
    for name, value in values.items():
        setattr(row, name, value)
    row.updated_at = now
    session.commit()
    return True


def _apply_early_callbacks(session: Session, checkout: str) -> None:
    """A callback can outrun the commit of its CheckoutRequestID; apply any that did."""
    early = session.scalars(
        select(PaymentCallback.id).where(PaymentCallback.checkout_request_id == checkout,
                                         PaymentCallback.problem == "unknown_request",
                                         PaymentCallback.token_ok.is_(True))
        .order_by(PaymentCallback.id)
    ).all()
    for callback_id in early:
        kept = session.get(PaymentCallback, callback_id)
        settle_result(session, parse_stk_callback(kept.raw), kept=callback_id)
        session.commit()


_senders: set[PaymentSender] = set()
_senders_lock = threading.Lock()


def wake_payment_sender() -> None:
    """Tell this process's payment sender (``ofisi serve``) that a request was just committed.

    Other processes' senders find it on their next poll, within a second.
    """
    with _senders_lock:
        senders = list(_senders)
    for sender in senders:
        sender.wake()


class PaymentSender:
    """A thread that pushes pending payments when woken, and at least every ``interval`` seconds."""

    def __init__(self, db: Database, client_factory: Callable[[], DarajaClient], *, interval: float = 1.0,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.interval = interval
        self._client_factory = client_factory
        self._client: DarajaClient | None = None
        self._clock = clock
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._paused_until = 0.0

    def start(self) -> PaymentSender:
        self._thread = threading.Thread(target=self._run, name="ofisi-payment-sender", daemon=True)
        with _senders_lock:
            _senders.add(self)
        self._thread.start()
        return self

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> bool:
        """Stop after the push in hand, if any; False when it did not finish within ``timeout``."""
        with _senders_lock:
            _senders.discard(self)
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("the payment sender is still waiting on Daraja; that push becomes unknown if we exit")
                return False
        if self._client is not None:
            self._client.close()
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:
                log.exception("the payment sender failed; trying again in %ss", self.interval)
            self._wake.wait(self.interval)
            self._wake.clear()

    def run_once(self) -> PaymentSendSummary | None:
        """One pass: push what is pending (and settle stale rows); None when there was nothing."""
        with self.db.session() as session:
            waiting = session.scalar(select(PaymentRequest.id).where(
                PaymentRequest.status.in_(("pending", "sending"))).limit(1))
            session.commit()
        if waiting is None or time.monotonic() < self._paused_until:
            return None
        try:
            if self._client is None:
                self._client = self._client_factory()
        except ProviderUnavailable as exc:
            self._pause(str(exc))
            return None
        summary = send_pending_payments(self.db, self._client, clock=self._clock)
        if summary.stopped:
            self._pause(summary.stopped)
        return summary

    def _pause(self, problem: str) -> None:
        """A setting to fix: say so, and leave Daraja alone for a while instead of asking every second."""
        log.warning("M-Pesa payments cannot be sent (trying again in %.0fs): %s",
                    PAUSE_AFTER_SETTING_PROBLEM_S, problem)
        self._paused_until = time.monotonic() + PAUSE_AFTER_SETTING_PROBLEM_S
