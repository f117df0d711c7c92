"""The search's moves on their own: relocation reaches a local optimum and keeps routes feasible."""
from __future__ import annotations

import pytest

from scheduling.instance import prepare
from scheduling.search import Search

from .factory import day


def test_relocate_moves_a_customer_to_its_cheapest_gap_and_keeps_the_route_feasible():
    """Customers on a line east of the depot, driven out of order: moving single customers
    leaves no detour: out to the far end and back is 2 x 30 minutes."""
    problem = day([(10.0, 0.0), (20.0, 0.0), (30.0, 0.0)], trucks=2)
    search = Search(prepare(problem).instance, seed=0)
    state = search.state_from_routes([[2, 0, 1], []])  # 30 -> 10 -> 20 -> back: 80 minutes
    assert state.travel == pytest.approx(80.0)
    assert search.relocate(state)
    assert state.travel == pytest.approx(60.0)
    assert sorted(len(r) for r in state.routes) == [0, 3]
    assert not state.unassigned
    assert not search.relocate(state)  # a local optimum: nothing more to move


def test_relocate_never_breaks_a_window():
    """c3 must be served first (its window closes early): relocation may not move it later,
    and still straightens the rest (30 out, back past c2 and c1)."""
    problem = day([(10.0, 0.0), (20.0, 0.0), (30.0, 0.0)], c3={"ready": 480.0, "due": 510.0})
    search = Search(prepare(problem).instance, seed=0)
    state = search.state_from_routes([[2, 0, 1]])
    search.relocate(state)
    assert state.routes[0][0] == 2
    assert state.travel == pytest.approx(60.0)
    assert all(search.update(state, k) for k in range(search.m))


def test_exchange_tails_uncrosses_two_routes_within_their_stop_limits():
    """Two trucks of two stops each, two compounds east and two north, each route out to one
    side and back from the other: swapping the routes' ends sends one truck east and one north
    (2 x 40 minutes; one truck for all four would drive 72 but may not stop four times)."""
    problem = day([(10.0, 0.0), (20.0, 0.0), (0.0, 10.0), (0.0, 20.0)], trucks=2, max_stops=2)
    search = Search(prepare(problem).instance, seed=0)
    state = search.state_from_routes([[0, 3], [2, 1]])
    assert state.travel == pytest.approx(2 * (10.0 + 500 ** 0.5 + 20.0))
    assert search.exchange_tails(state)
    assert state.travel == pytest.approx(80.0)
    assert sorted(sorted(r) for r in state.routes) == [[0, 1], [2, 3]]
    assert not search.exchange_tails(state)  # a local optimum for this move


def test_exchange_tails_never_breaks_a_window():
    """c2 (20 minutes east) must be served by 505: after c1 it would be reached at 510, so the
    truck that serves it keeps it first, whatever else the move changes."""
    problem = day([(10.0, 0.0), (20.0, 0.0), (0.0, 10.0), (0.0, 20.0)], trucks=2, max_stops=2,
                  c2={"ready": 480.0, "due": 505.0})
    search = Search(prepare(problem).instance, seed=0)
    state = search.state_from_routes([[0, 3], [1, 2]])
    before = state.travel
    assert search.exchange_tails(state)
    assert state.travel < before
    assert all(search.update(state, k) for k in range(search.m))
    assert any(route[:1] == [1] for route in state.routes)


def test_construct_keeps_the_cheapest_of_its_tries():
    """The first try draws the same order as a single construction, so more tries never start worse."""
    problem = day([(float(x), float(y)) for x in range(0, 50, 7) for y in range(0, 50, 9)], trucks=3, max_stops=12)
    one = Search(prepare(problem).instance, seed=3)
    many = Search(prepare(problem).instance, seed=3)
    assert many.cost(many.construct(tries=16)) <= one.cost(one.construct(tries=1))


def test_fits_in_place_agrees_with_timing_the_whole_route():
    """The O(1) check of putting a customer in another's place, against recomputing the route,
    for every customer and every place on a day with tight windows."""
    points = [(float(x), float(y)) for x in range(0, 60, 12) for y in range(0, 60, 15)]
    windows = {f"c{i + 1}": {"ready": 480.0 + 25 * (i % 5), "due": 560.0 + 25 * (i % 5)} for i in range(len(points))}
    problem = day(points, trucks=4, max_stops=6, shift=(480.0, 700.0), **windows)
    search = Search(prepare(problem).instance, seed=1)
    state = search.construct()
    checked = agreed = fits = 0
    for k, route in enumerate(state.routes):
        for i in range(len(route)):
            for v in range(search.n):
                if v in route:
                    continue
                trial = state.copy()
                trial.routes[k][i] = v
                checked += 1
                fits += search._fits_in_place(state, k, i, v)
                agreed += search._fits_in_place(state, k, i, v) == search.update(trial, k)
    assert agreed == checked and 0 < fits < checked  # both answers were put to the test


def test_relocate_strings_moves_a_pair_that_single_moves_cannot():
    """c2 and c3 stand side by side 30 minutes north, on the route that also serves c1 east; the
    other truck serves c4, 20 minutes north. Taking both to it saves 31.6 minutes; either alone
    would add travel, so relocation alone stays far above (three stops per truck)."""
    problem = day([(10.0, 0.0), (0.0, 30.0), (0.0, 31.0), (0.0, 20.0)], trucks=2, max_stops=3)
    search = Search(prepare(problem).instance, seed=0)
    state = search.state_from_routes([[0, 1, 2], [3]])
    alone = state.copy()
    search.relocate(alone)
    assert alone.travel > 82.0 + 5.0
    assert search.relocate_strings(state)
    assert sorted(sorted(r) for r in state.routes) == [[0], [1, 2, 3]]
    assert state.travel == pytest.approx(20.0 + 62.0)
    assert all(search.update(state, k) for k in range(search.m))


def test_relocate_strings_keeps_windows():
    """The same, but c2 must be served by 515: behind c4 it would be reached at 520, so the pair
    stays where it is."""
    problem = day([(10.0, 0.0), (0.0, 30.0), (0.0, 31.0), (0.0, 20.0)], trucks=2, max_stops=3,
                  c2={"ready": 480.0, "due": 515.0})
    search = Search(prepare(problem).instance, seed=0)
    state = search.state_from_routes([[1, 2, 0], [3]])
    routes = [r[:] for r in state.routes]
    search.relocate_strings(state)
    assert all(search.update(state, k) for k in range(search.m))
    assert any(route[:1] == [1] for route in state.routes) or state.routes == routes
