"""A Problem compiled into the flat arrays the search works on, plus what is settled before it.

Before any search: locked routes are checked and set aside, and compounds no truck could ever
serve get their unserved reason. What is left becomes ``Instance``: customers ``0..n-1`` and one
depot node per searchable truck ``n..n+m-1``, sharing one travel matrix ``dist``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .problem import Compound, Problem, Truck
from .result import UnservedReason

EPS = 1e-6


def wanted(compound: Compound) -> set[str]:
    """Categories the compound asked a positive quantity of."""
    return {c for c, q in compound.demand.items() if q > 0}


def can_supply(truck: Truck, compound: Compound, load_limits_routes: bool) -> bool:
    """Whether the truck's load makes a stop at the compound worth anything (or fit, for Solomon)."""
    asked = wanted(compound)
    if load_limits_routes:
        return all(compound.demand[c] <= truck.stock.get(c, 0) for c in asked)
    return not asked or any(truck.stock.get(c, 0) > 0 for c in asked)


def single_stop_fits(problem: Problem, truck: Truck, compound: Compound) -> bool:
    """Depot -> compound -> depot inside the window and the shift."""
    travel = problem.travel
    start = max(truck.shift_start + travel[truck.depot, compound.location], compound.ready)
    back = start + compound.service + travel[compound.location, truck.depot]
    return start <= compound.due + EPS and back <= truck.shift_end + EPS


def allows(compound: Compound, truck: Truck) -> bool:
    return compound.allowed_trucks is None or truck.id in compound.allowed_trucks


def check_locked_route(problem: Problem, truck: Truck) -> None:
    """Raises ValueError naming the truck when its locked route cannot be driven as given."""
    by_id = {c.id: c for c in problem.compounds}
    route = truck.locked_route or ()
    if len(set(route)) != len(route):
        raise ValueError(f"truck {truck.id}: locked route visits a compound twice")
    if len(route) > truck.max_stops:
        raise ValueError(
            f"truck {truck.id}: locked route has {len(route)} stops, more than max_stops {truck.max_stops}"
        )
    here, time = truck.depot, truck.shift_start
    load: dict[str, int] = {}
    for cid in route:
        compound = by_id[cid]
        if not allows(compound, truck):
            raise ValueError(f"truck {truck.id}: locked route includes {cid}, which forbids this truck")
        time = max(time + problem.travel[here, compound.location], compound.ready)
        if time > compound.due + EPS:
            raise ValueError(
                f"truck {truck.id}: locked route reaches {cid} at {time:.0f}, after its window closes "
                f"({compound.due:.0f})"
            )
        time += compound.service
        here = compound.location
        for category, quantity in compound.demand.items():
            load[category] = load.get(category, 0) + quantity
    back = time + problem.travel[here, truck.depot]
    if back > truck.shift_end + EPS:
        raise ValueError(
            f"truck {truck.id}: locked route returns at {back:.0f}, after the shift ends ({truck.shift_end:.0f})"
        )
    if problem.load_limits_routes:
        for category, quantity in load.items():
            if quantity > truck.stock.get(category, 0):
                raise ValueError(
                    f"truck {truck.id}: locked route needs {quantity} {category}, "
                    f"more than its load {truck.stock.get(category, 0)}"
                )


@dataclass
class Instance:
    """The searchable part of a day as arrays (see the module docstring for node numbering)."""

    problem: Problem
    compounds: list[Compound]  # customer index -> compound
    trucks: list[Truck]  # route index -> truck
    dist: np.ndarray  # (n+m, n+m) travel minutes
    ready: np.ndarray  # (n,)
    due: np.ndarray
    service: np.ndarray
    demand: np.ndarray  # (n, C) only used when loads limit routes
    capacity: np.ndarray  # (m, C)
    goods_demand: np.ndarray  # (n, G) when loads do not limit routes: what each customer asks for
    goods_stock: np.ndarray  # (m, G) what each truck carries of it
    goods_value: np.ndarray  # (G,) travel minutes one delivered unit is worth (see goods_values)
    prize: np.ndarray  # (n,) priority weight of serving each customer
    allowed: np.ndarray  # (n, m) bool: truck may serve and reach the customer
    shift_start: np.ndarray  # (m,)
    shift_end: np.ndarray
    max_stops: np.ndarray  # (m,) int
    truck_type: np.ndarray  # (m,) int: trucks with equal type are interchangeable
    type_count: list[int]

    @property
    def n(self) -> int:
        return len(self.compounds)

    @property
    def m(self) -> int:
        return len(self.trucks)


@dataclass
class Prepared:
    instance: Instance
    locked: dict[str, tuple[str, ...]]  # truck id -> its fixed compound ids
    unserved: dict[str, UnservedReason]  # compound id -> reason settled before the search


def prepare(problem: Problem) -> Prepared:
    """Validates locked routes, settles hopeless compounds and compiles the rest."""
    locked: dict[str, tuple[str, ...]] = {}
    locked_owner: dict[str, str] = {}
    for truck in problem.trucks:
        if truck.locked_route is None:
            continue
        check_locked_route(problem, truck)
        for cid in truck.locked_route:
            if cid in locked_owner:
                raise ValueError(
                    f"truck {truck.id}: locked route includes {cid}, already locked on truck {locked_owner[cid]}"
                )
            locked_owner[cid] = truck.id
        locked[truck.id] = tuple(truck.locked_route)

    free_trucks = [t for t in problem.trucks if t.locked_route is None and t.max_stops > 0]
    unserved: dict[str, UnservedReason] = {}
    customers: list[Compound] = []
    for compound in problem.compounds:
        if compound.id in locked_owner:
            continue
        allowed = [t for t in problem.trucks if allows(compound, t)]
        stocking = [t for t in allowed if can_supply(t, compound, problem.load_limits_routes)]
        reaching = [t for t in stocking if single_stop_fits(problem, t, compound)]
        if not allowed:
            unserved[compound.id] = UnservedReason.NOT_ALLOWED
        elif not stocking:
            unserved[compound.id] = UnservedReason.NO_STOCK
        elif not reaching:
            unserved[compound.id] = UnservedReason.UNREACHABLE
        elif not any(t in free_trucks for t in reaching):
            unserved[compound.id] = UnservedReason.FLEET_FULL
        else:
            customers.append(compound)
    return Prepared(compile_instance(problem, customers, free_trucks), locked, unserved)


#: a category's whole demand delivered is worth this many times a rough day's travel: stock left
#: on one truck while another truck's compounds go short is worth a detour
GOODS_WEIGHT = 10.0


def goods_values(between: np.ndarray, demand: np.ndarray, stock: np.ndarray) -> np.ndarray:
    """Travel minutes one delivered unit of each category is worth in the search's objective.

    Food on the truck helps nobody: routes should match what each truck carries. A rough day's
    travel is the sum of each customer's shortest leg to another; a category's whole demand is
    worth ``GOODS_WEIGHT`` of it, so the value never depends on the unit a retailer counts in.
    Categories no truck can run short of are worth nothing: they cannot change the answer.
    """
    if demand.shape[1] == 0 or len(between) < 2:
        return np.zeros(demand.shape[1])
    legs = between + between.T + np.diag(np.full(len(between), np.inf))
    day = float(legs.min(axis=1).sum()) / 2.0
    total = demand.sum(axis=0)
    scarce = (stock < total).any(axis=0) & (total > 0)
    return np.where(scarce, GOODS_WEIGHT * day / np.maximum(total, 1.0), 0.0)


def compile_instance(problem: Problem, customers: list[Compound], trucks: list[Truck]) -> Instance:
    n, m = len(customers), len(trucks)
    locations = [c.location for c in customers] + [t.depot for t in trucks]
    dist = np.ascontiguousarray(problem.travel[np.ix_(locations, locations)], dtype=np.float64)
    categories = list(problem.categories) if problem.load_limits_routes else []
    demand = np.array([[c.demand.get(k, 0) for k in categories] for c in customers], dtype=np.float64)
    capacity = np.array([[t.stock.get(k, 0) for k in categories] for t in trucks], dtype=np.float64)
    demand = demand.reshape(n, len(categories))
    capacity = capacity.reshape(m, len(categories))
    allowed = np.zeros((n, m), dtype=bool)
    for i, compound in enumerate(customers):
        for k, truck in enumerate(trucks):
            allowed[i, k] = (
                allows(compound, truck)
                and can_supply(truck, compound, problem.load_limits_routes)
                and single_stop_fits(problem, truck, compound)
            )
    goods = [] if problem.load_limits_routes else sorted({k for c in customers for k in wanted(c)})
    goods_demand = np.array([[c.demand.get(k, 0) for k in goods] for c in customers], dtype=np.float64)
    goods_demand = goods_demand.reshape(n, len(goods))
    goods_stock = np.array([[t.stock.get(k, 0) for k in goods] for t in trucks], dtype=np.float64)
    goods_stock = goods_stock.reshape(m, len(goods))
    signature: dict[tuple, int] = {}
    types = []
    for k, truck in enumerate(trucks):
        key = (
            truck.depot,
            truck.shift_start,
            truck.shift_end,
            truck.max_stops,
            tuple(capacity[k]),
            tuple(goods_stock[k]),
            allowed[:, k].tobytes(),
        )
        types.append(signature.setdefault(key, len(signature)))
    type_count = [types.count(t) for t in range(len(signature))]
    return Instance(
        problem=problem,
        compounds=customers,
        trucks=trucks,
        dist=dist,
        ready=np.array([c.ready for c in customers], dtype=np.float64),
        due=np.array([c.due for c in customers], dtype=np.float64),
        service=np.array([c.service for c in customers], dtype=np.float64),
        demand=demand,
        capacity=capacity,
        goods_demand=goods_demand,
        goods_stock=goods_stock,
        goods_value=goods_values(dist[:n, :n], goods_demand, goods_stock),
        prize=np.array([max(1, c.priority) for c in customers], dtype=np.float64),
        allowed=allowed,
        shift_start=np.array([t.shift_start for t in trucks], dtype=np.float64),
        shift_end=np.array([t.shift_end for t in trucks], dtype=np.float64),
        max_stops=np.array([t.max_stops for t in trucks], dtype=np.int64),
        truck_type=np.array(types, dtype=np.int64),
        type_count=type_count,
    )
