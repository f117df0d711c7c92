"""The district bench's scarce-goods check on a hand-made day of two retailers: goods brought back
count as "while short" only for a category some served compound, of any retailer, went short of."""
from __future__ import annotations

import numpy as np

from bench.district import SCARCE, Plan
from bench.days import CATEGORIES
from scheduling import Compound, Problem, Result, Route, Truck, Visit

SHORT, FULL = SCARCE[0], SCARCE[1]
PLENTY = next(key for key in CATEGORIES if key not in SCARCE)


def truck(truck_id: str, stock: dict[str, int]) -> Truck:
    return Truck(id=truck_id, depot=0, shift_start=480.0, shift_end=1080.0, max_stops=30, stock=stock)


def compound(compound_id: str, demand: dict[str, int]) -> Compound:
    return Compound(id=compound_id, location=1, ready=480.0, due=1080.0, service=10.0, demand=demand)


def answer(routes: dict[str, list[tuple[Compound, dict[str, int]]]]) -> Result:
    """A Result with each truck's stops and what it hands out at each (times play no part here)."""
    return Result(
        routes=tuple(
            Route(truck_id, 480.0, 600.0, tuple(
                Visit(c.id, 500.0, 500.0, 510.0, handed, {k: handed.get(k, 0) / q for k, q in c.demand.items()})
                for c, handed in stops), 20.0)
            for truck_id, stops in routes.items()),
        unserved=(), travel_minutes=0.0, seconds=0.0, iterations=0, seed=0)


def district(c2_asks: int) -> Plan:
    """Retailer A: t1 serves c1 in full, t3 stays at its depot, c3 (asking only FULL) goes
    unserved; retailer B: t2 hands all its 4 SHORT to c2, which asked ``c2_asks``, and c4 gets
    less PLENTY than it asked."""
    travel = np.zeros((2, 2))
    c1 = compound("c1", {SHORT: 8, FULL: 5, PLENTY: 10})
    c2 = compound("c2", {SHORT: c2_asks, FULL: 2})
    c3 = compound("c3", {FULL: 10})
    c4 = compound("c4", {PLENTY: 100})
    a = Problem(trucks=(truck("t1", {SHORT: 10, FULL: 5, PLENTY: 50}), truck("t3", {SHORT: 3, FULL: 1})),
                compounds=(c1, c3), travel=travel)
    b = Problem(trucks=(truck("t2", {SHORT: 4, FULL: 6, PLENTY: 30}),), compounds=(c2, c4), travel=travel)
    part_a = answer({"t1": [(c1, {SHORT: 8, FULL: 5, PLENTY: 10})]})
    part_b = answer({"t2": [(c2, {SHORT: 4, FULL: 2}), (c4, {PLENTY: 30})]})
    return Plan("by hand", [(a, part_a, 0), (b, part_b, 0)], 0.0)


def test_goods_brought_back_while_another_retailers_compound_goes_short_count_with_their_trucks():
    plan = district(c2_asks=6)
    assert plan.scarce_short() == {SHORT}
    # SHORT left: t1 10 - 8, t3 its whole 3, t2 none; FULL (4 back on t2, 1 on t3) and PLENTY do not count
    assert plan.back_while_short() == (2 + 3, 2)
    assert plan.scarce_fill()[2] == (2 + 3 + 0) + (0 + 1 + 4)
    assert plan.could_have_been_handed_out() == 2  # c2 lacked 2 SHORT while 5 came back


def test_could_have_been_handed_out_is_bounded_by_what_came_back():
    plan = district(c2_asks=9)  # c2 lacks 5 SHORT, and 5 came back: all of it could have gone
    assert plan.could_have_been_handed_out() == 5
    plan = district(c2_asks=20)  # lacks 16, still only 5 came back
    assert plan.could_have_been_handed_out() == 5


def test_nothing_counts_when_every_served_compound_got_its_scarce_goods():
    plan = district(c2_asks=4)
    assert plan.scarce_short() == set()  # c3 gets no FULL, but it is not served
    assert plan.back_while_short() == (0, 0)
    assert plan.scarce_fill()[2] == 5 + 5
    assert plan.could_have_been_handed_out() == 0
