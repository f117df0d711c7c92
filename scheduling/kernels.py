"""The two loops the search spends its time in, compiled by numba (bench/README.md, profiles).

``route_times`` recomputes one route's edge row (Savelsbergh's forward departures and backward
latest starts) and ``cheapest_gap`` finds a customer's cheapest feasible gap over all routes
with those rows: an O(1) check per gap. In Python and numpy they took 80 % of the search's time.

Both are compiled when this module is first imported, for the exact array types the search
passes, and cached beside the source, so no solve pays for compiling inside its time limit.
"""
from __future__ import annotations

import numpy as np
from numba import njit, types

INF = np.inf

_ROW_F = types.float64[::1]
_ROW_I = types.int64[::1]
_GRID_F = types.float64[:, ::1]
_GRID_I = types.int64[:, ::1]


@njit(
    types.Tuple((types.boolean, types.float64))(
        _GRID_F, _ROW_I, types.int64, _ROW_F, _ROW_F, _ROW_F, types.float64, types.float64,
        _ROW_I, _ROW_I, _ROW_F, _ROW_F, _ROW_F, types.float64,
    ),
    cache=True,
)
def route_times(dist, route, depot, ready, due, service, start, end, pred, succ, dep, latest, base, eps):
    """Fills one route's rows (pred, succ, departure, latest start at the successor, arc length
    per gap; latest is -inf past the route's end) and returns (feasible, travel)."""
    length = route.shape[0]
    clock = start
    dep[0] = start
    here = depot
    feasible = True
    travel = 0.0
    for p in range(length):
        i = route[p]
        leg = dist[here, i]
        base[p] = leg
        travel += leg
        clock += leg
        if clock < ready[i]:
            clock = ready[i]
        elif clock > due[i] + eps:
            feasible = False
        clock += service[i]
        dep[p + 1] = clock
        pred[p] = here
        succ[p] = i
        here = i
    leg = dist[here, depot]
    base[length] = leg
    travel += leg
    pred[length] = here
    succ[length] = depot
    if clock + leg > end + eps:
        feasible = False
    bound = end
    latest[length] = end
    for p in range(length - 1, -1, -1):
        i = route[p]
        bound -= service[i] + base[p + 1]
        if due[i] < bound:
            bound = due[i]
        latest[p] = bound
    for p in range(length + 1, latest.shape[0]):
        latest[p] = -INF
    return feasible, travel


@njit(
    types.UniTuple(types.int64, 2)(
        types.int64, types.boolean[::1], _GRID_F, _GRID_I, _GRID_I, _GRID_F, _GRID_F, _GRID_F,
        types.float64, types.float64, types.float64, _ROW_F, types.float64,
    ),
    cache=True,
)
def cheapest_gap(u, ok, dist, pred, succ, dep, latest, base, ready, due, service, bonus, eps):
    """(route, gap) where inserting customer u adds least travel less ``bonus`` of the route,
    among the routes ``ok`` allows and the gaps that keep every window and the shift; (-1, -1)
    when there is none. Ties go to the first route and gap, as numpy's argmin would."""
    best, best_route, best_gap = INF, -1, -1
    for k in range(pred.shape[0]):
        if not ok[k]:
            continue
        for p in range(pred.shape[1]):
            limit = latest[k, p]
            if limit == -INF:
                break
            into = dist[pred[k, p], u]
            out = dist[u, succ[k, p]]
            begin = dep[k, p] + into
            if begin < ready:
                begin = ready
            if begin > due + eps or begin + (service - eps) + out > limit:
                continue
            delta = into + out - base[k, p] - bonus[k]
            if delta < best:
                best, best_route, best_gap = delta, k, p
    return best_route, best_gap


@njit(
    types.float64(_ROW_F, _ROW_F, _ROW_F, _ROW_F, _ROW_F, types.float64, types.float64),
    cache=True,
)
def goods_worth(stock, load, fair, value, balance, deep_share, deep_balance):
    """``Search.goods_value`` of one truck: per category what it hands out of ``load``, less
    ``balance`` (per category) times what it lacks of the fair share ``fair * load`` and ``deep_balance`` times
    what it lacks of ``deep_share`` of it, weighed by ``value``. numpy took 10 µs a call for eight
    categories, a third of a solve's time once goods count."""
    total = 0.0
    for g in range(stock.shape[0]):
        share = fair[g] * load[g]
        worth = min(stock[g], load[g])
        if share > stock[g]:
            worth -= balance[g] * (share - stock[g])
        if deep_share * share > stock[g]:
            worth -= deep_balance * (deep_share * share - stock[g])
        total += worth * value[g]
    return total


@njit(
    types.float64[::1](_GRID_F, _GRID_F, _ROW_F, _ROW_F, _ROW_F, types.float64, types.float64),
    cache=True,
)
def goods_worth_rows(stock, load, fair, value, balance, deep_share, deep_balance):
    """``goods_worth`` of every row of ``stock`` and ``load``."""
    out = np.empty(stock.shape[0])
    for k in range(stock.shape[0]):
        out[k] = goods_worth(stock[k], load[k], fair, value, balance, deep_share, deep_balance)
    return out
