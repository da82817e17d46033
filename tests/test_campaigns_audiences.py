"""Every area's people as a campaign's audience: a community's members (by an event, by profile
type), a salon's clients (by the last visit), a chama's members, an agency's workers and employers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

import core.campaigns  # noqa: F401
from core.campaigns import service
from core.errors import InvalidInput
from db.models import Message
from db.types import utcnow
from tests.campaigns_support import ACTOR
from tests.fakes import phone


def _bodies(session, campaign_id: int) -> dict[str, str]:
    return dict(session.execute(select(Message.to_address, Message.body).where(Message.campaign_id == campaign_id)).all())


def test_a_community_announces_its_next_event_to_those_who_registered_for_the_last_one(session, make_org):
    from core.community import events
    from tests.community_support import NOW, make_event, make_members

    org = make_org(session, "community", name="Nairobi Makers")
    people = make_members(session, org.id, 5)
    last = make_event(session, org.id, title="Pitch night")  # three days after NOW: it has happened
    for account in people[:3]:
        events.register(session, ACTOR, org.id, last.id, account.id, confirm=False, now=NOW)
    make_event(session, org.id, title="Demo day", starts_in=timedelta(days=400))
    c = service.create_campaign(session, ACTOR, org.id, name="Demo day", audience="members:event=last",
                                text="Hi {{ first_name }}, thanks for coming to {{ event_title }}. Demo day is next!")
    assert service.check_launch(session, ACTOR, org.id, c.id).recipients == 3
    result = service.launch_campaign(session, ACTOR, org.id, c.id)
    assert (result.queued, result.skipped) == (3, {})
    assert _bodies(session, c.id) == {
        phone(500 + i): f"Hi Member, thanks for coming to Pitch night. Demo day is next!" for i in range(3)}
    # "all" in a community is its members, not its (empty) contacts.
    assert service.audience_size(session, ACTOR, org.id) == {"people": 5, "sms": 5, "email": 0, "whatsapp": 5}
    everyone = service.create_campaign(session, ACTOR, org.id, name="All", text="Hello {{ name }}")
    assert service.launch_campaign(session, ACTOR, org.id, everyone.id).queued == 5
    with pytest.raises(InvalidInput, match="'colour' is not a filter of community members"):
        service.create_campaign(session, ACTOR, org.id, name="x", text="a", audience="members:colour=red")
    with pytest.raises(InvalidInput, match="no event 999"):
        service.create_campaign(session, ACTOR, org.id, name="x", text="a", audience="members:event=999")


def test_a_salon_messages_clients_not_seen_in_ninety_days(session):
    from core.salon.clients import record_visit
    from tests.salon_support import add_client, make_salon

    salon = make_salon(session)
    away = add_client(session, salon, "Achieng Otieno", "+254711000001")
    regular = add_client(session, salon, "Njeri Mwangi", "+254711000002")
    add_client(session, salon, "Never Came", "+254711000003")  # a contact, not a client
    now = utcnow()
    record_visit(session, salon.org.id, away.id, now - timedelta(days=120), 150_000)
    record_visit(session, salon.org.id, regular.id, now - timedelta(days=120), 150_000)
    record_visit(session, salon.org.id, regular.id, now - timedelta(days=10), 150_000)
    session.commit()
    c = service.create_campaign(session, ACTOR, salon.org.id, name="We miss you", audience="clients:not_seen_days=90",
                                text="{{ first_name }}, we miss you! Last seen {{ last_visit }}. 10% off this week.")
    result = service.launch_campaign(session, ACTOR, salon.org.id, c.id)
    assert result.queued == 1
    [(to, body)] = _bodies(session, c.id).items()
    assert to == "+254711000001" and body.startswith("Achieng, we miss you! Last seen ")
    with pytest.raises(InvalidInput, match="Only an agency organisation has workers"):
        service.create_campaign(session, ACTOR, salon.org.id, name="x", text="a", audience="workers")
    with pytest.raises(InvalidInput, match="not_seen_days= takes a whole number"):
        service.create_campaign(session, ACTOR, salon.org.id, name="x", text="a", audience="clients:not_seen_days=x")


def test_chama_members_by_status_and_by_arrears(session, make_org):
    from tests.chama_support import make_chama

    chama = make_chama(session, make_org, extra_members=2)
    c = service.create_campaign(session, ACTOR, chama.org.id, name="AGM", audience="members:status=active",
                                text="{{ first_name }} (no. {{ member_number }}): AGM on Saturday")
    check = service.check_launch(session, ACTOR, chama.org.id, c.id)
    assert check.recipients >= 3 and "(no. " in check.lines[0].text
    nobody = service.create_campaign(session, ACTOR, chama.org.id, name="x", audience="members:status=exited",
                                     text="a")
    assert service.check_launch(session, ACTOR, chama.org.id, nobody.id).recipients == 0
    owing = service.create_campaign(session, ACTOR, chama.org.id, name="Dues", audience="members:arrears", text="Pay")
    assert service.check_launch(session, ACTOR, chama.org.id, owing.id).recipients == 0  # no dues invoiced yet


def test_an_agency_writes_to_its_workers_and_to_its_employers(session, make_org):
    from tests.agency_support import employer, worker

    org = make_org(session, "agency", name="Nyumba Staffing")
    for i in range(3):
        worker(session, org.id, i, location="Kisumu" if i else "Nairobi")
    employer(session, org.id, 1)
    c = service.create_campaign(session, ACTOR, org.id, name="Jobs", audience="workers",
                                text="{{ first_name }}: new jobs in {{ location }} this week")
    check = service.check_launch(session, ACTOR, org.id, c.id)
    assert (check.recipients, check.lines[0].text) == (3, "Worker: new jobs in Nairobi this week")
    e = service.create_campaign(session, ACTOR, org.id, name="Fees", audience="employers",
                                text="Dear {{ household_name }}, our fees change in January")
    assert [line.text for line in service.check_launch(session, ACTOR, org.id, e.id).lines] == [
        "Dear Household 1, our fees change in January"]
    with pytest.raises(InvalidInput, match=r"\{\{ household_name \}\} is not a variable here"):
        service.create_campaign(session, ACTOR, org.id, name="x", audience="workers", text="{{ household_name }}")
