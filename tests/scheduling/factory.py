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


WEST, EAST = (0.0, 0.0), (100.0, 0.0)


def two_towns(west: int, east: int, *, west_stops: int = 10, east_stops: int = 10, shift_end: float = 1080.0) -> Problem:
    """A depot and a truck in each of two towns 100 minutes apart; compounds in a grid around each."""
    def around(center, count):
        return [(center[0] + 3.0 * (i % 4), center[1] + 3.0 * (i // 4)) for i in range(count)]

    points = [WEST, EAST, *around(WEST, west), *around(EAST, east)]
    trucks = (
        Truck(id="west", depot=0, shift_start=480.0, shift_end=shift_end, max_stops=west_stops, stock={"veg": 1000}),
        Truck(id="east", depot=1, shift_start=480.0, shift_end=shift_end, max_stops=east_stops, stock={"veg": 1000}),
    )
    compounds = tuple(
        Compound(id=f"{'w' if i < west else 'e'}{i + 1}", location=2 + i, ready=480.0, due=1000.0, service=10.0,
                 demand={"veg": 10})
        for i in range(west + east)
    )
    return Problem(trucks=trucks, compounds=compounds, travel=plane_travel(points))
