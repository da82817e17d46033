"""M-Pesa payments that areas ask of members: STK push requests, their results,
and the hook through which an area credits a payment.

Owns the ``payment_requests`` and ``payment_callbacks`` tables
(``db.models_payments``); calls ``core.providers.mpesa`` (Daraja), ``core.jobs``,
``core.audit`` and ``core.permissions``. Areas register what a successful
payment writes with :func:`on_success` and ask for money with
:func:`request_payment`.

A request's life::

    pending ──claim──▶ sending ──▶ awaiting ──result──▶ succeeded  (the purpose's hook runs, same transaction)
      ▲  │               │            │          ├──▶ failed | cancelled | expired
      │  │ (too old)     │            │          └──▶ review   (amount differs, receipt reused, hook failed…)
      │  └──▶ expired    ├──▶ failed  (Daraja refused it)
      └─transient error──┤
                         └──▶ unknown (ambiguous reply, or the sender died mid-call)

The row is committed ``pending`` by the caller before anything leaves, and
``sending`` before Daraja is called, so a crash loses nothing and leaves at
most the one push on the wire as ``sending``; a stale ``sending`` becomes
``unknown`` and is never pushed again by itself (the member may have been
prompted): an operator settles it with the M-Pesa statement. Claims use
``FOR UPDATE SKIP LOCKED`` on PostgreSQL; on SQLite every transaction holds
the write lock. A result (Daraja's callback, or an STK query when no
callback came) is applied under a lock on the request row, so the hook runs
once per request however often and however concurrently results arrive;
every result is kept raw with its verdict.

Modules: ``request`` (asking for money, the hooks), ``results`` (what a
result does), ``sending`` (pushes, and the sender thread of ``ofisi
serve``), ``checks`` (STK query as due work), ``staff`` (lists and settling
by hand), ``c2b`` (money paid to the org's paybill: URL registration,
validation, confirmation, crediting once per receipt), ``statement`` (the
portal's paybill statement, for what callbacks missed) and ``b2c`` (money
out: disbursements, their results, Transaction Status as due work). An area
keeps what paybill money and B2C payments do to its books in
``core.<kind>.paybill``, loaded when first needed.
"""

from __future__ import annotations

from core.payments import b2c, c2b, statement  # noqa: F401  (due work for B2C; what the front ends call)
from core.payments.checks import CHECK_AFTER, CheckSummary, PaymentsUnavailable, check_stale_payments, payment_client
from core.payments.request import CURRENCY, PaymentView, on_success, request_payment
from core.payments.results import CallbackResult, StkResult, parse_stk_callback, record_stk_callback
from core.payments.sending import (
    EXPIRE_AFTER,
    STALE_AFTER,
    PaymentSender,
    PaymentSendSummary,
    recover_stale_payments,
    send_pending_payments,
    wake_payment_sender,
)
from core.payments.staff import CallbackView, get_payment, list_callbacks, list_payments, settle_payment

__all__ = [
    "CHECK_AFTER", "CURRENCY", "EXPIRE_AFTER", "STALE_AFTER", "CallbackResult", "CallbackView", "CheckSummary",
    "PaymentSendSummary", "PaymentSender", "PaymentView", "PaymentsUnavailable", "StkResult",
    "check_stale_payments", "get_payment", "list_callbacks", "list_payments", "on_success", "parse_stk_callback",
    "payment_client", "record_stk_callback", "recover_stale_payments", "request_payment", "send_pending_payments",
    "settle_payment", "wake_payment_sender",
]
