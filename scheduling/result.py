"""The engine's output: routes, unserved compounds with reasons, and how the search went."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .problem import Problem

#: slack for float rounding when comparing minutes
TIME_TOLERANCE = 1e-6


class InvalidResult(ValueError):
    """A result that breaks the problem's rules; the message lists every violation."""

    def __init__(self, violations: list[str]) -> None:
        super().__init__("invalid result:\n" + "\n".join(f"- {v}" for v in violations))
        self.violations = violations


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

    def check(self, problem: Problem) -> None:
        """Raises InvalidResult listing every broken rule; returns None when all hold."""
        violations = _violations(self, problem)
        if violations:
            raise InvalidResult(violations)


def _violations(result: Result, problem: Problem) -> list[str]:
    tol = TIME_TOLERANCE
    travel = problem.travel
    trucks = {t.id: t for t in problem.trucks}
    compounds = {c.id: c for c in problem.compounds}
    bad: list[str] = []
    seen: dict[str, str] = {}
    used_trucks: set[str] = set()
    total = 0.0
    for route in result.routes:
        truck = trucks.get(route.truck_id)
        if truck is None:
            bad.append(f"route for unknown truck {route.truck_id}")
            continue
        if route.truck_id in used_trucks:
            bad.append(f"truck {truck.id} has more than one route")
        used_trucks.add(truck.id)
        if route.depart < truck.shift_start - tol:
            bad.append(f"truck {truck.id} leaves at {route.depart:.1f}, before its shift starts")
        if len(route.visits) > truck.max_stops:
            bad.append(f"truck {truck.id} makes {len(route.visits)} stops, more than {truck.max_stops}")
        ids = tuple(v.compound_id for v in route.visits)
        if truck.locked_route is not None and ids != tuple(truck.locked_route):
            bad.append(f"truck {truck.id} does not follow its locked route")
        here, clock, minutes = truck.depot, route.depart, 0.0
        delivered: dict[str, int] = {}
        demanded: dict[str, int] = {}
        for visit in route.visits:
            compound = compounds.get(visit.compound_id)
            if compound is None:
                bad.append(f"truck {truck.id} visits unknown compound {visit.compound_id}")
                continue
            where = f"truck {truck.id} at {compound.id}"
            if compound.id in seen:
                bad.append(f"{compound.id} is visited twice ({seen[compound.id]}, {truck.id})")
            seen[compound.id] = truck.id
            if compound.allowed_trucks is not None and truck.id not in compound.allowed_trucks:
                bad.append(f"{where}: truck not allowed there")
            leg = float(travel[here, compound.location])
            minutes += leg
            if abs(visit.arrival - (clock + leg)) > tol:
                bad.append(f"{where}: arrival {visit.arrival:.2f} should be {clock + leg:.2f}")
            if abs(visit.start - max(visit.arrival, compound.ready)) > tol:
                bad.append(f"{where}: service start {visit.start:.2f} is not max(arrival, ready)")
            if visit.start < compound.ready - tol or visit.start > compound.due + tol:
                bad.append(f"{where}: service starts at {visit.start:.2f}, outside [{compound.ready}, {compound.due}]")
            if abs(visit.departure - (visit.start + compound.service)) > tol:
                bad.append(f"{where}: departure is not start + service")
            for category, quantity in visit.deliveries.items():
                asked = compound.demand.get(category, 0)
                if not isinstance(quantity, int) or quantity < 0:
                    bad.append(f"{where}: delivery of {category} is not a whole non-negative number")
                elif quantity > asked:
                    bad.append(f"{where}: delivers {quantity} {category}, more than the {asked} asked")
                delivered[category] = delivered.get(category, 0) + quantity
                if asked > 0:
                    fill = visit.fill.get(category)
                    if fill is None or abs(fill - quantity / asked) > 1e-9:
                        bad.append(f"{where}: fill of {category} does not match its delivery")
            for category, quantity in compound.demand.items():
                demanded[category] = demanded.get(category, 0) + quantity
            clock, here = visit.departure, compound.location
        leg = float(travel[here, truck.depot])
        minutes += leg
        if abs(route.back - (clock + leg)) > tol:
            bad.append(f"truck {truck.id}: back at {route.back:.2f}, should be {clock + leg:.2f}")
        if route.back > truck.shift_end + tol:
            bad.append(f"truck {truck.id}: back at {route.back:.1f}, after its shift ends ({truck.shift_end})")
        if abs(route.travel_minutes - minutes) > 1e-6 * max(1.0, minutes):
            bad.append(f"truck {truck.id}: travel {route.travel_minutes:.2f} should be {minutes:.2f}")
        total += minutes
        for category, quantity in delivered.items():
            if quantity > truck.stock.get(category, 0):
                bad.append(f"truck {truck.id} delivers {quantity} {category}, more than its load")
        if problem.load_limits_routes:
            for category, quantity in demanded.items():
                if quantity > truck.stock.get(category, 0):
                    bad.append(f"truck {truck.id}: route needs {quantity} {category}, more than its load")
    for truck in problem.trucks:
        if truck.locked_route and truck.id not in used_trucks:
            bad.append(f"truck {truck.id} has a locked route but no route in the result")
    for entry in result.unserved:
        if entry.compound_id not in compounds:
            bad.append(f"unserved lists unknown compound {entry.compound_id}")
        elif entry.compound_id in seen:
            bad.append(f"{entry.compound_id} is both visited and unserved")
        seen.setdefault(entry.compound_id, "unserved")
    unserved_ids = [entry.compound_id for entry in result.unserved]
    if len(set(unserved_ids)) != len(unserved_ids):
        bad.append("a compound is listed as unserved twice")
    missing = [cid for cid in compounds if cid not in seen]
    if missing:
        bad.append(f"compounds neither visited nor unserved: {', '.join(missing)}")
    if abs(result.travel_minutes - total) > 1e-6 * max(1.0, total):
        bad.append(f"total travel {result.travel_minutes:.2f} should be {total:.2f}")
    return bad
