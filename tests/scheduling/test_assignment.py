"""The district's assignment of compounds to retailers: small cases worked by hand, and
properties over random districts (every compound once, pins kept, capacity where it fits)."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from scheduling import Compound, Problem, Truck
from scheduling.assignment import AssignmentError, assign

from .factory import plane_travel

DAY = (480.0, 1080.0)


def district(depots, compounds, *, trucks, window=DAY):
    """Depots at the given points (one per retailer name), compounds at (x, y) with optional
    demand and priority; ``trucks`` maps retailer -> list of (max_stops, stock)."""
    names = list(depots)
    points = [depots[name] for name in names] + [c[0] for c in compounds]
    fleet, owner = [], {}
    for name in names:
        for k, (max_stops, stock) in enumerate(trucks.get(name, ())):
            truck_id = f"{name}{k + 1}"
            fleet.append(Truck(id=truck_id, depot=names.index(name), shift_start=DAY[0], shift_end=DAY[1],
                               max_stops=max_stops, stock=stock))
            owner[truck_id] = name
    stops = tuple(
        Compound(id=f"c{i + 1}", location=len(names) + i, ready=window[0], due=window[1] - 10, service=10.0,
                 priority=extra.get("priority", 1), demand=extra.get("demand", {"veg": 10}))
        for i, (_, extra) in enumerate(compounds))
    return Problem(trucks=tuple(fleet), compounds=stops, travel=plane_travel(points)), owner


def test_overflow_goes_to_the_other_retailer_nearest_it_first():
    """A has room for 2 stops, B for 5. Four compounds lie near A (x = 10..40), one near B.
    Nearest depot would give A four it cannot serve; the assignment serves all five and, among
    the ways to, keeps the two nearest A with A: sum of drives 10 + 20 + 70 + 60 + 5 = 165."""
    problem, owner = district(
        {"A": (0, 0), "B": (100, 0)},
        [((10, 0), {}), ((20, 0), {}), ((30, 0), {}), ((40, 0), {}), ((95, 0), {})],
        trucks={"A": [(2, {"veg": 100})], "B": [(5, {"veg": 100})]},
    )
    result = assign(problem, owner)
    assert dict(result.retailer_of) == {"c1": "A", "c2": "A", "c3": "B", "c4": "B", "c5": "B"}
    assert result.over_capacity == ()
    loads = {load.retailer: load for load in result.loads}
    assert (loads["A"].compounds, loads["A"].servable, loads["B"].compounds) == (2, 2, 3)
    assert result.status == "optimal"


def test_beyond_capacity_the_priority_compound_is_the_one_served():
    """Only A reaches c1 and c2 (B's depot is too far for their windows); A has one stop: both
    stay with A, and c2 (priority 3) is the one its capacity serves."""
    problem, owner = district(
        {"A": (0, 0), "B": (2000, 0)},
        [((10, 0), {}), ((12, 0), {"priority": 3})],
        trucks={"A": [(1, {"veg": 100})], "B": [(5, {"veg": 100})]},
        window=(480.0, 600.0),
    )
    result = assign(problem, owner)
    assert dict(result.retailer_of) == {"c1": "A", "c2": "A"}
    assert result.over_capacity == ("c1",)


def test_scarce_goods_draw_compounds_to_the_retailer_that_has_them():
    """c1 wants dairy and lies a little nearer A, which carries none; B carries it: c1 goes to B."""
    problem, owner = district(
        {"A": (0, 0), "B": (100, 0)},
        [((45, 0), {"demand": {"dairy": 30}})],
        trucks={"A": [(5, {"veg": 100})], "B": [(5, {"dairy": 50})]},
    )
    assert assign(problem, owner).retailer_of["c1"] == "B"


@pytest.mark.parametrize(("yesterday", "expected"), [("B", "B"), ("A", "A"), (None, "A")])
def test_yesterdays_retailer_kept_unless_a_change_brings_enough(yesterday, expected):
    """c1 at x = 48 is 4 minutes nearer A than B; a change has to gain 15 minutes."""
    problem, owner = district(
        {"A": (0, 0), "B": (100, 0)}, [((48, 0), {})],
        trucks={"A": [(5, {"veg": 100})], "B": [(5, {"veg": 100})]},
    )
    previous = {"c1": yesterday} if yesterday else {}
    assert assign(problem, owner, previous=previous).retailer_of["c1"] == expected


def test_a_pin_is_kept_even_when_it_costs():
    problem, owner = district(
        {"A": (0, 0), "B": (100, 0)}, [((10, 0), {}), ((90, 0), {})],
        trucks={"A": [(5, {"veg": 100})], "B": [(5, {"veg": 100})]},
    )
    result = assign(problem, owner, pins={"c1": "B"})
    assert dict(result.retailer_of) == {"c1": "B", "c2": "B"}


def test_a_pin_to_a_retailer_without_trucks_is_kept_and_counts_as_not_served():
    problem, owner = district({"A": (0, 0)}, [((10, 0), {}), ((20, 0), {})], trucks={"A": [(5, {"veg": 100})]})
    result = assign(problem, owner, pins={"c2": "Z"})
    assert dict(result.retailer_of) == {"c1": "A", "c2": "Z"}
    assert result.over_capacity == ("c2",)


def test_pins_of_unknown_compounds_are_refused():
    problem, owner = district({"A": (0, 0)}, [((10, 0), {})], trucks={"A": [(5, {})]})
    with pytest.raises(AssignmentError, match="c9"):
        assign(problem, owner, pins={"c9": "A"})


# ---------------------------------------------------------------------------------------------
# Properties


@st.composite
def districts(draw):
    """2-3 retailers with 1-2 trucks each and up to 7 compounds on a 100 x 100 plane; all-day
    windows and shifts, so stops are what limits a retailer. Returns the problem, the owners,
    pins and a hidden assignment consistent with the pins."""
    names = ["A", "B", "C"][: draw(st.integers(2, 3))]
    point = st.tuples(st.integers(0, 100), st.integers(0, 100))
    depots = {name: draw(point) for name in names}
    n = draw(st.integers(1, 7))
    compounds = [(draw(point), {"priority": draw(st.integers(1, 3)),
                                "demand": {"veg": draw(st.integers(1, 20))}}) for _ in range(n)]
    trucks = {name: [(draw(st.integers(0, 4)), {"veg": draw(st.integers(0, 60))})
                     for _ in range(draw(st.integers(1, 2)))] for name in names}
    problem, owner = district(depots, compounds, trucks=trucks)
    pinned = draw(st.lists(st.integers(0, n - 1), unique=True, max_size=n))
    pins = {f"c{i + 1}": draw(st.sampled_from(names)) for i in pinned}
    return problem, owner, pins


def _stop_capacity(problem, owner):
    capacity = {}
    for truck in problem.trucks:
        capacity[owner[truck.id]] = capacity.get(owner[truck.id], 0) + truck.max_stops
    return capacity


def _most_servable(problem, owner, pins):
    """By brute force: the most compounds any assignment keeping the pins can serve by stops."""
    names = sorted(set(owner.values()))
    capacity = _stop_capacity(problem, owner)
    best = 0
    for choice in itertools.product(names, repeat=len(problem.compounds)):
        if any(pins.get(c.id, r) != r for c, r in zip(problem.compounds, choice)):
            continue
        best = max(best, sum(min(choice.count(r), capacity[r]) for r in names))
    return best


def _all_in_one_place(stops, stock, demand):
    """Two retailers of one truck each and compounds all at one spot: no minute to choose by."""
    trucks = tuple(Truck(id=f"{name}1", depot=d, shift_start=DAY[0], shift_end=DAY[1], max_stops=stops[d],
                         stock={"veg": stock[d]}) for d, name in enumerate("AB"))
    compounds = tuple(Compound(id=f"c{i + 1}", location=2 + i, ready=DAY[0], due=DAY[1] - 10, service=10.0,
                               priority=1, demand={"veg": q}) for i, q in enumerate(demand))
    size = 2 + len(demand)
    return Problem(trucks=trucks, compounds=compounds, travel=np.zeros((size, size))), {"A1": "A", "B1": "B"}, {}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(districts())
# found by hypothesis: HiGHS answered the last level (depot minutes, all zero) with a solve error
@example(_all_in_one_place((2, 4), (13, 56), (11, 1, 15, 20, 20, 2)))
# found by hypothesis: the served shares 0.5 + 0.5 + 1 came back as 1.999997, counted as 1 compound
@example(_all_in_one_place((2, 1), (5, 2), (1, 10, 15, 4, 1, 2)))
def test_every_compound_once_pins_kept_and_capacity_held_where_possible(case):
    problem, owner, pins = case
    result = assign(problem, owner, pins=pins, time_limit=10)
    assert sorted(result.retailer_of) == sorted(problem.compound_ids)
    assert set(result.retailer_of.values()) <= set(owner.values())
    assert all(result.retailer_of[c] == r for c, r in pins.items())
    assert sum(load.compounds for load in result.loads) == len(problem.compounds)
    most = _most_servable(problem, owner, pins)
    assert sum(load.servable for load in result.loads) == most
    capacity = _stop_capacity(problem, owner)
    if most == len(problem.compounds):  # a feasible assignment exists: nobody above capacity
        assert result.over_capacity == ()
        for load in result.loads:
            assert load.compounds <= capacity[load.retailer]
            assert load.minutes <= load.shift_minutes
