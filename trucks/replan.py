"""Re-planning a published day from a moment on: a truck breaks down (or runs late) at 11:00.

Every stop already served or under way stays exactly as it happened; each truck still out
starts from where it is, when it is free, with what it still carries; the broken truck is out
of service; only the rest of the day is searched again, and committees keep their published
windows where the fleet allows.

The engine is used as it is. Its Truck starts and ends at one depot, but ``Problem.travel`` may
be asymmetric, so a truck on the road is a *virtual location* whose outgoing row is its current
stop's (it leaves from there) and whose incoming column is its depot's (it comes home there).

``replan_routes`` is the pure part (engine types in, engine types out; the bench calls it on
generated days); ``replan_day`` reads the published day and the drivers' reports from the
database, stores the answer as a new Schedule and publishes it as the next version.
"""
from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduling import Compound, Problem, Result, Route, Truck, Unserved, UnservedReason, Visit, solve_day

from .live import WINDOW_MINUTES, route_estimates, truck_by_code
from .models import Publication, Schedule, Stock
from .publishing import latest_publication, publish
from .services import DayProblem, PlanningSettings, build_problem, load_schedule, store_schedule

#: how far (minutes) the first search may move a published service start of a truck that still runs
KEEP_MINUTES = 15.0
#: what a running truck's compound keeping its stop is worth against one of the broken truck's
PROMISE_WEIGHT = 2


class ReplanError(ValueError):
    """A re-plan that cannot be made as asked; the message says why."""


class NotOnThisDay(ReplanError):
    """The truck or compound named is not one of the retailer's for the day (another's, or none)."""


# ---------------------------------------------------------------------------------------------
# The pure part: engine types only


@dataclass(frozen=True)
class MovedWindow:
    """A compound whose committee sees another quarter hour than published (or another truck)."""

    compound_id: str
    before: float  # published service start, minutes after midnight
    after: float
    truck_before: str
    truck_after: str

    @property
    def minutes(self) -> float:
        """Positive when service now starts later."""
        return self.after - self.before


@dataclass(frozen=True)
class Replan:
    """Kept stops plus re-planned tails, and what the planner needs to judge the change."""

    routes: tuple[Route, ...]
    #: compounds of the published tails left without a stop, with the engine's reason
    unserved: tuple[Unserved, ...]
    kept: tuple[str, ...]  # compounds whose stop stays as it happened
    #: the broken truck's compounds (after the cut) that another truck now serves
    reserved: tuple[str, ...]
    #: the broken truck's compounds that no truck can take
    dropped: tuple[str, ...]
    moved: tuple[MovedWindow, ...]
    searches: int  # 1, or 2 when compounds needed their own windows back
    seconds: float

    @property
    def travel_minutes(self) -> float:
        return sum(r.travel_minutes for r in self.routes)

    @property
    def moved_mean(self) -> float:
        return sum(abs(m.minutes) for m in self.moved) / len(self.moved) if self.moved else 0.0

    @property
    def moved_max(self) -> float:
        return max((abs(m.minutes) for m in self.moved), default=0.0)


@dataclass(frozen=True)
class _TruckNow:
    """A truck at the cut: what it keeps, where and when it is free, and what it has left."""

    truck: Truck
    depart: float  # the published departure from the depot (or when it may leave, if no route)
    kept: tuple[Visit, ...]
    location: int  # its last kept stop, or its depot
    free_at: float
    stock: dict[str, int]
    stops_left: int
    kept_travel: float


def kept_count(route: Route, reported: Collection[str], cut: float, broken: bool) -> int:
    """How many leading stops of ``route`` stay as they are at ``cut``.

    A stop stays when the driver reported arriving or leaving, or when the truck is (by the
    estimate) there before the cut; every stop before such a stop stays too. A truck still
    running also keeps the stop it is driving to (it left its last place before the cut); a
    broken-down truck reaches no further stop.
    """
    count = 0
    for i, visit in enumerate(route.visits):
        if visit.compound_id in reported or visit.arrival <= cut:
            count = i + 1
    if not broken and count < len(route.visits):
        left_at = route.visits[count - 1].departure if count else route.depart
        if left_at <= cut:
            count += 1
    return count


def _trucks_now(problem: Problem, published: Mapping[str, Route], reported, cut: float, broken: str) -> list[_TruckNow]:
    location = {c.id: c.location for c in problem.compounds}
    states = []
    for truck in problem.trucks:
        route = published.get(truck.id)
        visits = route.visits if route else ()
        kept = visits[:kept_count(route, reported, cut, truck.id == broken)] if route else ()
        here, travel, stock = truck.depot, 0.0, dict(truck.stock)
        for visit in kept:
            there = location.get(visit.compound_id, here)
            travel += float(problem.travel[here, there])
            here = there
            for category, units in visit.deliveries.items():
                stock[category] = max(0, stock.get(category, 0) - units)
        free_at = max(cut, kept[-1].departure if kept else truck.shift_start)
        states.append(_TruckNow(
            truck=truck, depart=route.depart if route else free_at, kept=tuple(kept), location=here,
            free_at=free_at, stock=stock, stops_left=max(0, truck.max_stops - len(kept)), kept_travel=travel))
    return states


def _rest_of_day(problem: Problem, states: Sequence[_TruckNow], broken: str, compounds) -> Problem:
    """The trucks still running from where they are, and ``compounds``; a virtual location is
    appended to the travel matrix for each truck that is away from its depot."""
    running = [s for s in states
               if s.truck.id != broken and s.free_at < s.truck.shift_end and s.stops_left > 0]
    away = [s for s in running if s.location != s.truck.depot]
    n = problem.travel.shape[0]
    travel = np.zeros((n + len(away), n + len(away)))
    travel[:n, :n] = problem.travel
    for i, state in enumerate(away):
        here, home = state.location, state.truck.depot
        travel[n + i, :n] = problem.travel[here, :n]  # it leaves from its stop
        travel[:n, n + i] = problem.travel[:n, home]  # and comes home to its depot
        for j, other in enumerate(away):
            travel[n + i, n + j] = 0.0 if i == j else problem.travel[here, other.truck.depot]
    start = {s.truck.id: n + i for i, s in enumerate(away)}
    trucks = tuple(
        replace(s.truck, depot=start.get(s.truck.id, s.truck.depot), shift_start=s.free_at,
                max_stops=s.stops_left, stock=s.stock, locked_route=None)
        for s in running)
    return Problem(trucks=trucks, compounds=tuple(compounds), travel=travel,
                   load_limits_routes=problem.load_limits_routes)


def _near(compound: Compound, start: float) -> Compound:
    """The compound with its window narrowed to ``KEEP_MINUTES`` around a published start."""
    ready, due = max(compound.ready, start - KEEP_MINUTES), min(compound.due, start + KEEP_MINUTES)
    return compound if due < ready else replace(compound, ready=ready, due=due)


def replan_routes(
    problem: Problem,
    published: Sequence[Route],
    *,
    broken: str,
    cut: float,
    reported: Collection[str] = (),
    promised: Mapping[str, float] | None = None,
    time_limit: float = 10.0,
    seed: int = 0,
    lp_solver: str = "highs",
) -> Replan:
    """Re-plans ``problem``'s day from ``cut`` (minutes) with truck ``broken`` out of service.

    ``published`` are the routes as now expected (the published plan moved by the drivers'
    reports); ``reported`` the compounds a driver reported arriving at or leaving; ``promised``
    the service starts committees were told (default: the routes' own).

    Three answers compete, and the one serving the most (by priority, a running truck's compound
    counting ``PROMISE_WEIGHT`` times: losing its stop would be a second broken promise, the
    broken truck's compounds have one already) wins, then the one moving the fewest committees,
    then the shortest: (1) the running trucks keep their published tails
    and the broken truck's compounds are inserted one by one where they push no published start
    by more than ``URGENT_SHIFT_MINUTES``; (2) a search with the running trucks' compounds held
    within ``KEEP_MINUTES`` of their promised start and the broken truck's on their own windows;
    (3) when that search leaves compounds out, the same with those on their own windows again.
    """
    started = time.monotonic()
    if broken not in {t.id for t in problem.trucks}:
        raise NotOnThisDay(f"truck {broken} is not on this day")
    by_truck = {r.truck_id: r for r in published}
    promised = dict(promised or {v.compound_id: v.start for r in published for v in r.visits})
    states = _trucks_now(problem, by_truck, reported, cut, broken)
    kept = {v.compound_id for s in states for v in s.kept}
    by_id = {c.id: c for c in problem.compounds}
    published_truck = {v.compound_id: r.truck_id for r in published for v in r.visits}
    tails = [cid for r in published for v in r.visits if (cid := v.compound_id) not in kept and cid in by_id]
    orphans = {cid for cid in tails if published_truck[cid] == broken}

    answers = [(_with_orphans_inserted(problem, states, by_truck, broken, orphans, cut), {})]
    first = [by_id[cid] if cid in orphans else _near(by_id[cid], promised[cid]) for cid in tails]
    limit = time_limit / 2
    result = solve_day(_rest_of_day(problem, states, broken, first), time_limit=limit, seed=seed, lp_solver=lp_solver)
    answers.append((_joined_routes(problem, states, broken, result), {u.compound_id: u.reason for u in result.unserved}))
    left_out = set(tails) - set(result.served_ids)
    if left_out:
        second = [by_id[c.id] if c.id in left_out else c for c in first]
        retry = solve_day(_rest_of_day(problem, states, broken, second), time_limit=limit, seed=seed,
                          lp_solver=lp_solver)
        answers.append((_joined_routes(problem, states, broken, retry),
                        {u.compound_id: u.reason for u in retry.unserved}))

    def moved_in(routes) -> tuple[MovedWindow, ...]:
        served = {v.compound_id: (r.truck_id, v.start) for r in routes for v in r.visits}
        return tuple(
            MovedWindow(cid, promised[cid], served[cid][1], published_truck[cid], served[cid][0])
            for cid in tails
            if cid in served and cid not in orphans
            and (_slot(served[cid][1]) != _slot(promised[cid]) or served[cid][0] != published_truck[cid]))

    def score(answer):
        routes = answer[0]
        weight = sum(max(1, by_id[cid].priority) * (1 if cid in orphans else PROMISE_WEIGHT)
                     for r in routes for v in r.visits if (cid := v.compound_id) in by_id)
        return weight, -len(moved_in(routes)), -sum(r.travel_minutes for r in routes)

    routes, reasons = max(answers, key=score)
    served = {v.compound_id for r in routes for v in r.visits}
    return Replan(
        routes=routes,
        unserved=tuple(Unserved(cid, reasons.get(cid, UnservedReason.FLEET_FULL)) for cid in tails if cid not in served),
        kept=tuple(sorted(kept)),
        reserved=tuple(sorted(c for c in orphans if c in served)),
        dropped=tuple(sorted(c for c in orphans if c not in served)),
        moved=moved_in(routes),
        searches=len(answers) - 1,
        seconds=time.monotonic() - started,
    )


def _with_orphans_inserted(problem, states, by_truck, broken, orphans, cut) -> tuple[Route, ...]:
    """The running trucks' published tails from where they are (no stop earlier than published,
    a stop whose window has passed left out), then each of the broken truck's compounds, highest
    priority first, at its best place that pushes no published start too far."""
    by_id = {c.id: c for c in problem.compounds}
    routes = []
    for state in states:
        route = by_truck.get(state.truck.id)
        if state.truck.id == broken:
            routes.append(Route(state.truck.id, state.depart, max(state.free_at, state.kept[-1].departure),
                                state.kept, state.kept_travel) if state.kept else None)
            continue
        tail = route.visits[len(state.kept):] if route else ()
        routes.append(_retimed_tail(problem, state, tail, by_id))
    current = [r for r in routes if r is not None]
    for cid in sorted(orphans, key=lambda c: (-by_id[c].priority, c)):
        options = urgent_insertions(problem, current, cid, cut=cut, exclude=(broken,))
        if options and options[0].within_limit:
            best = options[0]
            current = [best.route if r.truck_id == best.truck_id else r for r in current]
            if best.truck_id not in {r.truck_id for r in current}:
                current.append(best.route)
    return tuple(current)


def _retimed_tail(problem: Problem, state: _TruckNow, tail, by_id) -> Route | None:
    """The truck's kept stops, then its published tail driven from where it is now."""
    location = {c.id: c.location for c in problem.compounds}
    truck = state.truck
    while True:
        here, clock, visits = state.location, state.free_at, list(state.kept)
        for visit in tail:
            compound = by_id.get(visit.compound_id)
            if compound is None:
                continue
            arrival = max(visit.arrival, clock + float(problem.travel[here, compound.location]))
            start = max(arrival, visit.start, compound.ready)
            if start > compound.due + 1e-6:
                continue  # too late for its window now: it goes without
            clock = start + compound.service
            visits.append(Visit(compound.id, arrival, start, clock, visit.deliveries, visit.fill))
            here = compound.location
        back = clock + float(problem.travel[here, truck.depot])
        if back <= truck.shift_end + 1e-6 or not tail:
            break
        tail = tail[:-1]
    if not visits:
        return None
    return Route(truck.id, state.depart, back, tuple(visits), _travel_along(problem, truck, visits, location))


def _slot(minutes: float) -> int:
    """The quarter hour a committee is told (see ``trucks.live.service_window``)."""
    return math.floor(round(minutes * 60) / 60 / WINDOW_MINUTES)


def _joined_routes(problem: Problem, states: Sequence[_TruckNow], broken: str, result: Result) -> tuple[Route, ...]:
    """Each truck's kept stops followed by its re-planned tail, timed as a whole day."""
    tails = {r.truck_id: r for r in result.routes}
    routes = []
    for state in states:
        truck, tail = state.truck, tails.get(state.truck.id)
        if not state.kept and tail is None:
            continue
        if tail is not None:
            depart = state.depart if state.kept else tail.depart
            routes.append(Route(truck.id, depart, tail.back, state.kept + tail.visits,
                                state.kept_travel + tail.travel_minutes))
        elif truck.id == broken:  # out of service where it stands: no return trip is planned
            routes.append(Route(truck.id, state.depart, max(state.free_at, state.kept[-1].departure),
                                state.kept, state.kept_travel))
        else:
            home = float(problem.travel[state.location, truck.depot])
            routes.append(Route(truck.id, state.depart, state.kept[-1].departure + home, state.kept,
                                state.kept_travel + home))
    return tuple(routes)


# ---------------------------------------------------------------------------------------------
# An urgent stop: one compound added to the published routes without re-planning them


#: how far an urgent stop may push a published service start before the planner must choose
URGENT_SHIFT_MINUTES = 15.0


@dataclass(frozen=True)
class Insertion:
    """The urgent compound put on ``truck_id``'s route at ``position`` (0: first stop)."""

    truck_id: str
    position: int
    route: Route  # the whole route with the stop inserted and the later stops retimed
    deliveries: Mapping[str, int]  # what the truck has left for it
    #: later stops whose service start moves (by any amount), with before and after
    moves: tuple[MovedWindow, ...]
    extra_travel: float

    @property
    def largest_move(self) -> float:
        return max((abs(m.minutes) for m in self.moves), default=0.0)

    @property
    def within_limit(self) -> bool:
        return self.largest_move <= URGENT_SHIFT_MINUTES + 1e-6

    @property
    def visit(self) -> Visit:
        return self.route.visits[self.position]


def urgent_insertions(
    problem: Problem, published: Sequence[Route], compound_id: str, *, cut: float, reported: Collection[str] = (),
    exclude: Collection[str] = (),
) -> list[Insertion]:
    """Every place the compound fits on the published routes after ``cut`` (stops served or
    under way stay first), best first: those moving no published start by more than
    ``URGENT_SHIFT_MINUTES`` by extra travel, then the others by their largest move.

    A later stop's service never starts earlier than published (its committee was told that
    time); the truck hands the compound what it has left after its published stops. Trucks in
    ``exclude`` (one out of service) are not considered.
    """
    by_id = {c.id: c for c in problem.compounds}
    urgent = by_id.get(compound_id)
    if urgent is None:
        raise NotOnThisDay(f"compound {compound_id} has no order to serve on this day")
    if any(v.compound_id == compound_id for r in published for v in r.visits):
        raise ReplanError(f"compound {compound_id} is already on the published plan")
    routes = {r.truck_id: r for r in published}
    found = []
    for truck in problem.trucks:
        if truck.id in exclude or urgent.allowed_trucks is not None and truck.id not in urgent.allowed_trucks:
            continue
        route = routes.get(truck.id) or Route(truck.id, max(cut, truck.shift_start), max(cut, truck.shift_start), (), 0.0)
        if len(route.visits) >= truck.max_stops:
            continue
        left = dict(truck.stock)
        for visit in route.visits:
            for category, units in visit.deliveries.items():
                left[category] = left.get(category, 0) - units
        deliveries = {c: min(q, max(0, left.get(c, 0))) for c, q in urgent.demand.items() if q > 0}
        if urgent.demand and not any(deliveries.values()):
            continue  # nothing it asked for is left on this truck
        first = kept_count(route, reported, cut, broken=False)
        for position in range(first, len(route.visits) + 1):
            inserted = _inserted(problem, truck, route, position, urgent, deliveries, cut, by_id)
            if inserted is not None:
                found.append(inserted)
    found.sort(key=lambda i: (not i.within_limit, i.extra_travel if i.within_limit else i.largest_move,
                              i.extra_travel))
    return found


def _inserted(problem, truck, route, position, urgent, deliveries, cut, by_id) -> Insertion | None:
    """The route with ``urgent`` at ``position``, retimed; None when a window or the shift breaks."""
    travel = problem.travel
    location = {c.id: c.location for c in problem.compounds}
    if position:
        previous = route.visits[position - 1]
        here, clock = location[previous.compound_id], max(previous.departure, cut)
    else:
        here, clock = truck.depot, max(cut, truck.shift_start)
    arrival = clock + float(travel[here, urgent.location])
    start = max(arrival, urgent.ready)
    if start > urgent.due + 1e-6:
        return None
    fill = {c: deliveries.get(c, 0) / q for c, q in urgent.demand.items() if q > 0}
    visits = list(route.visits[:position])
    visits.append(Visit(urgent.id, arrival, start, start + urgent.service, deliveries, fill))
    here, clock = urgent.location, start + urgent.service
    moves = []
    for visit in route.visits[position:]:
        compound = by_id.get(visit.compound_id)
        there = location.get(visit.compound_id, here)
        arrival = max(visit.arrival, clock + float(travel[here, there]))
        start = max(arrival, visit.start)
        if compound is not None and start > compound.due + 1e-6:
            return None
        if start > visit.start + 1e-6:
            moves.append(MovedWindow(visit.compound_id, visit.start, start, truck.id, truck.id))
        clock = start + (visit.departure - visit.start)
        visits.append(Visit(visit.compound_id, arrival, start, clock, visit.deliveries, visit.fill))
        here = there
    back = clock + float(travel[here, truck.depot])
    if back > truck.shift_end + 1e-6:
        return None
    depart = route.depart if position else min(route.depart, visits[0].arrival - float(travel[truck.depot, urgent.location]))
    minutes = _travel_along(problem, truck, visits, location)
    return Insertion(truck.id, position, Route(truck.id, depart, back, tuple(visits), minutes), deliveries,
                     tuple(moves), minutes - _travel_along(problem, truck, route.visits, location))


def _travel_along(problem: Problem, truck: Truck, visits, location) -> float:
    here, minutes = truck.depot, 0.0
    for visit in visits:
        there = location.get(visit.compound_id, here)
        minutes += float(problem.travel[here, there])
        here = there
    return minutes + float(problem.travel[here, truck.depot])


# ---------------------------------------------------------------------------------------------
# The database part


@dataclass(frozen=True)
class ReplanOutcome:
    """A stored and published re-plan."""

    replan: Replan
    schedule: Schedule
    publication: Publication
    base_version: int  # the version it re-planned


def minutes_of(date: dt.date, moment: dt.datetime) -> float:
    """A local date-time of ``date`` as minutes after its midnight (the engine's clock)."""
    return (moment - dt.datetime.combine(date, dt.time())).total_seconds() / 60


def _published_routes(
    dbsession: Session, schedule: Schedule, truck_codes, *, expected: bool = True,
) -> tuple[list[Route], set[str], dict[str, float]]:
    """The published routes as now expected (moved by the drivers' reports; with ``expected``
    False as published), the compounds a driver reported at, and the service starts committees
    were told."""
    date = schedule.date
    routes, reported, promised = [], set(), {}
    for route in schedule.routes:
        if route.truck.code not in truck_codes:
            continue
        estimates = route_estimates(dbsession, route, date)
        visits = []
        for stop in route.stops:
            estimate = estimates[stop.id]
            code = stop.compound.code
            if estimate.arrived_at is not None or estimate.departed_at is not None:
                reported.add(code)
            promised[code] = minutes_of(date, stop.start)
            times = estimate if expected else stop
            visits.append(Visit(code, minutes_of(date, times.arrival), minutes_of(date, times.start),
                                minutes_of(date, times.departure), stop.deliveries, stop.fill))
        routes.append(Route(route.truck.code, minutes_of(date, route.depart), minutes_of(date, route.back),
                            tuple(visits), route.travel_minutes))
    return routes, reported, promised


def check_replan(dbsession: Session, date: dt.date, retailer_id: int, *, truck_code: str, cut: dt.datetime) -> Publication:
    """The published version a re-plan would start from; raises ReplanError when nothing is
    published or the cut is not on the date, NotOnThisDay when the truck is not the retailer's
    or not loaded on the day. Cheap: a request checks this before it queues the re-plan."""
    if cut.date() != date:
        raise ReplanError(f"{cut:%Y-%m-%d %H:%M} is not on {date}")
    publication = latest_publication(dbsession, date, retailer_id)
    if publication is None:
        raise ReplanError(f"nothing is published for {date}: solve and publish the day first")
    truck = truck_by_code(dbsession, truck_code)
    if truck is None or truck.retailer_id != retailer_id:
        raise NotOnThisDay(f"no truck {truck_code!r} in this retailer's fleet")
    if dbsession.scalar(select(Stock.id).where(Stock.truck_id == truck.id, Stock.date == date).limit(1)) is None:
        raise NotOnThisDay(f"truck {truck_code} is not loaded on {date}")
    return publication


@dataclass(frozen=True)
class PlannedReplan:
    """A re-plan computed and not yet stored (``store_replan`` stores and publishes it)."""

    replan: Replan
    day: DayProblem
    result: Result
    publication: Publication
    truck_code: str
    cut: dt.datetime
    settings: PlanningSettings


def plan_replan(
    dbsession: Session, date: dt.date, retailer_id: int, settings: PlanningSettings, *, truck_code: str,
    cut: dt.datetime,
) -> PlannedReplan:
    """Re-plans the retailer's published day from ``cut`` with ``truck_code`` out of service;
    writes nothing (the search takes up to ``settings.time_limit``)."""
    publication = check_replan(dbsession, date, retailer_id, truck_code=truck_code, cut=cut)
    day = build_problem(dbsession, date, retailer_id, settings)
    published = load_schedule(dbsession, publication.schedule_id)
    routes, reported, promised = _published_routes(dbsession, published, day.truck_ids)
    replan = replan_routes(
        day.problem, routes, broken=truck_code, cut=minutes_of(date, cut), reported=reported,
        promised=promised, time_limit=settings.time_limit, seed=settings.seed, lp_solver=settings.solver)
    served = {v.compound_id for r in replan.routes for v in r.visits}
    settled = tuple(u for u in day.settled if u.compound_id not in served)
    already = served | {u.compound_id for u in settled} | {u.compound_id for u in replan.unserved}
    still_unserved = tuple(
        Unserved(u.compound.code, UnservedReason(u.reason))
        for u in published.unserved if u.compound.code not in already)
    result = Result(
        routes=replan.routes, unserved=replan.unserved + still_unserved, travel_minutes=replan.travel_minutes,
        seconds=replan.seconds, iterations=0, seed=settings.seed)
    return PlannedReplan(replan, replace(day, settled=settled), result, publication, truck_code, cut, settings)


def store_replan(dbsession: Session, planned: PlannedReplan, user: str = "") -> ReplanOutcome:
    """Stores the re-plan as a new Schedule and publishes it as the next version."""
    replan, settings = planned.replan, planned.settings
    schedule = store_schedule(dbsession, planned.day, planned.result, params={
        "solver": settings.solver, "time_limit": settings.time_limit,
        "replan": {
            "truck": planned.truck_code, "from": planned.cut.strftime("%H:%M"),
            "base_version": planned.publication.version,
            "kept": len(replan.kept), "reserved": len(replan.reserved), "dropped": len(replan.dropped),
            "moved": len(replan.moved), "moved_mean": round(replan.moved_mean, 1),
            "moved_max": round(replan.moved_max, 1), "searches": replan.searches,
        },
    })
    return ReplanOutcome(replan, schedule, publish(dbsession, schedule, user), planned.publication.version)


def replan_day(
    dbsession: Session, date: dt.date, retailer_id: int, settings: PlanningSettings, *, truck_code: str,
    cut: dt.datetime, user: str = "",
) -> ReplanOutcome:
    """Re-plans in this process and publishes (``foodtrucks replan``; the page and the API
    queue a run instead, ``trucks.solving.start_day_replan``)."""
    planned = plan_replan(dbsession, date, retailer_id, settings, truck_code=truck_code, cut=cut)
    return store_replan(dbsession, planned, user)


@dataclass(frozen=True)
class UrgentOptions:
    """Where an urgent compound could go on the published day, best first."""

    compound_id: str
    base_version: int
    options: tuple[Insertion, ...]

    @property
    def best(self) -> Insertion | None:
        """The best place that moves no published window more than the limit, if there is one."""
        return self.options[0] if self.options and self.options[0].within_limit else None


def _published_day(dbsession: Session, date: dt.date, retailer_id: int, settings: PlanningSettings):
    publication = latest_publication(dbsession, date, retailer_id)
    if publication is None:
        raise ReplanError(f"nothing is published for {date}: solve and publish the day first")
    day = build_problem(dbsession, date, retailer_id, settings)
    return publication, day, load_schedule(dbsession, publication.schedule_id)


def urgent_options(
    dbsession: Session, date: dt.date, retailer_id: int, settings: PlanningSettings, *, compound_code: str,
    cut: dt.datetime,
) -> UrgentOptions:
    """The places an urgent compound (one with an order for the day that the published plan
    does not serve) fits on the published routes from ``cut`` on."""
    publication, day, published = _published_day(dbsession, date, retailer_id, settings)
    routes, reported, _ = _published_routes(dbsession, published, day.truck_ids, expected=False)
    options = urgent_insertions(day.problem, routes, compound_code, cut=minutes_of(date, cut), reported=reported)
    return UrgentOptions(compound_code, publication.version, tuple(options))


def insert_urgent(
    dbsession: Session, date: dt.date, retailer_id: int, settings: PlanningSettings, *, compound_code: str,
    cut: dt.datetime, truck_code: str, position: int, user: str = "",
) -> tuple[Insertion, Publication]:
    """Puts the urgent compound where the planner chose (truck and position among the options),
    stores the published day with that one route changed and publishes it as the next version.
    Raises ReplanError when that place is not (or no longer) possible."""
    publication, day, published = _published_day(dbsession, date, retailer_id, settings)
    routes, reported, _ = _published_routes(dbsession, published, day.truck_ids, expected=False)
    options = urgent_insertions(day.problem, routes, compound_code, cut=minutes_of(date, cut), reported=reported)
    chosen = next((o for o in options if o.truck_id == truck_code and o.position == position), None)
    if chosen is None:
        raise ReplanError(f"{compound_code} does not fit on truck {truck_code} at stop {position + 1}")
    changed = {r.truck_id: r for r in routes} | {truck_code: chosen.route}
    order = {code: i for i, code in enumerate(day.truck_ids)}
    result = Result(
        routes=tuple(sorted(changed.values(), key=lambda r: order[r.truck_id])),
        unserved=tuple(Unserved(u.compound.code, UnservedReason(u.reason))
                       for u in published.unserved if u.compound.code != compound_code),
        travel_minutes=sum(r.travel_minutes for r in changed.values()), seconds=0.0, iterations=0,
        seed=settings.seed)
    schedule = store_schedule(dbsession, replace(day, settled=()), result, params={
        "urgent": {"compound": compound_code, "truck": truck_code, "position": position + 1,
                   "from": cut.strftime("%H:%M"), "base_version": publication.version,
                   "moved": len(chosen.moves), "largest_move": round(chosen.largest_move, 1)},
    })
    return chosen, publish(dbsession, schedule, user)
