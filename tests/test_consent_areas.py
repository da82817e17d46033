"""A person who sent STOP, however they wrote it, hears nothing more that they did not ask
for from any area — reminders, notices, campaigns, already-queued ones included — and
still gets their sign-in codes, receipts and the answers to their own requests."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from core import inbound, jobs, outbox
from core.errors import Conflict
from core.optouts import is_opted_out
from db.models import Message
from db.types import utcnow
from tests.fakes import phone
from tests.fakes.africastalking import fake_at  # noqa: F401  (fixture)

STOPS = ["STOP", "Stop.", "stop please", "ACHA"]
FAR = utcnow() + timedelta(days=3650)
_ids = itertools.count(1)


def text(session, sender: str, body: str, to: str = "22384") -> inbound.Received:
    return inbound.receive(session, provider="africastalking", provider_message_id=f"A-{next(_ids)}",
                           from_phone=sender, to=to, text=body)


def sent_out(session) -> dict[str, list[tuple[str, str]]]:
    """(purpose, body) per address of what the sender takes, now and for years ahead."""
    claimed = [m.id for m in outbox.claim_due(session, "test", list(outbox.CHANNELS), 10_000, FAR)]
    found: dict[str, list[tuple[str, str]]] = {}
    for to, purpose, body, secret in session.execute(
            select(Message.to_address, Message.purpose, Message.body, Message.secret)
            .where(Message.id.in_(claimed)).order_by(Message.id)):
        found.setdefault(to, []).append((purpose, "a code" if secret else body))
    return found


def going_to(session, address: str) -> list[tuple[str, str]]:
    return sent_out(session).get(address, [])


def held_for(session, address: str) -> list[str]:
    return list(session.scalars(select(Message.body).where(Message.to_address == address,
                                                           Message.status == "opted_out").order_by(Message.id)))


def stopped(session, org_id: int, address: str, said: str, to: str = "22384") -> None:
    result = text(session, address, said, to)
    assert result.status == "handled" and org_id in result.org_ids
    assert is_opted_out(session, org_id, "sms", address)


@pytest.mark.parametrize("said", STOPS)
def test_salon(session, said):
    from core.salon.bookings import book
    from core.salon.conversations import reply
    from tests.salon_support import SYSTEM, make_salon

    salon = make_salon(session)
    client = salon.client.phone
    now = datetime(2026, 3, 1, 6, 0, tzinfo=timezone.utc)

    def booking(day: date):
        return book(session, SYSTEM, salon.org.id, professional_id=salon.pro.id, service_id=salon.service.id,
                    contact_id=salon.client.id, start=salon.at(day, "10:00"), now=now)

    booking(date(2026, 3, 3))  # its two reminders are queued before the STOP
    stopped(session, salon.org.id, client, said)
    booking(date(2026, 3, 5))
    with pytest.raises(Conflict, match="replied STOP"):
        reply(session, SYSTEM, salon.org.id, client, "Hi Wanjiku, a slot opened on Friday")
    went = going_to(session, client)
    assert [p for p, _ in went] == ["transactional"] * 3
    assert sum("you are booked for" in body for _, body in went) == 2 and "no more SMS" in went[1][1]
    assert len(held_for(session, client)) == 4 and all("a reminder" in b for b in held_for(session, client))


def test_salon_reminders_after_stop_end_to_end(committed_db, fake_at):  # noqa: F811
    """What was seen: a client texted STOP, was told so, and still got the appointment reminders."""
    from core.salon.bookings import book
    from tests.salon_support import SYSTEM, make_salon

    now = datetime(2026, 3, 1, 6, 0, tzinfo=timezone.utc)
    with committed_db.session() as s:
        salon = make_salon(s)
        book(s, SYSTEM, salon.org.id, professional_id=salon.pro.id, service_id=salon.service.id,
             contact_id=salon.client.id, start=salon.at(date(2026, 3, 3), "10:00"), now=now)
        text(s, salon.client.phone, "STOP")
    outbox.send_due(committed_db, {"sms": fake_at.provider()}, clock=lambda: FAR)  # everything is due
    heard = [r.message for r in fake_at.received_for(salon.client.phone)]
    assert len(heard) == 2 and "you are booked for" in heard[0] and "no more SMS" in heard[1]


@pytest.mark.parametrize("said", STOPS)
def test_chama(session, make_org, cli_actor, said):
    from core.chama import ledger, meetings
    from core.chama.jobs import issue_invoice
    from core.users import add_user, set_second_factor
    from tests.chama_support import ACTOR, make_chama

    chama = make_chama(session, make_org, extra_members=1)
    chair = chama.chair.phone  # a member who also signs in to the console

    def invoice(period: str) -> None:
        issue_invoice(session, jobs.DueJob(0, chama.id, "chama.invoice", f"i-{period}", {
            "member_id": chama.chair.id, "period": period, "due_on": f"{period}-05", "amount_minor": 100_000},
            utcnow()))

    invoice("2026-03")
    meetings.schedule_meeting(session, ACTOR, chama.id, starts_at=utcnow() + timedelta(days=7), venue="Hall")
    stopped(session, chama.id, chair, said)
    invoice("2026-04")
    meetings.schedule_meeting(session, ACTOR, chama.id, starts_at=utcnow() + timedelta(days=14), venue="Hall")
    ledger.record_contribution(session, ACTOR, chama.id, chama.chair.id, 100_000, source="cash", reference="R-9")
    add_user(session, cli_actor, "chair@umoja.example", org_id=chama.id, role="chair", password="a-long-password",
             phone=chair)
    set_second_factor(session, cli_actor, "chair@umoja.example", on=True)
    out = sent_out(session)
    went = out[chair]
    assert [p for p, _ in went] == ["transactional"] * 3
    assert "no more SMS" in went[0][1] and "received your contribution" in went[1][1] and went[2][1] == "a code"
    assert len(held_for(session, chair)) == 4  # two invoices, two meeting notices
    # The others still hear of the meetings.
    assert sum("meeting on" in body for _, body in out[chama.treasurer.phone]) == 2


@pytest.mark.parametrize("said", STOPS)
def test_agency(session, make_org, said):
    from core.agency.workers import sms_worker
    from tests.agency_support import ACTOR, worker

    org = make_org(session, "agency")
    w = worker(session, org.id, 1)
    number = phone(501)
    sms_worker(session, ACTOR, org.id, w.id, "A family in Kilimani wants to meet you on Monday.")
    stopped(session, org.id, number, said)
    with pytest.raises(Conflict, match="Worker 1 replied STOP"):
        sms_worker(session, ACTOR, org.id, w.id, "Are you still looking?")
    went = going_to(session, number)
    assert [p for p, _ in went] == ["transactional"] and "no more SMS" in went[0][1]
    assert held_for(session, number) == ["A family in Kilimani wants to meet you on Monday."]
    assert text(session, number, "START").status == "handled"
    sms_worker(session, ACTOR, org.id, w.id, "Welcome back")
    assert [b for _, b in going_to(session, number)][-1] == "Welcome back"


@pytest.mark.parametrize("said", STOPS)
def test_campaigns_and_vendors(session, make_org, said):
    from core.campaigns import service
    from core.orgs import set_sms_number
    from core.vendors import add_vendor, get_vendor
    from tests.campaigns_support import ACTOR

    org = make_org(session, "campaigns", country="IN", name="Udyam Mitra")
    set_sms_number(session, ACTOR, org.id, "56767")  # vendors text the programme's own number
    made = [add_vendor(session, ACTOR, org.id, business_name=f"Shop {i}", owner_name=f"Owner {i}",
                       phone=f"98765432{i:02d}") for i in range(2)]
    weekly = service.create_campaign(session, ACTOR, org.id, name="Weekly", text="Scheme week {{ business_name }}")
    service.launch_campaign(session, ACTOR, org.id, weekly.id)  # queued before the STOP
    stopped(session, org.id, made[0].phone, said, to="56767")
    later = service.create_campaign(session, ACTOR, org.id, name="Later", text="New scheme")
    assert service.launch_campaign(session, ACTOR, org.id, later.id).skipped == {"opted_out": 1}
    out = sent_out(session)
    went = out[made[0].phone]
    assert [p for p, _ in went] == ["transactional"] and "no more SMS" in went[0][1]
    assert held_for(session, made[0].phone) == ["Scheme week Shop 0"]
    assert out[made[1].phone] == [("marketing", "Scheme week Shop 1"), ("marketing", "New scheme")]
    assert service.campaign_progress(session, ACTOR, org.id, weekly.id).opted_out == 1
    assert get_vendor(session, ACTOR, org.id, made[0].id).sms_opt_out is True


@pytest.mark.parametrize("said", STOPS)
def test_community(session, make_org, said):
    from core.community import events
    from core.community.otp import request_code
    from tests.community_support import ACTOR, make_event, make_members

    org = make_org(session, "community")
    a, b = make_members(session, org.id, 2)
    now = utcnow()
    first = make_event(session, org.id, capacity=1, now=now, starts_in=timedelta(hours=20))
    second = make_event(session, org.id, title="Demo day", now=now, starts_in=timedelta(days=2))
    events.register(session, ACTOR, org.id, first.id, b.id)
    events.register(session, ACTOR, org.id, first.id, a.id)  # waitlisted
    events.register(session, ACTOR, org.id, second.id, a.id)
    events.send_reminders(session, jobs.DueJob(0, org.id, "community.reminder", "r1", {"event_id": second.id}, now))
    stopped(session, org.id, a.phone, said)
    events.cancel_registration(session, ACTOR, org.id, first.id, b.id)  # a takes the place
    events.send_reminders(session, jobs.DueJob(0, org.id, "community.reminder", "r2", {"event_id": first.id}, now))
    request_code(session, ACTOR, org.id, a.phone)
    went = going_to(session, a.phone)
    assert {p for p, _ in went} == {"transactional"}
    bodies = [body for _p, body in went]  # registration confirmations first, then the STOP's reply
    after_stop = bodies[next(i for i, body in enumerate(bodies) if "no more SMS" in body):]
    assert len(after_stop) == 3
    assert "now registered for Pitch night" in after_stop[1] and after_stop[2] == "a code"
    held = held_for(session, a.phone)  # the one queued before the STOP, and the one after
    assert len(held) == 2 and all(body.startswith(f"{org.name}: a reminder") for body in held)
