"""Statements: periods on the org's clock, opening and closing balances, and each output format."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict
from datetime import date, datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from core.chama import fines, ledger, statements
from core.chama.ledger import Balances
from core.errors import InvalidInput
from tests.chama_support import ACTOR, disbursed_loan, make_chama

NAIROBI = ZoneInfo("Africa/Nairobi")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=NAIROBI)


@pytest.fixture
def chama(session, make_org):
    c = make_chama(session, make_org, interest_kind="flat", interest_rate_bp=100)
    fatuma = c.members[0]
    # 23:30 on 31 January in Nairobi is 20:30 UTC; 00:30 on 1 February is 21:30 UTC on 31 January.
    ledger.record_contribution(session, ACTOR, c.id, fatuma.id, 100_000, occurred_at=local(2026, 1, 10, 9))
    ledger.record_contribution(session, ACTOR, c.id, fatuma.id, 50_000, occurred_at=local(2026, 1, 31, 23, 30))
    ledger.record_contribution(session, ACTOR, c.id, fatuma.id, 25_000, occurred_at=local(2026, 2, 1, 0, 30))
    ledger.record_contribution(session, ACTOR, c.id, c.chair.id, 200_000, occurred_at=local(2026, 2, 2, 12))
    return c


def test_a_members_statement_for_a_month_uses_the_orgs_days(session, chama):
    fatuma = chama.members[0]
    st = statements.statement(session, ACTOR, chama.id, member_id=fatuma.id, start=date(2026, 2, 1),
                              end=date(2026, 2, 28))
    assert st.opening == Balances(savings=150_000, pool=150_000)
    assert [(ln.day, ln.amount_minor) for ln in st.lines] == [(date(2026, 2, 1), 25_000)]
    assert st.lines[0].occurred_at == datetime(2026, 1, 31, 21, 30, tzinfo=timezone.utc)
    assert st.closing == Balances(savings=175_000, pool=175_000)
    january = statements.statement(session, ACTOR, chama.id, member_id=fatuma.id, start=date(2026, 1, 1),
                                   end=date(2026, 1, 31))
    assert [ln.amount_minor for ln in january.lines] == [100_000, 50_000]
    assert january.opening == Balances() and january.closing.savings == 150_000
    assert st.title == "Statement for Fatuma Hassan (no. 4), 2026-02-01 to 2026-02-28 (KES); now in cycle 1"
    with pytest.raises(InvalidInput, match="starts .* after it ends"):
        statements.statement(session, ACTOR, chama.id, start=date(2026, 2, 2), end=date(2026, 2, 1))


def test_the_chama_statement_runs_the_pool_and_totals_each_kind(session, chama):
    disbursed_loan(session, chama, chama.chair, 100_000, months=2)
    fines.charge_fine(session, ACTOR, chama.id, chama.members[1].id, 5_000, reason="late")
    st = statements.statement(session, ACTOR, chama.id, start=date(2026, 2, 1))
    assert st.opening.pool == 150_000
    assert [ln.after.pool for ln in st.lines] == [175_000, 375_000, 275_000, 275_000, 275_000]
    assert st.closing == ledger.sums(session, chama.id)
    assert st.totals_by_kind == {"contribution": 225_000, "loan_disbursement": 100_000, "interest": 2_000,
                                 "fine": 5_000}
    table = statements.statement_table(st)
    assert table.columns == ["date", "entry", "member", "description", "amount", "pool", "savings", "loans",
                             "fines"]
    assert table.rows[0][3] == "Opening balance" and table.rows[-1][3] == "Closing balance"
    assert table.rows[-1][5:] == [275_000, 375_000, 102_000, 5_000]
    text = statements.table_as_text(st)
    assert text.rows[-1][5] == "KES 2,750" and text.rows[3][3].startswith("Loan disbursement, loan ")


def test_csv_and_json_carry_the_same_figures(session, chama):
    st = statements.statement(session, ACTOR, chama.id, member_id=chama.members[0].id)
    out = io.StringIO()
    statements.write_csv(st, out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0] == ["date", "entry", "description", "amount", "savings", "loan", "fines", "currency"]
    assert rows[1][2:] == ["Opening balance", "", "0.00", "0.00", "0.00", "KES"]
    assert [r[3] for r in rows[2:5]] == ["1000.00", "500.00", "250.00"]
    assert rows[-1][2:7] == ["Closing balance", "", "1750.00", "0.00", "0.00"]
    data = json.loads(json.dumps(asdict(st), default=str))
    assert data["closing"]["savings"] == 175_000 and len(data["lines"]) == 3


def test_xlsx_is_a_real_workbook_with_numbers(session, chama, tmp_path):
    from openpyxl import load_workbook

    st = statements.statement(session, ACTOR, chama.id, start=date(2026, 1, 1), end=date(2026, 2, 28))
    path = tmp_path / "statement.xlsx"
    statements.write_xlsx(st, path)
    sheet = load_workbook(path).active
    assert sheet["A1"].value.startswith("Statement for")
    assert [c.value for c in sheet[2]][:5] == ["date", "entry", "member", "description", "amount"]
    last = [c.value for c in sheet[sheet.max_row]]
    assert last[3] == "Closing balance" and Decimal(str(last[5])) == Decimal("3750.00")
    assert sheet.cell(row=4, column=5).number_format == "#,##0.00"


def test_the_position_is_sums_of_the_ledger(session, chama):
    p = statements.chama_position(session, ACTOR, chama.id)
    assert (p.pool_minor, p.savings_minor, p.active_members, p.loans_awaiting_approval) == (375_000, 375_000, 5, 0)


def test_contributions_by_month_feed_the_chart(session, chama):
    from core.chama.base import add_months, local_today
    from db.models import Org

    this_month = local_today(session.get(Org, chama.id)).replace(day=1)
    recent = ledger.record_contribution(session, ACTOR, chama.id, chama.members[1].id, 7_000)
    ledger.record_contribution(session, ACTOR, chama.id, chama.members[1].id, 1_000)
    ledger.reverse_entry(session, ACTOR, chama.id, recent.id, reason="wrong amount")
    chart = statements.contributions_by_month(session, ACTOR, chama.id, months=3)
    assert [p.period for p in chart] == [f"{add_months(this_month, i):%Y-%m}" for i in (-2, -1, 0)]
    assert chart[-1].contributions_minor == 1_000 and chart[0].contributions_minor == 0
