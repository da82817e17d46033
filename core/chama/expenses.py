"""The chama's running costs (bank charges, M-Pesa charges, meeting costs), each with its receipt.

An expense is a ledger entry of kind ``expense`` that takes its amount out of
the pool and out of earnings, like a payout, so it reduces what the share-out
hands back beyond savings. A receipt number is recorded once: entering the
same receipt again returns the first entry.

The money has already left when the treasurer records it (the bank took its
charge), so the books must be able to say so: an expense may take the
cycle's earnings below zero (before any interest is paid, say), and the
share-out then shares the shortfall in proportion to savings, as it does
for payouts. What it may never do is spend cash the chama does not hold: an
expense larger than the pool, less what M-Pesa is already paying out, is
refused.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from core.actors import Actor
from core.chama.approvals import refuse_short_pool
from core.chama.base import chama_org, lock_chama
from core.chama.ledger import EntryView, check_amount, check_when, effect, finish, post, recorded, replay_of
from core.errors import InvalidInput

CATEGORIES = ("bank charges", "mpesa charges", "meeting costs", "other")


def record_expense(session: Session, actor: Actor, org_id: int, amount_minor: int, *, category: str,
                   receipt: str, note: str = "", source: str = "cash",
                   occurred_at: datetime | None = None) -> EntryView:
    """Record money the chama spent, with its receipt; refused when the pool cannot cover it."""
    org = chama_org(session, actor, org_id, "chama.money")
    check_amount(amount_minor, "An expense")
    category = category.strip().lower()
    if category not in CATEGORIES:
        raise InvalidInput(f"{category!r} is not an expense category; use one of {', '.join(CATEGORIES)}.")
    receipt = (receipt or "").strip()
    if not receipt:
        raise InvalidInput("Give the receipt number (M-Pesa code, bank slip or shop receipt) for the expense.")
    when = check_when(source, occurred_at)
    key = f"expense:{receipt.upper()}"
    lock_chama(session, org.id)
    earlier = replay_of(session, org, recorded(session, org.id, key=key, kind="expense"), kind="expense",
                        member_id=None, amount=amount_minor)
    if earlier is not None:  # the same receipt again: the first entry, whatever has changed since
        return earlier
    memo = f"{category}: {note.strip()}" if note.strip() else category
    refuse_short_pool(session, org, amount_minor, f"an expense ({category})")
    entry, created = post(session, org, actor, kind="expense", amount=amount_minor,
                          change=effect("expense", amount_minor), source=source, reference=receipt, key=key,
                          memo=memo, occurred_at=when)
    if not created:
        return replay_of(session, org, entry, kind="expense", member_id=None, amount=amount_minor)
    return finish(session, actor, org, entry, receipt=None, audit_extra={"category": category})

