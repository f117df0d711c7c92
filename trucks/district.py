"""The district's day: which retailer supplies which compound, and every retailer solved at once.

The coordinator's assignment is proposed by the assignment LP (``scheduling.assignment``) over
the day's compounds and every retailer's loaded trucks, pinned compound by compound, and
confirmed: confirming moves the day's demand rows to the assigned retailers, so each planner
then plans the compounds it was given. Until then the import's rule stands (a compound's demand
goes to the retailer of its nearest depot).

A district solve gives the engine every retailer's trucks at once, so the assignment is chosen
jointly with the routes: a compound goes to whichever retailer's truck serves it (its goods come
from that truck's load). Each retailer's part is then stored as that retailer's schedule, its
planner sees, adjusts and publishes it as usual, and the demand rows follow the trucks.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from scheduling import Result, solve_day
from scheduling.assignment import Assignment, assign

from .db import in_transaction
from .models import (
    Compound,
    Demand,
    DistrictAssignment,
    Retailer,
    Schedule,
    SolveRun,
    SolveStatus,
    Stock,
    Truck,
    utcnow,
)
from .services import (
    DayProblem,
    PlanningSettings,
    build_problem,
    latest_import_id,
    latest_schedule,
    load_schedule,
    loaded_trucks,
    retailers_with_demand,
    store_schedule,
)
from .solving import (
    DEAD_AFTER_SECONDS,
    NothingToSolve,
    RunWatch,
    claim_run,
    dead_after,
    start_solve_run,
    this_worker,
    worker_name,
)
from .tasks import task
from .week import short_categories

log = logging.getLogger("foodtrucks.district")


class DistrictError(ValueError):
    """A change to the district's assignment that cannot be made; the message says why."""


# ---------------------------------------------------------------------------------------------
# The assignment: propose, pin, confirm


def demand_retailers(dbsession: Session, date: dt.date) -> dict[int, int]:
    """compound id -> the retailer its demand of the date goes to now."""
    return dict(dbsession.execute(
        select(Demand.compound_id, Demand.retailer_id).where(Demand.date == date).distinct()).all())


def assignment_rows(dbsession: Session, date: dt.date) -> list[DistrictAssignment]:
    return list(dbsession.scalars(
        select(DistrictAssignment).join(Compound, Compound.id == DistrictAssignment.compound_id)
        .where(DistrictAssignment.date == date).order_by(Compound.code)))


def is_confirmed(rows: Sequence[DistrictAssignment]) -> bool:
    """True when the day has an assignment and all of it is confirmed."""
    return bool(rows) and all(row.confirmed_at is not None for row in rows)


def _truck_owners(dbsession: Session, day: DayProblem) -> dict[str, str]:
    """truck code -> its retailer's id as text (the assignment LP names retailers by text)."""
    return {code: str(retailer_id) for code, retailer_id in dbsession.execute(
        select(Truck.code, Truck.retailer_id).where(Truck.id.in_(list(day.truck_ids.values()))))}


def propose_assignment(dbsession: Session, date: dt.date, settings: PlanningSettings) -> Assignment:
    """Runs the assignment LP for the day and stores it as the (unconfirmed) proposal; pinned
    compounds keep their retailer, and yesterday's retailers are kept where nothing is gained."""
    day = build_problem(dbsession, date, None, settings)
    if not day.truck_ids:
        raise DistrictError(f"no loaded truck on {date}: import the fleets' stock first")
    rows = {row.compound_id: row for row in assignment_rows(dbsession, date)}
    code_of = {compound_id: code for code, compound_id in day.compound_ids.items()}
    pins = {code_of[c]: str(row.retailer_id) for c, row in rows.items() if row.pinned and c in code_of}
    yesterday = demand_retailers(dbsession, date - dt.timedelta(days=1))
    previous = {code: str(yesterday[c]) for code, c in day.compound_ids.items() if c in yesterday}
    assignment = assign(day.problem, _truck_owners(dbsession, day), pins=pins, previous=previous,
                        time_limit=settings.time_limit, lp_solver=settings.solver)
    current = demand_retailers(dbsession, date)
    now = utcnow()
    for code, compound_id in day.compound_ids.items():
        # compounds settled before the engine (refused, window too short) keep their retailer
        retailer_id = int(assignment.retailer_of[code]) if code in assignment.retailer_of else current[compound_id]
        row = rows.pop(compound_id, None)
        if row is None:
            dbsession.add(DistrictAssignment(date=date, compound_id=compound_id, retailer_id=retailer_id,
                                             pinned=False, proposed_at=now, confirmed_by=""))
        else:
            row.retailer_id, row.proposed_at, row.confirmed_at, row.confirmed_by = retailer_id, now, None, ""
    for stale in rows.values():  # compounds without demand that day any more
        dbsession.delete(stale)
    dbsession.flush()
    return assignment


def pin_compound(dbsession: Session, date: dt.date, compound_id: int, retailer_id: int | None) -> DistrictAssignment:
    """Pins the compound to the retailer for the day's next proposal (``None`` unpins it);
    the day's assignment then awaits confirmation again."""
    if compound_id not in demand_retailers(dbsession, date):
        raise DistrictError(f"compound {compound_id} has no demand on {date}")
    row = dbsession.scalar(select(DistrictAssignment).where(
        DistrictAssignment.date == date, DistrictAssignment.compound_id == compound_id))
    if retailer_id is not None and dbsession.get(Retailer, retailer_id) is None:
        raise DistrictError(f"no retailer {retailer_id}")
    if row is None:
        if retailer_id is None:
            raise DistrictError(f"compound {compound_id} is not pinned on {date}")
        row = DistrictAssignment(date=date, compound_id=compound_id, retailer_id=retailer_id, confirmed_by="")
        dbsession.add(row)
    if retailer_id is not None:
        row.retailer_id = retailer_id
    row.pinned = retailer_id is not None
    row.proposed_at = utcnow()
    dbsession.execute(update(DistrictAssignment).where(DistrictAssignment.date == date)
                      .values(confirmed_at=None, confirmed_by=""))
    dbsession.flush()
    return row


def confirm_assignment(dbsession: Session, date: dt.date, user: str) -> int:
    """Confirms the day's assignment: each compound's demand rows of the day go to its assigned
    retailer. Returns how many compounds changed retailer."""
    rows = assignment_rows(dbsession, date)
    if not rows:
        raise DistrictError(f"no assignment proposed for {date}")
    unassigned = set(demand_retailers(dbsession, date)) - {row.compound_id for row in rows}
    if unassigned:
        raise DistrictError(f"{len(unassigned)} compounds with demand on {date} have no assigned retailer: "
                            "propose again")
    moved = _move_demand(dbsession, date, {row.compound_id: row.retailer_id for row in rows})
    now = utcnow()
    for row in rows:
        row.confirmed_at, row.confirmed_by = now, user
    dbsession.flush()
    return moved


def _move_demand(dbsession: Session, date: dt.date, retailer_of: Mapping[int, int]) -> int:
    """Moves the day's demand rows of each compound to its retailer; returns how many moved."""
    current = demand_retailers(dbsession, date)
    changed: dict[int, list[int]] = defaultdict(list)
    for compound_id, retailer_id in retailer_of.items():
        if current.get(compound_id, retailer_id) != retailer_id:
            changed[retailer_id].append(compound_id)
    for retailer_id, compound_ids in changed.items():
        dbsession.execute(update(Demand).where(Demand.date == date, Demand.compound_id.in_(compound_ids))
                          .values(retailer_id=retailer_id))
    return sum(len(ids) for ids in changed.values())


# ---------------------------------------------------------------------------------------------
# The district solve


def district_retailers(dbsession: Session, date: dt.date) -> list[Retailer]:
    """The retailers a district solve of the date plans: those with a loaded truck."""
    ids = {truck.retailer_id for truck in loaded_trucks(dbsession, date, None)}
    return list(dbsession.scalars(select(Retailer).where(Retailer.id.in_(ids)).order_by(Retailer.name)))


def start_district_solve(dbsession: Session, date: dt.date, user: str = "", *,
                         time_limit: float = PlanningSettings.time_limit,
                         dead_after_seconds: float = DEAD_AFTER_SECONDS) -> list[SolveRun]:
    """Records one queued run per retailer with loaded trucks (each planner's page follows its
    own), or refuses while any of them has a run alive."""
    retailers = district_retailers(dbsession, date)
    if not retailers or not retailers_with_demand(dbsession, date):
        raise NothingToSolve(f"nothing to solve on {date}: " + ("no loaded truck" if not retailers else "no demand"))
    return [start_solve_run(dbsession, date, r.id, user, time_limit=time_limit, district=True,
                            dead_after_seconds=dead_after_seconds) for r in retailers]


def start_district_day_solve(request, date: dt.date, user: str) -> list[SolveRun]:
    """The page's and the API's start of a district solve: the retailers' queued runs with the
    ini's time limit, sent to the workers as one task once the request commits."""
    settings = request.registry.settings
    runs = start_district_solve(request.dbsession, date, user,
                                time_limit=PlanningSettings.from_settings(settings).time_limit,
                                dead_after_seconds=dead_after(settings))
    request.task(solve_district_runs).delay([run.id for run in runs])
    return runs


@task()
def solve_district_runs(request, run_ids: list[int]) -> None:
    """Solves a district's runs together on a worker; runs not queued (or abandoned) are left
    alone. A run whose worker died is recovered like any run: solved again as its retailer's."""
    registry = request.registry
    execute_district_solve(registry["dbsession_factory"], run_ids, registry.settings, worker=this_worker(),
                           dead_after_seconds=dead_after(registry.settings))


@dataclass(frozen=True)
class RetailerPart:
    """One retailer's share of a district solve."""

    day: DayProblem
    result: Result


def execute_district_solve(
    session_factory: sessionmaker,
    run_ids: Sequence[int],
    settings: Mapping[str, str] | PlanningSettings,
    *,
    worker: str | None = None,
    dead_after_seconds: float = DEAD_AFTER_SECONDS,
) -> dict[int, int] | None:
    """Claims the runs, solves their day with every retailer's trucks in one engine problem,
    then stores each retailer's part as its schedule; returns {retailer id: schedule id}, or
    None when a run was not ours, was cancelled, or failed (the error is then the runs'
    message). The same shape as ``execute_solve_run``: it raises nothing, so it may be a
    thread's target (or a task)."""
    planning = settings if isinstance(settings, PlanningSettings) else PlanningSettings.from_settings(settings)
    started = time.monotonic()
    worker = worker or worker_name()
    claims = [claim_run(session_factory, run_id, worker, dead_after_seconds) for run_id in run_ids]
    if not claims or any(claim is None for claim in claims) or len({c.date for c in claims}) != 1:
        _end_runs(session_factory, [c.run_id for c in claims if c is not None], worker,
                  SolveStatus.FAILED, "the district's runs could not all be claimed")
        return None
    date, run_of = claims[0].date, {claim.retailer_id: claim.run_id for claim in claims}
    try:
        with ExitStack() as stack:
            watches = [stack.enter_context(RunWatch(session_factory, claim)) for claim in claims]

            def progress(fraction: float, message: str) -> None:
                for watch in watches:
                    watch.progress(fraction, message)

            with session_factory() as session:
                user = session.get(SolveRun, claims[0].run_id).created_by
                day = _district_problem(session, date, planning)
                owners = {code: int(r) for code, r in _truck_owners(session, day).items()}
                current = demand_retailers(session, date)
                # each retailer's schedule names the latest import of its day the problem saw
                imports = {r: latest_import_id(session, date, r) for r in run_of}
            left = planning.time_limit - (time.monotonic() - started)
            result = solve_day(day.problem, time_limit=max(1.0, left), seed=planning.seed,
                               lp_solver=planning.solver, progress=progress,
                               stop=lambda: any(watch.lost.is_set() for watch in watches))
        if any(watch.lost.is_set() for watch in watches):
            _end_runs(session_factory, list(run_of.values()), worker, SolveStatus.CANCELLED, "cancelled")
            return None
        parts = split_result(day, result, owners, current, sorted(run_of))

        def store(session: Session) -> dict[int, int]:
            _record_assignment(session, date, parts, user=user)
            schedules = {}
            for retailer_id, part in parts.items():
                part = replace(part, day=replace(part.day, import_id=imports[retailer_id]))
                schedules[retailer_id] = _store(session, part, run_of[retailer_id], planning).id
            return schedules

        return in_transaction(session_factory, store)
    except Exception as exc:  # every run must end visibly failed whatever went wrong
        log.exception("district solve runs %s failed", list(run_ids))
        _end_runs(session_factory, list(run_of.values()), worker, SolveStatus.FAILED,
                  f"{type(exc).__name__}: {exc}"[:2000])
        return None


def _end_runs(session_factory: sessionmaker, run_ids: list[int], worker: str, status: str, message: str) -> None:
    """Ends the runs this worker still holds, with the reason as their message."""
    try:
        in_transaction(session_factory, lambda session: session.execute(update(SolveRun).where(
            SolveRun.id.in_(run_ids), SolveRun.worker == worker, SolveRun.status == SolveStatus.RUNNING,
        ).values(status=status, finished_at=utcnow(), message=message, **(
            {"progress_key": "failed", "progress_params": {"error": message[:500]}}
            if status == SolveStatus.FAILED else {"progress_key": "cancelled", "progress_params": {"by": ""}}))))
    except Exception:
        log.exception("could not end the district's solve runs %s", run_ids)


def _district_problem(dbsession: Session, date: dt.date, planning: PlanningSettings) -> DayProblem:
    """The day with every retailer's trucks; a compound the coordinator pinned to a retailer may
    only go on that retailer's trucks."""
    day = build_problem(dbsession, date, None, planning)
    pinned = {row.compound_id: row.retailer_id for row in assignment_rows(dbsession, date) if row.pinned}
    if not pinned:
        return day
    owners = _truck_owners(dbsession, day)
    compounds = []
    for compound in day.problem.compounds:
        retailer_id = pinned.get(day.compound_ids[compound.id])
        if retailer_id is not None:
            own = {code for code, r in owners.items() if r == str(retailer_id)}
            allowed = own if compound.allowed_trucks is None else own & compound.allowed_trucks
            compound = replace(compound, allowed_trucks=frozenset(allowed))
        compounds.append(compound)
    return replace(day, problem=replace(day.problem, compounds=tuple(compounds)))


def split_result(day: DayProblem, result: Result, owners: Mapping[str, int], current: Mapping[int, int],
                 retailer_ids: Sequence[int]) -> dict[int, RetailerPart]:
    """Each retailer's part of a district answer: the routes of its trucks, and the unserved
    compounds whose demand it supplies now (those of a retailer without trucks go to the first)."""
    routes = defaultdict(list)
    for route in result.routes:
        routes[owners[route.truck_id]].append(route)

    def supplier(code: str) -> int:
        retailer_id = current[day.compound_ids[code]]
        return retailer_id if retailer_id in retailer_ids else retailer_ids[0]

    unserved, settled = defaultdict(list), defaultdict(list)
    for entry in result.unserved:
        unserved[supplier(entry.compound_id)].append(entry)
    for entry in day.settled:
        settled[supplier(entry.compound_id)].append(entry)
    parts = {}
    for retailer_id in retailer_ids:
        mine = tuple(routes[retailer_id])
        own = tuple(t for t in day.problem.trucks if owners[t.id] == retailer_id)
        # the retailer's own trucks only, so its schedule's facts (stock, idle trucks) are its own
        part_day = replace(day, retailer_id=retailer_id, settled=tuple(settled[retailer_id]),
                           problem=replace(day.problem, trucks=own),
                           trucks={code: facts for code, facts in day.trucks.items() if owners.get(code) == retailer_id})
        parts[retailer_id] = RetailerPart(
            day=part_day,
            result=replace(result, routes=mine, unserved=tuple(unserved[retailer_id]),
                           travel_minutes=sum(route.travel_minutes for route in mine)),
        )
    return parts


def _record_assignment(dbsession: Session, date: dt.date, parts: Mapping[int, RetailerPart], user: str) -> None:
    """The district solve's answer is the day's assignment, confirmed: served compounds go to
    their truck's retailer, the others stay; demand rows follow."""
    retailer_of = {}
    for retailer_id, part in parts.items():
        compound_ids = part.day.compound_ids
        served = [v.compound_id for r in part.result.routes for v in r.visits]
        for code in served + [u.compound_id for u in part.result.unserved + part.day.settled]:
            retailer_of[compound_ids[code]] = retailer_id
    _move_demand(dbsession, date, retailer_of)
    rows = {row.compound_id: row for row in assignment_rows(dbsession, date)}
    now = utcnow()
    for compound_id, retailer_id in retailer_of.items():
        row = rows.get(compound_id)
        if row is None:
            row = DistrictAssignment(date=date, compound_id=compound_id, pinned=False)
            dbsession.add(row)
        row.retailer_id, row.proposed_at, row.confirmed_at = retailer_id, now, now
        row.confirmed_by = f"district solve ({user})" if user else "district solve"
    dbsession.flush()


def _store(dbsession: Session, part: RetailerPart, run_id: int, planning: PlanningSettings) -> Schedule:
    schedule = store_schedule(dbsession, part.day, part.result, params={
        "solver": planning.solver, "time_limit": planning.time_limit, "run_id": run_id, "district": True})
    served = sum(len(route.visits) for route in part.result.routes)
    unserved = len(part.result.unserved) + len(part.day.settled)
    minutes = round(part.result.travel_minutes)
    dbsession.execute(update(SolveRun).where(SolveRun.id == run_id).values(
        status=SolveStatus.DONE, progress=1.0, schedule_id=schedule.id, finished_at=utcnow(), heartbeat_at=utcnow(),
        progress_key="finished", progress_params={"served": served, "unserved": unserved, "minutes": minutes},
        message=f"{served} served, {unserved} unserved, {minutes} min travel"))
    return schedule


# ---------------------------------------------------------------------------------------------
# The district's day at a glance


@dataclass
class RetailerFigures:
    """One retailer's day: its load against its fleet, and what its latest schedule does."""

    retailer: Retailer
    trucks: int = 0
    stops: int = 0  # the fleet's stop capacity
    compounds: int = 0  # compounds whose demand it supplies
    schedule_id: int | None = None
    served: int = 0
    unserved: dict[str, int] = field(default_factory=dict)  # reason -> compounds
    stock: dict[str, int] = field(default_factory=dict)
    demand: dict[str, int] = field(default_factory=dict)
    delivered: dict[str, int] = field(default_factory=dict)
    #: category -> the lowest delivered/asked of a compound it serves that asked for it
    min_fill: dict[str, float] = field(default_factory=dict)

    @property
    def coverage(self) -> float | None:
        return self.served / self.compounds if self.compounds and self.schedule_id else None

    def brought_back(self, category: str) -> int:
        """Units of the category its trucks take back to the depot (None solved: all of it)."""
        return max(0, self.stock.get(category, 0) - self.delivered.get(category, 0))


@dataclass
class UnservedCompound:
    compound: Compound
    retailer: Retailer
    reason: str


@dataclass
class DistrictDay:
    date: dt.date
    retailers: list[RetailerFigures]
    #: categories the district's stock does not cover
    scarce: list[str]
    unserved: list[UnservedCompound]
    assignment: list[DistrictAssignment]

    @property
    def confirmed(self) -> bool:
        return is_confirmed(self.assignment)


def district_day(dbsession: Session, date: dt.date) -> DistrictDay:
    """Each retailer's load, coverage and goods for the date, from its latest schedule."""
    retailers = {r.id: RetailerFigures(r) for r in dbsession.scalars(select(Retailer).order_by(Retailer.name))}
    for truck in loaded_trucks(dbsession, date, None):
        figures = retailers[truck.retailer_id]
        figures.trucks += 1
        figures.stops += truck.max_stops
    for retailer_id, key, quantity in dbsession.execute(
            select(Truck.retailer_id, Stock.category_key, func.sum(Stock.quantity))
            .join(Truck, Truck.id == Stock.truck_id).where(Stock.date == date)
            .group_by(Truck.retailer_id, Stock.category_key)):
        retailers[retailer_id].stock[key] = int(quantity)
    asked: dict[int, dict[str, int]] = defaultdict(dict)
    for compound_id, retailer_id, key, quantity in dbsession.execute(
            select(Demand.compound_id, Demand.retailer_id, Demand.category_key, Demand.quantity)
            .where(Demand.date == date)):
        figures = retailers[retailer_id]
        figures.demand[key] = figures.demand.get(key, 0) + quantity
        asked[compound_id][key] = quantity
    for compound_id, retailer_id in demand_retailers(dbsession, date).items():
        retailers[retailer_id].compounds += 1
    unserved = []
    for figures in retailers.values():
        latest = latest_schedule(dbsession, date, figures.retailer.id)
        if latest is None:
            continue
        schedule = load_schedule(dbsession, latest.id)
        figures.schedule_id = schedule.id
        for route in schedule.routes:
            for stop in route.stops:
                figures.served += 1
                for key, quantity in stop.deliveries.items():
                    figures.delivered[key] = figures.delivered.get(key, 0) + quantity
                for key, wanted in asked.get(stop.compound_id, {}).items():
                    if wanted:
                        fill = stop.deliveries.get(key, 0) / wanted
                        figures.min_fill[key] = min(figures.min_fill.get(key, 1.0), fill)
        for entry in schedule.unserved:
            figures.unserved[entry.reason] = figures.unserved.get(entry.reason, 0) + 1
            unserved.append(UnservedCompound(entry.compound, figures.retailer, entry.reason))
    shown = [f for f in retailers.values() if f.trucks or f.compounds]
    return DistrictDay(date=date, retailers=shown, scarce=short_categories(dbsession, [date]), unserved=sorted(
        unserved, key=lambda u: (u.reason, u.compound.code)), assignment=assignment_rows(dbsession, date))
