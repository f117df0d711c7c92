"""``solve``: settle what is hopeless, search routes, recombine the pool, share stock, validate.

Determinism: the search is paced by an iteration budget derived from the time limit and the
problem size, so a seed gives the same answer whenever the machine is fast enough for the
budget (or progress stalls first). On a slower or busy machine the wall clock paces it instead,
and the time limit always holds.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence

from .fairshare import Block, share, to_units
from .instance import Prepared, prepare
from .lp import check_solver_name
from .pool import RoutePool
from .progress import ProgressLine
from .problem import Problem, Truck
from .result import Result, Route, Unserved, UnservedReason, Visit
from .search import AIM_RATE, AIM_RATE_SETTLED, Search, State

Progress = Callable[[float, str], None]

#: iterations per second of time limit this engine manages on a small machine for ~100 customers
ITERATIONS_PER_SECOND_AT_100 = 1200.0
#: simulated-annealing temperatures at the start and the end, in units of travel per customer
HOT, COLD = 3.0, 0.03
#: fractions of the iteration budget after which the pool is recombined by the MILP
RECOMBINE_AT = (0.15, 0.3, 0.45, 0.6, 0.75, 0.9)
#: a further annealing cycle (after the first has used the budget) is this share of the budget
#: long and starts this much cooler than the first
CYCLE_SHARE, CYCLE_HEAT = 0.5, 0.3
#: after a cycle that shortened nothing the next starts as hot as the first, to leave the valley
#: a cooler restart from the same best keeps finding; the search ends after this many such
#: cycles in a row (Solomon at 10 s, seeds 0-2: mean gap 0.52, 0.22, 1.44 % when the first
#: fruitless cycle ended it, 0.30, 0.22, 0.32 % now; more cooler cycles alone changed nothing)
FRUITLESS_CYCLES = 2
#: share of the search time after which, on a busy machine, the clock cools the first cycle to
#: the end of the time even where the iterations lag behind
CLOCK_FROM = 0.5
#: share of the budget after which the goods each truck hands out count too: first the search
#: packs routes to serve as many compounds as it can, then it matches them to the trucks' loads
#: (counted from the start, it served fewer on generated days; only at the end, it moved too
#: little: on the demo day 5,073 units stayed on the trucks, from half-way none did)
GOODS_FROM = 0.5
#: rounds of relocations (of one compound or a string), exchanges of compounds, of route ends
#: and of routes a polish makes while they pay
#: (one move opens the way for another: a compound leaves a full route, one can come in)
POLISH_ROUNDS = 4
#: every stop gets at least this share of the day's fill rate of a scarce category (the stock
#: the trucks on the road carry over what their compounds ask), as far as its truck's load
#: allows: about nine tenths of the scarce stock go equally per household (a little more, so
#: that whole units still give everyone nine tenths), priority decides the rest
FAIR_FLOOR = 0.92


def iteration_budget(n: int, time_limit: float) -> int:
    rate = ITERATIONS_PER_SECOND_AT_100 * min(4.0, (100.0 / max(n, 10)) ** 0.5)
    return max(50, int(rate * time_limit))


def patience(n: int) -> int:
    """Iterations without a new best after which a cycle ends early: no improvement in sight."""
    return 2000 + 150 * n


def cover_patience(n: int) -> int:
    """Iterations without serving more after which fewer ruins are aimed at unserved compounds:
    coverage has stopped rising, so travel gets the search (12- and 5-truck days, 16,000 and
    8,000 iterations: the same compounds served, 1 % and 1.5 % less travel)."""
    return 1000 + 5 * n


class _Reporter:
    """Calls progress with a non-decreasing fraction, at most a few times a second."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.fraction = 0.0
        self.last = -1.0

    def __call__(self, fraction: float, message: str, force: bool = False) -> None:
        if self.progress is None:
            return
        now = time.monotonic()
        if not force and now - self.last < 0.25:
            return
        self.last = now
        self.fraction = max(self.fraction, min(1.0, fraction))
        self.progress(self.fraction, message)


def solve(
    problem: Problem,
    *,
    time_limit: float = 20.0,
    seed: int = 0,
    progress: Progress | None = None,
    lp_solver: str = "highs",
    stop: Callable[..., bool] | None = None,
) -> Result:
    """The day's routes and deliveries; see the package docstring for the objective."""
    check_solver_name(lp_solver)
    started = time.monotonic()
    deadline = started + max(0.1, time_limit)
    report = _Reporter(progress)
    report(0.0, ProgressLine("preparing"), force=True)
    prepared = prepare(problem)
    inst = prepared.instance
    search = Search(inst, seed)
    iterations = 0
    if inst.n and inst.m:
        reserve = _reserve(problem, time_limit)
        best, iterations = _search(search, inst.n, time_limit, deadline, reserve, lp_solver, report, stop)
    else:
        best = search.empty_state()
    report(0.97, ProgressLine("sharing"), force=True)
    result = _result(problem, prepared, search, best, lp_solver, started, iterations, seed)
    result.check(problem)
    report(1.0, _summary(problem, result), force=True)
    return result


def rebalance(
    problem: Problem,
    start: Mapping[str, Sequence[str]],
    *,
    time_limit: float = 5.0,
    seed: int = 0,
    lp_solver: str = "highs",
    stop: Callable[..., bool] | None = None,
) -> Result:
    """The routes ``start`` (truck id -> compound ids, in order) after moving and exchanging
    compounds between them while travel less the goods handed out falls (the polish of ``solve``
    with the goods counting from the start): a warm start, no search from scratch, so every
    compound served stays served. The seams of a split day use it where one piece's truck
    brings back what another piece's compounds lack."""
    check_solver_name(lp_solver)
    started = time.monotonic()
    prepared = prepare(problem)
    inst = prepared.instance
    search = Search(inst, seed)
    index = {c.id: u for u, c in enumerate(inst.compounds)}
    stray = sorted(cid for ids in start.values() for cid in ids if cid not in index)
    if stray:
        raise ValueError(f"start routes name compounds the problem cannot route: {', '.join(stray)}")
    best = search.state_from_routes([[index[cid] for cid in start.get(t.id, ())] for t in inst.trucks])
    if best is None:
        raise ValueError("a start route breaks a window, a shift or a stop limit")
    if search.has_goods:
        search.count_goods(best, best)
    until = started + max(0.1, time_limit) - _reserve(problem, time_limit)
    best, _, _ = _polish(search, RoutePool(search), best, search.cost(best), until, stop)
    result = _result(problem, prepared, search, best, lp_solver, started, 0, seed)
    result.check(problem)
    return result


def _summary(problem: Problem, result: Result) -> str:
    served = len(result.served_ids)
    return ProgressLine("searching", served=served, total=len(problem.compounds), minutes=round(result.travel_minutes))


def _reserve(problem: Problem, time_limit: float) -> float:
    """Seconds kept after the search for the fair-share LP (which grows with the fleet)."""
    if problem.load_limits_routes:
        return min(0.3, 0.1 * time_limit)
    return min(0.25 * time_limit, 0.3 + 0.05 * len(problem.trucks))


def _search(search: Search, n: int, time_limit, deadline, reserve, lp_solver, report, stop) -> tuple[State, int]:
    """SISR with simulated annealing; the pool is recombined at a few points and at the end.
    From ``GOODS_FROM`` of the budget on, or once the search stalls or serves everyone before
    that, the cost counts the goods left on the trucks.

    The first annealing cycle follows the iteration budget. Once it is used, the search goes on
    in further (cooler, shorter) cycles while time is left and there is work: a compound is
    still unserved, or one of the last ``FRUITLESS_CYCLES`` + 1 cycles still shortened the routes
    (a cycle after one that did not starts hot again). When all are served, a cycle
    starts only when, at the pace measured so far, it ends before the deadline, so the run ends
    between cycles and a seed gives the same answer on an idle machine. While compounds wait,
    the last cycle is cut to the time left instead: serving them is worth more than repeating.
    The temperature and recombination points follow the iterations, and the budget is set so
    that on an idle machine the iterations run ahead of the clock; only where the machine is so
    busy that the clock runs ahead (another process sharing the cores) does the first cycle
    cool by the clock in the second half of the time (``CLOCK_FROM``), so that it still ends
    cold, not cut off while hot; a search that settles in the first half never reads the clock.
    """
    budget = iteration_budget(n, time_limit)
    pool = RoutePool(search)
    current = search.construct()
    current_cost = search.cost(current)
    best, best_cost = current, current_cost
    pool.add(current, current_cost, only_touched=False)
    scale = max(1e-9, current.travel / max(1, n - len(current.unassigned)))
    hot, cold = HOT * scale, COLD * scale
    checkpoints = list(RECOMBINE_AT)
    last_gain = 0
    rng = search.rng
    iteration = 0
    began = time.monotonic()
    search_time = max(1e-3, deadline - reserve - began)
    cycle_start, cycle_length, cycle_cost = 0, budget, best_cost
    share = 0.0
    last_cover = 0
    fruitless = 0  # cycles in a row that shortened nothing
    while True:
        iteration += 1
        search.aim_rate = AIM_RATE if iteration - last_cover <= cover_patience(n) else AIM_RATE_SETTLED
        candidate = current.copy()
        target = search.aim(candidate)
        removed = search.ruin(candidate, target)
        if removed is not None:
            retry = search.nearby_unassigned(candidate, removed)
            if target is not None and target not in retry:
                retry.append(target)
            search.recreate(candidate, removed + retry, first=target)
            cost = search.cost(candidate)
            temperature = hot * (cold / hot) ** share
            if cost < current_cost - temperature * math.log(1.0 - rng.random()):
                current, current_cost = candidate, cost
                if cost < best_cost * 1.05:
                    pool.add(candidate, cost)
                if cost < best_cost - 1e-9:
                    if len(candidate.unassigned) < len(best.unassigned):
                        last_cover = iteration
                    best, best_cost, last_gain = candidate, cost, iteration
        now = time.monotonic()
        share = (iteration - cycle_start) / cycle_length
        if cycle_start == 0:  # on a busy machine the clock paces the first cycle's end (docstring)
            share = max(share, ((now - began) / search_time - CLOCK_FROM) / (1.0 - CLOCK_FROM))
        if now >= began + search_time:
            break
        if iteration & 31 == 0:
            message = ProgressLine("searching", served=n - len(best.unassigned), total=n, minutes=round(best.travel))
            report(0.95 * (now - began) / search_time, message)
            if stop is not None and stop():
                return best, iteration  # asked to stop: the best so far, without a last recombination
        stalled = iteration - last_gain > patience(n)
        if search.has_goods and not search.goods_on and (share >= GOODS_FROM or stalled or not best.unassigned):
            search.count_goods(best, best, current)
            current_cost, best_cost, last_gain = search.cost(current), search.cost(best), iteration
            cycle_cost = best_cost
            continue
        if checkpoints and share >= checkpoints[0]:
            checkpoints.pop(0)
            best, best_cost, improved = _polish(search, pool, best, best_cost, deadline - reserve, stop)
            if improved:
                current, current_cost, last_gain = best, best_cost, iteration
            found = _recombine(pool, best, time_limit, deadline, reserve, lp_solver, search, stop)
            if found is not None and search.cost(found) < best_cost - 1e-9:
                best = current = found
                best_cost = current_cost = search.cost(found)
                last_gain = iteration
        if share < 1.0 and not stalled:
            continue
        # the end of a cycle: recombine, then another cycle if there is work and time for it
        checkpoints.clear()
        best, best_cost, _ = _polish(search, pool, best, best_cost, deadline - reserve, stop)
        found = _recombine(pool, best, time_limit, deadline, reserve, lp_solver, search, stop)
        if found is not None and search.cost(found) < best_cost - 1e-9:
            best, best_cost = found, search.cost(found)
        fruitless = 0 if best_cost < cycle_cost - 1e-9 else fruitless + 1
        next_length = max(50, int(CYCLE_SHARE * budget))
        left = began + search_time - time.monotonic()
        room = int(left * iteration / max(1e-9, time.monotonic() - began))  # iterations at this pace
        if best.unassigned and room >= 50:
            next_length = min(next_length, room)  # compounds wait: use the time, whatever it costs
        if room < next_length or not (best.unassigned or fruitless <= FRUITLESS_CYCLES):
            return _with_goods(search, best), iteration
        current, current_cost = best, best_cost
        cycle_start, cycle_length, cycle_cost = iteration, next_length, best_cost
        hot, last_gain, share = (1.0 if fruitless else CYCLE_HEAT) * HOT * scale, iteration, 0.0
    best = _with_goods(search, best)
    found = _recombine(pool, best, time_limit, deadline, reserve, lp_solver, search, stop)
    if found is not None and search.cost(found) < search.cost(best) - 1e-9:
        best = found
    return best, iteration


def _polish(search: Search, pool: RoutePool, best: State, best_cost: float, until: float,
            stop: Callable[..., bool] | None) -> tuple[State, float, bool]:
    """The best solution after relocating customers and strings of them, exchanging pairs and
    route ends, while that pays (on a copy)."""
    polished = best.copy()
    moved = False
    for _ in range(POLISH_ROUNDS):
        relocated = search.relocate(polished, deadline=until, stop=stop)
        swapped = search.swap(polished, deadline=until, stop=stop)
        crossed = search.exchange_tails(polished, deadline=until, stop=stop)
        strung = search.relocate_strings(polished, deadline=until, stop=stop)
        if not (search.exchange_routes(polished) | strung | crossed | swapped | relocated):
            break
        moved = True
    if moved:
        cost = search.cost(polished)
        if cost < best_cost - 1e-9:
            pool.add(polished, cost, only_touched=False)
            return polished, cost, True
    return best, best_cost, False


def _with_goods(search: Search, best: State) -> State:
    """Goods count in the objective from here on (they always do in the answer)."""
    if search.has_goods and not search.goods_on:
        search.count_goods(best, best)
    return best


def _recombine(pool, best, time_limit, deadline, reserve, lp_solver, search, stop) -> State | None:
    left = deadline - time.monotonic() - reserve
    limit = min(left, max(0.5, 0.06 * time_limit))
    if limit < 0.2 or len(pool) < 2:
        return None
    answer = pool.recombine(best, limit, lp_solver, stop)
    return None if answer is None else answer[0]


def _result(problem: Problem, prepared: Prepared, search: Search, best: State, lp_solver, started, iterations, seed) -> Result:
    inst = prepared.instance
    by_id = {c.id: c for c in problem.compounds}
    plans: list[tuple[Truck, list[str]]] = []
    for truck in problem.trucks:
        if truck.id in prepared.locked:
            plans.append((truck, list(prepared.locked[truck.id])))
    for k, route in enumerate(best.routes):
        if route:
            plans.append((inst.trucks[k], [inst.compounds[u].id for u in route]))
    order = {t.id: i for i, t in enumerate(problem.trucks)}
    plans = [p for p in sorted(plans, key=lambda p: order[p[0].id]) if p[1]]
    deliveries = _deliveries(problem, plans, by_id, lp_solver)
    routes = []
    total = 0.0
    for (truck, ids), delivered in zip(plans, deliveries):
        route = _timed_route(problem, truck, [by_id[c] for c in ids], delivered)
        routes.append(route)
        total += route.travel_minutes
    served = {v.compound_id for r in routes for v in r.visits}
    unserved = [Unserved(cid, reason) for cid, reason in prepared.unserved.items()]
    unserved += [Unserved(c.id, UnservedReason.FLEET_FULL) for c in inst.compounds if c.id not in served]
    rank = {c.id: i for i, c in enumerate(problem.compounds)}
    unserved.sort(key=lambda u: rank[u.compound_id])
    return Result(
        routes=tuple(routes),
        unserved=tuple(unserved),
        travel_minutes=total,
        seconds=time.monotonic() - started,
        iterations=iterations,
        seed=seed,
    )


def _deliveries(problem: Problem, plans, by_id, lp_solver) -> list[list[dict[str, int]]]:
    """Per route, per stop: whole units per category (fair shares when stock is short)."""
    result = [[{} for _ in ids] for _, ids in plans]
    if problem.load_limits_routes:
        for r, (_, ids) in enumerate(plans):
            for s, cid in enumerate(ids):
                result[r][s] = {c: q for c, q in by_id[cid].demand.items() if q > 0}
        return result
    day_share = _day_share(plans, by_id)
    blocks, where = [], []
    for r, (truck, ids) in enumerate(plans):
        categories = sorted({c for cid in ids for c, q in by_id[cid].demand.items() if q > 0})
        for category in categories:
            stops = [s for s, cid in enumerate(ids) if by_id[ids[s]].demand.get(category, 0) > 0]
            demand = [by_id[ids[s]].demand[category] for s in stops]
            weight = [float(max(1, by_id[ids[s]].priority)) for s in stops]
            stock = truck.stock.get(category, 0)
            floor = min(stock / sum(demand), FAIR_FLOOR * day_share[category])
            blocks.append(Block(stock, demand, weight, floor))
            where.append((r, category, stops, demand, truck.stock.get(category, 0)))
    shares = share(blocks, lp_solver)
    for quantities, (r, category, stops, demand, stock) in zip(shares, where):
        for s, units in zip(stops, to_units(quantities, demand, stock)):
            result[r][s][category] = units
    return result


def _day_share(plans, by_id) -> dict[str, float]:
    """Per category, the share of the served compounds' demand the trucks on the road carry."""
    stock: dict[str, int] = {}
    asked: dict[str, int] = {}
    for truck, ids in plans:
        for category, quantity in truck.stock.items():
            stock[category] = stock.get(category, 0) + quantity
        for cid in ids:
            for category, quantity in by_id[cid].demand.items():
                asked[category] = asked.get(category, 0) + quantity
    return {c: min(1.0, stock.get(c, 0) / q) if q else 1.0 for c, q in asked.items()}


def _timed_route(problem: Problem, truck: Truck, compounds, delivered) -> Route:
    """Times along the route; the truck leaves as late as it can without arriving later."""
    travel = problem.travel
    depart = truck.shift_start
    if compounds:
        first = compounds[0]
        depart = max(truck.shift_start, first.ready - float(travel[truck.depot, first.location]))
    here, clock, minutes = truck.depot, depart, 0.0
    visits = []
    for compound, units in zip(compounds, delivered):
        leg = float(travel[here, compound.location])
        minutes += leg
        arrival = clock + leg
        start = max(arrival, compound.ready)
        clock = start + compound.service
        fill = {c: units.get(c, 0) / q for c, q in compound.demand.items() if q > 0}
        visits.append(Visit(compound.id, arrival, start, clock, units, fill))
        here = compound.location
    leg = float(travel[here, truck.depot])
    minutes += leg
    return Route(truck.id, depart, clock + leg, tuple(visits), minutes)
