"""solve() on small days: reasons for unserved compounds, locks, pins, priorities, determinism."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from scheduling import Compound, InvalidResult, Problem, Truck, UnservedReason, solve

from .checker import assert_feasible
from .factory import day, plane_travel

SQUARE = [(10.0, 0.0), (10.0, 10.0), (0.0, 10.0), (-10.0, 0.0), (0.0, -10.0)]


def solved(problem, **options):
    options.setdefault("time_limit", 2.0)
    result = solve(problem, **options)
    assert_feasible(problem, result)
    return result


def reasons(result) -> dict[str, UnservedReason]:
    return {u.compound_id: u.reason for u in result.unserved}


def test_serves_every_compound_and_reports_progress():
    calls = []
    problem = day(SQUARE, trucks=2)
    result = solved(problem, progress=lambda fraction, message: calls.append((fraction, message)))
    assert sorted(result.served_ids) == sorted(c.id for c in problem.compounds)
    assert result.unserved == ()
    fractions = [f for f, _ in calls]
    assert fractions == sorted(fractions) and 0.0 <= fractions[0] and fractions[-1] == 1.0
    assert calls[-1][1] == f"served 5/5, travel {result.travel_minutes:.0f} min"


def test_a_ring_is_driven_as_a_ring():
    """Four corners of a square: one truck's shortest tour is the perimeter."""
    corners = [(10.0, 0.0), (10.0, 10.0), (0.0, 10.0)]
    result = solved(day(corners))
    assert result.travel_minutes == pytest.approx(40.0)


def test_unserved_reasons_are_settled_before_and_after_the_search():
    problem = day(
        [(5.0, 0.0), (6.0, 0.0), (7.0, 0.0), (8.0, 0.0), (9.0, 0.0)],
        trucks=1,
        max_stops=2,
        c1={"allowed_trucks": frozenset({"nobody"})},
        c2={"demand": {"eggs": 5}},
        c3={"ready": 300.0, "due": 400.0},  # closes before the shift starts
    )
    result = solved(problem)
    got = reasons(result)
    assert got["c1"] == UnservedReason.NOT_ALLOWED
    assert got["c2"] == UnservedReason.NO_STOCK
    assert got["c3"] == UnservedReason.UNREACHABLE
    assert set(result.served_ids) == {"c4", "c5"}


def test_stop_limit_leaves_the_rest_fleet_full_and_prefers_priority():
    problem = day(SQUARE, trucks=1, max_stops=2, c4={"priority": 3}, c5={"priority": 3})
    result = solved(problem)
    assert set(result.served_ids) == {"c4", "c5"}
    assert set(reasons(result).values()) == {UnservedReason.FLEET_FULL}


def test_window_waits_and_leaves_as_late_as_useful():
    problem = day([(30.0, 0.0)], window=(600.0, 700.0))
    visit = solved(problem).routes[0].visits[0]
    assert visit.arrival == pytest.approx(600.0)
    assert visit.start == pytest.approx(600.0)
    assert solved(problem).routes[0].depart == pytest.approx(570.0)


def test_allowed_trucks_pin_a_compound():
    problem = day(SQUARE, trucks=3, c2={"allowed_trucks": frozenset({"t3"})})
    result = solved(problem)
    [route] = [r for r in result.routes if "c2" in [v.compound_id for v in r.visits]]
    assert route.truck_id == "t3"


def test_locked_route_is_kept_in_order_and_others_fill_in():
    base = day(SQUARE, trucks=2)
    locked = dataclasses.replace(base.trucks[0], locked_route=("c3", "c1"))
    problem = dataclasses.replace(base, trucks=(locked, base.trucks[1]))
    result = solved(problem)
    routes = {r.truck_id: [v.compound_id for v in r.visits] for r in result.routes}
    assert routes["t1"] == ["c3", "c1"]
    assert sorted(routes["t2"]) == ["c2", "c4", "c5"]


def test_infeasible_locked_route_is_refused_naming_the_truck():
    base = day(SQUARE, trucks=2, c1={"ready": 480.0, "due": 490.0})
    locked = dataclasses.replace(base.trucks[1], locked_route=("c3", "c1"))
    problem = dataclasses.replace(base, trucks=(base.trucks[0], locked))
    with pytest.raises(ValueError, match="truck t2: locked route reaches c1"):
        solve(problem, time_limit=1.0)


def test_same_seed_same_answer():
    """The search ends on its iteration budget or lack of progress here, not on the clock."""
    rng = np.random.default_rng(7)
    points = [tuple(p) for p in rng.uniform(-30, 30, size=(10, 2))]
    problem = day(points, trucks=3, max_stops=4)
    first, second = solved(problem, seed=3, time_limit=20.0), solved(problem, seed=3, time_limit=20.0)
    assert first.seconds < 15.0 and second.seconds < 15.0
    assert [(r.truck_id, [v.compound_id for v in r.visits]) for r in first.routes] == [
        (r.truck_id, [v.compound_id for v in r.visits]) for r in second.routes
    ]
    assert first.travel_minutes == second.travel_minutes


def test_a_day_with_compounds_left_unserved_searches_until_its_time_is_nearly_up():
    """Fourteen compounds, one truck of six stops: the annealing budget runs out long before the
    clock (a tiny day), but while compounds wait the search goes on in further cycles; it
    still ends within the limit and its small stated overhead."""
    rng = np.random.default_rng(5)
    points = [tuple(p) for p in rng.uniform(-30, 30, size=(14, 2))]
    problem = day(points, trucks=1, max_stops=6)
    result = solved(problem, time_limit=4.0)
    assert len(result.served_ids) == 6
    assert result.seconds >= 0.6 * 4.0
    assert result.seconds <= 4.0 + 1.0


def test_stop_callback_ends_the_search_with_a_valid_answer():
    rng = np.random.default_rng(1)
    points = [tuple(p) for p in rng.uniform(-30, 30, size=(40, 2))]
    problem = day(points, trucks=4, max_stops=12)
    result = solved(problem, time_limit=30.0, stop=lambda: True)
    assert result.seconds < 30.0
    assert len(result.served_ids) + len(result.unserved) == 40


def test_cbc_fallback_solves_too():
    problem = day(SQUARE, trucks=1, stock={"veg": 20})  # short: shares need the LP
    result = solved(problem, lp_solver="cbc")
    assert sum(v.deliveries["veg"] for r in result.routes for v in r.visits) == 20


def test_unknown_lp_solver_is_refused():
    with pytest.raises(ValueError, match="unknown lp_solver"):
        solve(day(SQUARE), time_limit=1.0, lp_solver="gurobi")


def test_check_lists_every_violation():
    problem = day(SQUARE, trucks=1)
    result = solved(problem)
    route = result.routes[0]
    late = dataclasses.replace(route.visits[0], start=route.visits[0].start + 5.0)
    broken = dataclasses.replace(
        result,
        routes=(dataclasses.replace(route, visits=(late, *route.visits[1:])),),
        unserved=(),
    )
    broken = dataclasses.replace(broken, routes=(dataclasses.replace(broken.routes[0], visits=broken.routes[0].visits[:-1]),))
    with pytest.raises(InvalidResult) as error:
        broken.check(problem)
    text = str(error.value)
    assert "service start" in text and "neither visited nor unserved" in text
    assert len(error.value.violations) >= 2


def test_heterogeneous_trucks_use_their_own_depots():
    points = [(0.0, 0.0), (100.0, 0.0), (1.0, 0.0), (99.0, 0.0)]
    travel = np.array([[abs(a[0] - b[0]) for b in points] for a in points])
    trucks = (
        Truck("west", depot=0, shift_start=0, shift_end=50, max_stops=5, stock={"veg": 9}),
        Truck("east", depot=1, shift_start=0, shift_end=50, max_stops=5, stock={"veg": 9}),
    )
    compounds = (
        Compound("near_west", location=2, ready=0, due=50, service=1, demand={"veg": 3}),
        Compound("near_east", location=3, ready=0, due=50, service=1, demand={"veg": 3}),
    )
    problem = Problem(trucks=trucks, compounds=compounds, travel=travel)
    result = solved(problem)
    routes = {r.truck_id: [v.compound_id for v in r.visits] for r in result.routes}
    assert routes == {"west": ["near_west"], "east": ["near_east"]}
    assert result.travel_minutes == pytest.approx(4.0)


def test_each_truck_serves_the_compounds_that_need_what_it_carries():
    """Two towns, each with two compounds asking for dairy and two for eggs; one truck carries
    mostly dairy, the other mostly eggs. Split by town (the shortest drive), each truck would hand
    out only 30 of its 50 units; matched to the loads, all 80 units asked for reach a compound."""
    points = [(0.0, 0.0), (-20.0, 0.0), (-20.0, 3.0), (-23.0, 0.0), (-23.0, 3.0),
              (20.0, 0.0), (20.0, 3.0), (23.0, 0.0), (23.0, 3.0)]
    asks = ["dairy", "eggs", "dairy", "eggs", "dairy", "eggs", "dairy", "eggs"]
    trucks = (
        Truck("milk", depot=0, shift_start=480, shift_end=1080, max_stops=4, stock={"dairy": 40, "eggs": 10}),
        Truck("hens", depot=0, shift_start=480, shift_end=1080, max_stops=4, stock={"dairy": 10, "eggs": 40}),
    )
    compounds = tuple(
        Compound(f"c{i + 1}", location=i + 1, ready=480, due=1080, service=10, demand={category: 10})
        for i, category in enumerate(asks)
    )
    problem = Problem(trucks=trucks, compounds=compounds, travel=plane_travel(points))
    result = solved(problem)
    assert all(fill == 1.0 for r in result.routes for v in r.visits for fill in v.fill.values())
    towns = {r.truck_id: {points[c.location][0] < 0 for c in compounds if c.id in {v.compound_id for v in r.visits}}
             for r in result.routes}
    assert towns == {"milk": {True, False}, "hens": {True, False}}  # both trucks cross to the other town


def test_a_solomon_day_is_routed_by_travel_alone():
    """Where loads limit the routes (every customer's demand must fit), goods carry no value."""
    from scheduling.instance import prepare

    problem = day(SQUARE, stock={"veg": 20}, load_limits_routes=True)
    assert not prepare(problem).instance.goods_value.any()


def test_rebalance_exchanges_compounds_so_each_truck_s_load_meets_its_stops_and_serves_them_all():
    """Two trucks at one depot, four compounds on a line; truck a carries the meat, truck b none,
    and the start gives a the two compounds that want no meat: rebalancing must swap them."""
    from scheduling.engine import rebalance

    points = [(0.0, 0.0), (1.0, 0.0), (2.0, 0.0), (3.0, 0.0), (4.0, 0.0)]
    trucks = (
        Truck(id="a", depot=0, shift_start=480.0, shift_end=1080.0, max_stops=2, stock={"meat": 20, "veg": 40}),
        Truck(id="b", depot=0, shift_start=480.0, shift_end=1080.0, max_stops=2, stock={"meat": 0, "veg": 40}),
    )
    wants_meat = {"m1", "m2"}
    compounds = tuple(
        Compound(id=cid, location=i + 1, ready=480.0, due=1000.0, service=10.0,
                 demand={"veg": 10, **({"meat": 10} if cid in wants_meat else {})})
        for i, cid in enumerate(("v1", "m1", "v2", "m2"))
    )
    problem = Problem(trucks=trucks, compounds=compounds, travel=plane_travel(points))
    result = rebalance(problem, {"a": ["v1", "v2"], "b": ["m1", "m2"]}, time_limit=2.0)
    assert_feasible(problem, result)
    assert not result.unserved
    routes = {r.truck_id: {v.compound_id for v in r.visits} for r in result.routes}
    assert routes["a"] == wants_meat
    assert all(v.deliveries.get("meat", 0) == 10 for r in result.routes for v in r.visits if v.compound_id in wants_meat)
    with pytest.raises(ValueError, match="cannot route: x9"):
        rebalance(problem, {"a": ["x9"]}, time_limit=1.0)
