"""The USSD engine: screens a handset can show, navigation, and hops through the real gateway."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from core import outbox
from core.numbers import whole_number
from db.models import Message
from db.models_ussd import UssdEvent, UssdSession
from tests.live_gateway import running_gateway
from tests.ussd_support import serving_menu
from ussd.engine import Hop, Menu, State, Step, new_input, transition
from ussd.screens import GSM7_BASIC, MAX_LENGTH, Screen, page_of, picked, render, to_gsm7

FRUITS = [f"{n} {name}" for n, name in enumerate(
    ["Mango", "Papaya", "Passion fruit", "Avocado", "Pineapple", "Banana", "Orange", "Guava", "Tamarind",
     "Jackfruit", "Custard apple", "Watermelon", "Lemon", "Tangerine", "Loquat", "Coconut", "Baobab"], 1)]


def _pin(hop: Hop) -> Step:
    if hop.input == hop.facts["pin"]:
        return Step(goto="menu")
    return Step(notice="Wrong PIN.")


def _menu(hop: Hop) -> Step:
    return {"1": Step(goto="fruits"), "2": Step(goto="confirm"),
            "3": Step(end="Goodbye from the test service.")}.get(hop.input, Step(notice="Choose 1, 2 or 3."))


def _fruit(hop: Hop) -> Step:
    fruit = picked(hop.input, FRUITS)
    if fruit is not None:
        return Step(end=f"You chose {fruit[2:]}.")
    return Step(notice="Choose a number from the list.")


def _confirm(hop: Hop) -> Step:
    if hop.input == "1":
        return Step(effects=("sms",), end="We will send you an SMS.")
    return Step(goto="menu")


class ToyMachine:
    start, home = "pin", "menu"
    states = {
        "pin": State(show=lambda h: Screen("Welcome to the test service. Enter your PIN:"), handle=_pin),
        "menu": State(show=lambda h: Menu("Main menu", ["1 Fruits", "2 SMS me", "3 Quit"], footer=""),
                      handle=_menu),
        "fruits": State(show=lambda h: Menu("Pick a fruit", FRUITS), handle=_fruit),
        "confirm": State(show=lambda h: Screen("Send you an SMS?\n1 Yes\n0 Back"), handle=_confirm),
    }

    def __init__(self, org_id: int | None = None) -> None:
        self.org_id = org_id

    def facts(self, session, hop):
        return {"pin": "1234"}

    def serves(self, facts):
        return True

    def apply(self, session, hop, effects, facts):
        for effect in effects:
            assert effect == "sms"
            hop.org_id = self.org_id
            outbox.enqueue(session, self.org_id, purpose="transactional", to=hop.phone,
                           body="Hello from the test service", idempotency_key=f"ussd-test-{hop.session_id}")
        return {"sent": True}


def assert_valid(answer: str) -> None:
    assert answer.startswith(("CON ", "END ")), answer
    assert len(answer) <= MAX_LENGTH, (len(answer), answer)
    assert set(answer) <= GSM7_BASIC, set(answer) - GSM7_BASIC


# ------------------------------------------------------------------ screens

def test_render_keeps_within_the_handset_limits():
    assert render(Screen("Hello")) == "CON Hello"
    assert render(Screen("Bye", end=True)) == "END Bye"
    long = render(Screen("x" * 500))
    assert len(long) == MAX_LENGTH and long.endswith("...")
    assert to_gsm7("Karibu — “Wanjikũ” ₹100 naïve 😀") == 'Karibu - "Wanjiku" Rs100 naive ?'


def test_long_lists_page_and_every_page_fits():
    pages, page, more = [], 0, True
    while more:
        text, more = page_of("Pick a fruit", FRUITS, page)
        assert len(render(Screen(text))) <= MAX_LENGTH
        pages.append(text)
        page += 1
    shown = "\n".join(pages)
    assert all(fruit in shown for fruit in FRUITS)
    assert "98 More" in pages[0] and "98 More" not in pages[-1]


@pytest.mark.parametrize("last, text, expected", [
    ("", "", ""), ("", "1", "1"), ("1", "1*2", "2"), ("1*2", "1*2*1234", "1234"), ("1", "1", ""),
    ("9", "1*2", "2"), ("1*2", "1*2**", "*"),
])
def test_new_input_is_what_was_added(last, text, expected):
    assert new_input(last, text) == expected


@pytest.mark.parametrize("text, expected", [
    ("7", 7), (" 12 ", 12), ("0", 0), ("²", None), ("①", None), ("١٢", None), ("-3", None), ("1.5", None),
    ("", None), (None, None),
])
def test_a_whole_number_is_ascii_digits(text, expected):
    assert whole_number(text) == expected


# ------------------------------------------------------------------ pure transitions

def walk(inputs, machine=ToyMachine()):
    result = transition(machine, machine.start, {}, "", machine.facts(None, None), entering=True)
    answers = [result]
    for piece in inputs:
        if result.ended:
            break
        result = transition(machine, result.state, result.data, piece, machine.facts(None, None))
        answers.append(result)
    return answers


def test_back_home_and_more():
    steps = walk(["1234", "1", "98", "98", "0", "00", "2", "0"])
    states = [s.state for s in steps]
    assert states == ["pin", "menu", "fruits", "fruits", "fruits", "menu", "menu", "confirm", "menu"]
    assert "Mango" in steps[2].answer and "Mango" not in steps[3].answer
    assert steps[5].answer.startswith("CON Main menu")  # 0 from the fruit list goes back to the menu
    assert steps[6].answer == steps[5].answer  # 00 at home shows home


def test_home_goes_home_only_after_the_pin():
    steps = walk(["00", "98", "1234", "1", "00"])
    assert [s.state for s in steps] == ["pin", "pin", "pin", "menu", "fruits", "menu"]
    assert steps[1].answer == steps[0].answer  # 00 before the PIN: the same screen, not the menu
    assert steps[2].answer.startswith("CON Wrong PIN.")  # 98 is no list here: an answer, this one wrong


def test_wrong_input_says_so_and_stays():
    steps = walk(["9999", "1234", "7"])
    assert steps[1].state == "pin" and steps[1].answer.startswith("CON Wrong PIN.")
    assert steps[3].state == "menu" and "Choose 1, 2 or 3." in steps[3].answer


def test_effects_are_returned_not_performed():
    final = walk(["1234", "2", "1"])[-1]
    assert final.ended and final.effects == ("sms",) and final.answer == "END We will send you an SMS."


odd_inputs = st.one_of(
    st.sampled_from(["", "0", "00", "98", "1", "2", "3", "1234", "17", "*", "#", "999999999999"]),
    st.text(max_size=40),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(odd_inputs, max_size=25))
@example(["1234", "1", "²"])  # isdigit() says yes to it; int() does not
def test_any_inputs_give_valid_screens(inputs):
    for step in walk(inputs):
        assert_valid(step.answer)


# ------------------------------------------------------------------ hops through the gateway

@pytest.fixture
def machine(committed_db, make_org):
    with committed_db.session() as session:
        org = make_org(session, "chama")
    with serving_menu(ToyMachine(org.id)):
        yield org


def dial(base: str, session_id: str, text: str, phone: str = "+254712345678") -> httpx.Response:
    return httpx.post(f"{base}/ussd/callback", timeout=10, data={
        "sessionId": session_id, "serviceCode": "*384*7#", "phoneNumber": phone, "networkCode": "63902",
        "text": text})


def test_a_whole_session_over_http(committed_db, machine):
    with running_gateway(committed_db) as base:
        first = dial(base, "ATUid_1", "")
        assert first.status_code == 200 and first.headers["content-type"].startswith("text/plain")
        assert first.text == "CON Welcome to the test service. Enter your PIN:"
        assert dial(base, "ATUid_1", "1234").text.startswith("CON Main menu")
        assert dial(base, "ATUid_1", "1234*2").text.startswith("CON Send you an SMS?")
        assert dial(base, "ATUid_1", "1234*2*1").text == "END We will send you an SMS."
        ended = httpx.post(f"{base}/ussd/events", data={"sessionId": "ATUid_1", "status": "Success",
                                                         "phoneNumber": "+254712345678", "duration": "21"})
        assert ended.status_code == 200
    with committed_db.session() as session:
        sms = session.query(Message).one()
        assert sms.to_address == "+254712345678" and sms.org_id == machine.id
        row = session.get(UssdSession, "ATUid_1")
        assert row.ended and row.end_status == "Success" and row.hops == 4 and row.data["sent"] is True
        assert session.query(UssdEvent).count() == 1


def test_a_retried_hop_answers_again_without_moving(committed_db, machine):
    with running_gateway(committed_db) as base:
        dial(base, "ATUid_2", "")
        menu = dial(base, "ATUid_2", "1234").text
        assert menu.startswith("CON Main menu")
        assert dial(base, "ATUid_2", "1234").text == menu
        assert dial(base, "ATUid_2", "1234*1").text.startswith("CON Pick a fruit")


def test_an_ended_session_takes_no_more_input(committed_db, machine):
    with running_gateway(committed_db) as base:
        assert dial(base, "ATUid_end", "1234*3").text == "END Goodbye from the test service."
        for text in ("1234*3*1", "1234*3", "1234*1*2", ""):
            assert dial(base, "ATUid_end", text).text == "END This session has ended. Please dial again."
        dial(base, "ATUid_closed", "")
        httpx.post(f"{base}/ussd/events", data={"sessionId": "ATUid_closed", "status": "Failed"})
        assert dial(base, "ATUid_closed", "1234").text == "END This session has ended. Please dial again."
    with committed_db.session() as session:
        assert session.get(UssdSession, "ATUid_end").hops == 1


def test_dial_string_with_inputs_plays_them(committed_db, machine):
    with running_gateway(committed_db) as base:
        assert dial(base, "ATUid_3", "1234*1").text.startswith("CON Pick a fruit")


def _twice_at_once(db, session_id: str, text: str) -> list[str]:
    """The same hop sent twice at once, as a network resends one it did not hear back from."""
    import threading

    from ussd.callback import answer_dial

    start, answers = threading.Barrier(2), []

    def hop() -> None:
        start.wait()
        answers.append(answer_dial(db, session_id=session_id, phone="+254712345678", service_code="*384*7#",
                                   text=text))

    threads = [threading.Thread(target=hop) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_a_first_hop_sent_twice_at_once_opens_one_session(committed_db, machine):
    """The network can resend a dial it did not hear back from while the first is still running."""
    for n in range(5):
        assert _twice_at_once(committed_db, f"ATUid_twice_{n}", "") == \
            ["CON Welcome to the test service. Enter your PIN:"] * 2
    with committed_db.session() as session:
        rows = session.query(UssdSession).filter(UssdSession.session_id.like("ATUid_twice_%")).all()
        assert len(rows) == 5 and all(row.hops >= 1 for row in rows)


def test_a_first_hop_with_an_effect_sent_twice_at_once_does_it_once(committed_db, machine):
    """A new session's row is stored with its first hop's outcome: the hop that finds it stored
    first is rolled back, effects and all, and answered against the stored session."""
    for n in range(5):
        answers = _twice_at_once(committed_db, f"ATUid_twice_sms_{n}", "1234*2*1")
        assert "END We will send you an SMS." in answers
        assert set(answers) <= {"END We will send you an SMS.", "END This session has ended. Please dial again."}
    with committed_db.session() as session:
        assert session.query(Message).count() == 5
        rows = session.query(UssdSession).filter(UssdSession.session_id.like("ATUid_twice_sms_%")).all()
        assert len(rows) == 5 and all(row.ended and row.hops == 1 for row in rows)


def test_a_session_id_cannot_be_taken_over_by_another_phone(committed_db, machine):
    with running_gateway(committed_db) as base:
        dial(base, "ATUid_4", "")
        stolen = dial(base, "ATUid_4", "1234", phone="+254799999999")
        assert stolen.status_code == 200 and stolen.text.startswith("END ")


def test_random_sessions_over_http_always_get_a_screen(committed_db, machine):
    with running_gateway(committed_db) as base:
        counter = iter(range(10**6))

        @settings(max_examples=15, deadline=None)
        @given(sessions=st.lists(st.lists(odd_inputs, max_size=8), min_size=1, max_size=4),
               phone=st.one_of(st.just("+254712345678"), st.text(max_size=16)))
        def random_sessions(sessions, phone):
            for inputs in sessions:
                session_id = f"prop-{next(counter)}"
                sent: list[str] = []
                for piece in ["", *inputs]:
                    if piece:
                        sent.append(piece)
                    answer = dial(base, session_id, "*".join(sent), phone=phone)
                    assert answer.status_code == 200
                    assert_valid(answer.text)
                    if answer.text.startswith("END"):
                        break

        random_sessions()
