"""Generated lockdown days for the scaling bench, built as ``scheduling.Problem`` directly.

A day looks like the real ones: compounds clustered in towns, retailers' depots near some towns,
arrival windows, a few priority compounds, several goods of which dairy and eggs are short, and
about 30 stops per truck. The same ``(trucks, seed)`` always gives the same day.
"""
from __future__ import annotations

import math

import numpy as np

from scheduling import Compound, Problem, Truck
from scheduling.travel import GreatCircleTravel

SHANGHAI = (31.23, 121.47)
KM_PER_DEGREE_LAT = 111.2
COMPOUNDS_PER_TRUCK = 30
SERVICE_BASE_MINUTES = 10.0
SERVICE_MINUTES_PER_100_HOUSEHOLDS = 1.0

#: units asked per household, share of compounds asking, and stock carried / demanded (< 1: short)
CATEGORIES = {
    "vegetables": (1.0, 1.0, 1.1),
    "rice": (0.5, 1.0, 1.2),
    "meat": (0.5, 0.9, 0.95),
    "dairy": (0.3, 0.6, 0.6),
    "eggs": (0.4, 0.5, 0.7),
    "fruit": (0.3, 0.3, 1.0),
    "baby_food": (0.05, 0.1, 1.0),
    "medicine": (0.05, 0.1, 0.9),
}


def _offset(center: tuple[float, float], east_km: float, north_km: float) -> tuple[float, float]:
    lat, lon = center
    return (
        lat + north_km / KM_PER_DEGREE_LAT,
        lon + east_km / (KM_PER_DEGREE_LAT * math.cos(math.radians(lat))),
    )


def _window(rng: np.random.Generator) -> tuple[float, float]:
    """Most compounds take the truck any time in the day; some set a 3- or 2-hour window."""
    kind = rng.random()
    if kind < 0.6:
        return 8 * 60.0, 18 * 60.0
    length = 180.0 if kind < 0.9 else 120.0
    start = float(rng.integers(7 * 60 // 30, (18 * 60 - length) // 30 + 1)) * 30
    return start, start + length


def lockdown_day(trucks: int, seed: int = 0, compounds: int | None = None) -> Problem:
    """A day of ``trucks`` trucks and (by default) 30 compounds per truck."""
    if trucks < 1:
        raise ValueError("a day needs at least one truck")
    rng = np.random.default_rng(seed)
    n_compounds = compounds if compounds is not None else COMPOUNDS_PER_TRUCK * trucks
    radius_km = 6.0 + 2.0 * math.sqrt(trucks)
    n_towns = max(3, round(trucks / 3))
    town_centers = [
        _offset(SHANGHAI, *(rng.uniform(-radius_km, radius_km, size=2))) for _ in range(n_towns)
    ]
    town_spread_km = rng.uniform(1.0, 2.5, size=n_towns)
    town_weight = rng.gamma(2.0, size=n_towns)
    town_of = rng.choice(n_towns, size=n_compounds, p=town_weight / town_weight.sum())

    n_depots = max(2, trucks // 4)
    depot_towns = rng.choice(n_towns, size=min(n_depots, n_towns), replace=False)
    depots = [_offset(town_centers[t], *(rng.uniform(-2.0, 2.0, size=2))) for t in depot_towns]
    places = list(depots) + [
        _offset(town_centers[t], *(rng.normal(0.0, town_spread_km[t], size=2))) for t in town_of
    ]
    lats, lons = zip(*places)
    travel = GreatCircleTravel().minutes(lats, lons)

    compound_list = []
    for i in range(n_compounds):
        households = int(np.clip(rng.lognormal(math.log(800), 0.6), 100, 5000))
        service = SERVICE_BASE_MINUTES + SERVICE_MINUTES_PER_100_HOUSEHOLDS * households / 100
        window_start, window_end = _window(rng)
        demand = {
            category: math.ceil(households * per_household)
            for category, (per_household, share, _) in CATEGORIES.items()
            if rng.random() < share
        }
        compound_list.append(
            Compound(
                id=f"C{i + 1:04d}",
                location=len(depots) + i,
                ready=window_start,
                due=window_end - service,
                service=service,
                priority=int(rng.choice([1, 2, 3], p=[0.8, 0.15, 0.05])),
                demand=demand,
            )
        )

    totals = {c: sum(x.demand.get(c, 0) for x in compound_list) for c in CATEGORIES}
    truck_list = []
    for k in range(trucks):
        stock = {
            category: int(totals[category] * supply / trucks * rng.uniform(0.8, 1.2))
            for category, (_, _, supply) in CATEGORIES.items()
        }
        truck_list.append(
            Truck(
                id=f"T{k + 1:03d}",
                depot=k % len(depots),
                shift_start=float(rng.choice([360, 390, 420])),
                shift_end=float(rng.choice([1140, 1170, 1200])),
                max_stops=int(rng.choice([25, 30, 30, 35])),
                stock=stock,
            )
        )
    return Problem(trucks=tuple(truck_list), compounds=tuple(compound_list), travel=travel)
