"""What a leaver is owed, and what leaving writes (shared by ``exits`` and ``payouts``).

A leaver's exit settlement is one ledger entry: her savings, out of which
her fines, then her loans' interest, then their principal are settled first;
the rest is paid to her. After it her savings are zero, so the share-out,
invoices and fines pass her by: nobody is paid their savings twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from core.chama.base import money, org_zone
from core.chama.ledger import Balances, effect, sums
from db.models import Org
from db.models_chama import ChamaLedgerEntry, ChamaMember


@dataclass(frozen=True)
class Settlement:
    member_id: int
    currency: str
    savings_minor: int
    fines_minor: int
    interest_minor: int
    principal_minor: int

    @property
    def owed_minor(self) -> int:
        return self.fines_minor + self.interest_minor + self.principal_minor

    @property
    def paid_minor(self) -> int:
        """What is handed to her (negative when she owes more than she saved)."""
        return self.savings_minor - self.owed_minor

    @property
    def change(self) -> Balances:
        return effect("exit_settlement", self.savings_minor, fines=self.fines_minor, interest=self.interest_minor,
                      principal=self.principal_minor)


def settlement_of(session: Session, org: Org, member: ChamaMember) -> Settlement:
    b = sums(session, org.id, member_id=member.id)
    return Settlement(member.id, org.currency, b.savings, b.fines, b.interest, b.principal)


def leave(session: Session, org: Org, member: ChamaMember, entry: ChamaLedgerEntry | None, when: datetime,
          reason: str) -> str:
    """Mark the member exited on ``when`` (org's day) for ``reason``; returns the SMS that tells her."""
    member.status, member.exited_on, member.exit_reason = "exited", when.astimezone(org_zone(org)).date(), reason
    if entry is None:
        return f"you have left the chama ({reason})."
    c = entry
    paid = -c.pool_minor
    settled = -(c.fines_minor + c.interest_minor + c.principal_minor)
    return (f"you have left the chama ({reason}). Your savings of {money(org, c.amount_minor)}"
            + (f" settled {money(org, settled)} you owed and" if settled else "")
            + f" paid you {money(org, paid)}.")
