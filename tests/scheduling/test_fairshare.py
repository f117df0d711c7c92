"""The fair-share LP against answers worked out by hand, and the rounding to whole units."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduling import solve
from scheduling.fairshare import Block, share, to_units

from .checker import assert_feasible
from .factory import day


def test_equally_short_stops_all_get_stock_over_total_demand():
    # max z s.t. q_i >= z d_i, sum q <= 30: z = 30 / (10 + 20 + 30) = 0.5 for everyone
    [q] = share([Block(stock=30, demand=[10, 20, 30], weight=[1, 1, 1])])
    assert q == pytest.approx([5.0, 10.0, 15.0])


def test_priority_scales_the_share():
    # q3 >= 3 z 10, q1 >= z 10, q3 + q1 <= 8: z = 8 / 40 = 0.2, so q3 = 6 and q1 = 2
    [q] = share([Block(stock=8, demand=[10, 10], weight=[3, 1])])
    assert q == pytest.approx([6.0, 2.0])


def test_the_floor_holds_however_others_rank():
    # q_low >= 0.36 * 10 first; the priority-3 stop gets the other 4.4 (3z*10 = 4.4 with z < 0.36)
    [q] = share([Block(stock=8, demand=[10, 10], weight=[3, 1], floor=0.36)])
    assert q == pytest.approx([4.4, 3.6])


def test_a_saturated_priority_stop_frees_the_rest_for_others():
    # z = 20 / 60 = 1/3 fills the priority-3 stop completely (3z = 1); it is frozen at 10 and
    # the other stop gets the remaining 10, a fill of 1/3.
    [q] = share([Block(stock=20, demand=[10, 30], weight=[3, 1])])
    assert q == pytest.approx([10.0, 10.0])


def test_blocks_with_enough_stock_are_served_in_full():
    shares = share([Block(stock=100, demand=[10, 20], weight=[1, 2]), Block(stock=3, demand=[3, 3], weight=[1, 1])])
    assert shares[0] == [10.0, 20.0]
    assert shares[1] == pytest.approx([1.5, 1.5])


@given(
    st.lists(st.floats(min_value=0, max_value=50, allow_nan=False), min_size=1, max_size=8),
    st.integers(min_value=0, max_value=200),
)
@settings(max_examples=60, deadline=None)
def test_units_never_exceed_stock_or_demand(raw, stock):
    demand = [int(x) + 1 for x in raw]
    quantities = [min(x, d) for x, d in zip(raw, demand)]
    scale = min(1.0, stock / sum(quantities)) if sum(quantities) else 1.0
    quantities = [x * scale for x in quantities]
    units = to_units(quantities, demand, stock)
    assert all(isinstance(u, int) and 0 <= u <= d for u, d in zip(units, demand))
    assert sum(units) <= stock
    assert sum(units) == min(stock, int(sum(quantities) + 1e-7))


def test_solve_reports_equal_fills_when_a_truck_is_short():
    problem = day([(5.0, 0.0), (0.0, 5.0), (-5.0, 0.0)], stock={"veg": 15}, demand={"veg": 10})
    result = solve(problem, time_limit=1.0)
    assert_feasible(problem, result)
    visits = result.routes[0].visits
    assert [v.deliveries["veg"] for v in visits] == [5, 5, 5]
    assert [v.fill["veg"] for v in visits] == [0.5, 0.5, 0.5]
