"""A planner's adjustments for the next solve of a day: pin a compound to a truck, forbid a
truck for a compound, lock a truck's route as it is.

Only the planner's own trucks and compounds their retailer supplies that day can be named; a
constraint that contradicts an active one is refused with the reason, so the solver never gets
an impossible request. The data layer's ``build_problem`` turns these rows into the engine's
``allowed_trucks`` and ``locked_route``.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Compound, ConstraintKind, Demand, PlanConstraint, Schedule, Truck


class NotOwned(LookupError):
    """The truck, compound or constraint is not the retailer's (treat as not found)."""


class ConstraintError(ValueError):
    """A constraint refused; ``reason`` is a short key the pages translate, ``values`` fill it."""

    def __init__(self, reason: str, message: str, **values):
        super().__init__(message)
        self.reason = reason
        self.values = values


def active_constraints(dbsession: Session, date: dt.date, retailer_id: int) -> list[PlanConstraint]:
    return list(
        dbsession.scalars(
            select(PlanConstraint)
            .join(Truck, PlanConstraint.truck_id == Truck.id)
            .where(PlanConstraint.date == date, Truck.retailer_id == retailer_id)
            .order_by(PlanConstraint.kind, Truck.code, PlanConstraint.id)
        )
    )


def own_truck(dbsession: Session, retailer_id: int, truck_id: int) -> Truck:
    truck = dbsession.get(Truck, truck_id)
    if truck is None or truck.retailer_id != retailer_id:
        raise NotOwned(f"truck {truck_id} is not one of this retailer's trucks")
    return truck


def supplied_compound(dbsession: Session, date: dt.date, retailer_id: int, compound_id: int) -> Compound:
    """A compound the retailer supplies on the date (it has demand for them)."""
    supplied = dbsession.scalar(
        select(Demand.id).where(
            Demand.date == date, Demand.retailer_id == retailer_id, Demand.compound_id == compound_id
        ).limit(1)
    )
    if supplied is None:
        raise NotOwned(f"compound {compound_id} has no demand for this retailer on {date}")
    return dbsession.get(Compound, compound_id)


def add_pin(dbsession: Session, date: dt.date, retailer_id: int, truck_id: int, compound_id: int) -> PlanConstraint:
    """The compound must be served by this truck."""
    truck = own_truck(dbsession, retailer_id, truck_id)
    compound = supplied_compound(dbsession, date, retailer_id, compound_id)
    for existing in _about_compound(dbsession, date, retailer_id, compound.id):
        if existing.kind == ConstraintKind.PIN:
            raise ConstraintError(
                "already_pinned", f"{compound.code} is already pinned to {existing.truck.code}",
                compound=compound.name, truck=existing.truck.code,
            )
        if existing.kind == ConstraintKind.FORBID and existing.truck_id == truck.id:
            raise ConstraintError(
                "pin_forbidden", f"{truck.code} is forbidden for {compound.code}",
                compound=compound.name, truck=truck.code,
            )
    for lock in _locks(dbsession, date, retailer_id):
        if lock.truck_id == truck.id and compound.code not in lock.locked_route:
            raise ConstraintError(
                "truck_locked", f"{truck.code}'s route is locked without {compound.code}",
                compound=compound.name, truck=truck.code,
            )
        if lock.truck_id != truck.id and compound.code in lock.locked_route:
            raise ConstraintError(
                "in_locked_route", f"{compound.code} is on {lock.truck.code}'s locked route",
                compound=compound.name, truck=lock.truck.code,
            )
    return _add(dbsession, date, ConstraintKind.PIN, truck, compound)


def add_forbid(dbsession: Session, date: dt.date, retailer_id: int, truck_id: int, compound_id: int) -> PlanConstraint:
    """The compound must not be served by this truck."""
    truck = own_truck(dbsession, retailer_id, truck_id)
    compound = supplied_compound(dbsession, date, retailer_id, compound_id)
    for existing in _about_compound(dbsession, date, retailer_id, compound.id):
        if existing.truck_id == truck.id and existing.kind == ConstraintKind.FORBID:
            raise ConstraintError(
                "duplicate", f"{truck.code} is already forbidden for {compound.code}",
                compound=compound.name, truck=truck.code,
            )
        if existing.truck_id == truck.id and existing.kind == ConstraintKind.PIN:
            raise ConstraintError(
                "forbid_pinned", f"{compound.code} is pinned to {truck.code}",
                compound=compound.name, truck=truck.code,
            )
    for lock in _locks(dbsession, date, retailer_id):
        if lock.truck_id == truck.id and compound.code in lock.locked_route:
            raise ConstraintError(
                "in_locked_route", f"{compound.code} is on {truck.code}'s locked route",
                compound=compound.name, truck=truck.code,
            )
    return _add(dbsession, date, ConstraintKind.FORBID, truck, compound)


def add_lock(
    dbsession: Session, date: dt.date, retailer_id: int, truck_id: int, schedule: Schedule | None
) -> PlanConstraint:
    """Keep the truck's route in ``schedule`` (the one the planner is looking at, None when the
    day is not solved yet) stop for stop."""
    truck = own_truck(dbsession, retailer_id, truck_id)
    if schedule is None:
        raise ConstraintError("no_route", f"{date} is not solved yet: {truck.code} has no route", truck=truck.code)
    if schedule.retailer_id != retailer_id or schedule.date != date:
        raise NotOwned(f"schedule {schedule.id} is not this retailer's plan for {date}")
    if any(lock.truck_id == truck.id for lock in _locks(dbsession, date, retailer_id)):
        raise ConstraintError("duplicate_lock", f"{truck.code}'s route is already locked", truck=truck.code)
    route = next((r for r in schedule.routes if r.truck_id == truck.id), None)
    if route is None or not route.stops:
        raise ConstraintError("no_route", f"{truck.code} has no route to lock", truck=truck.code)
    codes = [stop.compound.code for stop in route.stops]
    for existing in active_constraints(dbsession, date, retailer_id):
        if existing.compound is None or existing.compound.code not in codes:
            continue
        if existing.kind == ConstraintKind.FORBID and existing.truck_id == truck.id:
            raise ConstraintError(
                "lock_forbidden", f"{existing.compound.code} is forbidden for {truck.code}",
                compound=existing.compound.name, truck=truck.code,
            )
        if existing.kind == ConstraintKind.PIN and existing.truck_id != truck.id:
            raise ConstraintError(
                "lock_pinned_elsewhere", f"{existing.compound.code} is pinned to {existing.truck.code}",
                compound=existing.compound.name, truck=existing.truck.code,
            )
    constraint = PlanConstraint(date=date, kind=ConstraintKind.LOCK, truck=truck, locked_route=codes)
    dbsession.add(constraint)
    dbsession.flush()
    return constraint


def add_constraint(
    dbsession: Session, date: dt.date, retailer_id: int, kind: str, truck_code: str,
    compound_code: str | None, schedule: Schedule | None,
) -> PlanConstraint:
    """The one way the page and the API add a constraint: ``truck_code`` and ``compound_code``
    are the CSV ids (``truck_id``, ``compound_id``); a lock keeps the truck's route in
    ``schedule``, the day's latest. An unknown code is refused like another retailer's."""
    truck_id = dbsession.scalar(select(Truck.id).where(Truck.code == truck_code))
    if truck_id is None:
        raise NotOwned(f"no truck {truck_code}")
    if kind == ConstraintKind.LOCK:
        return add_lock(dbsession, date, retailer_id, truck_id, schedule)
    if kind not in (ConstraintKind.PIN, ConstraintKind.FORBID):
        raise ValueError(f"unknown constraint kind {kind!r}: use pin, forbid or lock")
    compound_id = dbsession.scalar(select(Compound.id).where(Compound.code == compound_code))
    if compound_id is None:
        raise NotOwned(f"no compound {compound_code}")
    add = add_pin if kind == ConstraintKind.PIN else add_forbid
    return add(dbsession, date, retailer_id, truck_id, compound_id)


def remove_constraint(dbsession: Session, date: dt.date, retailer_id: int, constraint_id: int) -> None:
    constraint = dbsession.get(PlanConstraint, constraint_id)
    if constraint is None or constraint.date != date or constraint.truck.retailer_id != retailer_id:
        raise NotOwned(f"constraint {constraint_id} is not this retailer's for {date}")
    dbsession.delete(constraint)
    dbsession.flush()


def _about_compound(dbsession, date, retailer_id, compound_id) -> list[PlanConstraint]:
    return [c for c in active_constraints(dbsession, date, retailer_id) if c.compound_id == compound_id]


def _locks(dbsession, date, retailer_id) -> list[PlanConstraint]:
    return [c for c in active_constraints(dbsession, date, retailer_id) if c.kind == ConstraintKind.LOCK]


def _add(dbsession, date, kind, truck, compound) -> PlanConstraint:
    constraint = PlanConstraint(date=date, kind=kind, truck=truck, compound=compound)
    dbsession.add(constraint)
    dbsession.flush()
    return constraint
