"""Placements and their money on both backends: the lifecycle, the replacement guarantee, refunds and
disputes with their money effect, and the list, report and export reading one book."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.agency import placements
from core.agency.exports import export_rows
from core.agency.reports import agency_report
from core.errors import InvalidInput
from tests.agency_support import ACTOR, employer, worker


@pytest.fixture
def agency(session, make_org):
    return make_org(session, "agency")


def test_a_placement_moves_through_its_stages_and_is_rated_when_it_ends(session, agency):
    w, e = worker(session, agency.id, 1), employer(session, agency.id)
    p = placements.add_placement(session, ACTOR, agency.id, worker_id=w.id, employer_id=e.id, fee_minor=500_000)
    assert (p.status, p.owed_minor, p.charged_minor) == ("proposed", 0, 0)  # a proposal owes nothing
    for stage in ("interview", "placed", "trial", "confirmed"):
        p = placements.move_placement(session, ACTOR, agency.id, p.id, stage)
        assert p.status == stage
    assert (p.charged_minor, p.owed_minor) == (500_000, 500_000)  # charged once, when placed
    with pytest.raises(InvalidInput, match="A confirmed placement cannot become trial"):
        placements.move_placement(session, ACTOR, agency.id, p.id, "trial")
    with pytest.raises(InvalidInput, match="once it has ended"):
        placements.rate_placement(session, ACTOR, agency.id, p.id, 4)
    p = placements.move_placement(session, ACTOR, agency.id, p.id, "ended")
    assert placements.rate_placement(session, ACTOR, agency.id, p.id, 4, "punctual").rating == 4
    assert [x.id for x in placements.list_placements(session, ACTOR, agency.id, status="ended")] == [p.id]


def test_a_replacement_within_the_guarantee_carries_no_new_fee(session, agency):
    w1, w2, w3 = (worker(session, agency.id, i) for i in (1, 2, 3))
    e = employer(session, agency.id)
    placements.set_guarantee_days(session, ACTOR, agency.id, 60)
    first = placements.add_placement(session, ACTOR, agency.id, worker_id=w1.id, employer_id=e.id, status="placed",
                                     fee_minor=500_000, start_date=date.today() - timedelta(days=20))
    placements.move_placement(session, ACTOR, agency.id, first.id, "ended")
    again = placements.add_placement(session, ACTOR, agency.id, worker_id=w2.id, employer_id=e.id, status="placed",
                                     fee_minor=500_000, replaces_id=first.id)
    assert (again.fee_minor, again.charged_minor, again.replaces_id) == (0, 0, first.id)
    assert "within the guarantee period" in again.notices[0]
    # Outside the guarantee a replacement is a new placement with its fee.
    old = placements.add_placement(session, ACTOR, agency.id, worker_id=w3.id, employer_id=e.id, status="placed",
                                   fee_minor=300_000, start_date=date.today() - timedelta(days=200))
    placements.move_placement(session, ACTOR, agency.id, old.id, "ended")
    placements.move_placement(session, ACTOR, agency.id, again.id, "ended")
    late = placements.add_placement(session, ACTOR, agency.id, worker_id=w2.id, employer_id=e.id, status="placed",
                                    fee_minor=300_000, replaces_id=old.id)
    assert late.charged_minor == 300_000


def test_a_dispute_resolved_with_half_the_fee_refunded_agrees_everywhere(session, agency):
    w, e = worker(session, agency.id, 1), employer(session, agency.id)
    p = placements.add_placement(session, ACTOR, agency.id, worker_id=w.id, employer_id=e.id, status="placed",
                                 fee_minor=800_000, commission_minor=100_000)
    placements.record_payment(session, ACTOR, agency.id, p.id, kind="fee", amount_minor=800_000, reference="QFEE1")
    dispute = placements.open_dispute(session, ACTOR, agency.id, p.id, "Left after a week; call 0711222333")
    [open_one] = placements.list_disputes(session, ACTOR, agency.id, open_only=True)
    assert "0711222333" not in open_one.notes
    with pytest.raises(InvalidInput, match=r"more than the fee received and not yet refunded \(KES 8,000\)"):
        placements.resolve_dispute(session, ACTOR, agency.id, dispute, "Refund all", refund_minor=900_000)
    p = placements.resolve_dispute(session, ACTOR, agency.id, dispute, "Refunded half the fee",
                                   refund_minor=400_000, reference="QREF1")
    assert p.status == "placed"  # its only dispute is over
    assert (p.received_minor, p.refunded_minor, p.owed_minor) == (800_000, 400_000, 100_000)
    [d] = placements.list_disputes(session, ACTOR, agency.id)
    assert (d.refunded_minor, d.resolution) == (400_000, "Refunded half the fee")
    # A later partial refund of the commission, then the board, the report and the export agree.
    placements.record_payment(session, ACTOR, agency.id, p.id, kind="commission", amount_minor=100_000,
                              reference="QCOM1")
    p = placements.record_refund(session, ACTOR, agency.id, p.id, item="commission", amount_minor=25_000)
    total = agency_report(session, ACTOR, agency.id).total
    listed = placements.list_placements(session, ACTOR, agency.id)
    [exported] = export_rows(session, ACTOR, agency.id, "placements")
    assert (total.fee_received_minor + total.commission_received_minor, total.refunded_minor, total.owed_minor) == \
        (900_000, 425_000, 0)
    assert (sum(x.received_minor for x in listed), sum(x.refunded_minor for x in listed),
            sum(x.owed_minor for x in listed)) == (900_000, 425_000, 0)
    assert (exported["received"], exported["refunded"], exported["owed"]) == ("9000.00", "4250.00", "0.00")
    for row in [*agency_report(session, ACTOR, agency.id).months, total]:
        assert row.fee_minor + row.commission_minor - row.waived_minor == \
            row.fee_received_minor + row.commission_received_minor - row.refunded_minor + row.owed_minor


def test_any_sequence_of_payments_refunds_and_waivers_keeps_the_book_whole(session, make_org):
    """Whatever staff record (and whatever the core refuses), owed never goes below zero and the list,
    the report and the export say the same."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from core.errors import OfisiError

    moves = st.lists(st.tuples(st.sampled_from(["pay", "refund", "waive"]), st.sampled_from(["fee", "commission"]),
                               st.integers(min_value=-5, max_value=700_000)), max_size=8)
    counter = iter(range(10**6))

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(moves)
    def check(steps):
        n = next(counter)
        org = make_org(session, "agency", slug=f"book-{n}")
        w, e = worker(session, org.id, 1), employer(session, org.id)
        p = placements.add_placement(session, ACTOR, org.id, worker_id=w.id, employer_id=e.id, status="placed",
                                     fee_minor=500_000, commission_minor=100_000)
        for i, (what, item, amount) in enumerate(steps):
            try:
                if what == "pay":
                    placements.record_payment(session, ACTOR, org.id, p.id, kind=item, amount_minor=amount,
                                              reference=f"Q{n}X{i}")
                elif what == "refund":
                    placements.record_refund(session, ACTOR, org.id, p.id, item=item, amount_minor=amount)
                else:
                    placements.waive(session, ACTOR, org.id, p.id, item=item, amount_minor=amount)
            except OfisiError:
                session.rollback()
        [view] = placements.list_placements(session, ACTOR, org.id)
        total = agency_report(session, ACTOR, org.id).total
        [row] = export_rows(session, ACTOR, org.id, "placements")
        assert view.owed_minor >= 0 and view.received_minor >= view.refunded_minor
        assert view.owed_minor == view.charged_minor - view.waived_minor - view.received_minor + view.refunded_minor
        assert (total.owed_minor, total.refunded_minor, total.fee_received_minor + total.commission_received_minor) \
            == (view.owed_minor, view.refunded_minor, view.received_minor)
        assert row["owed"] == f"{view.owed_minor / 100:.2f}"

    check()
