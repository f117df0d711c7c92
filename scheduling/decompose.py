"""Days too large for one search: split into independent pieces, solve them in parallel, merge.

A piece is a set of trucks with the compounds they can best reach: compounds are clustered on
travel times into groups balanced by the stop capacity of the trucks that get each group, and
trucks go to the group nearest their depot. Pieces share nothing (the fair share of stock is per
truck), so their routes merge into one day as they are. Time left after the pieces goes to the
seams, in two kinds of rounds. First, where a truck brings a category back while compounds of
another piece go short of it, the short truck's route and the nearest routes of trucks with
that category left over are rebalanced together (``engine.rebalance``: compounds moved and
exchanged between them for their goods, no search from scratch), kept only when they serve as
much and waste less. Then compounds a piece could not serve are offered, together with the
routes of the trucks passing nearest to them, to one more search, kept only when it serves more
(by priority) or drives less.
"""
from __future__ import annotations

import copyreg
import math
import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import replace
from types import MappingProxyType

import numpy as np

from .engine import rebalance, solve
from .problem import Compound, Problem, Truck
from .progress import ProgressLine
from .result import Result, Route, UnservedReason

#: compounds per piece: the engine converges fastest on pieces this small (bench/README.md:
#: 1,050 compounds in 60 s served 948 with pieces of 800, 969 with 250 and 979 with 150)
PIECE_SIZE = 150
#: above this many compounds a day is solved in pieces: on generated days one search served as
#: many as pieces did at 360 compounds (329 vs 327 and 336 vs 342 in 20 s, seeds 0 and 1) but far
#: fewer at 1,050 (850 vs 982 in 60 s); bench/README.md
SPLIT_ABOVE = 400
#: share of the time limit the pieces get; the rest is for the seams
PIECE_SHARE = 0.8
#: seconds kept at the end for merging the seams' answer and checking the whole day
FINISH_SECONDS = 1.0
#: a seam search shorter than this is not worth starting
MIN_SEAM_SECONDS = 2.0
#: how many rounds of moving compounds between groups when balancing them
BALANCE_ROUNDS = 8
#: reasons that depend on which trucks a piece had, so another truck may still serve the compound
PIECE_REASONS = frozenset(
    {UnservedReason.FLEET_FULL, UnservedReason.UNREACHABLE, UnservedReason.NO_STOCK, UnservedReason.NOT_ALLOWED}
)

Progress = Callable[[float, str], None]
#: solves the pieces elsewhere (the app: as tasks on its workers), given
#: ``(pieces, piece_limit, seed, lp_solver, stop)``; piece ``i`` uses seed ``seed + i``
PieceSolver = Callable[[Sequence[Problem], float, int, str, Callable[[], bool] | None], list[Result]]


def _mapping_proxy(values: dict) -> MappingProxyType:
    return MappingProxyType(values)


def _reduce_mapping_proxy(proxy: MappingProxyType) -> tuple:
    return _mapping_proxy, (dict(proxy),)


# Problems and results hold read-only mappings; pieces cross process boundaries by pickling.
copyreg.pickle(MappingProxyType, _reduce_mapping_proxy)


def solve_day(
    problem: Problem,
    *,
    time_limit: float = 20.0,
    seed: int = 0,
    progress: Progress | None = None,
    lp_solver: str = "highs",
    stop: Callable[[], bool] | None = None,
    solve_pieces: PieceSolver | None = None,
    split_above: int | None = None,
    piece_size: int | None = None,
) -> Result:
    """The app's entry point: one search for a day of up to ``split_above`` compounds, pieces
    solved in parallel for a larger one (by ``solve_pieces``, else in local processes).
    ``split_above`` and ``piece_size`` default to ``SPLIT_ABOVE`` and ``PIECE_SIZE``."""
    if len(problem.compounds) <= (SPLIT_ABOVE if split_above is None else split_above):
        return solve(problem, time_limit=time_limit, seed=seed, progress=progress, lp_solver=lp_solver, stop=stop)
    return solve_large(problem, time_limit=time_limit, seed=seed, progress=progress, lp_solver=lp_solver, stop=stop,
                       piece_size=PIECE_SIZE if piece_size is None else piece_size, solve_pieces=solve_pieces)


def solve_large(
    problem: Problem,
    *,
    time_limit: float = 20.0,
    seed: int = 0,
    progress: Progress | None = None,
    lp_solver: str = "highs",
    stop: Callable[[], bool] | None = None,
    processes: int | None = None,
    piece_size: int = PIECE_SIZE,
    solve_pieces: PieceSolver | None = None,
) -> Result:
    """Solve ``problem`` as independent pieces of about ``piece_size`` compounds in parallel."""
    started = time.monotonic()
    report = progress or (lambda fraction, message: None)
    pieces = split(problem, piece_size)
    workers = max(1, min(processes or os.cpu_count() or 1, len(pieces)))
    waves = math.ceil(len(pieces) / workers)
    piece_limit = time_limit * (PIECE_SHARE if len(pieces) > 1 else 1.0) / waves
    report(0.0, ProgressLine("pieces", pieces=len(pieces), processes=workers))
    if solve_pieces is not None and len(pieces) > 1:
        results = solve_pieces(pieces, piece_limit, seed, lp_solver, stop)
    else:
        results = _solve_pieces(pieces, piece_limit, seed, lp_solver, workers, started, time_limit, report, stop)
    merged = merge(problem, results, seconds=time.monotonic() - started, seed=seed)
    remaining = time_limit - FINISH_SECONDS - (time.monotonic() - started)
    if len(pieces) > 1 and remaining >= MIN_SEAM_SECONDS and not (stop and stop()):
        report(PIECE_SHARE, ProgressLine("seams"))
        merged = improve_seams(problem, merged, remaining, seed, lp_solver, piece_size, stop,
                               round_limit=piece_limit, progress=report)
    merged = replace(merged, seconds=time.monotonic() - started)
    merged.check(problem)
    report(1.0, ProgressLine("done"))
    return merged


_piece_stop = None  # in a piece's process: the event the parent sets when asked to stop


def _remember_stop(event) -> None:
    global _piece_stop
    _piece_stop = event


#: the least time a piece gets, even when the pieces before it ran late
MIN_PIECE_SECONDS = 0.5


def solve_piece(piece: Problem, time_limit: float, seed: int, lp_solver: str, end_by: float) -> Result:
    """Solve one piece in a child process, ending by ``end_by`` (``time.monotonic()``, which is
    system-wide on Linux): a piece that starts late because an earlier one ran over gets less."""
    stop = _piece_stop.is_set if _piece_stop is not None else None
    limit = max(MIN_PIECE_SECONDS, min(time_limit, end_by - time.monotonic()))
    return solve(piece, time_limit=limit, seed=seed, lp_solver=lp_solver, stop=stop)


def _solve_pieces(
    pieces: Sequence[Problem],
    piece_limit: float,
    seed: int,
    lp_solver: str,
    workers: int,
    started: float,
    time_limit: float,
    report: Progress,
    stop: Callable[[], bool] | None,
) -> list[Result]:
    """Solve every piece (seed + its index), in child processes when there is more than one.

    A stop request reaches the pieces through an event, and each returns its best so far.
    """
    if len(pieces) == 1:
        return [solve(pieces[0], time_limit=piece_limit, seed=seed, progress=report, lp_solver=lp_solver, stop=stop)]
    # spawn, not fork: the web app calls this from a thread, and forking a threaded process is unsafe
    context = multiprocessing.get_context("spawn")
    stop_event = context.Event()
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_remember_stop, initargs=(stop_event,)
    ) as pool:
        # piece i runs in wave i // workers, which must end by its share of the pieces' time
        waves = math.ceil(len(pieces) / workers)
        futures = [
            pool.submit(solve_piece, piece, piece_limit, seed + index, lp_solver,
                        started + PIECE_SHARE * time_limit * (index // workers + 1) / waves)
            for index, piece in enumerate(pieces)
        ]
        pending = set(futures)
        while pending:
            _, pending = wait(pending, timeout=1.0, return_when=FIRST_COMPLETED)
            if stop is not None and stop():
                stop_event.set()
            elapsed = time.monotonic() - started
            done = len(futures) - len(pending)
            report(min(PIECE_SHARE, PIECE_SHARE * elapsed / time_limit), ProgressLine("pieces_solved", done=done, total=len(futures)))
        return [future.result() for future in futures]


def split(problem: Problem, piece_size: int = PIECE_SIZE) -> list[Problem]:
    """Independent sub-problems of about ``piece_size`` compounds, each with its own trucks."""
    compounds, trucks = problem.compounds, problem.trucks
    count = min(len(trucks), math.ceil(len(compounds) / max(1, piece_size)))
    if count <= 1:
        return [problem]
    travel = problem.travel
    locations = np.array([c.location for c in compounds])
    between = travel[np.ix_(locations, locations)]
    between = (between + between.T) / 2
    medoids = _balanced_medoids(between, count)
    group = _balanced_assignment(between[:, medoids], np.full(count, math.ceil(len(compounds) / count)))

    truck_group = _assign_trucks(problem, group, count)
    # rebalance compounds to the stop capacity each group received
    stops = np.array([t.max_stops for t in trucks], dtype=float)
    capacity = np.array([stops[truck_group == g].sum() for g in range(count)])
    capacity = np.ceil(len(compounds) * capacity / capacity.sum() * 1.02).astype(int)
    group = _balanced_assignment(between[:, medoids], capacity)
    group = _respect_constraints(problem, group, truck_group)
    return [
        subproblem(problem, [t for t, g in zip(trucks, truck_group) if g == piece],
                    [c for c, g in zip(compounds, group) if g == piece])
        for piece in range(count)
    ]


def _balanced_medoids(between: np.ndarray, count: int) -> np.ndarray:
    """``count`` medoids of compounds that split them into equal groups of short travel."""
    n = len(between)
    medoids = [int(np.argmax(between.sum(axis=1)))]
    nearest = between[medoids[0]].copy()
    while len(medoids) < count:  # farthest point first, then refine
        medoids.append(int(np.argmax(nearest)))
        nearest = np.minimum(nearest, between[medoids[-1]])
    medoids = np.array(medoids)
    capacity = np.full(count, math.ceil(n / count))
    for _ in range(BALANCE_ROUNDS):
        group = _balanced_assignment(between[:, medoids], capacity)
        moved = np.array([
            members[np.argmin(between[np.ix_(members, members)].sum(axis=1))]
            for members in (np.flatnonzero(group == g) for g in range(count))
        ])
        if np.array_equal(moved, medoids):
            break
        medoids = moved
    return medoids


def _balanced_assignment(cost: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """Each row to its cheapest column with room, rows with most to lose choosing first."""
    n, k = cost.shape
    order_by_cost = np.argsort(cost, axis=1, kind="stable")
    ranked = np.take_along_axis(cost, order_by_cost, axis=1)
    regret = ranked[:, 1] - ranked[:, 0] if k > 1 else np.zeros(n)
    room = capacity.astype(int).copy()
    if room.sum() < n:
        room += math.ceil((n - room.sum()) / k)
    group = np.empty(n, dtype=int)
    for row in np.argsort(-regret, kind="stable"):
        for column in order_by_cost[row]:
            if room[column] > 0:
                group[row] = column
                room[column] -= 1
                break
    return group


def _assign_trucks(problem: Problem, group: np.ndarray, count: int) -> np.ndarray:
    """Trucks to groups near their depot, each group getting stop capacity for its compounds."""
    trucks = problem.trucks
    locations = np.array([c.location for c in problem.compounds])
    depots = np.array([t.depot for t in trucks])
    out_and_back = problem.travel[np.ix_(depots, locations)] + problem.travel[np.ix_(locations, depots)].T
    cost = np.stack([out_and_back[:, group == g].mean(axis=1) for g in range(count)], axis=1)
    stops = np.array([max(1, t.max_stops) for t in trucks], dtype=float)
    need = stops.sum() * np.bincount(group, minlength=count) / len(group)
    have = np.zeros(count)
    truck_group = np.full(len(trucks), -1)
    unassigned = set(range(len(trucks)))
    while unassigned:
        open_groups = np.flatnonzero(have < need - 1e-9)
        if len(open_groups) == 0:
            open_groups = np.arange(count)
        best_truck, best_group, best_regret = -1, -1, -math.inf
        for t in sorted(unassigned):
            costs = cost[t, open_groups]
            order = np.argsort(costs, kind="stable")
            regret = costs[order[1]] - costs[order[0]] if len(order) > 1 else -costs[order[0]]
            if regret > best_regret:
                best_truck, best_group, best_regret = t, int(open_groups[order[0]]), regret
        truck_group[best_truck] = best_group
        have[best_group] += stops[best_truck]
        unassigned.discard(best_truck)
    return truck_group


def _respect_constraints(problem: Problem, group: np.ndarray, truck_group: np.ndarray) -> np.ndarray:
    """Locked and allowed compounds go to a piece holding a truck that may serve them."""
    group = group.copy()
    index = {c.id: i for i, c in enumerate(problem.compounds)}
    for t, truck in enumerate(problem.trucks):
        for cid in truck.locked_route or ():
            group[index[cid]] = truck_group[t]
    locked = {cid for t in problem.trucks for cid in t.locked_route or ()}
    truck_index = {t.id: k for k, t in enumerate(problem.trucks)}
    for i, compound in enumerate(problem.compounds):
        if compound.allowed_trucks is None or compound.id in locked:
            continue
        allowed = [truck_index[t] for t in compound.allowed_trucks if t in truck_index]
        if not allowed or any(truck_group[k] == group[i] for k in allowed):
            continue
        nearest = min(allowed, key=lambda k: problem.travel[problem.trucks[k].depot, compound.location])
        group[i] = truck_group[nearest]
    return group


def subproblem(problem: Problem, trucks: Sequence[Truck], compounds: Sequence[Compound]) -> Problem:
    """The trucks and compounds with a travel matrix cut down to the places they use."""
    places = sorted({t.depot for t in trucks} | {c.location for c in compounds})
    renumber = {old: new for new, old in enumerate(places)}
    return Problem(
        trucks=tuple(replace(t, depot=renumber[t.depot]) for t in trucks),
        compounds=tuple(replace(c, location=renumber[c.location]) for c in compounds),
        travel=problem.travel[np.ix_(places, places)],
        load_limits_routes=problem.load_limits_routes,
    )


def merge(problem: Problem, results: Sequence[Result], *, seconds: float, seed: int) -> Result:
    """One day from the pieces' results, routes and unserved in the problem's own order."""
    routes = {r.truck_id: r for result in results for r in result.routes}
    unserved = {u.compound_id: u for result in results for u in result.unserved}
    ordered_routes = tuple(routes[t] for t in problem.truck_ids if t in routes)
    return Result(
        routes=ordered_routes,
        unserved=tuple(unserved[c] for c in problem.compound_ids if c in unserved),
        travel_minutes=sum(r.travel_minutes for r in ordered_routes),
        seconds=seconds,
        iterations=sum(result.iterations for result in results),
        seed=seed,
    )


def _served_weight(problem: Problem, routes: Sequence[Route]) -> int:
    priority = {c.id: c.priority for c in problem.compounds}
    return sum(priority[v.compound_id] for r in routes for v in r.visits)


def improve_seams(
    problem: Problem,
    result: Result,
    time_limit: float,
    seed: int,
    lp_solver: str,
    piece_size: int = PIECE_SIZE,
    stop: Callable[[], bool] | None = None,
    round_limit: float | None = None,
    progress: Progress | None = None,
) -> Result:
    """Offer the compounds a piece left unserved to the trucks passing nearest, and share out
    goods one truck brings back while another's compounds lack them, while time lasts.

    A goods round rebalances the routes of the truck whose compounds lack most (each such truck
    once) with those of the nearest trucks holding the surplus, and keeps them only if they serve
    as much weight and waste less; these rounds come first and take at most half the time while
    compounds wait. Any other round solves the unserved compounds with the nearest trucks and
    their current stops as one small problem (for at most ``round_limit`` seconds), and keeps the
    answer only if it serves more weight or drives less.
    """
    started = time.monotonic()
    tried: set[str] = set()  # trucks already searched again for the waiting compounds
    tried_for_goods: set[str] = set()  # short trucks already rebalanced with their neighbours
    rounds = 0
    while True:
        remaining = time_limit - (time.monotonic() - started)
        if remaining < MIN_SEAM_SECONDS or (stop and stop()):
            return result
        waiting = [u.compound_id for u in result.unserved if u.reason in PIECE_REASONS]
        seam = _seam_problem(problem, result, waiting, piece_size, tried) if waiting else None
        goods_seam = _goods_seam_problem(problem, result, piece_size, tried_for_goods)
        if seam is None and goods_seam is None:
            return result
        rounds += 1
        # rebalancing first (each ends within a second), in at most half the time if compounds wait
        for_goods = goods_seam is not None and (seam is None or remaining > time_limit / 2)
        if progress is not None:
            done = 1.0 - remaining / time_limit
            progress(PIECE_SHARE + (1.0 - PIECE_SHARE) * done, ProgressLine("seams_left", count=len(waiting)))
        limit = remaining if round_limit is None else min(remaining, max(MIN_SEAM_SECONDS, round_limit))
        if for_goods:
            if seam is not None:
                limit = min(limit, remaining - time_limit / 2)
            tried_for_goods.add(goods_seam.truck_ids[0])
            seam_trucks = set(goods_seam.truck_ids)
            start = {r.truck_id: [v.compound_id for v in r.visits] for r in result.routes if r.truck_id in seam_trucks}
            answer = rebalance(goods_seam, start, time_limit=limit, seed=seed + 1000 + rounds, lp_solver=lp_solver,
                               stop=stop)
            result = _kept_if_less_waste(problem, result, answer, goods_seam)
            continue
        answer = solve(seam, time_limit=limit, seed=seed + 1000 + rounds, lp_solver=lp_solver)
        tried |= set(seam.truck_ids)
        before = [r for r in result.routes if r.truck_id in set(seam.truck_ids)]
        gain = _served_weight(problem, answer.routes) - _served_weight(problem, before)
        shorter = sum(r.travel_minutes for r in answer.routes) < sum(r.travel_minutes for r in before) - 1e-6
        if gain > 0 or (gain == 0 and shorter):
            result = _replace_routes(problem, result, answer, seam)


def wasted_goods(problem: Problem, routes: Sequence[Route]) -> dict[str, tuple[dict[str, int], dict[str, int]]]:
    """Per category that some truck brings back while some served compound goes short of it: the
    units each truck brings back and the units each truck's compounds lack, by truck id. A unit
    on one truck could have been another's, had the compounds been shared out otherwise."""
    by_id = {c.id: c for c in problem.compounds}
    on_road = {r.truck_id: r for r in routes}
    left: dict[str, dict[str, int]] = {}
    lacking: dict[str, dict[str, int]] = {}
    for truck in problem.trucks:
        route = on_road.get(truck.id)
        visits = route.visits if route is not None else ()
        for category, quantity in truck.stock.items():
            spare = quantity - sum(v.deliveries.get(category, 0) for v in visits)
            if spare > 0:
                left.setdefault(category, {})[truck.id] = spare
        for visit in visits:
            for category, asked in by_id[visit.compound_id].demand.items():
                short = asked - visit.deliveries.get(category, 0)
                if short > 0:
                    per_truck = lacking.setdefault(category, {})
                    per_truck[truck.id] = per_truck.get(truck.id, 0) + short
    return {c: (left[c], lacking[c]) for c in sorted(set(left) & set(lacking))}


def _waste(problem: Problem, routes: Sequence[Route]) -> int:
    """Units that could have been handed out: per category, the smaller of what comes back and
    what the served compounds lack, while both are there."""
    return sum(min(sum(left.values()), sum(lacking.values())) for left, lacking in wasted_goods(problem, routes).values())


def _goods_seam_problem(problem: Problem, result: Result, piece_size: int, tried: set[str]) -> Problem | None:
    """The untried truck whose compounds lack most of what other trucks bring back, with the
    trucks carrying that surplus whose routes pass nearest, and all their compounds."""
    wasted = wasted_goods(problem, result.routes)
    if not wasted:
        return None
    lacks: dict[str, int] = {}
    for _, lacking in wasted.values():
        for truck_id, units in lacking.items():
            lacks[truck_id] = lacks.get(truck_id, 0) + units
    trucks = {t.id: t for t in problem.trucks}
    short = [t for t in sorted(lacks, key=lambda t: -lacks[t]) if t not in tried and not trucks[t].locked_route]
    if not short:
        return None
    short_truck = short[0]
    by_id = {c.id: c for c in problem.compounds}
    routes = {r.truck_id: r for r in result.routes}

    def places(truck_id: str) -> list[int]:
        route = routes.get(truck_id)
        return [trucks[truck_id].depot, *(by_id[v.compound_id].location for v in (route.visits if route else ()))]

    targets = np.array(places(short_truck))
    holding = {t for category, (left, lacking) in wasted.items() if short_truck in lacking for t in left}
    nearest = sorted((float(problem.travel[np.ix_(places(t), targets)].min()), t)
                     for t in holding if t != short_truck and not trucks[t].locked_route)
    chosen, size = [short_truck], len(targets) - 1
    for _, truck_id in nearest:
        stops = len(places(truck_id)) - 1
        if len(chosen) > 1 and size + stops > piece_size:
            break
        chosen.append(truck_id)
        size += stops
    if len(chosen) == 1:
        return None
    served_there = {v.compound_id for t in chosen if t in routes for v in routes[t].visits}
    return subproblem(problem, [trucks[t] for t in chosen], [c for c in problem.compounds if c.id in served_there])


def _kept_if_less_waste(problem: Problem, result: Result, answer: Result, seam: Problem) -> Result:
    """The result with the seam's answer in it, if that serves as much weight and wastes less."""
    before = [r for r in result.routes if r.truck_id in set(seam.truck_ids)]
    if _served_weight(problem, answer.routes) < _served_weight(problem, before):
        return result
    changed = _replace_routes(problem, result, answer, seam)
    return changed if _waste(problem, changed.routes) < _waste(problem, result.routes) else result


def _seam_problem(
    problem: Problem, result: Result, waiting: Sequence[str], piece_size: int, tried: set[str]
) -> Problem | None:
    """The waiting compounds plus the untried trucks whose routes pass nearest to them."""
    by_id = {c.id: c for c in problem.compounds}
    priority_first = sorted(waiting, key=lambda cid: -by_id[cid].priority)[: max(1, piece_size // 2)]
    targets = np.array([by_id[cid].location for cid in priority_first])
    routes = {r.truck_id: r for r in result.routes}
    candidates = []
    for truck in problem.trucks:
        if truck.id in tried or truck.locked_route:
            continue
        route = routes.get(truck.id)
        stops = [by_id[v.compound_id].location for v in route.visits] if route else []
        places = np.array([truck.depot, *stops])
        closeness = float(problem.travel[np.ix_(places, targets)].min())
        spare = truck.max_stops - len(stops)
        candidates.append((spare <= 0, closeness, truck.id, stops))
    candidates.sort()
    chosen, size = [], len(priority_first)
    for _, _, truck_id, stops in candidates:
        if chosen and size + len(stops) > piece_size:
            break
        chosen.append(truck_id)
        size += len(stops)
    if not chosen:
        return None
    served_there = [v.compound_id for t in chosen if t in routes for v in routes[t].visits]
    keep = set(served_there) | set(priority_first)
    trucks = [t for t in problem.trucks if t.id in set(chosen)]
    return subproblem(problem, trucks, [c for c in problem.compounds if c.id in keep])


def _replace_routes(problem: Problem, result: Result, answer: Result, seam: Problem) -> Result:
    """The result with the seam trucks' routes and the seam compounds' status taken from ``answer``."""
    seam_trucks, seam_compounds = set(seam.truck_ids), set(seam.compound_ids)
    routes = [r for r in result.routes if r.truck_id not in seam_trucks] + list(answer.routes)
    unserved = [u for u in result.unserved if u.compound_id not in seam_compounds]
    unserved += list(answer.unserved)
    return merge(
        problem,
        [replace(result, routes=tuple(routes), unserved=tuple(unserved), iterations=result.iterations + answer.iterations)],
        seconds=result.seconds,
        seed=result.seed,
    )
