"""Leads as the salon keeps them: a text message scored on what it asks for (a service, a day, the
price), not on its length; a lead corrected by hand scored again, with its activity logged."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from core.errors import InvalidInput
from core.salon.conversations import record_inbound
from core.salon.leads import LeadDetails, add_lead, get_lead, lead_activities, list_leads, list_tasks, update_lead
from tests.salon_support import SYSTEM, make_salon

NOW = datetime(2026, 3, 2, 7, 0, tzinfo=timezone.utc)  # a Monday morning in Nairobi


@pytest.fixture
def salon(session):
    return make_salon(session)


def test_text_message_leads_are_scored_on_intent_not_length(session, salon):
    texts = {
        "0711000041": "knotless braids this Saturday? How much?",  # a service, a day, the price
        "0711000042": "Hello hello, I saw your page on Instagram and I love the pictures, it is beautiful, "
                      "keep up the good work my dear friends, God bless you all!!",  # long, asks nothing
        "0711000043": "bei ya manicure ni ngapi?",  # Swahili: what does a manicure cost
    }
    for phone, text in texts.items():
        record_inbound(session, salon.org.id, phone, text, now=NOW)
    session.commit()
    scored = {lead.phone: lead for lead in list_leads(session, SYSTEM, salon.org.id)}
    asking, chatter, swahili = (scored[f"+254{p[1:]}"] for p in texts)
    assert asking.temperature == "hot", asking
    assert chatter.temperature == "cold" and chatter.score < asking.score
    assert swahili.temperature == "warm" and chatter.score < swahili.score < asking.score
    # The hot one is called first.
    assert list_tasks(session, SYSTEM, salon.org.id)[0].lead_id == asking.id


def test_a_lead_corrected_by_hand_is_scored_again(session, salon):
    lead = add_lead(session, SYSTEM, salon.org.id, LeadDetails(phone="0711000051"), now=NOW)
    assert lead.temperature == "cold"
    edited = update_lead(session, SYSTEM, salon.org.id, lead.id, name="Amina", service_wanted="Braids",
                         preferred_date=date(2026, 3, 4), now=NOW + timedelta(minutes=5))
    assert (edited.name, edited.service_wanted, edited.temperature) == ("Amina", "Braids", "hot")
    assert [a.kind for a in lead_activities(session, SYSTEM, salon.org.id, lead.id)] == ["created", "edited"]
    with pytest.raises(InvalidInput, match="phone cannot be edited"):
        update_lead(session, SYSTEM, salon.org.id, lead.id, phone="0711000052")
    with pytest.raises(InvalidInput):
        update_lead(session, SYSTEM, salon.org.id, lead.id, email="not an email")
    assert get_lead(session, SYSTEM, salon.org.id, lead.id).email is None
