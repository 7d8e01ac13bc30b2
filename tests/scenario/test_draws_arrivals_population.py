"""Seeded draws, arrival processes and populations: repeatable, order-free, and shaped right.

Statistical checks use large samples and loose bounds (several standard deviations), and
the draws are seeded, so each check has one fixed outcome.
"""

from __future__ import annotations

import statistics
from collections import Counter
from itertools import pairwise
from typing import Any

import pytest

from twsim.core import phone
from twsim.scenario.arrivals import first_texts
from twsim.scenario.draws import Draws
from twsim.scenario.population import Population, typo
from twsim.scenario.spec import Arrival, ArrivalKind, scenario_from_dict

# -- draws -------------------------------------------------------------------------------------


def test_draws_repeat_for_one_seed_and_differ_across_seeds() -> None:
    keys = [
        (purpose, student, text) for purpose in (1, 2) for student in range(50) for text in (0, 1)
    ]
    one, two, other = Draws(7), Draws(7), Draws(8)

    values = [one.bits(*k) for k in keys]
    assert values == [two.bits(*k) for k in keys]
    assert len(set(values)) == len(keys)  # every key its own value
    assert sum(a == b for a, b in zip(values, (other.bits(*k) for k in keys), strict=True)) == 0
    assert Draws("classroom/7").unit(1, 2) == Draws("classroom/7").unit(1, 2)
    assert Draws("classroom/7").unit(1, 2) != Draws("classroom/8").unit(1, 2)


def test_draws_do_not_depend_on_the_order_they_are_asked_for() -> None:
    keys = [(3, student, text) for student in range(40) for text in range(5)]
    forward = Draws(11)
    in_order = {k: forward.unit(*k) for k in keys}
    backward = Draws(11)
    reversed_order = {k: backward.unit(*k) for k in reversed(keys)}
    interleaved = Draws(11)
    for k in keys[::2]:
        interleaved.unit(9, 9, 9)  # unrelated draws in between change nothing
        assert interleaved.unit(*k) == in_order[k]

    assert reversed_order == in_order


def test_draw_ranges() -> None:
    draws = Draws(5)
    units = [draws.unit(1, i) for i in range(20_000)]
    assert all(0.0 <= u < 1.0 for u in units)
    assert statistics.fmean(units) == pytest.approx(0.5, abs=0.01)
    assert all(2.0 <= draws.uniform(2.0, 3.0, 2, i) < 3.0 for i in range(1000))
    assert {draws.integer(1, 3, 3, i) for i in range(1000)} == {1, 2, 3}
    assert not any(draws.chance(0.0, 4, i) for i in range(1000))
    assert all(draws.chance(1.0, 4, i) for i in range(1000))
    assert sum(draws.chance(0.25, 4, i) for i in range(20_000)) / 20_000 == pytest.approx(
        0.25, abs=0.015
    )
    picks = Counter(draws.weighted([1.0, 1.0, 4.0], 5, i) for i in range(20_000))
    assert set(picks) == {0, 2}  # index 1 has no weight of its own
    assert picks[0] / 20_000 == pytest.approx(0.25, abs=0.015)


# -- arrivals ----------------------------------------------------------------------------------


def test_flash_arrivals_fall_within_the_window() -> None:
    arrival = Arrival(kind=ArrivalKind.FLASH, within_s=4.0)
    times = first_texts(arrival, 2000, Draws(1))

    assert all(0.0 <= t < 4.0 for t in times)
    assert min(times) < 0.05 and max(times) > 3.95  # spread over the whole window
    # a quarter of the window holds about a quarter of the students
    assert sum(t < 1.0 for t in times) / 2000 == pytest.approx(0.25, abs=0.04)
    assert times == first_texts(arrival, 2000, Draws(1))
    assert first_texts(arrival, 50, Draws(1)) == times[:50]  # more students move no one
    assert first_texts(arrival, 50, Draws(2)) != times[:50]


def test_constant_arrivals_are_evenly_spaced() -> None:
    times = first_texts(Arrival(kind=ArrivalKind.CONSTANT, rate=4.0), 9, Draws(1))
    assert times == [0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0]


def test_poisson_arrivals_have_the_mean_rate() -> None:
    rate, n = 5.0, 20_000
    times = first_texts(Arrival(kind=ArrivalKind.POISSON, rate=rate), n, Draws(3))
    gaps = [b - a for a, b in pairwise(times)]

    assert times[0] == 0.0 and all(g >= 0 for g in gaps)
    assert (n - 1) / times[-1] == pytest.approx(rate, rel=0.05)
    # exponential gaps: standard deviation equal to the mean
    assert statistics.pstdev(gaps) / statistics.fmean(gaps) == pytest.approx(1.0, abs=0.05)
    assert times == first_texts(Arrival(kind=ArrivalKind.POISSON, rate=rate), n, Draws(3))


@pytest.mark.parametrize(("start", "end"), [(10.0, 1000.0), (1000.0, 10.0)])
def test_ramp_density_follows_the_rate(start: float, end: float) -> None:
    arrival = Arrival(kind=ArrivalKind.RAMP, start_rate=start, end_rate=end, duration_s=10.0)
    times = first_texts(arrival, 6000, Draws(4))

    assert times == sorted(times)
    counts = [sum(2 * k <= t < 2 * (k + 1) for t in times) for k in range(5)]
    expected = [2 * (start + (end - start) * (2 * k + 1) / 10) for k in range(5)]
    for got, want in zip(counts, expected, strict=True):
        assert got == pytest.approx(want, rel=0.15)
    steps = [b - a for a, b in pairwise(counts)]
    if end > start:
        assert all(step > 0 for step in steps)
    else:
        assert all(step < 0 for step in steps)


def test_ramp_holds_the_end_rate_after_its_duration() -> None:
    arrival = Arrival(kind=ArrivalKind.RAMP, start_rate=0.0, end_rate=200.0, duration_s=5.0)
    times = first_texts(arrival, 3000, Draws(6))  # ~500 during the ramp, then 200 a second
    after = [t for t in times if t >= 5.0]
    assert (len(after) - 1) / (after[-1] - after[0]) == pytest.approx(200.0, rel=0.1)


# -- population --------------------------------------------------------------------------------


def population(**spec: Any) -> Population:
    data: dict[str, Any] = {"seed": 9, "texts": {"bodies": ["CS101"]}, **spec}
    return Population(scenario_from_dict(data))


@pytest.mark.parametrize("country", ["US", "CA"])
def test_population_phones_are_unique_valid_numbers_of_the_country(country: str) -> None:
    phones = population(population={"size": 3000, "country": country}).phones

    assert len(phones) == len(set(phones)) == 3000
    for number in phones:
        assert phone.is_e164(number) and len(number) == 12 and number.startswith("+1")
        assert phone.country_of(number) == country
        area, exchange = number[2:5], number[5:8]
        assert area[0] in "23456789" and exchange[0] in "23456789"
        assert area[1:] != "11" and exchange[1:] != "11"
        assert area not in {"800", "833", "844", "855", "866", "877", "888", "900"}
        assert exchange != "555"  # the fictional / test range
    again = population(population={"size": 3000, "country": country}).phones
    assert again == phones
    assert population(population={"size": 10, "country": country}).phones == phones[:10]


def test_another_seed_gives_other_phones() -> None:
    one = population(population={"size": 20}).phones
    other = Population(
        scenario_from_dict({"seed": 10, "population": {"size": 20}, "texts": {"bodies": ["x"]}})
    ).phones
    assert not set(one) & set(other)


def test_weighted_bodies_in_proportion() -> None:
    people = population(
        population={"size": 20_000},
        texts={
            "bodies": [
                {"body": "CS1O1", "weight": 85},
                {"body": "never", "weight": 0},
                {"body": "CS101", "weight": 15},
            ]
        },
    )
    bodies = Counter(people.intended_body(i)[0] for i in range(len(people)))

    assert set(bodies) == {"CS1O1", "CS101"}
    assert bodies["CS1O1"] / 20_000 == pytest.approx(0.85, abs=0.015)
    # and each student's body is theirs, whatever order they are asked in
    assert [people.intended_body(i)[0] for i in (9, 3, 7)] == [
        people.intended_body(i)[0] for i in (9, 3, 7)
    ]


@pytest.mark.parametrize("body", ["CS101", "CS100", "hello", "aa", "a", "7", "  ", "Zoë", "Ω"])
def test_typos_differ_from_the_body_and_repeat(body: str) -> None:
    draws = Draws(12)
    slips = [typo(body, draws, student, text) for student in range(100) for text in range(1, 6)]

    assert all(slip != body for slip in slips)
    assert all(abs(len(slip) - len(body)) <= 1 for slip in slips)
    assert slips == [typo(body, Draws(12), s, t) for s in range(100) for t in range(1, 6)]
    assert len(set(slips)) > 1 or body == "7"  # a lone digit can only be doubled


def test_re_texts_get_typos_with_the_typo_probability() -> None:
    people = population(population={"size": 2000}, students={"typo_probability": 0.3})

    assert all(people.body_for(i, 0, "CS101") == "CS101" for i in range(2000))  # first texts
    slips = [people.body_for(i, 1, "CS101") != "CS101" for i in range(2000)]
    assert sum(slips) / 2000 == pytest.approx(0.3, abs=0.04)
    twin = population(population={"size": 2000}, students={"typo_probability": 0.3})
    assert [twin.body_for(i, 1, "CS101") for i in range(2000)] == [
        people.body_for(i, 1, "CS101") for i in range(2000)
    ]
    always = population(population={"size": 50}, students={"typo_probability": 1})
    assert all(always.body_for(i, 2, "CS100") != "CS100" for i in range(50))
