"""Between the database and the engine: a (date, retailer) day as a ``scheduling.Problem`` and
the engine's ``Result`` stored as a ``Schedule`` with the facts it was solved on.

The engine works in minutes after midnight with string ids; the database in local date-times
and integer keys. Everything that converts between the two lives here.
"""
from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from scheduling import Compound as EngineCompound
from scheduling import Problem, Result, Truck as EngineTruck, Unserved, UnservedReason
from scheduling.travel import GreatCircleTravel, MatrixTravel

from .constraints import active_constraints
from .week import carried_priority, missed_in_a_row
from .models import (
    CommitteeReport,
    Compound,
    CompoundFacts,
    ConstraintKind,
    Demand,
    ImportBatch,
    Retailer,
    Schedule,
    ScheduleRoute,
    ScheduleStop,
    ScheduleUnserved,
    Stock,
    TravelTime,
    Truck,
    TruckFacts,
)


@dataclass(frozen=True)
class PlanningSettings:
    """The ini's ``scheduling.*`` keys, parsed once."""

    solver: str = "highs"
    time_limit: float = 20.0
    seed: int = 0
    road_factor: float = 1.3
    speed_kmh: float = 25.0
    service_base_minutes: float = 10.0
    service_minutes_per_100_households: float = 1.0
    max_stops_default: int = 30

    @classmethod
    def from_settings(cls, settings: Mapping[str, str]) -> PlanningSettings:
        def get(key, convert, default):
            value = settings.get(f"scheduling.{key}")
            return default if value in (None, "") else convert(value)

        return cls(
            solver=get("solver", str, cls.solver),
            time_limit=get("time_limit_seconds", float, cls.time_limit),
            seed=get("seed", int, cls.seed),
            road_factor=get("road_factor", float, cls.road_factor),
            speed_kmh=get("speed_kmh", float, cls.speed_kmh),
            service_base_minutes=get("service_base_minutes", float, cls.service_base_minutes),
            service_minutes_per_100_households=get(
                "service_minutes_per_100_households", float, cls.service_minutes_per_100_households),
            max_stops_default=get("max_stops_default", int, cls.max_stops_default),
        )

    def service_minutes(self, compound: Compound) -> float:
        """The compound's own service time, else base + per 100 households (rounded up)."""
        if compound.service_minutes is not None:
            return float(compound.service_minutes)
        return self.service_base_minutes + self.service_minutes_per_100_households * math.ceil(
            compound.households / 100)


@dataclass(frozen=True)
class DayProblem:
    """A retailer's day for the engine, and what was settled before the engine ran."""

    date: dt.date
    retailer_id: int | None  # None: every retailer's trucks and demand (the district's day)
    problem: Problem
    #: compounds that never reach the engine (refused by their committee, window too short)
    settled: tuple[Unserved, ...]
    truck_ids: Mapping[str, int]  # truck code -> Truck.id
    compound_ids: Mapping[str, int]  # compound code -> Compound.id
    #: the facts the schedule keeps, read when the problem was built (not when the solve ends)
    trucks: Mapping[str, TruckFacts]  # by code, every loaded truck
    compounds: Mapping[str, CompoundFacts]  # by code
    demand: Mapping[str, Mapping[str, int]]  # compound code -> category -> quantity
    import_id: int | None  # the latest import of the day the problem saw

    @property
    def compound_count(self) -> int:
        return len(self.problem.compounds) + len(self.settled)


def local_time(date: dt.date, minutes: float) -> dt.datetime:
    """Minutes after midnight of ``date`` as a naive local date-time, to the second."""
    return dt.datetime.combine(date, dt.time()) + dt.timedelta(seconds=round(minutes * 60))


def loaded_trucks(dbsession: Session, date: dt.date, retailer_id: int | None) -> list[Truck]:
    """The retailer's trucks loaded for the date (they have stock): those a solve of the day uses;
    every retailer's when ``retailer_id`` is None."""
    query = select(Truck).where(Truck.id.in_(select(Stock.truck_id).where(Stock.date == date)))
    if retailer_id is not None:
        query = query.where(Truck.retailer_id == retailer_id)
    return list(dbsession.scalars(query.order_by(Truck.code)))


def build_problem(dbsession: Session, date: dt.date, retailer_id: int | None, settings: PlanningSettings) -> DayProblem:
    """The engine's Problem for the retailer's trucks loaded on ``date`` and the compounds whose
    demand that day the retailer supplies, with the planner's constraints and the committees'
    refusals applied, and the days each compound went unserved right before weighing in its
    priority (``trucks.week``). Each truck has its own depot location (travel ids are truck codes).
    With ``retailer_id`` None: the district's day, every retailer's trucks and every compound."""
    trucks = loaded_trucks(dbsession, date, retailer_id)
    stock: dict[int, dict[str, int]] = defaultdict(dict)
    for truck_id, key, quantity in dbsession.execute(
        select(Stock.truck_id, Stock.category_key, Stock.quantity)
        .where(Stock.date == date, Stock.truck_id.in_([t.id for t in trucks]))
    ):
        stock[truck_id][key] = quantity
    demand: dict[int, dict[str, int]] = defaultdict(dict)
    for compound_id, key, quantity in dbsession.execute(
        select(Demand.compound_id, Demand.category_key, Demand.quantity)
        .where(Demand.date == date, *([Demand.retailer_id == retailer_id] if retailer_id is not None else []))
    ):
        demand[compound_id][key] = quantity
    compounds = list(dbsession.scalars(
        select(Compound).where(Compound.id.in_(demand)).order_by(Compound.code)))
    refused = set(dbsession.scalars(
        select(CommitteeReport.compound_id).where(
            CommitteeReport.date == date, CommitteeReport.compound_id.in_(demand), CommitteeReport.counting())))

    settled: list[Unserved] = []
    windows: dict[str, tuple[float, float, float]] = {}
    for compound in compounds:
        service = settings.service_minutes(compound)
        if compound.id in refused:
            settled.append(Unserved(compound.code, UnservedReason.REFUSED))
        elif compound.window_end - service < compound.window_start:
            settled.append(Unserved(compound.code, UnservedReason.UNREACHABLE))
        else:
            windows[compound.code] = (compound.window_start, compound.window_end - service, service)
    routed = [c for c in compounds if c.code in windows]

    truck_codes = [t.code for t in trucks]
    allowed: dict[str, set[str]] = {}
    locked: dict[str, tuple[str, ...]] = {}
    retailer_ids = {t.retailer_id for t in trucks} if retailer_id is None else {retailer_id}
    for constraint in (c for r in sorted(retailer_ids) for c in active_constraints(dbsession, date, r)):
        if constraint.kind == ConstraintKind.LOCK:
            locked[constraint.truck.code] = tuple(
                code for code in constraint.locked_route or () if code in windows)
            continue
        if constraint.compound is None:
            continue
        code = constraint.compound.code
        if constraint.kind == ConstraintKind.PIN:
            allowed[code] = allowed.get(code, set(truck_codes)) & {constraint.truck.code}
        elif constraint.kind == ConstraintKind.FORBID:
            allowed[code] = allowed.get(code, set(truck_codes)) - {constraint.truck.code}

    missed = missed_in_a_row(dbsession, date)  # yesterday's unserved weigh more today, at any retailer
    ids = truck_codes + [c.code for c in routed]
    lats = [t.depot_lat for t in trucks] + [c.lat for c in routed]
    lons = [t.depot_lon for t in trucks] + [c.lon for c in routed]
    problem = Problem(
        trucks=tuple(
            EngineTruck(
                id=t.code, depot=i, shift_start=t.shift_start, shift_end=t.shift_end,
                max_stops=t.max_stops, stock=stock[t.id], locked_route=locked.get(t.code))
            for i, t in enumerate(trucks)),
        compounds=tuple(
            EngineCompound(
                id=c.code, location=len(trucks) + i, ready=windows[c.code][0], due=windows[c.code][1],
                service=windows[c.code][2], priority=carried_priority(c.priority, missed.get(c.id, 0)),
                demand=demand[c.id],
                allowed_trucks=frozenset(allowed[c.code]) if c.code in allowed else None)
            for i, c in enumerate(routed)),
        travel=travel_model(dbsession, date, ids, settings).minutes(lats, lons, ids),
    )
    return DayProblem(
        date=date,
        retailer_id=retailer_id,
        problem=problem,
        settled=tuple(settled),
        truck_ids={t.code: t.id for t in trucks},
        compound_ids={c.code: c.id for c in compounds},
        trucks={t.code: TruckFacts.of(t) for t in trucks},
        compounds={c.code: CompoundFacts.of(c) for c in compounds},
        demand={c.code: dict(demand[c.id]) for c in compounds},
        import_id=latest_import_id(dbsession, date, retailer_id),
    )


def latest_import_id(dbsession: Session, date: dt.date, retailer_id: int) -> int | None:
    """The newest import of the date that may have changed the retailer's day (its own part, or
    an import of the whole day)."""
    return dbsession.scalar(
        select(func.max(ImportBatch.id)).where(
            ImportBatch.date == date,
            or_(ImportBatch.retailer_id == retailer_id, ImportBatch.retailer_id.is_(None))))


def is_stale(dbsession: Session, schedule: Schedule) -> bool:
    """True when an import of the schedule's day came after the data its solve read."""
    latest = latest_import_id(dbsession, schedule.date, schedule.retailer_id)
    return latest is not None and latest != schedule.import_id


def travel_model(dbsession: Session, date: dt.date, ids: list[str], settings: PlanningSettings):
    """Great-circle travel, overridden by the matrix imported for the date where it has entries."""
    default = GreatCircleTravel(road_factor=settings.road_factor, speed_kmh=settings.speed_kmh)
    entries = {
        (origin, destination): minutes
        for origin, destination, minutes in dbsession.execute(
            select(TravelTime.from_code, TravelTime.to_code, TravelTime.minutes).where(
                TravelTime.date == date, TravelTime.from_code.in_(ids), TravelTime.to_code.in_(ids)))
    }
    return MatrixTravel(entries, fallback=default) if entries else default


def store_schedule(dbsession: Session, day: DayProblem, result: Result, params: Mapping | None = None) -> Schedule:
    """Writes the engine's answer (and the compounds settled before it) as a new Schedule."""
    routed = {route.truck_id for route in result.routes}
    loads = {truck.id: dict(truck.stock) for truck in day.problem.trucks}
    stock: dict[str, int] = defaultdict(int)
    for truck in day.problem.trucks:
        for key, quantity in truck.stock.items():
            stock[key] += quantity
    schedule = Schedule(
        date=day.date,
        retailer_id=day.retailer_id,
        travel_minutes=result.travel_minutes,
        seconds=result.seconds,
        seed=result.seed,
        status=result.status,
        params=dict(params or {}, iterations=result.iterations),
        facts={
            "stock": dict(stock),
            "idle_trucks": [t.record() for code, t in sorted(day.trucks.items()) if code not in routed],
            "import_id": day.import_id,
        },
    )

    def solved_compound(code: str) -> dict:
        return {"compound": day.compounds[code].record(), "demand": dict(day.demand[code])}

    for route in result.routes:
        schedule.routes.append(ScheduleRoute(
            truck_id=day.truck_ids[route.truck_id],
            facts={"truck": day.trucks[route.truck_id].record(), "load": loads.get(route.truck_id, {})},
            depart=local_time(day.date, route.depart),
            back=local_time(day.date, route.back),
            travel_minutes=route.travel_minutes,
            stops=[
                ScheduleStop(
                    seq=seq,
                    compound_id=day.compound_ids[visit.compound_id],
                    arrival=local_time(day.date, visit.arrival),
                    start=local_time(day.date, visit.start),
                    departure=local_time(day.date, visit.departure),
                    deliveries=dict(visit.deliveries),
                    fill=dict(visit.fill),
                    facts=solved_compound(visit.compound_id),
                )
                for seq, visit in enumerate(route.visits, 1)
            ],
        ))
    for unserved in day.settled + result.unserved:
        schedule.unserved.append(
            ScheduleUnserved(compound_id=day.compound_ids[unserved.compound_id], reason=str(unserved.reason),
                             facts=solved_compound(unserved.compound_id)))
    dbsession.add(schedule)
    dbsession.flush()
    return schedule


# ---------------------------------------------------------------------------------------------
# Queries


def load_schedule(dbsession: Session, schedule_id: int) -> Schedule | None:
    """The schedule with its routes, stops and unserved in a few queries."""
    return dbsession.scalars(
        select(Schedule).where(Schedule.id == schedule_id).options(
            selectinload(Schedule.routes).selectinload(ScheduleRoute.stops),
            selectinload(Schedule.unserved),
        )
    ).first()


def latest_schedule(dbsession: Session, date: dt.date, retailer_id: int) -> Schedule | None:
    return dbsession.scalars(
        select(Schedule).where(Schedule.date == date, Schedule.retailer_id == retailer_id)
        .order_by(Schedule.id.desc()).limit(1)
    ).first()


def retailers_with_demand(dbsession: Session, date: dt.date) -> list[Retailer]:
    return list(dbsession.scalars(
        select(Retailer).where(Retailer.id.in_(select(Demand.retailer_id).where(Demand.date == date)))
        .order_by(Retailer.name)))


def retailers_with_schedules(dbsession: Session, date: dt.date) -> list[Retailer]:
    return list(dbsession.scalars(
        select(Retailer).where(Retailer.id.in_(select(Schedule.retailer_id).where(Schedule.date == date)))
        .order_by(Retailer.name)))


def retailer_by_name(dbsession: Session, name: str) -> Retailer | None:
    return dbsession.scalar(select(Retailer).where(Retailer.name == name))
