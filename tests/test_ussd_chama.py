"""The chama menu on a feature phone, through the real gateway in Africa's Talking's
and Daraja's formats, with fake Daraja on loopback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ussd.chama  # noqa: F401  (the chama menu answers dials)
from config import load_settings
from core.chama import ledger, loans
from db.models import Message
from db.models_payments import PaymentRequest
from tests.chama_support import ACTOR, make_chama
from tests.fakes import phone, wait_until
from tests.fakes.daraja import PUSH_PATH, fake_daraja  # noqa: F401  (fixture)
from tests.live_gateway import running_gateway
from tests.ussd_support import serving_menu
from ussd.chama import ChamaMachine
from ussd.screens import GSM7_BASIC, MAX_LENGTH

TOKEN = "cb-token"


@pytest.fixture(autouse=True)
def chama_menu():
    with serving_menu(ChamaMachine()):
        yield


@pytest.fixture
def chama(committed_db, make_org):
    with committed_db.session() as session:
        group = make_chama(session, make_org, extra_members=2)
        ledger.record_contribution(session, ACTOR, group.id, group.members[0].id, 200_000, source="cash",
                                   reference="R-1")
    return group


class Phone:
    """One handset dialling through the gateway; `press` sends the next input."""

    def __init__(self, base: str, number: str, session: str, token: str | None = None) -> None:
        self.base, self.number, self.session, self.inputs = base, number, session, []
        self.url = f"{base}/ussd/callback" + (f"?token={token}" if token else "")

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
        assert answer.status_code == 200
        assert answer.text.startswith(("CON ", "END ")) and len(answer.text) <= MAX_LENGTH
        return answer.text


def sms_to(db, number: str) -> list[str]:
    with db.session() as session:
        return [m.body for m in session.query(Message).filter_by(to_address=number).order_by(Message.id)]


def test_an_unknown_number_is_told_whom_to_ask(committed_db, chama):
    with running_gateway(committed_db) as base:
        answer = Phone(base, "+254799000001", "s-unknown").dial()
    assert answer.startswith("END ") and "not registered" in answer and "secretary" in answer


def test_first_dial_sets_a_pin_then_balance(committed_db, chama):
    member = chama.members[0]
    with running_gateway(committed_db) as base:
        handset = Phone(base, member.phone, "s-first")
        assert "Create a 4-digit PIN" in handset.dial()
        assert "too easy" in handset.press("1111")
        assert "same PIN again" in handset.press("2580")
        assert "did not match" in handset.press("2581")
        handset.press("2580")
        menu = handset.press("2580")
        assert menu.startswith("CON PIN set.") and "1 Balance" in menu and "6 Change PIN" in menu
        balance = handset.press("1")
        assert "Savings: KES 2,000" in balance and "Loan: KES 0" in balance and "Fines: KES 0" in balance
        # A later session asks for the PIN, not a new one.
        again = Phone(base, member.phone, "s-second").dial()
        assert again.startswith("CON Welcome") and "Enter your PIN" in again


def test_three_wrong_pins_lock_across_sessions_and_sms_the_member(committed_db, chama):
    member = chama.members[1]
    from core.ussd_pins import set_pin

    with committed_db.session() as session:
        set_pin(session, member.phone, "2580")
        session.commit()
    with running_gateway(committed_db) as base:
        first = Phone(base, member.phone, "s-w1")
        assert "Enter your PIN" in first.dial()
        assert "2 tries left" in first.press("0000")
        # Hanging up does not reset the count.
        second = Phone(base, member.phone, "s-w2")
        second.dial()
        assert "1 try left" in second.press("1111")
        locked = second.press("9999")
        assert locked.startswith("END ") and "locked for 30 minutes" in locked
        third = Phone(base, member.phone, "s-w3")
        assert third.dial().startswith("END Too many wrong PINs")
        # Even the right PIN does not get in while locked.
    assert any("locked for 30 minutes" in body for body in sms_to(committed_db, member.phone))


def signed_in(base: str, number: str, session: str, token: str | None = None) -> Phone:
    handset = Phone(base, number, session, token)
    handset.dial()
    handset.press("2580")
    return handset


@pytest.fixture
def pins(committed_db, chama):
    from core.ussd_pins import set_pin

    with committed_db.session() as session:
        for person in chama.everyone:
            set_pin(session, person.phone, "2580")
        session.commit()


def test_the_right_pin_clears_earlier_wrong_tries(committed_db, chama, pins):
    from core.ussd_pins import pin_state

    member = chama.members[1]
    with running_gateway(committed_db) as base:
        first = Phone(base, member.phone, "s-r1")
        first.dial()
        assert "2 tries left" in first.press("0000")
        assert first.press("2580").startswith("CON ")
        with committed_db.session() as session:
            assert pin_state(session, member.phone).failed_attempts == 0
        # So two more wrong tries later leave one, not a lock.
        second = Phone(base, member.phone, "s-r2")
        second.dial()
        second.press("0000")
        assert "1 try left" in second.press("1111")


def test_home_before_the_pin_skips_nothing_and_98_is_an_amount(committed_db, chama, pins):
    from core.ussd_pins import pin_state

    member = chama.members[0]
    with running_gateway(committed_db) as base:
        handset = Phone(base, member.phone, "s-home")
        prompt = handset.dial()
        assert "Enter your PIN" in prompt
        assert handset.press("00") == prompt  # not the menu, and not a wrong PIN
        assert handset.press("0") == prompt
        with committed_db.session() as session:
            assert pin_state(session, member.phone).failed_attempts == 0
        assert "1 Balance" in handset.press("2580")
        assert "amount to contribute" in handset.press("2")
        assert "Contribute KES 98 by M-Pesa?" in handset.press("98")  # an amount here, not "more"
        assert "1 Balance" in handset.press("00")  # signed in: home is home


def test_contribute_pushes_mpesa_and_the_callback_shows_in_the_balance(committed_db, chama, pins, fake_daraja):
    member = chama.members[0]
    settings_ = load_settings(fake_daraja.env(public_url="https://ofisi.example", callback_token=TOKEN))
    with running_gateway(committed_db, settings_) as base:
        handset = signed_in(base, member.phone, "s-pay", TOKEN)
        assert "amount to contribute" in handset.press("2")
        assert "whole shillings" in handset.press("12.50")
        assert "Contribute KES 500 by M-Pesa?" in handset.press("500")
        done = handset.press("1")
        assert done.startswith("END Check your phone")
        # The push leaves within two seconds of the member's confirmation.
        wait_until(lambda: fake_daraja.received(PUSH_PATH), timeout=2, what="the STK push to leave")
        push = fake_daraja.received(PUSH_PATH)[0].body
        assert push["Amount"] == 500 and push["PhoneNumber"] == member.phone.lstrip("+")

        def checkout() -> str | None:
            with committed_db.session() as session:
                row = session.query(PaymentRequest).one()
                return row.checkout_request_id if row.status == "awaiting" else None

        code = wait_until(checkout, timeout=5, what="the request to await its result")
        answer = fake_daraja.complete(code, 0, url=f"{base}/mpesa/stk/callback?token={TOKEN}")
        assert answer.status_code == 200
        # Safaricom retries: nothing more is credited.
        fake_daraja.complete(code, 0, url=f"{base}/mpesa/stk/callback?token={TOKEN}")
        later = signed_in(base, member.phone, "s-after", TOKEN)
        assert "Savings: KES 2,500" in later.press("1")


def test_loan_request_two_approvals_then_disbursement(committed_db, chama, pins):
    member = chama.members[0]
    with running_gateway(committed_db) as base:
        handset = signed_in(base, member.phone, "s-loan")
        handset.press("3")
        limit_screen = handset.press("1")
        assert "You can borrow up to" in limit_screen
        assert "more than you can borrow" in handset.press("999999")
        assert "how many months" in handset.press("1000")
        assert "Request a loan of KES 1,000 over 3 months?" in handset.press("3")
        assert handset.press("1").startswith("END Your request for KES 1,000")
    with committed_db.session() as session:
        loan = loans.list_loans(session, ACTOR, chama.id, member_id=member.id)[0]
        assert loan.status == "requested" and loan.principal_minor == 100_000
        for official in chama.checkers(member.id):
            loans.approve_loan(session, ACTOR, chama.id, loan.id, by_member_id=official.id)
        loans.disburse_loan(session, ACTOR, chama.id, loan.id, source="cash", reference="D-1")
        status = loans.list_loans(session, ACTOR, chama.id, member_id=member.id)[0].status
    with running_gateway(committed_db) as base:
        handset = signed_in(base, member.phone, "s-loan2")
        assert "Loan: KES 1,0" in handset.press("1")
        handset.press("0", "3")
        assert f"KES 1,000 {status}" in handset.press("2")


def test_mini_statement_is_shown_and_sent_by_sms(committed_db, chama, pins):
    member = chama.members[0]
    with running_gateway(committed_db) as base:
        statement = signed_in(base, member.phone, "s-stmt").press("4")
    assert "Contribution KES 2,000" in statement
    assert any(body.startswith("Mini statement:") for body in sms_to(committed_db, member.phone))


def test_the_balance_after_a_share_out_is_the_new_cycles(committed_db, chama, pins):
    """At the main menu her balances come with the session's row (PostgreSQL) or are read by the
    ledger's service (SQLite): either way, after a share-out the screen says cycle 2 and shows only
    what she saved since, and her PIN hop and the menu after it read no balance at all."""
    from core.chama import shareout

    member = chama.members[0]
    with committed_db.session() as session:
        plan = shareout.preview_shareout(session, ACTOR, chama.id)
        shareout.commit_shareout(session, ACTOR, chama.id, code=plan.code)
        ledger.record_contribution(session, ACTOR, chama.id, member.id, 50_000, source="cash", reference="R-2")
    with running_gateway(committed_db) as base:
        handset = signed_in(base, member.phone, "s-cycle")
        balance = handset.press("1")
        assert balance.startswith("CON Cycle 2\n") and "Savings: KES 500" in balance, balance
        assert "1 Balance" in handset.press("0")
        assert "Cycle 2" in handset.press("1")


def test_the_menus_preload_names_tables_not_orm_classes():
    """SQLAlchemy builds a row processor per column of a statement that names an ORM class, on every
    execution: the statement every hop runs names only tables (a regression here is a slower hop, not
    a wrong one, so nothing else would notice)."""
    preload = ChamaMachine.preload
    for dialect in ("postgresql", "sqlite"):
        for new in (False, True):
            statement = preload.statement(dialect, new=new)
            assert statement._propagate_attrs.get("compile_state_plugin") != "orm", (dialect, new)


def test_a_member_of_two_chamas_picks_one(committed_db, make_org, chama, pins):
    member = chama.members[0]
    from core.chama import members

    with committed_db.session() as session:
        other = make_org(session, "chama", name="Zawadi Savings")
        members.add_member(session, ACTOR, other.id, name="Wanjiku Kamau", phone=member.phone, role="member")
    with running_gateway(committed_db) as base:
        handset = signed_in(base, member.phone, "s-two")
        assert handset.inputs == ["2580"]
        choose = handset._send()
        assert "Choose your chama" in choose and "Zawadi Savings" in choose
        assert handset.press("2").startswith("CON Zawadi Savings")


def test_next_meeting(committed_db, chama, pins):
    from datetime import timedelta

    from core.chama.meetings import schedule_meeting
    from db.types import utcnow

    with committed_db.session() as session:
        schedule_meeting(session, ACTOR, chama.id, starts_at=utcnow() + timedelta(days=3), venue="Kanisa hall",
                         agenda="Loans")
    with running_gateway(committed_db) as base:
        answer = signed_in(base, chama.members[0].phone, "s-meet").press("5")
    assert "Next meeting:" in answer and "Kanisa hall" in answer


def test_ussd_dial_in_the_terminal(committed_db, chama, pins, backend):
    if backend != "sqlite":
        pytest.skip("the simulator drives the same machine; one backend shows it")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("OFISI_")},
           "OFISI_DATABASE_URL": committed_db.url}
    result = subprocess.run([str(Path(sys.executable).parent / "ofisi"), "ussd", "dial", chama.members[0].phone],
                            input="2580\n1\n00\n9\n", capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    assert "Enter your PIN" in result.stdout and "Savings: KES 2,000" in result.stdout
    assert "Reply with a number from 1 to 7." in result.stdout


keys = st.one_of(st.sampled_from(["", "0", "00", "98", "1", "2", "3", "4", "5", "6", "2580", "1111", "500",
                                  "99999999", "*", "#"]), st.text(max_size=20))


def test_random_sessions_always_get_a_valid_screen(committed_db, chama, pins):
    from ussd.callback import answer_dial

    numbers = [p.phone for p in chama.everyone] + [phone(999), "garbage"]
    counter = iter(range(10**6))

    @settings(max_examples=300, deadline=None)
    @given(st.sampled_from(numbers), st.lists(keys, max_size=14))
    def session(number, inputs):
        session_id, sent = f"prop-{next(counter)}", []
        for piece in ["", *inputs]:
            if piece:
                sent.append(piece)
            answer = answer_dial(committed_db, session_id=session_id, phone=number, service_code="*384*22#",
                                 text="*".join(sent))
            assert answer.startswith(("CON ", "END ")) and len(answer) <= MAX_LENGTH
            assert set(answer) <= GSM7_BASIC
            if answer.startswith("END"):
                break

    session()


@pytest.mark.parametrize("odd", ["²", "①", "1²", "٣"])
def test_digits_from_a_phones_symbol_menu_get_a_notice_not_a_failure(odd):
    """The menu's number replies read ASCII digits only: the others get the state's notice."""
    from types import SimpleNamespace

    from ussd.chama import _amount, handle_choose, handle_loan_months
    from ussd.engine import Hop

    class Facts:
        memberships = [("org", "member")]

        def chosen(self, data):
            return SimpleNamespace(currency="KES"), None

    assert _amount(Hop(odd, {}, Facts()), odd) is None
    assert handle_loan_months(Hop(odd, {}, Facts())).notice.startswith("Enter a number of months")
    assert handle_choose(Hop(odd, {}, Facts())).notice == "Reply with the chama's number."


def _locked_sms(db, number: str) -> int:
    return sum("locked for 30 minutes" in body for body in sms_to(db, number))


def test_a_pin_lock_holds_after_end_and_in_new_sessions_with_one_sms(committed_db, chama, pins):
    """The attack: keep posting to a session after its END (and in new sessions) with more
    guesses, then the right PIN. Every one of them finds the lock, none counts, one SMS."""
    from core.ussd_pins import pin_state

    member = chama.members[1]
    with running_gateway(committed_db) as base:
        handset = Phone(base, member.phone, "s-lock")
        handset.dial()
        handset.press("0000", "1111")
        assert handset.press("9999").startswith("END Wrong PIN 3 times")
        with committed_db.session() as session:
            locked_until = pin_state(session, member.phone).locked_until
        # The same session, after its END: no more input is taken, whatever it is.
        for guess in [f"{n:04d}" for n in range(3000, 3040)] + ["2580"]:
            answer = handset.press(guess)
            assert answer.startswith("END ") and "1 Balance" not in answer
        # New sessions: the lock is read on the hop that reads the PIN, not only on the first screen.
        for n in range(3):
            other = Phone(base, member.phone, f"s-lock-new-{n}")
            other.inputs = ["4444"]  # a dial string carrying the PIN (*384*22*4444#)
            assert other._send().startswith("END Too many wrong PINs")
        right = Phone(base, member.phone, "s-lock-right")
        right.inputs = ["2580"]
        assert right._send().startswith("END Too many wrong PINs")
    with committed_db.session() as session:
        state = pin_state(session, member.phone)
        assert state.locked_until == locked_until and state.failed_attempts == 0
    assert _locked_sms(committed_db, member.phone) == 1


def test_the_pin_lock_is_checked_on_the_hop_that_reads_the_pin(committed_db, chama, pins):
    """A PIN screen opened before the lock takes no guess after it."""
    member = chama.members[1]
    with running_gateway(committed_db) as base:
        waiting = Phone(base, member.phone, "s-open")
        assert "Enter your PIN" in waiting.dial()  # opened while not yet locked
        guesser = Phone(base, member.phone, "s-guess")
        guesser.dial()
        guesser.press("0000", "1111", "9999")
        answer = waiting.press("2580")
        assert answer.startswith("END Too many wrong PINs")
        changing = signed_in(base, chama.members[0].phone, "s-change")
        assert "current PIN" in changing.press("6")
    assert _locked_sms(committed_db, member.phone) == 1


def test_change_pin_reads_the_lock_too(committed_db, chama, pins):
    from core.ussd_pins import record_wrong_pin

    member = chama.members[0]
    with running_gateway(committed_db) as base:
        handset = signed_in(base, member.phone, "s-change-lock")
        assert "current PIN" in handset.press("6")
        with committed_db.session() as session:
            for _ in range(3):
                record_wrong_pin(session, member.phone)
            session.commit()
        assert handset.press("2580").startswith("END Too many wrong PINs")


def test_concurrent_guesses_count_three_then_lock(committed_db, chama, pins):
    """Guesses from many sessions at once are counted one after another: three, then the lock."""
    import threading

    member = chama.treasurer
    answers: list[str] = []
    with running_gateway(committed_db) as base:
        handsets = [Phone(base, member.phone, f"s-par-{n}") for n in range(12)]
        for handset in handsets:
            handset.dial()
        start = threading.Barrier(len(handsets), timeout=10)

        def guess(handset: Phone) -> None:
            start.wait()
            answers.append(handset.press("0000"))

        threads = [threading.Thread(target=guess, args=(h,)) for h in handsets]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    wrong = [a for a in answers if "Wrong PIN" in a]
    assert len(answers) == 12 and len(wrong) == 3, answers
    assert _locked_sms(committed_db, member.phone) == 1


def test_a_stranger_cannot_set_a_members_pin_without_the_token(committed_db, chama):
    from core.ussd_pins import pin_state

    member = chama.members[0]
    with running_gateway(committed_db, load_settings({"OFISI_CALLBACK_TOKEN": TOKEN})) as base:
        stranger = Phone(base, member.phone, "s-stranger")
        assert stranger.dial() == "END This service is not available."
        stranger.press("2580", "2580")
        with committed_db.session() as session:
            assert pin_state(session, member.phone).pin_hash is None
        genuine = Phone(base, member.phone, "s-genuine", TOKEN)
        assert "Create a 4-digit PIN" in genuine.dial()


def test_a_ugandan_chama_reads_amounts_in_its_own_currency(committed_db, make_org):
    from core.ussd_pins import set_pin

    with committed_db.session() as session:
        group = make_chama(session, make_org, extra_members=1, first_phone=300, country="UG")
        member = group.members[0]
        assert group.org.currency == "UGX"
        ledger.record_contribution(session, ACTOR, group.id, member.id, 100_000)  # UGX 100,000: no cents
        set_pin(session, member.phone, "2580")
        session.commit()
    with running_gateway(committed_db) as base:
        handset = signed_in(base, member.phone, "s-ugx")
        assert "Savings: UGX 100,000" in handset.press("1")
        handset.press("0", "3")
        assert "You can borrow up to UGX 300,000" in handset.press("1")
        assert "more than you can borrow" in handset.press("300001")
        assert "whole shillings" in handset.press("5000.5")
        assert "how many months" in handset.press("5000")
        assert "Request a loan of UGX 5,000 over 3 months?" in handset.press("3")
        handset.press("1")
    with committed_db.session() as session:
        loan = loans.list_loans(session, ACTOR, group.id, member_id=member.id)[0]
        assert loan.principal_minor == 5_000


def test_repaying_more_than_is_owed_is_refused_before_mpesa_is_asked(committed_db, chama, pins):
    member = chama.members[0]
    with committed_db.session() as session:
        ledger.record_contribution(session, ACTOR, chama.id, chama.chair.id, 500_000)
        loan = loans.request_loan(session, ACTOR, chama.id, member.id, 390_000, months=2)
        for official in chama.checkers(member.id):
            loans.approve_loan(session, ACTOR, chama.id, loan.id, by_member_id=official.id)
        loans.disburse_loan(session, ACTOR, chama.id, loan.id)
    with running_gateway(committed_db) as base:
        handset = signed_in(base, member.phone, "s-over")
        handset.press("3")
        assert "Loan outstanding KES 3,900" in handset.press("3")
        assert "You owe KES 3,900; enter that or less." in handset.press("5000")
        assert "Repay KES 3,900 by M-Pesa?" in handset.press("3900")
    with committed_db.session() as session:
        assert session.query(PaymentRequest).count() == 0


def test_with_a_pin_key_a_member_signs_in_and_her_old_pin_moves_under_it(committed_db, chama, pins, monkeypatch):
    """PINs set before the key keep working, are hashed under it the first time they are entered
    right, and a gateway that lost the key says sorry instead of counting wrong tries."""
    from config.settings import get_settings
    from core.ussd_pins import pin_state

    member = chama.members[1]
    monkeypatch.setenv("OFISI_PIN_KEY", "a-long-random-pin-key")
    get_settings.cache_clear()
    with running_gateway(committed_db) as base:
        handset = Phone(base, member.phone, "s-key1")
        handset.dial()
        assert "1 Balance" in handset.press("2580")
        with committed_db.session() as session:
            assert pin_state(session, member.phone).pin_hash.startswith("hmac-sha256$")
        again = Phone(base, member.phone, "s-key2")
        again.dial()
        assert "1 Balance" in again.press("2580")
    monkeypatch.delenv("OFISI_PIN_KEY")
    get_settings.cache_clear()
    with running_gateway(committed_db) as base:
        lost = Phone(base, member.phone, "s-key3")
        lost.dial()
        for guess in ("2580", "0000", "1111", "9999"):
            assert lost.press(guess).startswith("END Sorry, something went wrong")
            lost = Phone(base, member.phone, f"s-key-{guess}")
            lost.dial()
        with committed_db.session() as session:
            state = pin_state(session, member.phone)
        assert state.failed_attempts == 0 and state.locked_until is None


def test_a_members_hops_read_her_facts_with_the_session_row(committed_db, chama, pins):
    """The gateway's menu as it is served: a member's first hop reads her chamas, her PIN and whether an
    agency knows her in one statement; her PIN hop reads them with the session's row; the menu after
    reads nothing more. On PostgreSQL her balances come with the session's row at the menu; SQLite reads
    her chama's and her rows for the ledger's service, then the sums. A dial string that sets a PIN
    reads it again after setting it."""
    from sqlalchemy import event

    from ussd.agency import AgencyFirst
    from ussd.callback import answer_dial
    from ussd.community import SharedMenu

    reads: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            reads.append(statement)

    member = chama.secretary

    def hop(session_id: str, text: str, number: str = member.phone) -> str:
        reads.clear()
        return answer_dial(committed_db, session_id=session_id, phone=number, service_code="*384#", text=text)

    event.listen(committed_db.engine, "before_cursor_execute", count)
    try:
        with serving_menu(AgencyFirst(SharedMenu(ChamaMachine()))):
            assert hop("s-reads", "").startswith("CON Welcome")
            assert len(reads) == 1, reads
            assert "2 Contribute" in hop("s-reads", "2580")
            assert len(reads) == 1, reads
            assert "Savings: KES 0" in hop("s-reads", "2580*1")
            assert len(reads) == (1 if committed_db.dialect == "postgresql" else 3), reads
            assert "2 Contribute" in hop("s-reads", "2580*1*0")
            assert len(reads) == 1, reads  # back to the menu: the session's row and her facts
            assert hop("s-reads-2", "").startswith("CON Welcome")
            assert hop("s-reads-2", "1111").startswith("CON Wrong PIN. 2 tries left.")
            assert hop("s-reads-3", "").startswith("CON Welcome")
            assert hop("s-reads-3", "1112").startswith("CON Wrong PIN. 1 try left.")
            # A newcomer's dial string sets her PIN, then signs in with the one it set.
            with committed_db.session() as session:
                from core.chama.members import add_member

                newcomer = add_member(session, ACTOR, chama.id, name="Wanjiru Kamau", phone=phone(777))
                session.commit()
            answer = hop("s-reads-4", "4826*4826", newcomer.phone)
            assert "PIN set." in answer and "2 Contribute" in answer, answer
    finally:
        event.remove(committed_db.engine, "before_cursor_execute", count)
