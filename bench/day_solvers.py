"""Solvers for a generated day, judged alike: our engine, our engine on travel alone, PyVRP.

Every solver returns plans (truck id, compound ids in order). ``judge`` computes served compounds,
travel minutes and feasibility from the plans and the Problem alone, never from a solver's own
figures, so each solver is measured by the same rules (windows for the start of service, shifts,
stop limits, each compound at most once).

PyVRP knows nothing of goods: it serves as many compounds as it can (a prize per priority unit
far above any travel) and then drives as little as it can. Our engine also weighs the goods each
truck hands out (bench/README.md); "ours, travel only" solves the same day with every truck
carrying all it could hand out, so no category is short and goods cannot change the answer.
The difference between the two is what handing out the goods costs in travel.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from scheduling import Problem, solve_day
from scheduling.decompose import PIECE_SIZE, solve_large

#: PyVRP works in integers: minutes are counted in these units (tenths)
PER_MINUTE = 10
TOLERANCE = 1e-6

Plans = list[tuple[str, list[str]]]


@dataclass(frozen=True)
class Judged:
    served: int
    travel_minutes: float
    handed_out: int  # units of goods handed out (ours only: PyVRP does not decide them)
    wrong: tuple[str, ...]  # the rules broken, empty when feasible


def ours(problem: Problem, time_limit: float, seed: int, *, split: str = "auto",
         piece_size: int = PIECE_SIZE) -> tuple[Plans, int]:
    """``scheduling.solve_day`` as the app calls it, or with ``split="always"``
    ``scheduling.decompose.solve_large`` in pieces of ``piece_size``."""
    if split == "always":
        result = solve_large(problem, time_limit=time_limit, seed=seed, piece_size=piece_size)
    else:
        result = solve_day(problem, time_limit=time_limit, seed=seed)
    plans = [(r.truck_id, [v.compound_id for v in r.visits]) for r in result.routes]
    handed_out = sum(q for r in result.routes for v in r.visits for q in v.deliveries.values())
    return plans, handed_out


def travel_only(problem: Problem) -> Problem:
    """The same day with every truck carrying the whole demand: nothing is short."""
    demand: dict[str, int] = {}
    for compound in problem.compounds:
        for category, quantity in compound.demand.items():
            demand[category] = demand.get(category, 0) + quantity
    trucks = tuple(replace(t, stock={c: max(q, t.stock.get(c, 0)) for c, q in demand.items()}) for t in problem.trucks)
    return replace(problem, trucks=trucks)


def ours_travel_only(problem: Problem, time_limit: float, seed: int, **options) -> tuple[Plans, int]:
    plans, _ = ours(travel_only(problem), time_limit, seed, **options)
    return plans, 0


def pyvrp(problem: Problem, time_limit: float, seed: int, **_) -> tuple[Plans, int]:
    """PyVRP's hybrid genetic search on the day: optional clients with prizes, one vehicle type
    per (depot, shift, stop limit), the stop limit as a capacity of one unit per client."""
    import pyvrp as vrp
    from pyvrp.stop import MaxRuntime

    if any(c.allowed_trucks is not None for c in problem.compounds) or any(t.locked_route for t in problem.trucks):
        raise ValueError("the PyVRP bench handles days without pins, forbids or locked routes")
    depots = sorted({t.depot for t in problem.trucks})
    places = depots + [c.location for c in problem.compounds]
    locations = [vrp.Location(0.0, 0.0) for _ in places]
    # durations rounded up, windows inwards: a route PyVRP finds feasible is feasible in minutes
    matrix = np.ceil(problem.travel[np.ix_(places, places)] * PER_MINUTE - TOLERANCE).astype(np.int64)
    np.fill_diagonal(matrix, 0)
    # serving a priority unit outweighs any detour it causes (at most twice the longest arc);
    # a much larger prize keeps PyVRP's adaptive penalties from ever making a serving day feasible
    prize = 2 * int(matrix.max()) + 1
    clients = [
        vrp.Client(
            location=len(depots) + i,
            delivery=[1],
            service_duration=math.ceil(c.service * PER_MINUTE - TOLERANCE),
            tw_early=math.ceil(c.ready * PER_MINUTE - TOLERANCE),
            tw_late=math.floor(c.due * PER_MINUTE + TOLERANCE),
            prize=prize * max(1, c.priority),
            required=False,
        )
        for i, c in enumerate(problem.compounds)
    ]
    kinds: dict[tuple, list[str]] = {}
    for truck in problem.trucks:
        kinds.setdefault((truck.depot, truck.shift_start, truck.shift_end, truck.max_stops), []).append(truck.id)
    vehicle_types = [
        vrp.VehicleType(
            num_available=len(ids),
            capacity=[max_stops],
            start_depot=depots.index(depot),
            end_depot=depots.index(depot),
            tw_early=math.ceil(start * PER_MINUTE - TOLERANCE),
            tw_late=math.floor(end * PER_MINUTE + TOLERANCE),
        )
        for (depot, start, end, max_stops), ids in kinds.items()
    ]
    data = vrp.ProblemData(
        locations=locations,
        clients=clients,
        depots=[vrp.Depot(location=k) for k in range(len(depots))],
        vehicle_types=vehicle_types,
        distance_matrices=[matrix],
        duration_matrices=[matrix],
    )
    result = vrp.solve(data, stop=MaxRuntime(time_limit), seed=seed, display=False)
    free = [list(ids) for ids in kinds.values()]
    plans = []
    for route in result.best.routes():
        truck_id = free[route.vehicle_type()].pop(0)
        # a client activity's idx counts clients from 0, in the order they were given
        plans.append((truck_id, [problem.compounds[a.idx].id for a in route if a.is_client()]))
    return plans, 0


SOLVERS = {"ours": ours, "ours-travel-only": ours_travel_only, "pyvrp": pyvrp}


def judge(problem: Problem, plans: Plans, handed_out: int = 0) -> Judged:
    """Served compounds, travel and broken rules of ``plans``, from the Problem alone."""
    trucks = {t.id: t for t in problem.trucks}
    compounds = {c.id: c for c in problem.compounds}
    wrong: list[str] = []
    seen: set[str] = set()
    travel = 0.0
    for truck_id, ids in plans:
        truck = trucks[truck_id]
        if len(ids) > truck.max_stops:
            wrong.append(f"{truck_id}: {len(ids)} stops, more than {truck.max_stops}")
        here, clock = truck.depot, truck.shift_start
        for cid in ids:
            compound = compounds[cid]
            if cid in seen:
                wrong.append(f"{cid} visited twice")
            seen.add(cid)
            leg = float(problem.travel[here, compound.location])
            travel += leg
            clock = max(clock + leg, compound.ready)
            if clock > compound.due + TOLERANCE:
                wrong.append(f"{truck_id} starts at {cid} at {clock:.1f}, after {compound.due:.1f}")
            clock += compound.service
            here = compound.location
        leg = float(problem.travel[here, truck.depot])
        travel += leg
        if ids and clock + leg > truck.shift_end + TOLERANCE:
            wrong.append(f"{truck_id} returns at {clock + leg:.1f}, after its shift ends at {truck.shift_end:.1f}")
    return Judged(len(seen), travel, handed_out, tuple(wrong))
