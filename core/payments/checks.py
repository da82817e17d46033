"""STK query for pushes whose result never came: due work (`ofisi jobs run-due`)
and the operator's `ofisi payments check`. An answer is applied as a callback
would be, exactly once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import jobs
from core.errors import OfisiError
from core.payments.results import StkResult, locked_request, send_to_review, settle_result
from core.providers import ProviderUnavailable, SendError
from core.providers.mpesa import DarajaClient, StkQueryAnswer
from db.engine import Database
from db.models_payments import PaymentRequest
from db.types import utcnow

# No result this long after Daraja accepted the push: ask with STK query (then at doubling intervals).
CHECK_AFTER = timedelta(minutes=3)
MAX_CHECKS = 6


@dataclass
class CheckSummary:
    checked: int = 0
    settled: int = 0
    waiting: int = 0
    review: int = 0
    errors: int = 0

    def line(self) -> str:
        return (f"{self.checked} checked: {self.settled} settled, {self.waiting} still waiting, "
                f"{self.review} for review, {self.errors} errors")


def _query_result(answer: StkQueryAnswer, checkout: str, merchant: str | None) -> StkResult:
    return StkResult("query", checkout, merchant, answer.result_code, answer.result_desc, answer.raw)


def _check(session: Session, client: DarajaClient, request_id: int, checkout: str, now: datetime,
           summary: CheckSummary) -> None:
    """STK query for one awaiting request, applied as a callback would be; does not commit.

    The query is made before the request row is locked, so a callback
    arriving meanwhile is not kept waiting on the network.
    """
    summary.checked += 1
    try:
        answer = client.stk_query(checkout)
    except ProviderUnavailable:
        raise
    except SendError as exc:
        answer, error = None, str(exc) or type(exc).__name__
    request = locked_request(session, request_id=request_id)
    if request is None or request.status != "awaiting":
        summary.settled += 1  # a callback settled it meanwhile
        return
    if answer is not None and not answer.processing:
        outcome = settle_result(session, _query_result(answer, checkout, request.merchant_request_id))
        summary.settled += outcome.verdict != "review"
        summary.review += outcome.verdict == "review"
        return
    request.checks += 1
    if answer is not None:
        error = f"Daraja has no result yet ({answer.result_desc})"
    if request.checks >= MAX_CHECKS:
        send_to_review(request, f"{error} after {request.checks} STK queries; "
                                "look the payment up in the M-Pesa portal")
        summary.review += 1
        return
    request.last_error, request.next_check_at = error, now + CHECK_AFTER * 2 ** (request.checks - 1)
    summary.waiting += answer is not None
    summary.errors += answer is None


def check_stale_payments(db: Database, client: DarajaClient, *, older_than: timedelta = CHECK_AFTER,
                         clock: Callable[[], datetime] = utcnow, limit: int | None = None) -> CheckSummary:
    """Ask Daraja (STK query) about every push still awaiting its result ``older_than`` after it left."""
    summary = CheckSummary()
    now = clock()
    with db.session() as session:
        query = (select(PaymentRequest.id, PaymentRequest.checkout_request_id)
                 .where(PaymentRequest.status == "awaiting", PaymentRequest.sent_at <= now - older_than)
                 .order_by(PaymentRequest.sent_at, PaymentRequest.id))
        stale = session.execute(query.limit(limit) if limit else query).all()
        session.commit()  # no transaction (on SQLite, no write lock) while Daraja is asked
        for request_id, checkout in stale:
            _check(session, client, request_id, checkout, clock(), summary)
            session.commit()
    return summary


_client_lock = threading.Lock()
_client: tuple[object, DarajaClient] | None = None


def payment_client(settings=None) -> DarajaClient:
    """The Daraja client for ``settings`` (default: this process's), kept so its token is reused."""
    global _client
    from config import get_settings

    settings = settings or get_settings()
    with _client_lock:
        if _client is None or _client[0] is not settings:
            if _client is not None:
                _client[1].close()
            _client = (settings, DarajaClient.from_settings(settings))
        return _client[1]


class PaymentsUnavailable(OfisiError):
    """M-Pesa cannot be reached as configured; the message says which setting to fix."""


@jobs.planner("payments.stale")
def _plan_checks(session: Session, now: datetime) -> None:
    due = session.execute(
        select(PaymentRequest.id, PaymentRequest.org_id, PaymentRequest.checks, PaymentRequest.next_check_at)
        .where(PaymentRequest.status == "awaiting", PaymentRequest.next_check_at <= now)
    ).all()
    for request_id, org_id, checks, due_at in due:
        jobs.schedule(session, "payments.check", f"payments.check:{request_id}:{checks}", due_at, org_id=org_id,
                      payload={"payment_request_id": request_id, "check": checks})


@jobs.handler("payments.check")
def _run_check(session: Session, job: jobs.DueJob) -> None:
    request = session.get(PaymentRequest, job.payload["payment_request_id"], populate_existing=True)
    if request is None or request.status != "awaiting" or request.checks != job.payload["check"]:
        return  # settled, or checked since by someone else
    try:
        client = payment_client()
        _check(session, client, request.id, request.checkout_request_id, utcnow(), CheckSummary())
    except ProviderUnavailable as exc:
        raise PaymentsUnavailable(str(exc)) from None
