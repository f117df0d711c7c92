"""Scarce goods shared across trucks: what a compound gets should not depend on which truck
draws it. The figures (``scheduling.fairness``), the search's moves that match routes to loads,
and whole days solved."""
from __future__ import annotations

import pytest

from scheduling import Compound, Problem, Truck, solve
from scheduling.engine import FAIR_FLOOR
from scheduling.fairness import StopShare, category_fairness, day_fairness, gini
from scheduling.instance import prepare
from scheduling.search import Search

from .checker import assert_feasible
from .factory import plane_travel

WEST = [(-10.0, 0.0), (-10.0, 2.0), (-12.0, 0.0), (-12.0, 2.0)]
EAST = [(10.0, 0.0), (10.0, 2.0), (12.0, 0.0), (12.0, 2.0)]


def two_towns(depot_a=(0.0, 0.0), depot_b=(0.0, 0.0), west=WEST, east=EAST) -> Problem:
    """Four compounds in the west asking 150 dairy each, four in the east asking 50; truck a
    carries 100, truck b 150, four stops each. Either way round both trucks hand out all they
    carry (250 of 800 asked, a share of 0.3125): only fairness tells the two apart. With a in
    the east (100 of 200) and b in the west (150 of 600) the worst fill is 0.25; the other way
    0.167."""
    points = [depot_a, depot_b, *west, *east]
    trucks = (
        Truck("a", depot=0, shift_start=480, shift_end=1080, max_stops=4, stock={"dairy": 100}),
        Truck("b", depot=1, shift_start=480, shift_end=1080, max_stops=4, stock={"dairy": 150}),
    )
    compounds = tuple(
        Compound(f"{'w' if i < 4 else 'e'}{i % 4 + 1}", location=i + 2, ready=480, due=1080, service=10,
                 demand={"dairy": 150 if i < 4 else 50})
        for i in range(8)
    )
    return Problem(trucks=trucks, compounds=compounds, travel=plane_travel(points))


def test_gini_is_zero_for_equal_shares_and_grows_with_inequality():
    assert gini([0.5, 0.5, 0.5]) == 0.0
    assert gini([0.0, 0.0, 1.0]) == pytest.approx(2 / 3)
    assert gini([]) == 0.0


def test_category_figures_from_two_trucks():
    figures = category_fairness("dairy", [
        (10, [StopShare(asked=20, delivered=10, priority=1)]),
        (30, [StopShare(asked=10, delivered=10, priority=3), StopShare(asked=10, delivered=10, priority=1)]),
    ])
    assert (figures.stock, figures.asked, figures.delivered) == (40, 40, 30)
    assert figures.share == 1.0 and not figures.scarce
    assert figures.min_fill == 0.5
    assert figures.brought_back == 10  # truck two carried 30 for 20 asked
    assert figures.weighted_fill == pytest.approx((0.5 + 3 + 1) / 5)


def test_a_route_moves_to_the_truck_that_carries_what_it_asks_for():
    """Same depot, the routes given the wrong way round: exchanging them loses no travel and
    lifts the worst-off truck to its fair share."""
    problem = two_towns()
    search = Search(prepare(problem).instance, seed=0)
    west, east = [0, 1, 2, 3], [4, 5, 6, 7]
    st = search.state_from_routes([west, east])  # a (10 dairy) in the west, b in the east
    search.count_goods(st, st)
    travel = st.travel
    assert search.exchange_routes(st)
    assert st.routes == [east, west]
    assert st.travel == pytest.approx(travel)
    assert not search.exchange_routes(st)  # and no further


def test_a_full_truck_trades_a_compound_with_its_neighbour():
    """Both trucks at their stop limit on one street: only an exchange of two compounds can
    move dairy demand from the truck short of it to the one with some to spare."""
    problem = two_towns(west=[(x, 0.0) for x in (1.0, 2.0, 3.0, 4.0)], east=[(x, 1.0) for x in (1.0, 2.0, 3.0, 4.0)])
    search = Search(prepare(problem).instance, seed=0)
    st = search.state_from_routes([[0, 1, 2, 3], [4, 5, 6, 7]])
    search.count_goods(st, st)
    short_before = search.fair_ratio[0] * st.goods[0, 0] - 100
    assert search.swap(st, neighbours=8)
    assert search.fair_ratio[0] * st.goods[0, 0] - 100 < short_before


def test_the_truck_carrying_less_serves_the_compounds_asking_less():
    """Truck a's depot is nearer the west town, b's the east: by travel alone a would serve the
    west and hand its 100 units to 600 asked (worst fill 0.167). Matched to the loads, a crosses
    to the east and the worst fill is b's share of the west, 0.25."""
    problem = two_towns(depot_a=(-2.0, 0.0), depot_b=(2.0, 0.0))
    result = solve(problem, time_limit=2.0, seed=0)
    assert_feasible(problem, result)
    assert len(result.served_ids) == 8
    wants = {c.id: c.demand["dairy"] for c in problem.compounds}
    asked = {r.truck_id: sum(wants[v.compound_id] for v in r.visits) for r in result.routes}
    assert asked["a"] < asked["b"]
    [dairy] = day_fairness(problem, result)
    assert dairy.share == pytest.approx(250 / 800)
    assert dairy.min_fill >= 0.24
    assert dairy.brought_back == 0


def test_priority_cannot_push_anyone_below_the_floor():
    """One truck, 8 units for two compounds asking 10 each, priorities 3 and 1: priority alone
    would give 6 and 2; the floor keeps the second at FAIR_FLOOR of the share (0.4)."""
    points = [(0.0, 0.0), (1.0, 0.0), (2.0, 0.0)]
    problem = Problem(
        trucks=(Truck("t", depot=0, shift_start=480, shift_end=1080, max_stops=5, stock={"dairy": 8}),),
        compounds=(Compound("high", 1, 480, 1080, 10, priority=3, demand={"dairy": 10}),
                   Compound("low", 2, 480, 1080, 10, priority=1, demand={"dairy": 10})),
        travel=plane_travel(points),
    )
    result = solve(problem, time_limit=1.0, seed=0)
    fills = {v.compound_id: v.fill["dairy"] for r in result.routes for v in r.visits}
    assert fills["low"] >= 0.9 * 0.4
    assert fills["high"] >= fills["low"]
    assert FAIR_FLOOR * 0.4 <= fills["low"] < 0.4 + 1e-9
