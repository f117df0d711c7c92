"""The engine's input: one day's routing problem as immutable plain data.

Times are minutes after midnight (floats); ``Problem.travel`` holds travel minutes between
locations, indexed by the ``location``/``depot`` integers below. The engine knows nothing of
dates, databases or the web.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np


def _frozen_mapping(values: Mapping[str, int]) -> Mapping[str, int]:
    return MappingProxyType(dict(values))


@dataclass(frozen=True)
class Truck:
    """A truck's day: where it starts and ends, its shift, stop limit and load."""

    id: str
    depot: int
    shift_start: float
    shift_end: float
    max_stops: int
    stock: Mapping[str, int] = field(default_factory=dict)
    #: Compound ids this truck must visit in exactly this order (a planner's locked route).
    locked_route: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "stock", _frozen_mapping(self.stock))
        if self.shift_end < self.shift_start:
            raise ValueError(f"truck {self.id}: shift ends before it starts")
        if self.max_stops < 0:
            raise ValueError(f"truck {self.id}: max_stops must not be negative")
        if any(q < 0 for q in self.stock.values()):
            raise ValueError(f"truck {self.id}: negative stock")


@dataclass(frozen=True)
class Compound:
    """A stop to make: service must *start* within [ready, due] and lasts ``service`` minutes."""

    id: str
    location: int
    ready: float
    due: float
    service: float
    priority: int = 1
    demand: Mapping[str, int] = field(default_factory=dict)
    #: Trucks that may serve it; None means any. A pin is a one-truck set, a forbid removes one.
    allowed_trucks: frozenset[str] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "demand", _frozen_mapping(self.demand))
        if self.due < self.ready:
            raise ValueError(f"compound {self.id}: window ends before it starts")
        if self.service < 0:
            raise ValueError(f"compound {self.id}: negative service time")
        if any(q < 0 for q in self.demand.values()):
            raise ValueError(f"compound {self.id}: negative demand")


@dataclass(frozen=True)
class Problem:
    """A whole day. Build it with ``ProblemBuilder`` or directly; it is never mutated.

    ``load_limits_routes``: when True (the Solomon benchmarks) a route's total demand per
    category may not exceed the truck's stock, and every customer must be served. When False
    (a lockdown day) scarce stock is shared out fairly among the stops a truck makes instead.
    """

    trucks: tuple[Truck, ...]
    compounds: tuple[Compound, ...]
    travel: np.ndarray
    load_limits_routes: bool = False

    def __post_init__(self) -> None:
        travel = np.array(self.travel, dtype=np.float64)
        if travel.ndim != 2 or travel.shape[0] != travel.shape[1]:
            raise ValueError("travel must be a square matrix")
        if (travel < 0).any() or not np.isfinite(travel).all():
            raise ValueError("travel times must be finite and non-negative")
        travel.setflags(write=False)
        object.__setattr__(self, "travel", travel)
        object.__setattr__(self, "trucks", tuple(self.trucks))
        object.__setattr__(self, "compounds", tuple(self.compounds))
        n = travel.shape[0]
        for ids, what in ((self.truck_ids, "truck"), (self.compound_ids, "compound")):
            if len(set(ids)) != len(ids):
                raise ValueError(f"duplicate {what} ids")
        for truck in self.trucks:
            if not 0 <= truck.depot < n:
                raise ValueError(f"truck {truck.id}: depot {truck.depot} outside the travel matrix")
        known = set(self.compound_ids)
        for truck in self.trucks:
            for cid in truck.locked_route or ():
                if cid not in known:
                    raise ValueError(f"truck {truck.id}: locked route names unknown compound {cid}")
        for compound in self.compounds:
            if not 0 <= compound.location < n:
                raise ValueError(
                    f"compound {compound.id}: location {compound.location} outside the travel matrix"
                )

    @property
    def truck_ids(self) -> tuple[str, ...]:
        return tuple(t.id for t in self.trucks)

    @property
    def compound_ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.compounds)

    @property
    def categories(self) -> tuple[str, ...]:
        keys = {k for t in self.trucks for k in t.stock} | {k for c in self.compounds for k in c.demand}
        return tuple(sorted(keys))
