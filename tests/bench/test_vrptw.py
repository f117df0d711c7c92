"""The bench's own judge of every solver's routes: distance convention and feasibility check."""
from __future__ import annotations

import numpy as np
import pytest

from bench.vrptw import Vrptw, best_known, distance, load, tenths, violations


def tiny() -> Vrptw:
    """Depot and three customers on a line; lengths 1.25 (truncated to 1.2), 2 and 3.3."""
    xy = np.array([[0.0, 0.0], [1.25, 0.0], [3.25, 0.0], [0.0, 3.3]])
    return Vrptw(
        source=None,
        name="tiny",
        vehicles=2,
        capacity=10,
        demand=np.array([0, 4, 4, 4]),
        ready=np.array([0, 0, 0, 0]),
        due=np.array([1000, 50, 100, 500]),  # tenths
        service=np.array([0, 10, 10, 10]),
        arc=tenths(xy),
    )


def test_arc_lengths_are_truncated_to_tenths():
    assert tenths(np.array([[0.0, 0.0], [0.0, 0.3], [1.0, 1.0]])).tolist() == [[0, 3, 14], [3, 0, 12], [14, 12, 0]]


def test_distance_sums_each_route_from_and_back_to_the_depot():
    assert distance(tiny(), [[1, 2], [3]]) == pytest.approx(1.2 + 2.0 + 3.2 + 3.3 + 3.3)


def test_a_feasible_answer_has_no_violations():
    assert violations(tiny(), [[1, 2], [3]]) == []


@pytest.mark.parametrize(
    ("routes", "complaint"),
    [
        ([[1, 2]], "1 customers not served"),
        ([[1, 2], [3, 1]], "served twice"),
        ([[1, 2, 3]], "load 12 over capacity 10"),
        ([[2, 1], [3]], "customer 1 served at 6.2 after its due date"),
        ([[1], [2], [3]], "3 routes for 2 vehicles"),
        ([[1, 2], [3, 0]], "not a customer"),
        ([], "no solution found"),
    ],
)
def test_each_kind_of_mistake_is_named(routes, complaint):
    assert any(complaint in v for v in violations(tiny(), routes)), violations(tiny(), routes)


def test_a_late_return_to_the_depot_is_caught():
    late = tiny()
    late = Vrptw(**{**late.__dict__, "due": np.array([80, 50, 100, 500])})
    assert any("back at the depot" in v for v in violations(late, [[1, 2], [3]]))


def test_every_shipped_instance_loads_with_its_best_known_entry():
    bks = best_known()
    for name in ("c101", "r201"):
        instance = load(name)
        assert instance.customers == 100 and name in bks
        assert distance(instance, [[c] for c in range(1, 101)]) > bks[name][1]
