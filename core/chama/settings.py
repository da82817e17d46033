"""A chama's rules: contributions, fines, loan terms and how many approvals money needs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.orm import Session

from core import audit
from core.actors import Actor
from core.chama.approvals import active_officials
from core.chama.base import chama_org, settings_row
from core.errors import InvalidInput
from core.money import format_money, parse_money
from db.models_chama import ChamaSettings

FREQUENCIES = ("weekly", "monthly")
FINE_KINDS = ("flat", "percent")
INTEREST_KINDS = ("flat", "reducing")
OVERPAYMENT = ("savings", "refund")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class ChamaSettingsView:
    currency: str
    contribution_minor: int
    frequency: str
    due_day: int
    contributions_start: date | None
    reminder_days: int
    grace_days: int
    fine_kind: str
    fine_flat_minor: int
    fine_percent_bp: int
    interest_kind: str
    interest_rate_bp: int
    loan_limit_percent: int
    approvals_required: int
    sms_receipts: bool
    overpayment: str = "savings"
    loan_grace_days: int = 7
    loan_penalty_bp: int = 0
    default_after_missed: int = 3

    @classmethod
    def of(cls, row: ChamaSettings, currency: str) -> ChamaSettingsView:
        return cls(currency, **{f.name: getattr(row, f.name) for f in fields(cls) if f.name != "currency"})

    def due_text(self) -> str:
        if self.frequency == "weekly":
            return f"every {WEEKDAYS[self.due_day]}"
        return f"on day {self.due_day} of each month"


EDITABLE = tuple(f.name for f in fields(ChamaSettingsView) if f.name != "currency")


def _check(values: dict[str, Any]) -> None:
    """Refuse a combination of settings a treasurer could not work with."""
    def within(name: str, low: int, high: int, what: str) -> None:
        value = values[name]
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise InvalidInput(f"{what} must be a whole number from {low} to {high}; {value!r} is not.")

    if values["frequency"] not in FREQUENCIES:
        raise InvalidInput(f"Contributions are {' or '.join(FREQUENCIES)}, not {values['frequency']!r}.")
    if values["frequency"] == "monthly":
        within("due_day", 1, 31, "The due day of a monthly contribution")
    else:
        within("due_day", 0, 6, "The due weekday (0 = Monday … 6 = Sunday)")
    within("contribution_minor", 0, 10**12, "The contribution")
    within("reminder_days", 0, 14, "Reminder days before the due date")
    within("grace_days", 0, 60, "Grace days")
    if values["fine_kind"] not in FINE_KINDS:
        raise InvalidInput(f"A late fine is {' or '.join(FINE_KINDS)}, not {values['fine_kind']!r}.")
    within("fine_flat_minor", 0, 10**12, "The flat late fine")
    within("fine_percent_bp", 0, 10_000, "The late fine in basis points")
    if values["interest_kind"] not in INTEREST_KINDS:
        raise InvalidInput(f"Loan interest is {' or '.join(INTEREST_KINDS)}, not {values['interest_kind']!r}.")
    within("interest_rate_bp", 0, 10_000, "The monthly interest rate in basis points")
    within("loan_limit_percent", 0, 100_000, "The loan limit in percent of savings")
    within("approvals_required", 1, 5, "Approvals a loan or payout needs")
    if values["overpayment"] not in OVERPAYMENT:
        raise InvalidInput(f"A payment beyond what is owed goes to {' or '.join(OVERPAYMENT)}, "
                           f"not {values['overpayment']!r}.")
    within("loan_grace_days", 0, 60, "Grace days after a loan instalment")
    within("loan_penalty_bp", 0, 10_000, "The late repayment penalty in basis points")
    within("default_after_missed", 1, 24, "Missed instalments before a loan is in default")
    if not isinstance(values["sms_receipts"], bool):
        raise InvalidInput("SMS receipts are on or off.")
    start = values["contributions_start"]
    if start is not None and not isinstance(start, date):
        raise InvalidInput("The first contribution date must be a date.")


def get_settings(session: Session, actor: Actor, org_id: int) -> ChamaSettingsView:
    org = chama_org(session, actor, org_id, "chama.read")
    view = ChamaSettingsView.of(settings_row(session, org.id), org.currency)
    session.commit()  # the defaults row, when this was the first look
    return view


def update_settings(session: Session, actor: Actor, org_id: int, **changes: Any) -> ChamaSettingsView:
    """Change some settings; unknown names and impossible values are refused, nothing half-applied."""
    org = chama_org(session, actor, org_id, "chama.settings")
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise InvalidInput(f"There is no chama setting called {', '.join(sorted(unknown))}.")
    row = settings_row(session, org.id, lock=True)
    before = ChamaSettingsView.of(row, org.currency)
    after_values = {**asdict(before), **changes}
    after_values.pop("currency")
    _check(after_values)
    for name, value in changes.items():
        setattr(row, name, value)
    if "approvals_required" in changes:
        _refuse_deadlock(session, org, changes["approvals_required"])
    after = ChamaSettingsView.of(row, org.currency)
    changed = {k for k in changes if getattr(before, k) != getattr(after, k)}
    if changed:
        audit.record(session, actor, "chama.settings", "chama_settings", row.id, org_id=org.id,
                     before={k: _plain(getattr(before, k)) for k in sorted(changed)},
                     after={k: _plain(getattr(after, k)) for k in sorted(changed)})
    session.commit()
    return after


def _refuse_deadlock(session: Session, org, required: int) -> None:
    """A loan to one official leaves the others to approve it: a rule asking for more could never be met
    (requests are capped by the officials eligible for them, so the rule would say what never happens)."""
    officials = len(active_officials(session, org.id))
    if officials and required > officials - 1:
        raise InvalidInput(f"{org.name} has {officials} active officials; a loan to one of them leaves "
                           f"{officials - 1} to approve it, so it can need at most {officials - 1} approval(s), "
                           f"not {required}. Elect more officials or ask for fewer approvals.")


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def describe_settings(view: ChamaSettingsView) -> list[tuple[str, str]]:
    """The settings as (label, value) lines a treasurer reads."""
    def m(minor: int) -> str:
        return format_money(minor, view.currency)

    fine = m(view.fine_flat_minor) if view.fine_kind == "flat" else f"{view.fine_percent_bp / 100:g}% of what is unpaid"
    return [
        ("contribution", f"{m(view.contribution_minor)} {view.frequency}, due {view.due_text()}"
                         if view.contribution_minor else "not set (no invoices are sent)"),
        ("invoices from", view.contributions_start.isoformat() if view.contributions_start else "not set"),
        ("reminder", f"{view.reminder_days} days before the due date"),
        ("late fine", f"{fine} after {view.grace_days} grace days"),
        ("loan interest", f"{view.interest_rate_bp / 100:g}% a month, {view.interest_kind}"
                          + (" balance" if view.interest_kind == "reducing" else "")),
        ("loan limit", f"{view.loan_limit_percent / 100:g} × savings"),
        ("approvals", f"{view.approvals_required} officials for a loan or payout, never the applicant"),
        ("overpayment", "added to the member's savings" if view.overpayment == "savings"
                        else "refunded to the member through the approvals"),
        ("late loan", f"{view.loan_penalty_bp / 100:g}% of overdue after {view.loan_grace_days} grace days, "
                      f"default after {view.default_after_missed} missed"),
        ("SMS receipts", "on" if view.sms_receipts else "off"),
    ]


# ------------------------------------------------------------------ rules as a person types them

def parse_due_day(text: str, frequency: str) -> int:
    """A day of the month (1–31) or, for weekly contributions, a weekday name (Mon…) or number (0 = Monday)."""
    value = text.strip().lower()
    names = [d[:3].lower() for d in WEEKDAYS]
    if frequency == "weekly" and value[:3] in names:
        return names.index(value[:3])
    if value.isdigit():
        return int(value)
    raise InvalidInput(f"{text!r} is not a due day: a day of the month (1–31) or, weekly, a weekday name.")


def parse_percent(text: str) -> int:
    """A percentage (``1.5``, ``10%``) in basis points; at most two decimals."""
    try:
        value = Decimal(text.strip().rstrip("%").strip()) * 100
    except InvalidOperation:
        raise InvalidInput(f"{text!r} is not a percentage, like 1.5 or 10%.") from None
    if value != value.to_integral_value():
        raise InvalidInput(f"{text!r} has more than two decimals.")
    return int(value)


def _whole(text: str) -> int:
    if not text.strip().isdigit():
        raise InvalidInput(f"{text!r} is not a whole number.")
    return int(text.strip())


def _word(text: str, choices: tuple[str, ...], what: str) -> str:
    value = text.strip().lower()
    if value not in choices:
        raise InvalidInput(f"{what} is {' or '.join(choices)}, not {text.strip()!r}.")
    return value


def _day_or_none(text: str) -> date | None:
    if text.strip().lower() in ("", "none", "not set"):
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"{text!r} is not a date; write it like 2026-03-31, or none.") from None


def _fine(text: str, view: ChamaSettingsView) -> dict[str, Any]:
    if text.strip().endswith("%"):
        return {"fine_kind": "percent", "fine_percent_bp": parse_percent(text)}
    return {"fine_kind": "flat", "fine_flat_minor": parse_money(text, view.currency)}


def _percent_text(bp: int) -> str:
    return f"{bp / 100:g}"


@dataclass(frozen=True)
class RuleField:
    """One answer a rule asks for: the question, the answer it has now, and the settings an answer sets
    (given the view and the other answers, as the due day needs the frequency)."""
    key: str
    question: str
    now: Callable[[ChamaSettingsView], str]
    changes: Callable[[str, ChamaSettingsView, dict[str, str]], dict[str, Any]]


_FIELDS = {f.key: f for f in (
    RuleField("contribution", "Amount each period", lambda v: format_money(v.contribution_minor, v.currency),
              lambda t, v, a: {"contribution_minor": parse_money(t, v.currency)}),
    RuleField("frequency", "How often (weekly or monthly)", lambda v: v.frequency,
              lambda t, v, a: {"frequency": _word(t, FREQUENCIES, "Contributions")}),
    RuleField("due_day", "Due day (1–31, or a weekday when weekly)",
              lambda v: WEEKDAYS[v.due_day] if v.frequency == "weekly" else str(v.due_day),
              lambda t, v, a: {"due_day": parse_due_day(t, a.get("frequency", v.frequency).strip().lower())}),
    RuleField("invoices_from", "First date invoices may fall due (YYYY-MM-DD, or none)",
              lambda v: v.contributions_start.isoformat() if v.contributions_start else "none",
              lambda t, v, a: {"contributions_start": _day_or_none(t)}),
    RuleField("reminder_days", "Reminder, days before the due date", lambda v: str(v.reminder_days),
              lambda t, v, a: {"reminder_days": _whole(t)}),
    RuleField("late_fine", "Late fine: an amount (100) or a percentage of what is unpaid (5%)",
              lambda v: (format_money(v.fine_flat_minor, v.currency) if v.fine_kind == "flat"
                         else f"{_percent_text(v.fine_percent_bp)}%"),
              lambda t, v, a: _fine(t, v)),
    RuleField("grace_days", "Grace days after the due date before the fine", lambda v: str(v.grace_days),
              lambda t, v, a: {"grace_days": _whole(t)}),
    RuleField("interest_rate", "Loan interest, % a month", lambda v: _percent_text(v.interest_rate_bp),
              lambda t, v, a: {"interest_rate_bp": parse_percent(t)}),
    RuleField("interest_kind", "Interest on (flat or reducing) balance", lambda v: v.interest_kind,
              lambda t, v, a: {"interest_kind": _word(t, INTEREST_KINDS, "Loan interest")}),
    RuleField("loan_limit", "Loan limit, times the member's savings (like 3)",
              lambda v: _percent_text(v.loan_limit_percent),
              lambda t, v, a: {"loan_limit_percent": parse_percent(t)}),
    RuleField("approvals_required", "Officials who approve a loan or payout", lambda v: str(v.approvals_required),
              lambda t, v, a: {"approvals_required": _whole(t)}),
    RuleField("overpayment", "A payment beyond what is owed goes to (savings or refund)", lambda v: v.overpayment,
              lambda t, v, a: {"overpayment": _word(t, OVERPAYMENT, "A payment beyond what is owed")}),
    RuleField("loan_penalty", "Late loan penalty, % of what is overdue", lambda v: _percent_text(v.loan_penalty_bp),
              lambda t, v, a: {"loan_penalty_bp": parse_percent(t)}),
    RuleField("loan_grace_days", "Grace days after an instalment before it is overdue",
              lambda v: str(v.loan_grace_days), lambda t, v, a: {"loan_grace_days": _whole(t)}),
    RuleField("default_after_missed", "Missed instalments before the loan is in default",
              lambda v: str(v.default_after_missed), lambda t, v, a: {"default_after_missed": _whole(t)}),
    RuleField("sms_receipts", "SMS a receipt for money in (on or off)", lambda v: "on" if v.sms_receipts else "off",
              lambda t, v, a: {"sms_receipts": _word(t, ("on", "off"), "SMS receipts") == "on"}),
)}

# What each line of ``describe_settings`` asks when it is changed: every rule, one answer or several.
RULES: dict[str, tuple[RuleField, ...]] = {label: tuple(_FIELDS[k] for k in keys) for label, keys in {
    "contribution": ("contribution", "frequency", "due_day"),
    "invoices from": ("invoices_from",),
    "reminder": ("reminder_days",),
    "late fine": ("late_fine", "grace_days"),
    "loan interest": ("interest_rate", "interest_kind"),
    "loan limit": ("loan_limit",),
    "approvals": ("approvals_required",),
    "overpayment": ("overpayment",),
    "late loan": ("loan_penalty", "loan_grace_days", "default_after_missed"),
    "SMS receipts": ("sms_receipts",),
}.items()}


def rule_changes(view: ChamaSettingsView, label: str, answers: dict[str, str]) -> dict[str, Any]:
    """The settings a rule's answers set, for ``update_settings`` (an empty answer keeps the rule's value;
    every answer is read, as the due day is read by the frequency); an answer that is not a value of its
    kind is refused saying what to write."""
    if label not in RULES:
        raise InvalidInput(f"There is no chama rule called {label!r}.")
    given = {f.key: (answers.get(f.key) or "").strip() or f.now(view) for f in RULES[label]}
    changes: dict[str, Any] = {}
    for rule_field in RULES[label]:
        changes |= rule_field.changes(given[rule_field.key], view, given)
    return changes
