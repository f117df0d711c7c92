"""The engine's output: routes, unserved compounds with reasons, and how the search went."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType


class UnservedReason(StrEnum):
    """Why a compound with demand gets no stop; each is something a planner can act on."""

    UNREACHABLE = "unreachable"  # no truck can reach it inside its window and shift
    NO_STOCK = "no_stock"  # no truck carries anything it asked for
    FLEET_FULL = "fleet_full"  # trucks' stop limits and shifts are used up by other stops
    NOT_ALLOWED = "not_allowed"  # the planner forbade every truck that could serve it
    REFUSED = "refused"  # the compound's committee said it cannot receive today


@dataclass(frozen=True)
class Visit:
    compound_id: str
    arrival: float  # when the truck gets there (it waits if early)
    start: float  # service start, within the compound's [ready, due]
    departure: float  # start + service
    deliveries: Mapping[str, int] = field(default_factory=dict)
    #: delivered / demanded per category, 1.0 when fully served
    fill: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "deliveries", MappingProxyType(dict(self.deliveries)))
        object.__setattr__(self, "fill", MappingProxyType(dict(self.fill)))


@dataclass(frozen=True)
class Route:
    truck_id: str
    depart: float  # leaves the depot
    back: float  # returns to the depot
    visits: tuple[Visit, ...]
    travel_minutes: float


@dataclass(frozen=True)
class Unserved:
    compound_id: str
    reason: UnservedReason


@dataclass(frozen=True)
class Result:
    routes: tuple[Route, ...]
    unserved: tuple[Unserved, ...]
    travel_minutes: float
    seconds: float
    iterations: int
    seed: int
    #: "optimal" only when a solver proved it; otherwise "feasible"
    status: str = "feasible"

    @property
    def served_ids(self) -> tuple[str, ...]:
        return tuple(v.compound_id for r in self.routes for v in r.visits)
