"""Solomon VRPTW instances: reader and conversion to the engine's Problem.

The command line is in ``__main__.py`` (``python -m scheduling.solomon FILE``). Distances follow the DIMACS/CVRPLIB convention of the best-known table: every arc's Euclidean
length truncated to one decimal; travel time equals distance.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..problem import Compound, Problem, Truck
from ..result import Result

CATEGORY = "load"


@dataclass(frozen=True)
class SolomonInstance:
    name: str
    vehicles: int
    capacity: int
    #: rows of (customer number, x, y, demand, ready, due, service); row 0 is the depot
    nodes: tuple[tuple[int, float, float, int, float, float, float], ...]


def truncated_distances(xy: np.ndarray) -> np.ndarray:
    """Euclidean distances truncated to one decimal (math.floor(10 * d) / 10)."""
    diff = xy[:, None, :] - xy[None, :, :]
    exact = np.sqrt((diff**2).sum(axis=2))
    return np.floor(10.0 * exact + 1e-9) / 10.0


def read_solomon(path: str | Path) -> SolomonInstance:
    """Parses a Solomon file; raises ValueError naming the file and line on malformed input."""
    path = Path(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    rows = [(number, line.split()) for number, line in enumerate(lines, start=1) if line.strip()]
    if not rows:
        raise ValueError(f"{path}: empty file")
    name = rows[0][1][0]
    vehicles = capacity = None
    nodes = []
    for number, fields in rows[1:]:
        if not all(_is_number(f) for f in fields):
            continue
        values = [float(f) for f in fields]
        if len(values) == 2 and vehicles is None:
            vehicles, capacity = int(values[0]), int(values[1])
        elif len(values) == 7:
            cust, x, y, demand, ready, due, service = values
            nodes.append((int(cust), x, y, int(demand), ready, due, service))
        else:
            raise ValueError(f"{path}, line {number}: expected 7 numbers per customer, got {len(values)}")
    if vehicles is None:
        raise ValueError(f"{path}: no 'NUMBER CAPACITY' line for the fleet")
    if len(nodes) < 2:
        raise ValueError(f"{path}: needs a depot row and at least one customer")
    return SolomonInstance(name, vehicles, capacity, tuple(nodes))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def to_problem(instance: SolomonInstance) -> Problem:
    """Location 0 is the depot; customer ``i`` is compound ``str(number)`` at location ``i``."""
    xy = np.array([(x, y) for _, x, y, *_ in instance.nodes], dtype=np.float64)
    depot = instance.nodes[0]
    trucks = tuple(
        Truck(
            id=f"v{k + 1}",
            depot=0,
            shift_start=depot[4],
            shift_end=depot[5],
            max_stops=len(instance.nodes) - 1,
            stock={CATEGORY: instance.capacity},
        )
        for k in range(instance.vehicles)
    )
    compounds = tuple(
        Compound(
            id=str(number),
            location=i,
            ready=ready,
            due=due,
            service=service,
            demand={CATEGORY: demand},
        )
        for i, (number, _, _, demand, ready, due, service) in enumerate(instance.nodes)
        if i > 0
    )
    return Problem(trucks=trucks, compounds=compounds, travel=truncated_distances(xy), load_limits_routes=True)


def summary(instance: SolomonInstance, result: Result) -> dict:
    routes = [[int(v.compound_id) for v in route.visits] for route in result.routes if route.visits]
    return {
        "instance": instance.name,
        "vehicles": len(routes),
        "distance": round(result.travel_minutes, 1),
        "seconds": round(result.seconds, 2),
        "routes": routes,
    }
