"""The agency menu as a pure machine: whatever a worker or an employer presses, every answer is a
valid screen (CON/END, GSM-7, at most 182 characters) and effects are only the ones the menu offers."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from core.agency.commerce import PackageView
from core.agency.sms import Caller
from tests.test_ussd_engine import assert_valid, odd_inputs
from ussd.agency import AgencyMachine
from ussd.engine import transition


@dataclass
class Facts:
    caller: Caller
    status: str = "Your placement with Joy Kamau Household of Karen Estate: confirmed since 05 Dec 2026."
    invitation: str | None = "An employer in Kileleshwa, Nairobi would like to interview you."
    packages: tuple = tuple(PackageView(i, f"Package number {i} with a long name", "", 150_000 * i, 3 * i)
                            for i in range(1, 12))
    currency: str = "KES"
    credits: int = 7


WORKER = Caller(1, "Nyumbani Domestic Staffing Agency of Nairobi", "Achieng Otieno Wanjiru", worker_id=5)
EMPLOYER = Caller(1, "Nyumbani Domestic Staffing Agency of Nairobi", "Joy Kamau", employer_id=9)


def walk(inputs, facts):
    machine = AgencyMachine()
    result = transition(machine, machine.start, {}, "", facts, entering=True)
    steps = [result]
    for piece in inputs:
        if result.ended:
            break
        result = transition(machine, result.state, result.data, piece, facts)
        steps.append(result)
    return steps


def test_a_worker_and_an_employer_reach_their_effects():
    assert walk(["1", "4"], Facts(WORKER))[-1].effects == (("availability", "unavailable"),)
    assert walk(["3", "1"], Facts(WORKER))[-1].effects == (("interview", True),)
    assert walk(["1", "98", "11"], Facts(EMPLOYER))[-1].effects == (("buy", 11),)
    assert "7 contact credits" in walk(["2"], Facts(EMPLOYER))[-1].answer
    assert walk(["3", "x", "12"], Facts(EMPLOYER))[-1].effects == (("unlock", 12),)


@settings(max_examples=300, deadline=None)
@given(st.lists(odd_inputs, max_size=20), st.booleans(), st.booleans())
def test_any_inputs_give_valid_screens_and_only_offered_effects(inputs, is_worker, invited):
    facts = Facts(WORKER if is_worker else EMPLOYER, invitation=Facts.invitation if invited else None)
    for step in walk(inputs, facts):
        assert_valid(step.answer)
        for kind, _value in step.effects:
            assert kind in (("availability", "interview") if is_worker else ("buy", "unlock"))
