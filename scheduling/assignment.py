"""Which retailer supplies which compound: a mixed-integer program over the district's fleets.

Before each retailer plans its own trucks, the district shares its compounds among them. Given the
day as one ``Problem`` holding every retailer's trucks, and which retailer owns each truck,
``assign`` gives each compound exactly one retailer, choosing lexicographically (each level is
solved, then kept at its optimum while the next is optimised):

1. the most compounds the retailers' capacity can serve, then the most priority weight served.
   A retailer's capacity is its trucks' stops and the minutes of their shifts; a stop costs its
   service time, the hop to a neighbouring compound and a share of the drive out from the depot.
   Compounds beyond a retailer's capacity are still assigned (each has one retailer), but count
   as not served, so where every compound fits, no retailer is above its capacity;
2. the most goods handed out, each category counting by its share of the district's demand: a
   retailer's stock caps what its compounds can get, so compounds go where their goods are;
3. the least drive from each compound to its retailer's nearest depot, where moving a compound
   away from yesterday's retailer costs ``switch_minutes`` more: committees know their truck,
   and a change must bring the compound at least that much closer.

Pins are kept whatever they cost. Only retailers whose trucks can reach a compound within its
window and their shifts are candidates for it (all retailers with trucks when none can).
"""
from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import pulp

from .lp import make_solver, solved
from .problem import Problem

#: relative gap at which a level's search stops: closer proofs cost minutes on large districts
LEVEL_GAP = 1e-3
#: how far behind the value found a fixed level may fall (relative), for the solver's rounding
LEVEL_TOLERANCE = 1e-6
#: served shares adding up to this little less than a whole count as the whole
SHARE_ROUNDING = 1e-3
#: neighbours whose mean distance estimates the hop between two stops
HOP_NEIGHBOURS = 3


class AssignmentError(ValueError):
    """The input cannot be assigned (a pin to an unknown retailer, a truck without a retailer)."""


@dataclass(frozen=True)
class RetailerLoad:
    """What the assignment gives one retailer, against what its fleet has."""

    retailer: str
    compounds: int
    #: compounds its capacity serves by the estimate (the rest are over its capacity)
    servable: int
    stops: int
    minutes: float  # estimated minutes of the stops assigned
    shift_minutes: float
    demand: Mapping[str, int] = field(default_factory=dict)
    stock: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "demand", MappingProxyType(dict(self.demand)))
        object.__setattr__(self, "stock", MappingProxyType(dict(self.stock)))


@dataclass(frozen=True)
class Assignment:
    retailer_of: Mapping[str, str]  # compound id -> retailer
    loads: tuple[RetailerLoad, ...]
    #: compounds assigned beyond their retailer's estimated capacity
    over_capacity: tuple[str, ...]
    #: "optimal" when every level was proved optimal, else "feasible"
    status: str
    seconds: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "retailer_of", MappingProxyType(dict(self.retailer_of)))


def assign(
    problem: Problem,
    retailer_of_truck: Mapping[str, str],
    *,
    pins: Mapping[str, str] | None = None,
    previous: Mapping[str, str] | None = None,
    switch_minutes: float = 15.0,
    time_limit: float = 20.0,
    lp_solver: str = "highs",
) -> Assignment:
    """One retailer for every compound of ``problem`` (see the module's docstring).

    ``pins`` and ``previous`` map compound ids to retailers; ``previous`` is yesterday's.
    """
    started = time.monotonic()
    pins, previous = dict(pins or {}), dict(previous or {})
    missing = [t.id for t in problem.trucks if t.id not in retailer_of_truck]
    if missing:
        raise AssignmentError(f"trucks without a retailer: {', '.join(missing)}")
    retailers = sorted(set(retailer_of_truck[t.id] for t in problem.trucks) | set(pins.values()))
    compound_ids = set(problem.compound_ids)
    unknown = sorted(c for c in pins if c not in compound_ids)
    if unknown:
        raise AssignmentError(f"pins name unknown compounds: {', '.join(unknown)}")
    if not problem.trucks and len(pins) < len(compound_ids):
        raise AssignmentError("no trucks: no retailer can supply the compounds")
    fleet = _Fleet(problem, retailer_of_truck, retailers)
    candidates = _candidates(problem, fleet, pins)

    model = pulp.LpProblem("assignment", pulp.LpMaximize)
    x, y = {}, {}
    for c, compound in enumerate(problem.compounds):
        for r in candidates[c]:
            x[c, r] = model.add_variable(f"x_{c}_{r}", 0, 1, cat=pulp.LpBinary)
            y[c, r] = model.add_variable(f"y_{c}_{r}", 0, 1)
            model += y[c, r] <= x[c, r]
        model += pulp.lpSum(x[c, r] for r in candidates[c]) == 1
    by_retailer: dict[int, list[int]] = {r: [] for r in range(len(retailers))}
    for c, r in x:
        by_retailer[r].append(c)
    categories = problem.categories
    handed_out = {}
    for r, members in by_retailer.items():
        model += pulp.lpSum(y[c, r] for c in members) <= fleet.stops[r]
        model += pulp.lpSum(fleet.stop_minutes[c, r] * y[c, r] for c in members) <= fleet.shift_minutes[r]
        for k in categories:
            asked = [(c, problem.compounds[c].demand.get(k, 0)) for c in members]
            if not any(q for _, q in asked):
                continue
            handed_out[r, k] = model.add_variable(f"g_{r}_{k}", 0, fleet.stock[r].get(k, 0))
            model += handed_out[r, k] <= pulp.lpSum(q * y[c, r] for c, q in asked if q)

    district_demand = {k: sum(c.demand.get(k, 0) for c in problem.compounds) for k in categories}
    switch = {(c, r): switch_minutes for c, r in x
              if problem.compounds[c].id in previous and retailers[r] != previous[problem.compounds[c].id]}
    levels = [
        (pulp.LpMaximize, pulp.lpSum(y.values())),
        (pulp.LpMaximize, pulp.lpSum(problem.compounds[c].priority * v for (c, _), v in y.items())),
        (pulp.LpMaximize, pulp.lpSum(v / district_demand[k] for (_, k), v in handed_out.items())),
        (pulp.LpMinimize, pulp.lpSum((fleet.depot_minutes[c, r] + switch.get((c, r), 0.0)) * v
                                     for (c, r), v in x.items())),
    ]
    proved = True
    for index, (sense, objective) in enumerate(levels):
        if not any(objective.values()):
            continue  # nothing to choose by (HiGHS 1.16 answered an all-zero objective with a solve error)
        model.sense = sense
        model.setObjective(objective)
        left = time_limit - (time.monotonic() - started)
        # from the second level on, the last answer is a start that meets every fixed level
        model.solve(make_solver(lp_solver, max(0.5, left / (len(levels) - index)), gap=LEVEL_GAP,
                                warm_start=index > 0))
        if not solved(model):
            raise RuntimeError(f"the assignment found no answer ({pulp.LpStatus[model.status]})")
        proved &= model.sol_status == pulp.LpSolutionOptimal
        value = pulp.value(objective) or 0.0
        slack = LEVEL_TOLERANCE * max(1.0, abs(value))
        model += (objective >= value - slack) if sense == pulp.LpMaximize else (objective <= value + slack)

    chosen = {c: r for (c, r), v in x.items() if (v.value() or 0.0) > 0.5}
    served = _servable(problem, chosen, {key: v.value() or 0.0 for key, v in y.items()})
    loads = []
    for r, name in enumerate(retailers):
        mine = [c for c, rr in chosen.items() if rr == r]
        loads.append(RetailerLoad(
            retailer=name,
            compounds=len(mine),
            servable=sum(c in served for c in mine),
            stops=fleet.stops[r],
            minutes=float(sum(fleet.stop_minutes[c, r] for c in mine)),
            shift_minutes=float(fleet.shift_minutes[r]),
            demand={k: sum(problem.compounds[c].demand.get(k, 0) for c in mine) for k in categories},
            stock=fleet.stock[r],
        ))
    return Assignment(
        retailer_of={problem.compounds[c].id: retailers[r] for c, r in chosen.items()},
        loads=tuple(loads),
        over_capacity=tuple(sorted(problem.compounds[c].id for c in chosen if c not in served)),
        status="optimal" if proved else "feasible",
        seconds=time.monotonic() - started,
    )


def _servable(problem: Problem, chosen: Mapping[int, int], served: Mapping[tuple[int, int], float]) -> set[int]:
    """The compounds each retailer's capacity serves. The program's served shares are fractions
    (a stop and its goods may be split), so a retailer serves as many compounds as its shares add
    up to (less what each fixed level may give back, ``LEVEL_TOLERANCE``: 3 became 2.999997), the
    most served (then the highest priority) first."""
    servable = set()
    for r in set(chosen.values()):
        mine = [c for c, rr in chosen.items() if rr == r]
        count = math.floor(sum(served[c, r] for c in mine) + SHARE_ROUNDING)
        mine.sort(key=lambda c: (-served[c, r], -problem.compounds[c].priority, c))
        servable.update(mine[:count])
    return servable


class _Fleet:
    """Each retailer's capacity, and what a compound costs it, as arrays indexed by position."""

    def __init__(self, problem: Problem, retailer_of_truck: Mapping[str, str], retailers: list[str]):
        self.retailers = retailers
        index = {name: r for r, name in enumerate(retailers)}
        self.truck_retailer = np.array([index[retailer_of_truck[t.id]] for t in problem.trucks], dtype=int)
        n_retailers = len(retailers)
        self.stops = [0] * n_retailers
        self.shift_minutes = [0.0] * n_retailers
        self.stock: list[dict[str, int]] = [{} for _ in retailers]
        for truck, r in zip(problem.trucks, self.truck_retailer):
            self.stops[r] += truck.max_stops
            self.shift_minutes[r] += truck.shift_end - truck.shift_start
            for k, q in truck.stock.items():
                self.stock[r][k] = self.stock[r].get(k, 0) + q
        travel = problem.travel
        locations = np.array([c.location for c in problem.compounds], dtype=int)
        depots = np.array([t.depot for t in problem.trucks], dtype=int)
        # minutes from each truck's depot to each compound, and the nearest per retailer
        self.truck_minutes = travel[np.ix_(depots, locations)]
        self.back_minutes = travel[np.ix_(locations, depots)].T
        self.depot_minutes: dict[tuple[int, int], float] = {}
        self.stop_minutes: dict[tuple[int, int], float] = {}
        hop = _hop_minutes(travel, locations)
        for r in range(n_retailers):
            own = self.truck_retailer == r
            if not own.any():  # only pins lead here: it serves nothing, and no drive counts against it
                for c, compound in enumerate(problem.compounds):
                    self.depot_minutes[c, r], self.stop_minutes[c, r] = 0.0, compound.service
                continue
            nearest = self.truck_minutes[own].min(axis=0)
            stops_per_route = max(1.0, float(np.mean([t.max_stops for t, o in zip(problem.trucks, own) if o])))
            for c, compound in enumerate(problem.compounds):
                self.depot_minutes[c, r] = float(nearest[c])
                self.stop_minutes[c, r] = compound.service + hop[c] + 2.0 * float(nearest[c]) / stops_per_route


def _hop_minutes(travel: np.ndarray, locations: np.ndarray) -> np.ndarray:
    """A compound's usual hop to the next stop: mean minutes to its nearest few compounds."""
    if len(locations) < 2:
        return np.zeros(len(locations))
    between = travel[np.ix_(locations, locations)].astype(float)
    np.fill_diagonal(between, np.inf)
    nearest = np.sort(between, axis=1)[:, :min(HOP_NEIGHBOURS, len(locations) - 1)]
    return nearest.mean(axis=1)


def _candidates(problem: Problem, fleet: _Fleet, pins: Mapping[str, str]) -> list[list[int]]:
    """For each compound, the retailers that may supply it: the pinned one; else those with a
    truck allowed there that reaches it inside its window and shift; else every retailer with trucks."""
    trucks = problem.trucks
    starts = np.array([t.shift_start for t in trucks], dtype=float)
    ends = np.array([t.shift_end for t in trucks], dtype=float)
    stops = np.array([t.max_stops for t in trucks], dtype=int)
    with_trucks = sorted(set(fleet.truck_retailer.tolist()))
    result = []
    for c, compound in enumerate(problem.compounds):
        if compound.id in pins:
            result.append([fleet.retailers.index(pins[compound.id])])
            continue
        arrive = np.maximum(starts + fleet.truck_minutes[:, c], compound.ready)
        back = arrive + compound.service + fleet.back_minutes[:, c]
        reach = (arrive <= compound.due) & (back <= ends) & (stops > 0)
        if compound.allowed_trucks is not None:
            reach &= np.array([t.id in compound.allowed_trucks for t in trucks], dtype=bool)
        result.append(sorted(set(fleet.truck_retailer[reach].tolist())) or with_trucks)
    return result
