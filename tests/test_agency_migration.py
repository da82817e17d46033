"""The Domestic Connect import on the sample export: counts add up, problems are named,
a second run creates nothing, a dry run writes nothing, and no tribe is stored."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import func, inspect, select, text

from core.agency.migration import import_domestic_connect, parse_when
from db.models import Base, Contact, Org
from db.models_agency import (
    AgencyDispute, AgencyEntry, AgencyPlacement, AgencyPurchase, AgencyUnlock, AgencyWorker,
)
from tests.agency_support import ACTOR, sample


def row_counts(session) -> dict[str, int]:
    return {t.name: session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables
            if t.name.startswith("agency_") or t.name in ("orgs", "contacts")}


def problems_of(report, collection: str) -> dict[str, str]:
    return {p.old_id: f"{p.what} → {p.decision}" for p in report.problems if p.collection == collection}


def test_the_sample_migrates_with_counts_that_add_up_and_again_creates_nothing(session):
    data = sample()
    report = import_domestic_connect(session, ACTOR, data)
    assert report.adds_up()
    assert {name: c.read for name, c in report.counts.items()} == {name: len(rows) for name, rows in data.items()}
    c = report.counts
    assert (c["housegirl_profiles"].created, c["housegirl_profiles"].skipped) == (39, 1)
    assert (c["agency_workers"].created, c["agency_workers"].skipped) == (53, 1)
    assert (c["contact_access"].created, c["contact_access"].skipped) == (22, 1)
    assert c["agencies"].created == 9 and len(report.agency_orgs) == 9 and report.platform_org == "dc-platform"

    profiles = problems_of(report, "profiles")
    assert "differing only in case" in profiles["20"] and "profile 19 keeps it" in profiles["20"]
    assert {"20", "21", "23", "58"} <= set(profiles)
    assert "orphan: profile 999999" in problems_of(report, "housegirl_profiles")["h_orphan"]
    assert "orphan: user 1 (housegirl)" in problems_of(report, "contact_access")["ca_orphan"]
    assert "no credit charged" in problems_of(report, "contact_access")["ca1"]
    assert any("tribe: 40 values dropped" in note for note in report.notes)

    # Emails are unique ignoring case after the import.
    emails = session.scalars(select(func.lower(AgencyWorker.email)).where(AgencyWorker.email.is_not(None))).all()
    platform = session.scalar(select(Org.id).where(Org.slug == "dc-platform"))
    platform_emails = session.scalars(select(AgencyWorker.email).where(AgencyWorker.org_id == platform,
                                                                        AgencyWorker.email.is_not(None))).all()
    assert len(platform_emails) == len(set(platform_emails)) and emails
    # Salaries became minor units; "7,000" and 7000 are the same.
    h1 = session.scalar(select(AgencyWorker).where(AgencyWorker.org_id == platform, AgencyWorker.legacy_id == "h1"))
    assert (h1.expected_salary_minor, h1.accommodation, h1.age_years, h1.experience_years) == (700_000, "live_out",
                                                                                                 36, 0)
    # Credits: employer 10 bought 10 contacts and unlocked 7.
    assert session.scalar(select(AgencyPurchase.credits_left).where(AgencyPurchase.legacy_id == "up3")) == 3
    assert session.scalar(select(func.count()).select_from(AgencyUnlock)) == 22
    # Clients' placements: fees, payments and disputes.
    ac6 = session.scalar(select(AgencyPlacement).where(AgencyPlacement.legacy_id == "ac6"))
    # Its dispute was resolved in the old data: it carries on as placed, half the fee refunded.
    assert (ac6.status, ac6.fee_minor, ac6.worker_id) == ("placed", 800_000, None)
    assert session.scalar(select(AgencyEntry.reference).where(
        AgencyEntry.placement_id == ac6.id, AgencyEntry.kind == "payment")) == "DC-ac6"
    assert session.scalar(select(AgencyEntry.amount_minor).where(
        AgencyEntry.placement_id == ac6.id, AgencyEntry.kind == "refund")) == 400_000
    assert session.scalar(select(AgencyDispute.resolution).where(AgencyDispute.placement_id == ac6.id)) \
        == "Refunded half the fee"

    phones = session.scalars(select(Contact.phone)).all()  # every old format became E.164
    assert phones and all(p.startswith("+2547") and len(p) == 13 for p in phones)

    before = row_counts(session)
    again = import_domestic_connect(session, ACTOR, data)
    assert again.adds_up() and again.created == 0
    assert all(c.created == 0 and c.existing + c.skipped == c.read for c in again.counts.values())
    assert row_counts(session) == before
    assert_no_tribe_anywhere(session)


def test_a_dry_run_writes_nothing(session):
    before = row_counts(session)
    report = import_domestic_connect(session, ACTOR, sample(), dry_run=True, org_prefix="trial")
    assert report.dry_run and report.created > 300 and report.adds_up()
    assert report.platform_org == "trial-platform"
    assert row_counts(session) == before


def assert_no_tribe_anywhere(session) -> None:
    columns = [(t, c["name"]) for t in inspect(session.connection()).get_table_names()
               for c in inspect(session.connection()).get_columns(t)]
    assert not [tc for tc in columns if any(w in tc[1].lower() for w in ("tribe", "ethnic", "clan"))]
    # Nor inside any text or JSON value (audit rows, notes, bios).
    for table, column in columns:
        if table.startswith(("agency_", "audit_log", "contacts", "orgs", "messages")):
            hits = session.execute(text(f'SELECT COUNT(*) FROM {table} WHERE LOWER(CAST("{column}" AS TEXT)) '
                                        "LIKE '%tribe%'")).scalar()
            assert hits == 0, (table, column)


def test_odd_values_are_reported_with_the_decision(session):
    data = copy.deepcopy(sample())
    h = data["housegirl_profiles"]
    h[0].update(salary="about 7k", accommodation="cottage", availability="someday", experience="lots", age="3O")
    data["profiles"][1]["created_at"] = "yesterday"
    data["agency_workers"][1]["background_check"] = "unknown"
    data["agency_clients"][0]["placement_status"] = "on hold"
    data["agency_payments"][0]["status"] = "refunded"
    data["surveys"] = []
    report = import_domestic_connect(session, ACTOR, data)
    assert report.adds_up()
    found = problems_of(report, "housegirl_profiles")["h1"]
    hg = [p for p in report.problems if p.collection == "housegirl_profiles" and p.old_id == "h1"]
    assert {p.what for p in hg} >= {"unparseable salary 'about 7k'", "unknown accommodation 'cottage'",
                                    "unknown availability 'someday'", "unparseable experience 'lots'",
                                    "unparseable age '3O'"}, found
    assert "unparseable created_at 'yesterday'" in problems_of(report, "profiles")["2"]
    assert "imported as pending" in problems_of(report, "agency_workers")["aw2"]
    assert "skipped (the money on it would be guessed)" in problems_of(report, "agency_clients")["ac1"]
    assert "imported as pending" in problems_of(report, "agency_payments")["ap1"]
    assert any(n.startswith("surveys: not a collection") for n in report.notes)
    worker = session.scalar(select(AgencyWorker).where(AgencyWorker.legacy_id == "h1"))
    assert (worker.expected_salary_minor, worker.accommodation, worker.availability, worker.age_years) == \
        (None, "either", "one_month", None)


@pytest.mark.parametrize("raw, iso", [("2024-06-29T17:44:00Z", "2024-06-29T17:44:00+00:00"),
                                      ("27/01/2024 08:57", "2024-01-27T05:57:00+00:00"),
                                      ("2024-05-05", "2024-05-04T21:00:00+00:00")])
def test_the_three_time_formats(raw, iso):
    assert parse_when(raw).isoformat() == iso
    assert parse_when("31/02/2024 10:00") is None


def test_the_migrated_report_reconciles_with_the_old_data(session):
    """received, refunded and owed per agency from the report equal a computation straight from db.json."""
    from core.agency.reports import agency_report

    data = sample()
    report = import_domestic_connect(session, ACTOR, data)
    # Independently, from the old records only (whole shillings):
    #  - a fee marked paid was received, whatever the status;
    #  - "Refunded half the fee" gives half back, only where the fee was paid;
    #  - owed is the fee of a client that was placed (placed, terminated, disputed) and never paid.
    expected: dict[str, dict[str, int]] = {}
    statuses = {"pending", "placed", "terminated", "disputed"}
    known_employers = {str(e["id"]) for e in data["employer_profiles"]}
    for r in data["agency_clients"]:
        status = str(r.get("placement_status") or "").strip().lower()
        if status not in statuses or str(r.get("client_id")) not in known_employers:
            continue
        fee = int(str(r["hiring_fee"]).replace(",", ""))
        paid = r.get("commission_paid") is True
        t = expected.setdefault(str(r["agency_id"]), {"received": 0, "refunded": 0, "owed": 0})
        t["received"] += fee if paid else 0
        t["refunded"] += fee // 2 if paid and "refund" in str(r.get("dispute_resolution") or "").lower() else 0
        t["owed"] += fee if status != "pending" and not paid else 0
    got: dict[str, dict[str, int]] = {}
    for slug in report.agency_orgs:
        org = session.scalar(select(Org).where(Org.slug == slug))
        legacy = session.scalar(text("SELECT legacy_id FROM agency_profiles WHERE org_id = :o"), {"o": org.id})
        total = agency_report(session, ACTOR, org.id).total
        got[str(legacy)] = {"received": (total.fee_received_minor + total.commission_received_minor) // 100,
                            "refunded": total.refunded_minor // 100, "owed": total.owed_minor // 100}
    assert {k: v for k, v in got.items() if any(v.values())} == {k: v for k, v in expected.items()
                                                                 if any(v.values())}
    assert sum(v["received"] for v in expected.values()) > 0 and sum(v["refunded"] for v in expected.values()) > 0


def test_a002_puts_fees_and_payments_into_the_book(fresh_database_url):
    """A database from before the book: a placed placement's fee and commission become charges, its
    payments payments (their reference kept, compared lower-cased); a proposal owes nothing."""
    from db.engine import make_engine
    from db.migrate import downgrade, upgrade

    engine = make_engine(fresh_database_url)
    try:
        upgrade(engine, "a001")
        with engine.begin() as c:
            c.execute(text("INSERT INTO orgs (id, name, slug, kind, country, currency, timezone, created_at) "
                           "VALUES (1, 'A', 'a', 'agency', 'KE', 'KES', 'Africa/Nairobi', CURRENT_TIMESTAMP)"))
            c.execute(text("INSERT INTO agency_employers (id, org_id, name, household_name, location, description, "
                           "requirements, created_at) VALUES (1, 1, 'E', '', '', '', '', CURRENT_TIMESTAMP)"))
            for pid, status in ((1, "placed"), (2, "proposed"), (3, "disputed")):
                c.execute(text(
                    "INSERT INTO agency_placements (id, org_id, employer_id, status, fee_minor, commission_minor, "
                    "proposed_at, placed_at, notes, created_at, updated_at) VALUES (:id, 1, 1, :s, 500000, 100000, "
                    f"CURRENT_TIMESTAMP, {'NULL' if status == 'proposed' else 'CURRENT_TIMESTAMP'}, '', "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"), {"id": pid, "s": status})
            c.execute(text("INSERT INTO agency_placement_payments (org_id, placement_id, kind, amount_minor, "
                           "reference, paid_at, recorded_by) VALUES (1, 1, 'fee', 500000, 'QXY1', CURRENT_TIMESTAMP, "
                           "'x')"))
        upgrade(engine)
        with engine.connect() as c:
            entries = sorted(tuple(r) for r in c.execute(text(
                "SELECT placement_id, kind, item, amount_minor, reference_key FROM agency_entries")))
            stages = dict(c.execute(text("SELECT id, stage FROM agency_placements")).all())
        assert entries == [(1, "charge", "commission", 100_000, None), (1, "charge", "fee", 500_000, None),
                           (1, "payment", "fee", 500_000, "qxy1"), (3, "charge", "commission", 100_000, None),
                           (3, "charge", "fee", 500_000, None)]
        assert stages == {1: "placed", 2: "proposed", 3: "disputed"}
        downgrade(engine, "a001")
        with engine.connect() as c:
            assert c.execute(text("SELECT reference FROM agency_placement_payments")).scalars().all() == ["QXY1"]
    finally:
        engine.dispose()


def test_a_record_the_database_refuses_is_reported_and_the_rest_of_its_batch_is_kept(session):
    """The collection is written in bulk; when the database refuses the batch (here a payment too large
    for its column), each record is written on its own and only the refused one is skipped."""
    from db.models_agency import AgencyPayment

    data = copy.deepcopy(sample())
    data["agency_payments"][0]["amount"] = 10**20
    report = import_domestic_connect(session, ACTOR, data)
    assert report.adds_up()
    payments = report.counts["agency_payments"]
    assert payments.skipped == 1 and payments.created == len(data["agency_payments"]) - 1
    assert problems_of(report, "agency_payments")["ap1"].startswith("the database refused it: ")
    legacy = set(session.scalars(select(AgencyPayment.legacy_id)))
    assert "ap1" not in legacy and "ap2" in legacy and len(legacy) == payments.created
