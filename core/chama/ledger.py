"""The chama's append-only ledger and the balances derived from it.

Every entry records what moved (``amount_minor``, always positive) and its
signed effect on six balances; :func:`effect` is the one table of what each
kind of entry does:

============================  =======  =========  ========  =====  =====  ========
kind                          savings  principal  interest  fines  pool   earnings
============================  =======  =========  ========  =====  =====  ========
contribution                  +a                                   +a
opening_balance               +a                                   +a
fine (charged)                                              +a
fine_payment                                                -a     +a     +a
loan_disbursement                      +a                          -a
interest (charged)                                +a
loan_repayment (f + i + p)             -p         -i        -f     +a     +(f+i)
payout / expense                                                   -a     -a
shareout (savings s, rest e)  -s                                   -a     -e
exit_settlement (savings a;   -a       -p         -i        -f     -r     +(f+i)
  settles f + i + p, pays r)
refund / guarantor_charge     -a                                   -a
reversal                      the original's effect, negated
============================  =======  =========  ========  =====  =====  ========

So, summed over any set of entries, ``pool = savings + earnings - principal``;
the property tests hold the services to it. An entry is never edited or
deleted (database triggers refuse it); a mistake is undone by a reversal that
points at the original, and a reversal itself cannot be reversed.

An opening balance is savings brought in from before Ofisi; it never pays an
invoice. An exit settlement hands a leaver her savings less the loans and
fines it settles first (``r = a - f - i - p``). A refund hands back the part
of a payment beyond what was owed; a guarantor charge takes a defaulted
loan's remainder out of a guarantor's savings (the loan's side is a
repayment from the system).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import audit
from core.actors import Actor
from core.chama.base import (
    chama_org,
    first_name,
    hold_cycle,
    local_day_bounds,
    lock_chama,
    member_row,
    money,
    notify_member,
    org_zone,
    settings_row,
)
from core.chama.cycles import Cycle, current_cycle, cycle_of, shareouts_so_far
from core.errors import Conflict, InvalidInput, NotFound
from core.money import format_money
from db.models import Org
from db.models_chama import PAYMENT_KINDS, ChamaLedgerEntry, ChamaLoan, ChamaMember, ChamaPayout
from db.types import utcnow

KINDS: dict[str, str] = {
    "contribution": "Contribution",
    "opening_balance": "Opening balance",
    "fine": "Fine",
    "fine_payment": "Fine payment",
    "loan_disbursement": "Loan disbursement",
    "interest": "Interest",
    "loan_repayment": "Loan repayment",
    "payout": "Payout",
    "shareout": "Share-out",
    "exit_settlement": "Exit settlement",
    "refund": "Refund",
    "guarantor_charge": "Guarantor charge",
    "reversal": "Reversal",
    "expense": "Expense",
}
SOURCES = ("cash", "mpesa", "bank")  # how money reaches the chama; "system" marks entries Ofisi makes itself
MONEY_IN = PAYMENT_KINDS  # a source + reference among these is recorded once (a unique index holds it)
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class Balances:
    """Six running figures; an entry's effect and a sum of effects are both Balances."""

    savings: int = 0
    principal: int = 0
    interest: int = 0
    fines: int = 0
    pool: int = 0
    earnings: int = 0

    @property
    def loan(self) -> int:
        """What is owed on loans: principal plus interest charged and not yet paid."""
        return self.principal + self.interest

    def __add__(self, other: Balances) -> Balances:
        return Balances(*(a + b for a, b in zip(self.values(), other.values())))

    def __neg__(self) -> Balances:
        return Balances(*(-a for a in self.values()))

    def __sub__(self, other: Balances) -> Balances:
        return self + -other

    def values(self) -> tuple[int, ...]:
        return tuple(getattr(self, name) for name in FIELDS)


FIELDS = tuple(f.name for f in fields(Balances))
LABELS = {"savings": "savings", "principal": "loan principal", "interest": "interest owed",
          "fines": "fines owed", "pool": "the pool", "earnings": "earnings"}


_ENTRIES = ChamaLedgerEntry.__table__


def _column(name: str):
    # The table's column, not the class's attribute, so a statement of sums stays table-only
    # (the USSD preload carries a member's: member_sums).
    return _ENTRIES.c[f"{name}_minor"]


def effect(kind: str, amount: int, *, fines: int = 0, interest: int = 0, principal: int = 0,
           savings: int = 0) -> Balances:
    """What an entry of ``kind`` does to the balances (see the table above)."""
    if kind in ("contribution", "opening_balance"):
        return Balances(savings=amount, pool=amount)
    if kind in ("refund", "guarantor_charge"):
        return Balances(savings=-amount, pool=-amount)
    if kind == "exit_settlement":
        paid = amount - fines - interest - principal
        if min(fines, interest, principal, paid) < 0:
            raise ValueError("an exit settlement settles no more than the savings it hands back")
        return Balances(savings=-amount, fines=-fines, interest=-interest, principal=-principal, pool=-paid,
                        earnings=fines + interest)
    if kind == "fine":
        return Balances(fines=amount)
    if kind == "fine_payment":
        return Balances(fines=-amount, pool=amount, earnings=amount)
    if kind == "loan_disbursement":
        return Balances(principal=amount, pool=-amount)
    if kind == "interest":
        return Balances(interest=amount)
    if kind == "loan_repayment":
        if min(fines, interest, principal) < 0 or fines + interest + principal != amount:
            raise ValueError("a repayment's parts must be non-negative and add up to its amount")
        return Balances(fines=-fines, interest=-interest, principal=-principal, pool=amount,
                        earnings=fines + interest)
    if kind in ("payout", "expense"):
        return Balances(pool=-amount, earnings=-amount)
    if kind == "shareout":
        return Balances(savings=-savings, pool=-amount, earnings=-(amount - savings))
    raise ValueError(f"no effect is defined for {kind!r}; reversals negate their original")


def effect_of(entry: ChamaLedgerEntry) -> Balances:
    return Balances(*(getattr(entry, f"{name}_minor") for name in FIELDS))


def sums(session: Session, org_id: int, *, member_id: int | None = None, loan_id: int | None = None,
         before: datetime | None = None) -> Balances:
    """Balances as the sum of the ledger, for the chama, a member or a loan, optionally up to ``before``."""
    return Balances(*(int(v) for v in session.execute(_sums_query(org_id, member_id=member_id, loan_id=loan_id,
                                                                  before=before)).one()))


def _sums_query(org_id: int, *, member_id: int | None = None, loan_id: int | None = None,
                before: datetime | None = None):
    query = select(*(func.coalesce(func.sum(_column(name)), 0) for name in FIELDS)).where(_ENTRIES.c.org_id == org_id)
    if member_id is not None:
        query = query.where(_ENTRIES.c.member_id == member_id)
    if loan_id is not None:
        query = query.where(_ENTRIES.c.loan_id == loan_id)
    if before is not None:
        query = query.where(_ENTRIES.c.occurred_at < before)
    return query


def cash_to_spend(session: Session, org_id: int) -> int:
    """The pool less money already on its way out by M-Pesa B2C: what the books may still spend. A payment
    that left M-Pesa must find the pool that was promised to it when its result arrives."""
    from core.payments.b2c import open_amount

    return sums(session, org_id).pool - open_amount(session, org_id)


def sums_by_member(session: Session, org_id: int, member_ids: Iterable[int] | None = None) -> dict[int, Balances]:
    """Each member's balances in one query (members without entries are left out)."""
    query = (select(ChamaLedgerEntry.member_id, *(func.sum(_column(name)) for name in FIELDS))
             .where(ChamaLedgerEntry.org_id == org_id, ChamaLedgerEntry.member_id.is_not(None))
             .group_by(ChamaLedgerEntry.member_id))
    if member_ids is not None:
        query = query.where(ChamaLedgerEntry.member_id.in_(list(member_ids)))
    return {member_id: Balances(*(int(v) for v in values)) for member_id, *values in session.execute(query)}


@dataclass(frozen=True)
class EntryView:
    id: int
    org_id: int
    member_id: int | None
    kind: str
    amount_minor: int
    change: Balances
    loan_id: int | None
    payout_id: int | None
    shareout_id: int | None
    reverses_id: int | None
    reversed_by_id: int | None
    period: str | None
    source: str
    reference: str | None
    memo: str
    recorded_by: str
    occurred_at: datetime
    replayed: bool = False
    warning: str | None = None  # recorded, but something to check (a same-day twin without a reference)

    @classmethod
    def of(cls, e: ChamaLedgerEntry, reversed_by_id: int | None = None, *, replayed: bool = False) -> EntryView:
        """From an entry's object, or a row of the ledger's table (the same names)."""
        return cls(e.id, e.org_id, e.member_id, e.kind, e.amount_minor, effect_of(e), e.loan_id, e.payout_id,
                   e.shareout_id, e.reverses_id, reversed_by_id, e.period, e.source, e.reference, e.memo,
                   e.recorded_by, e.occurred_at, replayed)


def views(session: Session, entries: Sequence[ChamaLedgerEntry], *, replayed: bool = False) -> list[EntryView]:
    """Entries as views, with which of them have been reversed (one query for all)."""
    ids = [e.id for e in entries]
    reversed_by = dict(session.execute(
        select(ChamaLedgerEntry.reverses_id, ChamaLedgerEntry.id).where(ChamaLedgerEntry.reverses_id.in_(ids))
    ).all()) if ids else {}
    return [EntryView.of(e, reversed_by.get(e.id), replayed=replayed) for e in entries]


def describe(entry: EntryView, currency: str) -> str:
    """One line for statements and receipts: what the entry was."""
    base = KINDS[entry.kind]
    if entry.kind == "contribution" and entry.period:
        base += f" for {entry.period}"
    elif entry.kind in ("loan_disbursement", "interest"):
        base += f", loan {entry.loan_id}"
    elif entry.kind == "loan_repayment":
        c = entry.change
        base += (f", loan {entry.loan_id} (fines {format_money(-c.fines, currency)}, "
                 f"interest {format_money(-c.interest, currency)}, principal {format_money(-c.principal, currency)})")
    elif entry.kind == "payout":
        base += f" {entry.payout_id}"
    elif entry.kind == "shareout":
        base += f" {entry.shareout_id}"
    elif entry.kind == "exit_settlement":
        c = entry.change
        base += (f": savings {format_money(-c.savings, currency)} less loans "
                 f"{format_money(-c.principal - c.interest, currency)} and fines {format_money(-c.fines, currency)}, "
                 f"paid {format_money(-c.pool, currency)}")
    elif entry.kind == "guarantor_charge":
        base += f" for loan {entry.loan_id}"
    elif entry.kind == "reversal":
        base += f" of entry {entry.reverses_id}"
    if entry.reference:
        base += f" · {entry.source} {entry.reference}"
    if entry.memo:
        base += f": {entry.memo}"
    return base


def clean_reference(reference: str | None) -> str | None:
    """A receipt reference as compared and kept: no spaces, upper case (``qab 1234xyz`` is ``QAB1234XYZ``)."""
    text = "".join((reference or "").split()).upper()
    return text or None


def _same_reference(reference: str):
    return func.upper(func.replace(ChamaLedgerEntry.reference, " ", "")) == clean_reference(reference)


def recorded(session: Session, org_id: int, *, key: str | None, kind: str, source: str | None = None,
             reference: str | None = None, part: int = 0) -> ChamaLedgerEntry | None:
    """The entry this payment already is: the one under ``key``, or, for money in, the one with the
    same source and reference (an M-Pesa receipt is one payment, whichever way it reached us)."""
    if key:
        existing = session.scalar(select(ChamaLedgerEntry).where(
            ChamaLedgerEntry.org_id == org_id, ChamaLedgerEntry.idempotency_key == key))
        if existing is not None:
            return existing
    ref = clean_reference(reference)
    if ref and kind in MONEY_IN:
        return session.scalar(select(ChamaLedgerEntry).where(
            ChamaLedgerEntry.org_id == org_id, ChamaLedgerEntry.source == source, _same_reference(ref),
            ChamaLedgerEntry.part == part, ChamaLedgerEntry.kind.in_(MONEY_IN)))
    return None


def payment_key(source: str, reference: str | None, idempotency_key: str | None) -> str | None:
    """The key that makes recording the same payment twice a no-op: the caller's, or source + reference."""
    if idempotency_key:
        return idempotency_key.strip()
    if clean_reference(reference):
        return f"{source}:{clean_reference(reference)}"
    return None


def replay_of(session: Session, org: Org, existing: ChamaLedgerEntry | None, *, kind: str,
              member_id: int | None, amount: int) -> EntryView | None:
    """``existing`` as a replay, or None when there is none; a different payment under the same
    key or reference is refused."""
    if existing is None:
        return None
    if (existing.kind, existing.member_id, existing.amount_minor) != (kind, member_id, amount):
        raise Conflict(
            f"Entry {existing.id} already has this key or reference "
            f"({KINDS[existing.kind].lower()} of {money(org, existing.amount_minor)}); "
            "this is a different payment, so give it its own reference or key."
        )
    return views(session, [existing], replayed=True)[0]


def check_amount(amount: int, what: str = "An amount") -> int:
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise InvalidInput(f"{what} must be a positive whole number of minor units, not {amount!r}.")
    return amount


def check_when(source: str, occurred_at: datetime | None) -> datetime:
    """Validate how and when money moved; returns the time (now when not given)."""
    if source not in SOURCES:
        raise InvalidInput(f"{source!r} is not a way money moves; use one of {', '.join(SOURCES)}.")
    now = utcnow()
    when = occurred_at or now
    if when.tzinfo is None:
        raise InvalidInput("The payment time needs a time zone.")
    if when > now + CLOCK_SKEW:
        raise InvalidInput("Money cannot be recorded for a time in the future.")
    return when


def check_money_in(amount: int, source: str, occurred_at: datetime | None) -> datetime:
    """Validate an amount that reaches the chama; returns when it happened."""
    check_amount(amount)
    return check_when(source, occurred_at)


def post(
    session: Session,
    org: Org,
    actor: Actor,
    *,
    kind: str,
    amount: int,
    change: Balances,
    member_id: int | None = None,
    loan_id: int | None = None,
    payout_id: int | None = None,
    shareout_id: int | None = None,
    reverses_id: int | None = None,
    source: str = "system",
    reference: str | None = None,
    key: str | None = None,
    period: str | None = None,
    memo: str = "",
    occurred_at: datetime | None = None,
    part: int = 0,
) -> tuple[ChamaLedgerEntry, bool]:
    """Append one entry to the caller's unit of work; (existing entry, False) when ``key``
    (or, for money in, ``source`` + ``reference``) was already used.

    For services that have checked permission, locks and rules. Two sessions
    racing to post the same payment end with one entry: the loser's insert
    fails on a unique index inside a savepoint and it returns the winner's.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown ledger entry kind {kind!r}")
    if amount <= 0:
        raise InvalidInput(f"A ledger entry needs a positive amount, not {amount!r}.")
    hold_cycle(session, org.id)  # before the INSERT draws the entry's id: see base.py
    entry = ChamaLedgerEntry(
        org_id=org.id, member_id=member_id, kind=kind, amount_minor=amount,
        **{f"{name}_minor": getattr(change, name) for name in FIELDS},
        loan_id=loan_id, payout_id=payout_id, shareout_id=shareout_id, reverses_id=reverses_id,
        source=source, reference=clean_reference(reference), idempotency_key=key, period=period, part=part,
        memo=memo.strip(), recorded_by=actor.label, recorded_by_user_id=actor.user_id,
        occurred_at=occurred_at or utcnow(),
    )
    if key is None and not (entry.reference and kind in MONEY_IN):
        # Nothing to race on: one INSERT, no savepoint round trips.
        session.add(entry)
        session.flush()
        return entry, True
    try:
        with session.begin_nested():
            session.add(entry)
    except IntegrityError:
        existing = recorded(session, org.id, key=key, kind=kind, source=source, reference=entry.reference,
                            part=part)
        if existing is None:
            raise
        return existing, False
    return entry, True


def announce(session: Session, actor: Actor, org: Org, entry: ChamaLedgerEntry, *, receipt: str | None,
             audit_extra: dict | None = None, always: bool = False) -> None:
    """Audit a new entry and SMS its member, in the caller's unit of work.

    Receipts for money in follow the chama's ``sms_receipts`` setting;
    notices a member must not miss (charges, reversals) pass ``always``.
    """
    audit.record(session, actor, f"chama.{entry.kind}", "chama_ledger", entry.id, org_id=org.id,
                 after={"kind": entry.kind, "amount_minor": entry.amount_minor, "member_id": entry.member_id,
                        "loan_id": entry.loan_id, "source": entry.source, "reference": entry.reference,
                        **(audit_extra or {})})
    if receipt and entry.member_id is not None and (always or settings_row(session, org.id).sms_receipts):
        member = session.get(ChamaMember, entry.member_id)
        assert member is not None
        notify_member(session, org, member, f"{receipt} Ref {entry.id}.", f"{org.id}:receipt:{entry.id}",
                      purpose="transactional")


def finish(session: Session, actor: Actor, org: Org, entry: ChamaLedgerEntry, *, receipt: str | None,
           audit_extra: dict | None = None, always: bool = False) -> EntryView:
    """Announce the new entry and commit: the end of every money service."""
    announce(session, actor, org, entry, receipt=receipt, audit_extra=audit_extra, always=always)
    session.commit()
    return views(session, [entry])[0]


def record_once(
    session: Session,
    actor: Actor,
    org: Org,
    member: ChamaMember,
    *,
    kind: str,
    amount: int,
    key: str | None,
    rules: Callable[[], Balances],
    receipt: Callable[[], str],
    always: bool = False,
    **post_kwargs: Any,
) -> EntryView:
    """Record one member's entry exactly once per ``key`` (and per source + reference for money in):
    the flow every money service shares.

    A replay returns the first entry (``replayed=True``) before any rule is
    checked, so a late duplicate is never refused for a reason the original
    already changed (say, a fine it paid). ``rules`` checks the rules and
    returns the entry's effect; ``receipt`` words the SMS once it is posted.
    """
    same = {"kind": kind, "member_id": member.id, "amount": amount}
    earlier = recorded(session, org.id, key=key, kind=kind, source=post_kwargs.get("source"),
                       reference=post_kwargs.get("reference"))
    if earlier is not None:
        return replay_of(session, org, earlier, **same)
    change = rules()
    entry, created = post(session, org, actor, kind=kind, amount=amount, change=change, member_id=member.id,
                          key=key, **post_kwargs)
    if not created:  # a concurrent delivery of the same payment won
        return replay_of(session, org, entry, **same)
    twin = _same_day_twin(session, org, entry) if key is None and kind in MONEY_IN else None
    view = finish(session, actor, org, entry, receipt=receipt(), always=always)
    if twin is None:
        return view
    return replace(view, warning=f"{KINDS[kind]} of {money(org, amount)} for this member on the same day is "
                                 f"already entry {twin.id}; if this is the same money, reverse entry {entry.id}.")


def _same_day_twin(session: Session, org: Org, entry: ChamaLedgerEntry) -> ChamaLedgerEntry | None:
    """Another standing entry of the same kind, member and amount on the same day (org's clock)."""
    day = entry.occurred_at.astimezone(org_zone(org)).date()
    since, until = local_day_bounds(org, day, day)
    twins = unreversed(session, org.id, ChamaLedgerEntry.member_id == entry.member_id,
                       ChamaLedgerEntry.kind == entry.kind, ChamaLedgerEntry.amount_minor == entry.amount_minor,
                       ChamaLedgerEntry.occurred_at >= since, ChamaLedgerEntry.occurred_at < until,
                       ChamaLedgerEntry.id != entry.id)
    return twins[0] if twins else None


def record_contribution(
    session: Session,
    actor: Actor,
    org_id: int,
    member_id: int,
    amount_minor: int,
    *,
    source: str = "cash",
    reference: str | None = None,
    idempotency_key: str | None = None,
    occurred_at: datetime | None = None,
    period: str | None = None,
    memo: str = "",
) -> EntryView:
    """Credit a member's contribution: the one function the console, the CLI,
    USSD and the M-Pesa callback all call.

    A replay under the same key (the caller's ``idempotency_key``, or
    ``source`` + ``reference``) returns the first entry with ``replayed=True``
    and writes nothing, even when ten deliveries arrive at once.
    """
    org = chama_org(session, actor, org_id, "chama.money")
    hold_cycle(session, org.id)
    member = member_row(session, org.id, member_id)
    when = check_money_in(amount_minor, source, occurred_at)

    def rules() -> Balances:
        if member.status == "exited":
            raise Conflict(f"{first_name(session, member)} exited the chama on {member.exited_on}; "
                           "re-activate them before recording money from them.")
        return effect("contribution", amount_minor)

    def receipt() -> str:
        savings = sums(session, org.id, member_id=member.id).savings
        return (f"received your contribution of {money(org, amount_minor)}. "
                f"Savings now {money(org, savings)}.")

    return record_once(session, actor, org, member, kind="contribution", amount=amount_minor,
                       key=payment_key(source, reference, idempotency_key), rules=rules, receipt=receipt,
                       source=source, reference=reference, period=period, memo=memo, occurred_at=when)


def record_opening_balance(session: Session, actor: Actor, org_id: int, member_id: int, amount_minor: int, *,
                           as_of: datetime | None = None, memo: str = "") -> EntryView:
    """Savings a member brought from before the chama used Ofisi: hers, in the pool, shared out
    with the rest, but never a payment of any invoice. Once per member (reverse it to correct it)."""
    org = chama_org(session, actor, org_id, "chama.money")
    hold_cycle(session, org.id)
    member = member_row(session, org.id, member_id, lock=True)
    when = check_when("cash", as_of)

    def rules() -> Balances:
        if member.status == "exited":
            raise Conflict(f"{first_name(session, member)} exited the chama on {member.exited_on}.")
        return effect("opening_balance", amount_minor)

    check_amount(amount_minor, "An opening balance")
    standing = unreversed(session, org.id, ChamaLedgerEntry.member_id == member.id,
                          ChamaLedgerEntry.kind == "opening_balance")
    if standing and standing[0].amount_minor != amount_minor:
        raise Conflict(f"{first_name(session, member)} already has an opening balance of "
                       f"{money(org, standing[0].amount_minor)} (entry {standing[0].id}); reverse it first to change it.")
    return record_once(session, actor, org, member, kind="opening_balance", amount=amount_minor,
                       key=f"opening:{member.id}:{len(_reversed_openings(session, org, member))}", rules=rules,
                       receipt=lambda: f"your opening balance of {money(org, amount_minor)} is recorded as savings.",
                       memo=memo or "opening balance", occurred_at=when)


def _reversed_openings(session: Session, org: Org, member: ChamaMember) -> list[int]:
    reversal = select(ChamaLedgerEntry.reverses_id).where(ChamaLedgerEntry.reverses_id.is_not(None))
    return list(session.scalars(select(ChamaLedgerEntry.id).where(
        ChamaLedgerEntry.org_id == org.id, ChamaLedgerEntry.member_id == member.id,
        ChamaLedgerEntry.kind == "opening_balance", ChamaLedgerEntry.id.in_(reversal))))


def get_entry(session: Session, actor: Actor, org_id: int, entry_id: int) -> EntryView:
    """One entry by its id: the ``Ref`` a member's SMS receipt quotes."""
    org = chama_org(session, actor, org_id, "chama.read")
    return views(session, [_entry(session, org, entry_id)])[0]


def entry_details(entry: EntryView, currency: str, member: str | None, zone: tzinfo) -> list[tuple[str, str]]:
    """One entry (its number is the caller's title) as (label, value) lines a treasurer reads, the effect on
    each balance it moved included;
    ``member`` names whose it is (None for the chama's own), ``zone`` is the chama's clock."""
    lines = [("what", describe(entry, currency)), ("member", member or "the chama"),
             ("amount", format_money(entry.amount_minor, currency)),
             ("when", f"{entry.occurred_at.astimezone(zone):%d %b %Y %H:%M}"),
             ("source", entry.source), ("reference", entry.reference or "none"),
             ("recorded by", entry.recorded_by)]
    if entry.memo:
        lines.append(("memo", entry.memo))
    lines += [(LABELS[name], f"{'+' if moved > 0 else ''}{format_money(moved, currency)}")
              for name in FIELDS if (moved := getattr(entry.change, name))]
    if entry.reverses_id:
        lines.append(("reverses", f"entry {entry.reverses_id}"))
    if entry.reversed_by_id:
        lines.append(("reversed by", f"entry {entry.reversed_by_id}"))
    return lines


def _entry(session: Session, org: Org, entry_id: int) -> ChamaLedgerEntry:
    entry = session.get(ChamaLedgerEntry, entry_id)
    if entry is None or entry.org_id != org.id:
        raise NotFound(f"There is no entry {entry_id} in {org.name}'s ledger.")
    return entry


def list_entries(session: Session, actor: Actor, org_id: int, *, member_id: int | None = None,
                 loan_id: int | None = None, limit: int = 50, before_id: int | None = None) -> list[EntryView]:
    """Newest first, paged by id (keyset); ``limit=5`` is the mini statement."""
    org = chama_org(session, actor, org_id, "chama.read")
    if member_id is not None:
        member_row(session, org.id, member_id)
    rows = session.execute(_entries_page(member_id is not None, loan_id is not None, before_id is not None),
                           {"org": org.id, "member": member_id, "loan": loan_id, "before": before_id,
                            "limit": limit})
    return [EntryView.of(row, row.reversed_by_id) for row in rows]


@lru_cache(maxsize=8)
def _entries_page(by_member: bool, by_loan: bool, before: bool):
    """A page of entries with the id of each one's reversal, in one statement, built once for each
    mix of filters (the USSD mini statement reads it on every visit). Of the table, not the class:
    rows come back as the table's columns (EntryView reads either), without a row processor per
    column built on every execution."""
    reversal = _ENTRIES.alias("reversal")
    query = (select(_ENTRIES, reversal.c.id.label("reversed_by_id"))
             .outerjoin(reversal, reversal.c.reverses_id == _ENTRIES.c.id)  # at most one: reverses_id is unique
             .where(_ENTRIES.c.org_id == bindparam("org")))
    if by_member:
        query = query.where(_ENTRIES.c.member_id == bindparam("member"))
    if by_loan:
        query = query.where(_ENTRIES.c.loan_id == bindparam("loan"))
    if before:
        query = query.where(_ENTRIES.c.id < bindparam("before"))
    return query.order_by(_ENTRIES.c.id.desc()).limit(bindparam("limit"))


@dataclass(frozen=True)
class MemberBalances:
    member_id: int
    currency: str
    savings_minor: int
    loan_principal_minor: int
    interest_owed_minor: int
    loan_outstanding_minor: int
    fines_owed_minor: int
    cycle: Cycle | None = None

    @classmethod
    def of(cls, member_id: int, currency: str, b: Balances, cycle: Cycle | None = None) -> MemberBalances:
        return cls(member_id, currency, b.savings, b.principal, b.interest, b.loan, b.fines, cycle)


def member_sums(org_id, member_id):
    """A member's sums and the chama's share-outs so far, as one select of the ledger's table (the
    values :func:`balances_from` reads): ``org_id`` and ``member_id`` may be another statement's
    columns, as when the USSD gateway reads them with a session's row (``ussd.chama``)."""
    return _sums_query(org_id, member_id=member_id).add_columns(*shareouts_so_far(org_id))


# One round trip for a member's sums and the chama's cycle, built once: USSD's balance screen reads
# it on every visit, and building the statement cost more than PostgreSQL takes to run it.
_MEMBER_SUMS = member_sums(bindparam("org"), bindparam("member"))


def member_balances(session: Session, actor: Actor, org_id: int, member_id: int) -> MemberBalances:
    """What USSD option 1 shows: savings, loan outstanding, fines owed."""
    org = chama_org(session, actor, org_id, "chama.read")
    member = member_row(session, org.id, member_id)
    values = session.execute(_MEMBER_SUMS, {"org": org.id, "member": member.id}).one()
    return balances_from(session, org.id, org.currency, member.id, values)


def balances_from(session: Session, org_id: int, currency: str, member_id: int,
                  values: Sequence[Any]) -> MemberBalances:
    """The :class:`MemberBalances` from the values of :func:`member_sums` (the chama's cycle may read
    its last share-out)."""
    *totals, shareouts, last = values
    return MemberBalances.of(member_id, currency, Balances(*(int(v) for v in totals)),
                             cycle_of(session, org_id, shareouts, last))


def balances_of_members(session: Session, actor: Actor, org_id: int,
                        member_ids: Sequence[int]) -> dict[int, MemberBalances]:
    """Balances for a page of members at once (a members list), by member id."""
    org = chama_org(session, actor, org_id, "chama.read")
    found = sums_by_member(session, org.id, member_ids)
    cycle = current_cycle(session, org.id)
    return {m: MemberBalances.of(m, org.currency, found.get(m, Balances()), cycle) for m in member_ids}


def unreversed(session: Session, org_id: int, *conditions) -> list[ChamaLedgerEntry]:
    """Entries matching ``conditions`` that no reversal points at, oldest first."""
    reversal = select(ChamaLedgerEntry.reverses_id).where(ChamaLedgerEntry.reverses_id.is_not(None))
    return list(session.scalars(
        select(ChamaLedgerEntry).where(ChamaLedgerEntry.org_id == org_id, ChamaLedgerEntry.id.not_in(reversal),
                                       ChamaLedgerEntry.kind != "reversal", *conditions)
        .order_by(ChamaLedgerEntry.id)))


def refuse_negative(org: Org, what: str, now: Balances, change: Balances, names: Iterable[str]) -> None:
    """Refuse a change that would take any of ``names`` below zero for ``what``."""
    for name in names:
        after = getattr(now + change, name)
        if after < 0:
            owner = "" if name == "pool" else f"{what}'s "
            raise Conflict(f"This would leave {owner}{LABELS[name]} at {money(org, after)} "
                           f"(it is {money(org, getattr(now, name))}); nothing was recorded.")


def reverse_entry(session: Session, actor: Actor, org_id: int, entry_id: int, *, reason: str) -> EntryView:
    """Undo an entry with a reversal that points at it; returns the reversal.

    Refused for a reversal, for an entry already reversed, and when the
    result would leave a balance or the pool below zero. Reversing a loan
    disbursement also reverses the interest charged on that loan, and needs
    its repayments reversed first; the loan goes back to approved. Reversing
    a payout puts the payout back to approved; a reversal that gives a
    leaver savings again (her exit settlement, or a share-out paid to her
    before she left) makes her an active member again.
    """
    org = chama_org(session, actor, org_id, "chama.money")
    if not reason or not reason.strip():
        raise InvalidInput("Say why the entry is reversed; the reason is kept with the reversal.")
    lock_chama(session, org.id)
    original = _entry(session, org, entry_id)
    if original.kind == "reversal":
        raise Conflict(f"Entry {original.id} is itself the reversal of entry {original.reverses_id}; "
                       "a reversal cannot be reversed. Record the money again instead.")
    done = session.scalar(select(ChamaLedgerEntry).where(ChamaLedgerEntry.reverses_id == original.id))
    if done is not None:
        raise Conflict(f"Entry {original.id} was already reversed by entry {done.id}.")
    targets = [original]
    loan = session.get(ChamaLoan, original.loan_id) if original.loan_id else None
    if original.kind == "loan_disbursement" and loan is not None:
        repayments = unreversed(session, org.id, ChamaLedgerEntry.loan_id == loan.id,
                                ChamaLedgerEntry.kind == "loan_repayment")
        if repayments:
            ids = ", ".join(str(e.id) for e in repayments)
            raise Conflict(f"Loan {loan.id} has repayments (entries {ids}); reverse them first, "
                           "then the disbursement.")
        targets += unreversed(session, org.id, ChamaLedgerEntry.loan_id == loan.id,
                              ChamaLedgerEntry.kind == "interest")
    change = -sum((effect_of(t) for t in targets), Balances())
    refuse_negative(org, "the chama", sums(session, org.id), change, ["pool"])
    if original.member_id is not None:
        member = member_row(session, org.id, original.member_id, lock=True)
        refuse_negative(org, first_name(session, member), sums(session, org.id, member_id=member.id), change,
                        ["savings", "principal", "interest", "fines"])
    if loan is not None:
        refuse_negative(org, f"loan {loan.id}", sums(session, org.id, loan_id=loan.id), change,
                        ["principal", "interest"])
    reversals = [
        post(session, org, actor, kind="reversal", amount=t.amount_minor, change=-effect_of(t),
             member_id=t.member_id, loan_id=t.loan_id, payout_id=t.payout_id, shareout_id=t.shareout_id,
             reverses_id=t.id, key=f"reversal:{t.id}", memo=reason)[0]
        for t in targets
    ]
    if original.kind == "loan_disbursement" and loan is not None:
        loan.status, loan.disbursed_at, loan.first_due_on = "approved", None, None
    if original.kind in ("payout", "refund", "exit_settlement") and original.payout_id is not None:
        payout = session.get(ChamaPayout, original.payout_id)
        assert payout is not None
        payout.status, payout.paid_at = "approved", None
    if original.member_id is not None:
        leaver = member_row(session, org.id, original.member_id)
        if leaver.status == "exited" and sums(session, org.id, member_id=leaver.id).savings > 0:
            # A leaver holds no savings here: with savings back (her exit settlement or a share-out
            # payment undone) she is a member again, and leaving again pays them once.
            leaver.status, leaver.exited_on, leaver.exit_reason = "active", None, None
    when = original.occurred_at.astimezone(org_zone(org)).date().isoformat()
    return finish(session, actor, org, reversals[0],
                  receipt=f"entry {original.id} ({KINDS[original.kind].lower()} of "
                          f"{money(org, original.amount_minor)} on {when}) was reversed: {reason.strip()}.",
                  audit_extra={"reverses": [t.id for t in targets], "reason": reason.strip()}, always=True)
