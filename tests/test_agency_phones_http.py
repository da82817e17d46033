"""Workers and employers answering over real HTTP (`ofisi serve`'s app under uvicorn), with fake
Africa's Talking and Daraja: a worker's YES moves her proposal to interview, AVAILABLE/UNAVAILABLE is
what search shows, anything else reaches the staff inbox; an employer buys a package by STK push,
replayed callbacks at once grant the credits once, and an unlocked number arrives by SMS."""

from __future__ import annotations

import itertools
import logging
import threading

import httpx
import pytest
from sqlalchemy import select

from config import load_settings
from core import outbox
from core.agency import commerce, inbox, placements
from core.agency.workers import WorkerFilters, search_workers
from core.orgs import set_sms_number
from db.models_agency import AgencyPurchase
from tests.agency_support import ACTOR, employer, worker
from tests.fakes import phone, wait_until
from tests.fakes.africastalking import fake_at  # noqa: F401  (fixture)
from tests.fakes.daraja import PUSH_PATH, fake_daraja  # noqa: F401  (fixture)
from tests.live_gateway import running_gateway
from tests.ussd_support import serving_menu

TOKEN = "cb-token"
_ids = itertools.count(1)


def text(base: str, sender: str, words: str) -> str:
    form = {"from": sender, "to": "22385", "text": words, "date": "2026-12-05 10:00:00",
            "id": f"ATXid_agency_{next(_ids)}", "linkId": "link-1"}
    answer = httpx.post(f"{base}/sms/inbound?token={TOKEN}", data=form, timeout=10)
    assert answer.status_code == 200
    return answer.text


def _awaiting(db) -> bool:
    from db.models_payments import PaymentRequest

    with db.session() as s:
        return s.scalar(select(PaymentRequest.status)) == "awaiting"


def test_workers_and_employers_answer_by_sms(committed_db, fake_at, fake_daraja, make_org, caplog):
    caplog.set_level(logging.DEBUG)
    with committed_db.session() as s:
        agency = make_org(s, "agency", slug="simu")
        set_sms_number(s, ACTOR, agency.id, "22385")
        achieng, njeri = worker(s, agency.id, 1), worker(s, agency.id, 2)
        joy = employer(s, agency.id, 1)
        placements.add_placement(s, ACTOR, agency.id, worker_id=achieng.id, employer_id=joy.id, fee_minor=500_000)
        proposal = placements.list_placements(s, ACTOR, agency.id)[0]
        inbox.invite_worker(s, ACTOR, agency.id, proposal.id)
        package = commerce.add_package(s, ACTOR, agency.id, name="Three", price_minor=150_000, contacts_included=3)
    settings = load_settings({**fake_daraja.env(callback_token=TOKEN)})
    with running_gateway(committed_db, settings) as base:
        # The worker says YES to the interview invitation: the proposal moves.
        assert text(base, phone(501), "yes") == "handled"
        with committed_db.session() as s:
            assert placements.get_placement(s, ACTOR, agency.id, proposal.id).status == "interview"
        # Njeri is away: search leaves her out until she is back.
        assert text(base, phone(502), "UNAVAILABLE") == "handled"
        with committed_db.session() as s:
            names = [w.name for w in search_workers(s, ACTOR, agency.id).workers]
            assert names == ["Worker 1"]
        assert text(base, phone(502), "available 2 weeks") == "handled"
        with committed_db.session() as s:
            found = {w.name: w.availability for w in search_workers(s, ACTOR, agency.id, WorkerFilters()).workers}
            assert found == {"Worker 1": "immediate", "Worker 2": "two_weeks"}
        # Anything else reaches the staff inbox as that phone's conversation.
        assert text(base, phone(502), "Can I bring my daughter?") == "handled"
        with committed_db.session() as s:
            [thread] = inbox.list_threads(s, ACTOR, agency.id, waiting_only=True)
            assert thread.who == "worker Worker 2" and thread.last_text == "Can I bring my daughter?"
            assert phone(502) not in thread.phone

        # The employer buys a package: the STK prompt goes to her phone.
        assert text(base, phone(901), f"BUY {package.id}") == "handled"
        wait_until(lambda: fake_daraja.received(PUSH_PATH), timeout=10, what="the package's M-Pesa prompt")
        push = fake_daraja.received(PUSH_PATH)[0].body
        assert (push["Amount"], push["PhoneNumber"]) == (1500, phone(901).lstrip("+"))
        checkout = wait_until(lambda: list(fake_daraja.pushes), timeout=5, what="the push accepted")[0]
        wait_until(lambda: _awaiting(committed_db), timeout=5, what="the request awaiting its result")
        fake_daraja.complete(checkout, 0, post=False)
        payload = fake_daraja.callback_for(checkout, 0, receipt="SKAGENCY01")
        url = f"{base}/mpesa/stk/callback?token={TOKEN}"
        answers: list[int] = []
        start = threading.Barrier(6)

        def replay() -> None:
            start.wait()
            answers.append(httpx.post(url, json=payload, timeout=15).status_code)

        threads = [threading.Thread(target=replay) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
        assert answers == [200] * 6
        with committed_db.session() as s:
            [purchase] = s.scalars(select(AgencyPurchase)).all()
            assert (purchase.status, purchase.credits_left, purchase.reference) == ("completed", 3, "SKAGENCY01")
        # She unlocks Achieng's number: it comes by SMS.
        assert text(base, phone(901), f"UNLOCK {achieng.id}") == "handled"
        with committed_db.session() as s:
            assert commerce.credits_left(s, joy.id) == 2

    # The gateway's log lines (every level) carry no worker's whole number: it is what employers pay for.
    logged = caplog.text
    for number in (phone(501), phone(502)):
        assert not [form for form in (number, number[1:], "0" + number[4:]) if form in logged], number
    outbox.send_due(committed_db, {"sms": fake_at.provider()})
    heard = " ".join(r.message for r in fake_at.received_for(phone(901)))
    assert phone(501) in heard and "payment SKAGENCY01 received. You have 3 contact credits" in heard
    worker_heard = " ".join(r.message for r in fake_at.received_for(phone(501)))
    assert "is interested in you" in worker_heard and "Thank you" in worker_heard
    assert phone(901) not in worker_heard


class Phone:
    """One handset dialling the gateway's USSD callback; `press` sends the next inputs."""

    def __init__(self, base: str, number: str, session: str, token: str) -> None:
        self.url, self.number, self.session, self.inputs = f"{base}/ussd/callback?token={token}", number, session, []

    def dial(self) -> str:
        return self._send()

    def press(self, *keys: str) -> str:
        answer = ""
        for key in keys:
            self.inputs.append(key)
            answer = self._send()
        return answer

    def _send(self) -> str:
        answer = httpx.post(self.url, timeout=10, data={
            "sessionId": self.session, "serviceCode": "*384*22#", "phoneNumber": self.number,
            "networkCode": "63902", "text": "*".join(self.inputs)})
        assert answer.status_code == 200 and answer.text.startswith(("CON ", "END "))
        return answer.text


@pytest.fixture
def agency_menu():
    """The menu as the gateway builds it (agency first, then the community's and the chama's), whatever
    another test left behind."""
    from ussd.agency import AgencyFirst
    from ussd.chama import ChamaMachine
    from ussd.community import SharedMenu

    with serving_menu(AgencyFirst(SharedMenu(ChamaMachine()))):
        yield


def test_workers_and_employers_use_the_agency_menu(committed_db, fake_daraja, make_org, agency_menu):
    with committed_db.session() as s:
        agency = make_org(s, "agency", slug="menu")
        achieng, njeri = worker(s, agency.id, 1), worker(s, agency.id, 2)
        joy = employer(s, agency.id, 1)
        proposal = placements.add_placement(s, ACTOR, agency.id, worker_id=achieng.id, employer_id=joy.id,
                                            fee_minor=500_000)
        commerce.add_package(s, ACTOR, agency.id, name="Three", price_minor=150_000, contacts_included=3)
    settings = load_settings({**fake_daraja.env(callback_token=TOKEN)})
    with running_gateway(committed_db, settings) as base:
        her = Phone(base, phone(501), "s-achieng", TOKEN)
        assert "3 Interview invitation" in her.dial()
        assert "would like to interview you" in her.press("3")
        assert her.press("1").startswith("END Thank you")
        other = Phone(base, phone(502), "s-njeri", TOKEN)
        other.dial()
        assert other.press("1", "4") == "END Saved. Thank you."
        with committed_db.session() as s:
            assert placements.get_placement(s, ACTOR, agency.id, proposal.id).status == "interview"
            assert [w.name for w in search_workers(s, ACTOR, agency.id, WorkerFilters(include_placed=True)).workers] \
                == ["Worker 1"]
        status = Phone(base, phone(501), "s-achieng-2", TOKEN)
        status.dial()
        assert "Your placement with Employer 1: interview" in status.press("2")
        buyer = Phone(base, phone(901), "s-joy", TOKEN)
        assert "1 Buy contacts" in buyer.dial()
        assert "Three: 3 for KES 1,500" in buyer.press("1")
        assert "M-Pesa prompt" in buyer.press("1")
        wait_until(lambda: fake_daraja.received(PUSH_PATH), timeout=10, what="the package's M-Pesa prompt")
        asking = Phone(base, phone(901), "s-joy-2", TOKEN)
        asking.dial()
        refused = asking.press("3", str(njeri.id))  # not paid yet: no credits
        assert refused.startswith("END Employer 1 has no contact credits left")
        with committed_db.session() as s:
            [purchase] = commerce.list_purchases(s, ACTOR, agency.id)
            commerce.settle_purchase(s, ACTOR, agency.id, purchase.id, paid=True, reference="QCASH1")
        paid = Phone(base, phone(901), "s-joy-3", TOKEN)
        paid.dial()
        assert paid.press("3", str(njeri.id)) == "END The worker's phone number comes to you by SMS."
        with committed_db.session() as s:
            from db.models import Message

            [sent] = s.scalars(select(Message).where(Message.to_address == phone(901), Message.secret.is_(True)))
            assert phone(502) in sent.body
