"""Inbound SMS: recorded once, routed to the right orgs, answered by the areas;
STOP and START; the chama's BAL; end to end through the gateway and a fake
Africa's Talking server."""

from __future__ import annotations

import itertools

import httpx
import pytest
from sqlalchemy import func, select

from core import inbound, outbox
from core.chama import ledger
from core.chama.base import notify_member
from core.contacts import add_contact
from core.errors import InvalidInput
from core.optouts import is_opted_out, opted_out_among
from core.orgs import set_sms_number
from db.models import Contact, InboundMessage, Message, OptOut, Org
from db.models_chama import ChamaMember
from tests.chama_support import ACTOR, make_chama
from tests.fakes import phone
from tests.fakes.africastalking import fake_at  # noqa: F401  (fixture)
from tests.live_gateway import running_gateway

_ids = itertools.count(1)


def text(session, sender: str, body: str, to: str = "22384", message_id: str | None = None):
    return inbound.receive(session, provider="africastalking", provider_message_id=message_id or f"AT-{next(_ids)}",
                           from_phone=sender, to=to, text=body)


def replies(session, number: str, *, only_replies: bool = True) -> list[str]:
    """What goes to ``number`` (an opt-out's held-back messages are not counted)."""
    query = select(Message.body).where(Message.to_address == number, Message.status != "opted_out").order_by(Message.id)
    if only_replies:
        query = query.where(Message.idempotency_key.like("inbound:%"))
    return list(session.scalars(query))


@pytest.fixture
def chama(session, make_org):
    group = make_chama(session, make_org, extra_members=1)
    ledger.record_contribution(session, ACTOR, group.id, group.members[0].id, 150_000, source="cash", reference="R-1")
    return group


def test_bal_answers_the_member_with_their_own_balance(session, chama):
    member = chama.members[0]
    result = text(session, member.phone, "bal")
    assert result.status == "handled" and result.org_ids == [chama.id]
    [reply] = replies(session, member.phone)
    assert "savings KES 1,500," in reply and "loan KES 0," in reply and reply.startswith(chama.org.name)


def test_a_redelivered_message_changes_nothing(session, chama):
    member = chama.members[0]
    assert text(session, member.phone, "BAL", message_id="AT-same").status == "handled"
    assert text(session, member.phone, "BAL", message_id="AT-same").status == "duplicate"
    assert len(replies(session, member.phone)) == 1
    assert session.scalar(select(func.count()).select_from(InboundMessage)) == 1


def test_a_message_whose_handling_died_half_way_is_handled_again_with_one_reply(session, chama):
    member = chama.members[0]
    text(session, member.phone, "BAL", message_id="AT-died")
    row = session.scalar(select(InboundMessage))
    row.status = "received"  # as if the process died after the reply was queued, before the end
    session.commit()
    assert text(session, member.phone, "BAL", message_id="AT-died").status == "handled"
    assert len(replies(session, member.phone)) == 1


def test_stop_opts_out_of_reminders_and_start_opts_back_in(session, chama):
    member = chama.members[0]
    text(session, member.phone, "STOP")
    assert is_opted_out(session, chama.id, "sms", member.phone)
    assert "no more SMS" in replies(session, member.phone)[-1]
    text(session, member.phone, "stop")  # a second STOP is not an error and adds no row
    assert session.scalar(select(func.count()).select_from(OptOut)) == 1

    before = len(replies(session, member.phone, only_replies=False))
    notify_member(session, session.get(Org, chama.id), session.get(ChamaMember, member.id),
                  "Pay today", "t-1", purpose="service")
    assert len(replies(session, member.phone, only_replies=False)) == before  # no reminder to someone who said STOP

    text(session, member.phone, "START")
    assert not is_opted_out(session, chama.id, "sms", member.phone)
    notify_member(session, session.get(Org, chama.id), session.get(ChamaMember, member.id),
                  "Pay today", "t-2", purpose="service")
    assert replies(session, member.phone, only_replies=False)[-1].endswith("Pay today")


def test_the_officials_switch_and_stop_start_are_one_record(session, chama):
    from core.chama.members import get_member, update_member

    member = chama.members[0]
    assert update_member(session, ACTOR, chama.id, member.id, sms_opt_out=True).sms_opt_out is True
    assert is_opted_out(session, chama.id, "sms", member.phone)
    before = len(replies(session, member.phone, only_replies=False))
    notify_member(session, session.get(Org, chama.id), session.get(ChamaMember, member.id),
                  "Pay today", "t-3", purpose="service")
    assert len(replies(session, member.phone, only_replies=False)) == before
    # The member texts START: the officials' view says so, and reminders go again.
    text(session, member.phone, "START")
    assert get_member(session, ACTOR, chama.id, member.id).sms_opt_out is False
    notify_member(session, session.get(Org, chama.id), session.get(ChamaMember, member.id),
                  "Pay today", "t-4", purpose="service")
    assert replies(session, member.phone, only_replies=False)[-1].endswith("Pay today")
    # And STOP shows in the officials' view, where they can see why a member hears nothing.
    text(session, member.phone, "STOP")
    assert get_member(session, ACTOR, chama.id, member.id).sms_opt_out is True
    assert update_member(session, ACTOR, chama.id, member.id, sms_opt_out=False).sms_opt_out is False
    assert not is_opted_out(session, chama.id, "sms", member.phone)


def test_a_stranger_to_a_shared_code_is_recorded_but_not_routed(session, chama):
    result = text(session, phone(990), "BAL")
    assert result.status == "unrouted" and result.replies == []
    assert replies(session, phone(990)) == []


def test_an_orgs_own_number_takes_strangers_and_shared_numbers_need_a_known_sender(session, make_org):
    salon = make_org(session, "salon")
    set_sms_number(session, ACTOR, salon.id, "+254 711 000 999")
    seen: list[tuple[int, str]] = []
    inbound.observer(lambda _s, sms: seen.append((sms.org_id, sms.text)))
    try:
        result = text(session, phone(991), "Do you do braids on Saturday?", to="+254711000999")
        assert result.org_ids == [salon.id] and seen == [(salon.id, "Do you do braids on Saturday?")]

        other = make_org(session, "salon")
        set_sms_number(session, ACTOR, other.id, "+254711000999")
        assert text(session, phone(992), "hello", to="+254711000999").status == "unrouted"
        add_contact(session, ACTOR, other.id, name="Amina", phone=phone(992))
        assert text(session, phone(992), "hello", to="+254711000999").org_ids == [other.id]
    finally:
        inbound._OBSERVERS.pop()


def test_a_refusal_from_an_area_is_the_reply_and_its_writes_are_undone(session, make_org):
    org = make_org(session, "community")
    add_contact(session, ACTOR, org.id, name="Otieno", phone=phone(993))

    @inbound.keyword("BREAK", kinds=("community",))
    def refuse(s, sms):
        s.add(Contact(org_id=sms.org_id, name="Half written", phone=phone(994)))
        s.flush()
        raise InvalidInput("There is no event 9; text EVENTS for the list.")

    try:
        text(session, phone(993), "BREAK 9")
    finally:
        del inbound._KEYWORDS[("community", "BREAK")]
    assert replies(session, phone(993)) == [f"{org.name}: There is no event 9; text EVENTS for the list."]
    assert session.scalar(select(func.count()).select_from(Contact).where(Contact.phone == phone(994))) == 0
    assert session.scalar(select(InboundMessage.status)) == "handled"
    assert opted_out_among(session, org.id, "sms", [phone(993)]) == set()


def test_sms_number_must_look_like_one(session, make_org):
    org = make_org(session, "salon")
    with pytest.raises(InvalidInput, match="short code"):
        set_sms_number(session, ACTOR, org.id, "call us")


def test_bal_end_to_end_through_the_gateway_and_africas_talking(committed_db, make_org, fake_at):
    with committed_db.session() as session:
        group = make_chama(session, make_org, extra_members=1)
        ledger.record_contribution(session, ACTOR, group.id, group.members[0].id, 50_000, source="cash",
                                   reference="R-9")
    member = group.members[0]
    form = {"from": member.phone, "to": "22384", "text": "BAL", "date": "2026-11-21 10:00:00",
            "id": "ATXid_e2e", "linkId": "link-1"}
    with running_gateway(committed_db) as base:
        assert httpx.post(f"{base}/sms/inbound", data=form, timeout=10).text == "handled"
        assert httpx.post(f"{base}/sms/inbound", data=form, timeout=10).text == "duplicate"
        assert httpx.post(f"{base}/sms/inbound", data={"text": "BAL"}, timeout=10).status_code == 200
    outbox.send_due(committed_db, {"sms": fake_at.provider()})
    [reply] = [r.message for r in fake_at.received_for(member.phone) if "savings" in r.message]
    assert "savings KES 500," in reply


def test_a_member_with_ledger_history_cannot_be_deleted_as_a_contact(session, chama):
    from core.contacts import delete_contact
    from core.errors import Conflict

    member = chama.members[0]
    with pytest.raises(Conflict, match="must be kept"):
        delete_contact(session, ACTOR, chama.id, member.contact_id)
    assert session.get(Contact, member.contact_id) is not None


def test_a_message_written_to_someone_who_said_stop_is_refused_by_name(session, chama):
    from core.errors import Conflict
    from core.outbox import send_message

    member = chama.members[0]
    text(session, member.phone, "STOP")
    with pytest.raises(Conflict, match="replied STOP"):
        send_message(session, ACTOR, chama.id, to=member.phone, body="Are you coming on Sunday?")
    text(session, member.phone, "START")
    assert send_message(session, ACTOR, chama.id, to=member.phone, body="Are you coming on Sunday?").status == "queued"
