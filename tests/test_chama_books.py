"""Bringing a chama over: the sample books, cut to a few members, imported whole, once, or not at all."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from core.chama import ledger
from core.chama.books import import_books
from tests.test_cli import ofisi, ofisi_here  # noqa: F401  (fixtures)
from tests.chama_support import ACTOR

BOOKS = Path(__file__).parent / "data" / "chama-books"  # cut from shared/data/chama-books: four members


def _books(tmp_path: Path, *, nudge: int = 0, loan: int = 0) -> Path:
    """A copy of the test books, with M002's first contribution off by ``nudge`` and M001 owing ``loan``."""
    folder = tmp_path / "books"
    folder.mkdir()
    for name in ("members.csv", "opening-balances.csv", "transactions.csv"):
        rows = list(csv.reader(open(BOOKS / name, newline="", encoding="utf-8")))
        if name == "opening-balances.csv":
            rows[3][3] = str(loan)
        if name == "transactions.csv":
            first = next(r for r in rows if r[1] == "M002" and r[2] == "contribution")
            first[3] = str(int(first[3]) + nudge)
        with open(folder / name, "w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows(rows)
    return folder


def test_the_sample_books_import_once_and_a_rerun_creates_nothing(session, make_org, tmp_path):
    org = make_org(session, "chama")
    folder = _books(tmp_path)
    dry = import_books(session, ACTOR, org.id, folder, dry_run=True)
    assert (dry.members_created, dry.openings_created, dry.fines_created) == (4, 4, 3) and not dry.refused
    assert ledger.sums(session, org.id) == ledger.Balances()
    done = import_books(session, ACTOR, org.id, folder)
    assert done.written and (done.members_created, done.openings_created, done.fines_created) == (4, 4, 3)
    total = ledger.sums(session, org.id)
    assert total.savings == 23_000_00 + 22_000_00 + 20_000_00 + 20_000_00
    assert total.fines == 400_00 + 200_00 + 600_00 and total.pool == total.savings
    again = import_books(session, ACTOR, org.id, folder)
    assert (again.members_created, again.openings_created, again.fines_created) == (0, 0, 0)
    assert (again.members_unchanged, again.openings_unchanged, again.fines_unchanged) == (4, 4, 3)
    assert ledger.sums(session, org.id) == total


def test_a_history_that_does_not_add_up_is_refused_naming_the_member_and_difference(session, make_org, tmp_path):
    org = make_org(session, "chama")
    report = import_books(session, ACTOR, org.id, _books(tmp_path, nudge=150))
    assert report.refused == ["member M002: the history adds up to KES 22,150 of savings by 2026-11-30, but the "
                              "opening balance says KES 22,000: KES 150 more in the history."]
    assert not report.written and ledger.sums(session, org.id) == ledger.Balances()
    assert "Nothing was written" in report.lines()[-1]


def test_an_open_loan_without_its_terms_is_refused_with_its_line(session, make_org, tmp_path):
    org = make_org(session, "chama")
    report = import_books(session, ACTOR, org.id, _books(tmp_path, loan=5000))
    assert len(report.refused) == 1 and report.refused[0].startswith("Opening balances line 4: member M001 has a "
                                                                    "loan outstanding of KES 5,000")
    assert ledger.sums(session, org.id) == ledger.Balances()


@pytest.mark.parametrize("target", ["books.xlsx", "folder"])
def test_export_then_import_into_a_new_chama_gives_identical_statements(session, make_org, tmp_path, target):
    from core.chama.books import export_books
    from core.chama.members import list_members
    from core.chama.statements import statement

    first, second = make_org(session, "chama"), make_org(session, "chama")
    import_books(session, ACTOR, first.id, _books(tmp_path))
    counts = export_books(session, ACTOR, first.id, tmp_path / target)
    assert (counts.members, counts.balances, counts.transactions) == (4, 4, 7)
    report = import_books(session, ACTOR, second.id, tmp_path / target)
    assert report.written and not report.refused and report.members_created == 4

    def statements_of(org_id: int) -> list:
        out = []
        for m in list_members(session, ACTOR, org_id):
            st = statement(session, ACTOR, org_id, member_id=m.id)
            out.append((m.member_number, m.name, st.closing,
                        [(ln.day, ln.kind, ln.description, ln.amount_minor, ln.after) for ln in st.lines]))
        return out

    assert statements_of(second.id) == statements_of(first.id) and len(statements_of(first.id)) == 4


def test_the_books_and_the_agm_reports_from_the_command_line(ofisi, ofisi_here, tmp_path):  # noqa: F811
    """The real executable refuses books that do not add up; the rest runs in this process."""
    from tests.test_cli import assert_refused

    executable, ofisi = ofisi, ofisi_here

    assert ofisi("org", "create", "tumaini", "--kind", "chama", "--name", "Tumaini").returncode == 0
    dry = ofisi("import", "chama", str(BOOKS), "--org", "tumaini", "--dry-run")
    assert dry.returncode == 0 and "Members: would add 4" in dry.stderr and "Dry run" in dry.stderr
    done = ofisi("import", "chama", str(BOOKS), "--org", "tumaini")
    assert done.returncode == 0 and "Opening balances: added 4, 0 already there." in done.stderr
    again = ofisi("import", "chama", str(BOOKS), "--org", "tumaini")
    assert "Members: added 0, 4 already there." in again.stderr and "Fines owed: added 0, 3" in again.stderr
    bad = executable("import", "chama", str(_books(tmp_path, nudge=-100)), "--org", "tumaini")
    assert bad.returncode == 1 and "member M002: the history adds up to KES 21,900" in bad.stderr
    exported = ofisi("export", "chama", "--org", "tumaini", "--out", str(tmp_path / "out.xlsx"))
    assert exported.returncode == 0 and "4 members" in exported.stderr
    assert_refused(ofisi("chama", "expenses", "add", "90000000", "--org", "tumaini", "--category", "bank charges",
                         "--receipt", "BK1"), "not already on its way out")
    income = ofisi("report", "income", "--org", "tumaini", "--format", "csv")
    assert income.returncode == 0 and income.stdout.splitlines()[0] == "section,item,amount"
    pdf = ofisi("report", "shareout", "--org", "tumaini", "--format", "pdf", "--out", str(tmp_path / "s.pdf"))
    assert pdf.returncode == 0 and (tmp_path / "s.pdf").read_bytes().startswith(b"%PDF")
    assert ofisi("report", "fines", "--org", "tumaini", "--format", "xlsx").returncode == 2


SAMPLE = Path("/work/shared/data/chama-books/chama-books.xlsx")
OPEN = {"M011": 7_068_00, "M013": 2_800_00, "M014": 1_870_00, "M023": 16_800_00}


@pytest.mark.skipif(not SAMPLE.is_file(), reason="the shared sample books are not on this machine")
def test_the_full_sample_imports_its_open_loans_once_and_round_trips(session, make_org, tmp_path):
    from datetime import date

    from core.chama import loans
    from core.chama.books import export_books
    from core.chama.members import list_members
    from core.chama.statements import statement

    org = make_org(session, "chama")
    dry = import_books(session, ACTOR, org.id, SAMPLE, dry_run=True)
    assert not dry.refused and dry.loans_created == 4
    done = import_books(session, ACTOR, org.id, SAMPLE)
    assert done.written and not done.refused and (done.members_created, done.loans_created) == (24, 4)
    open_loans = {ln.member_number: ln for ln in loans.list_loans(session, ACTOR, org.id)}
    assert {n: ln.principal_outstanding_minor + ln.interest_owed_minor for n, ln in open_loans.items()} == OPEN
    m013 = open_loans["M013"]  # L01: six flat instalments from 19 June, five paid: one left, due 19 December
    assert (m013.months, m013.first_due_on, m013.interest_rate_bp) == (1, date(2026, 12, 19), 0)
    assert [i.total_minor for i in loans.loan_schedule(session, ACTOR, org.id, m013.id)] == [2_800_00]
    total = ledger.sums(session, org.id)
    assert total.loan == sum(OPEN.values()) and total.pool == total.savings - total.principal
    again = import_books(session, ACTOR, org.id, SAMPLE)
    assert again.written and (again.members_created, again.openings_created, again.fines_created,
                              again.loans_created, again.loans_unchanged) == (0, 0, 0, 0, 4)
    assert ledger.sums(session, org.id) == total
    assert import_books(session, ACTOR, org.id, SAMPLE, dry_run=True).loans_created == 0

    export_books(session, ACTOR, org.id, tmp_path / "out.xlsx")
    second = make_org(session, "chama")
    back = import_books(session, ACTOR, second.id, tmp_path / "out.xlsx")
    assert back.written and not back.refused and back.loans_created == 4

    def statements_of(org_id: int) -> list:  # the same but for loan numbers, which each chama counts itself
        return [(m.member_number, st.closing, [(ln.day, ln.kind, re.sub(r"loan \d+", "loan #", ln.description),
                                                ln.amount_minor, ln.after)
                                               for ln in st.lines])
                for m in list_members(session, ACTOR, org_id)
                for st in [statement(session, ACTOR, org_id, member_id=m.id)]]

    assert statements_of(second.id) == statements_of(org.id)
    back_loans = {ln.member_number: (ln.months, ln.first_due_on, ln.principal_minor)
                  for ln in loans.list_loans(session, ACTOR, second.id)}
    assert back_loans == {n: (ln.months, ln.first_due_on, ln.principal_minor) for n, ln in open_loans.items()}
