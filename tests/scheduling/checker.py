"""An independent feasibility checker for the engine's results.

Written from the rules in problem.py, not from engine code, so the tests do not grade the engine
with its own homework. ``assert_feasible`` raises AssertionError listing every violation.
"""
from __future__ import annotations

TOL = 1e-6


def violations(problem, result) -> list[str]:
    found: list[str] = []
    compounds = {c.id: c for c in problem.compounds}
    trucks = {t.id: t for t in problem.trucks}
    times_seen: dict[str, int] = {cid: 0 for cid in compounds}
    routed_trucks = [r.truck_id for r in result.routes]
    if len(routed_trucks) != len(set(routed_trucks)):
        found.append("a truck drives two routes")
    total_travel = 0.0
    for route in result.routes:
        truck = trucks[route.truck_id]
        d = problem.travel
        if route.depart + TOL < truck.shift_start:
            found.append(f"{truck.id} departs before its shift")
        if len(route.visits) > truck.max_stops:
            found.append(f"{truck.id} exceeds max_stops")
        if truck.locked_route is not None and [v.compound_id for v in route.visits] != list(truck.locked_route):
            found.append(f"{truck.id} ignores its locked route")
        position, clock, travel = truck.depot, route.depart, 0.0
        given: dict[str, int] = {}
        asked_on_route: dict[str, int] = {}
        for visit in route.visits:
            c = compounds[visit.compound_id]
            times_seen[c.id] += 1
            if c.allowed_trucks is not None and truck.id not in c.allowed_trucks:
                found.append(f"{c.id} served by forbidden truck {truck.id}")
            travel += d[position][c.location]
            expected_arrival = clock + d[position][c.location]
            if abs(visit.arrival - expected_arrival) > TOL:
                found.append(f"{c.id}: arrival {visit.arrival} but truck gets there at {expected_arrival}")
            expected_start = max(expected_arrival, c.ready)
            if abs(visit.start - expected_start) > TOL:
                found.append(f"{c.id}: start {visit.start} should be {expected_start}")
            if not (c.ready - TOL <= expected_start <= c.due + TOL):
                found.append(f"{c.id}: service starts at {expected_start} outside [{c.ready}, {c.due}]")
            if abs(visit.departure - (expected_start + c.service)) > TOL:
                found.append(f"{c.id}: departure is not start + service")
            clock = expected_start + c.service
            position = c.location
            for category, units in visit.deliveries.items():
                if type(units) is not int:
                    found.append(f"{c.id}: {category} delivery {units!r} is not an integer")
                if units < 0 or units > c.demand.get(category, 0):
                    found.append(f"{c.id}: {category} delivery {units} outside 0..demand")
                given[category] = given.get(category, 0) + units
                if c.demand.get(category, 0) > 0:
                    expected_fill = units / c.demand[category]
                    if abs(visit.fill.get(category, -1.0) - expected_fill) > 1e-9:
                        found.append(f"{c.id}: fill of {category} is not delivered/demanded")
            for category, units in c.demand.items():
                asked_on_route[category] = asked_on_route.get(category, 0) + units
        back = clock + d[position][truck.depot]
        travel += d[position][truck.depot]
        if abs(route.back - back) > TOL:
            found.append(f"{truck.id}: back {route.back} should be {back}")
        if back > truck.shift_end + TOL:
            found.append(f"{truck.id}: returns at {back}, after shift end {truck.shift_end}")
        if abs(route.travel_minutes - travel) > 1e-6:
            found.append(f"{truck.id}: travel {route.travel_minutes} should be {travel}")
        total_travel += travel
        for category, units in given.items():
            if units > truck.stock.get(category, 0):
                found.append(f"{truck.id}: delivers {units} {category} but carries {truck.stock.get(category, 0)}")
        if problem.load_limits_routes:
            for category, units in asked_on_route.items():
                if units > truck.stock.get(category, 0):
                    found.append(f"{truck.id}: route load {units} {category} over capacity")
    for entry in result.unserved:
        times_seen[entry.compound_id] += 1
    for cid, count in times_seen.items():
        if count != 1:
            found.append(f"{cid} appears {count} times (routes + unserved)")
    if abs(result.travel_minutes - total_travel) > 1e-6:
        found.append(f"total travel {result.travel_minutes} should be {total_travel}")
    return found


def assert_feasible(problem, result) -> None:
    found = violations(problem, result)
    assert not found, "infeasible result:\n" + "\n".join(found)
