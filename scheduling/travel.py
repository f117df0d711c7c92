"""Travel models: how many minutes from one place to another.

Every model answers one question, ``minutes(lats, lons) -> matrix``, so a road-network
service can plug in later by implementing ``TravelModel``.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

EARTH_RADIUS_KM = 6371.0088


class TravelModel(Protocol):
    def minutes(self, lats: Sequence[float], lons: Sequence[float], ids: Sequence[str]) -> np.ndarray:
        """Travel minutes between every pair of the given places (square, zero diagonal)."""


def great_circle_km(lats: Sequence[float], lons: Sequence[float]) -> np.ndarray:
    """Haversine distances between all pairs, vectorised."""
    lat = np.radians(np.asarray(lats, dtype=np.float64))
    lon = np.radians(np.asarray(lons, dtype=np.float64))
    dlat = lat[:, None] - lat[None, :]
    dlon = lon[:, None] - lon[None, :]
    a = np.sin(dlat / 2) ** 2 + np.cos(lat)[:, None] * np.cos(lat)[None, :] * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


@dataclass(frozen=True)
class GreatCircleTravel:
    """Straight-line distance stretched by ``road_factor`` at a constant ``speed_kmh``."""

    road_factor: float = 1.3
    speed_kmh: float = 25.0

    def minutes(self, lats, lons, ids=()) -> np.ndarray:
        return great_circle_km(lats, lons) * self.road_factor / self.speed_kmh * 60.0


@dataclass(frozen=True)
class MatrixTravel:
    """An imported matrix ``{(from_id, to_id): minutes}``; pairs it lacks come from ``fallback``."""

    entries: Mapping[tuple[str, str], float]
    fallback: TravelModel = field(default_factory=GreatCircleTravel)

    def minutes(self, lats, lons, ids) -> np.ndarray:
        matrix = np.array(self.fallback.minutes(lats, lons, ids), dtype=np.float64)
        index = {place: i for i, place in enumerate(ids)}
        for (origin, destination), value in self.entries.items():
            i, j = index.get(origin), index.get(destination)
            if i is not None and j is not None and i != j:
                matrix[i, j] = value
        return matrix
