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
