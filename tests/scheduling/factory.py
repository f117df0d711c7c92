"""Small hand-made days for the engine tests: points on a plane, travel = Euclidean minutes."""
from __future__ import annotations

import math

import numpy as np

from scheduling import Compound, Problem, Truck


def plane_travel(points: list[tuple[float, float]]) -> np.ndarray:
    return np.array([[math.dist(a, b) for b in points] for a in points])


def day(
    compound_points: list[tuple[float, float]],
    *,
    trucks: int = 1,
    depot: tuple[float, float] = (0.0, 0.0),
    shift: tuple[float, float] = (480.0, 1080.0),
    max_stops: int = 30,
    stock: dict[str, int] | None = None,
    demand: dict[str, int] | None = None,
    window: tuple[float, float] = (480.0, 1080.0),
    service: float = 10.0,
    load_limits_routes: bool = False,
    **compound_overrides: dict,
) -> Problem:
    """One depot (location 0) shared by ``trucks`` identical trucks, compounds at locations 1..

    ``compound_overrides`` maps a compound id ("c1", "c2", ...) to Compound field overrides.
    """
    points = [depot, *compound_points]
    fleet = tuple(
        Truck(
            id=f"t{k + 1}",
            depot=0,
            shift_start=shift[0],
            shift_end=shift[1],
            max_stops=max_stops,
            stock=stock if stock is not None else {"veg": 1000},
        )
        for k in range(trucks)
    )
    compounds = []
    for i in range(1, len(points)):
        fields = dict(
            id=f"c{i}",
            location=i,
            ready=window[0],
            due=window[1],
            service=service,
            demand=demand if demand is not None else {"veg": 10},
        )
        fields.update(compound_overrides.get(f"c{i}", {}))
        compounds.append(Compound(**fields))
    return Problem(
        trucks=fleet, compounds=tuple(compounds), travel=plane_travel(points), load_limits_routes=load_limits_routes
    )
