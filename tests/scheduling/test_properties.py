"""Random small days (hypothesis): every result passes the independent checker."""
from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduling import Compound, Problem, Truck, UnservedReason, solve

from .checker import assert_feasible

CATEGORIES = ("veg", "eggs", "dairy")


@st.composite
def days(draw, load_limits_routes: bool):
    n = draw(st.integers(1, 9))
    m = draw(st.integers(1, 3))
    points = np.array(draw(st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), min_size=n + m, max_size=n + m)))
    travel = np.sqrt(((points[:, None, :] - points[None, :, :]) ** 2).sum(axis=2))
    truck_ids = [f"t{k}" for k in range(m)]
    trucks = []
    for k in range(m):
        start = draw(st.integers(400, 500))
        trucks.append(
            Truck(
                id=truck_ids[k],
                depot=n + k,
                shift_start=start,
                shift_end=start + draw(st.integers(30, 400)),
                max_stops=draw(st.integers(0, 5)),
                stock={c: draw(st.integers(0, 40)) for c in CATEGORIES if draw(st.booleans())},
            )
        )
    compounds = []
    for i in range(n):
        ready = draw(st.integers(380, 700))
        allowed = draw(st.none() | st.frozensets(st.sampled_from(truck_ids)))
        compounds.append(
            Compound(
                id=f"c{i}",
                location=i,
                ready=ready,
                due=ready + draw(st.integers(0, 200)),
                service=draw(st.integers(0, 20)),
                priority=draw(st.integers(1, 3)),
                demand={c: draw(st.integers(0, 15)) for c in CATEGORIES if draw(st.booleans())},
                allowed_trucks=allowed,
            )
        )
    return Problem(trucks=tuple(trucks), compounds=tuple(compounds), travel=travel, load_limits_routes=load_limits_routes)


@given(days(load_limits_routes=False), st.integers(0, 3))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_lockdown_days_are_feasible(problem, seed):
    result = solve(problem, time_limit=1.0, seed=seed)
    assert_feasible(problem, result)
    for entry in result.unserved:
        compound = next(c for c in problem.compounds if c.id == entry.compound_id)
        if entry.reason == UnservedReason.NOT_ALLOWED:
            assert compound.allowed_trucks is not None
            assert not compound.allowed_trucks & {t.id for t in problem.trucks}


@given(days(load_limits_routes=True))
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_capacitated_days_are_feasible(problem):
    result = solve(problem, time_limit=1.0)
    assert_feasible(problem, result)
    for route in result.routes:
        for visit in route.visits:
            compound = next(c for c in problem.compounds if c.id == visit.compound_id)
            assert visit.deliveries == {c: q for c, q in compound.demand.items() if q > 0}
