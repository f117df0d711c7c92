"""Route search: insertion, ruin-and-recreate (SISR) with simulated-annealing acceptance.

Routes are plain index lists. Each route ``k`` also keeps one row of "edge" arrays: for every
gap ``p`` between consecutive nodes (depot .. customers .. depot) the predecessor, successor,
the earliest departure from the predecessor and the latest feasible service start at the
successor (Savelsbergh's forward/backward time data). Inserting a customer into a gap is then
an O(1) check, and numpy checks every gap of every route at once.

Slack Induction by String Removals: J. Christiaens and G. Vanden Berghe (2020),
"Slack induction by string removals for vehicle routing problems", Transportation Science 54(2).
"""
from __future__ import annotations

import random
import time
from collections.abc import Callable

import numpy as np

from .instance import EPS, Instance
from .kernels import cheapest_gap, goods_worth, goods_worth_rows, route_times

INF = float("inf")

#: the search counts each unit a truck lacks of the day's fair share of its compounds' demand
#: (stock over the served demand, per category) at this many times a unit handed out: what a
#: compound gets should not depend on which truck draws it, and a truck can hand out only what
#: it carries (the engine's fair shares on each truck cannot make up for unequal loads)
FAIR_BALANCE = 1.0
#: and at this many times in a category the day's stock covers: there each unit a truck lacks is
#: a unit another truck brings back while a compound goes short (issue 8)
WASTE_BALANCE = 8.0
#: a customer is offered in exchange to the customers of other routes among this many nearest
SWAP_NEIGHBOURS = 12
#: and each unit it lacks of ``FAIR_DEEP`` of that share at this many times more: the search
#: lifts the worst-off truck first (the engine promises every stop ``engine.FAIR_FLOOR``)
FAIR_DEEP, FAIR_DEEP_BALANCE = 0.95, 4.0
#: SISR parameters from the paper: mean removed customers, max string length, split depth
MEAN_REMOVED = 10.0
MAX_STRING = 10.0
SPLIT_DEPTH = 0.01
NEIGHBOURS = 100
#: how many of a removed customer's neighbours are retried when they are unserved
NEAR_UNASSIGNED = 15
#: consecutive customers an or-opt move takes along
STRING_LENGTHS = (2, 3)
#: greedy constructions the search starts from the best of (the 12-truck day, 325 compounds that
#: all fit: one construction served 301 to 324 of them depending on its order and the seed)
CONSTRUCTIONS = 16
#: share of ruins aimed next to an unserved customer while coverage rises, and once it has not
#: risen for a while (some compounds may never fit: a day can have more compounds than stops)
AIM_RATE, AIM_RATE_SETTLED = 0.5, 0.1


def _out_of_time(count: int, deadline: float, stop: Callable[[], bool] | None) -> bool:
    """The local searches' clock: the deadline at every customer, ``stop()`` (which may read a
    database) at every 32nd."""
    return time.monotonic() > deadline or (stop is not None and count & 31 == 31 and stop())


class State:
    """One solution: routes, their edge rows, loads and costs. Copy before changing."""

    __slots__ = (
        "routes", "route_of", "pred", "succ", "dep", "latest", "base", "room", "rcost", "goods", "gvalue",
        "unassigned", "touched",
    )

    def copy(self) -> State:
        other = State.__new__(State)
        other.routes = [r[:] for r in self.routes]
        other.route_of = self.route_of.copy()
        other.pred = self.pred.copy()
        other.succ = self.succ.copy()
        other.dep = self.dep.copy()
        other.latest = self.latest.copy()
        other.base = self.base.copy()
        other.room = self.room.copy()
        other.rcost = self.rcost.copy()
        other.goods = self.goods.copy()
        other.gvalue = self.gvalue.copy()
        other.unassigned = set(self.unassigned)
        other.touched = set()
        return other

    @property
    def travel(self) -> float:
        return float(self.rcost.sum())


class Search:
    """The moves on a compiled Instance; all randomness comes from the seeded generators."""

    def __init__(self, inst: Instance, seed: int) -> None:
        self.inst = inst
        self.n, self.m = inst.n, inst.m
        self.dist = inst.dist
        self.ready = inst.ready.tolist()
        self.due = inst.due.tolist()
        self.service = inst.service.tolist()
        self.shift_start = inst.shift_start.tolist()
        self.shift_end = inst.shift_end.tolist()
        self.max_stops = inst.max_stops
        self.types = inst.truck_type.tolist()
        self.has_loads = inst.demand.shape[1] > 0
        self.one_load = inst.demand.shape[1] == 1
        self.need = inst.demand[:, 0].tolist() if self.one_load else []
        self.capacity_one = (inst.capacity[:, 0] + EPS).tolist() if self.one_load else []
        self.no_bonus = np.zeros(self.m)
        self.rng = random.Random(seed)
        n = self.n
        largest = float(inst.dist.max()) if inst.dist.size else 0.0
        #: the value of serving one priority unit: more than any solution's whole travel
        self.penalty = (n + self.m + 1) * largest + 1.0
        customer_dist = inst.dist[:n, :n]
        order = np.argsort(customer_dist + customer_dist.T, axis=1, kind="stable")
        self.neighbours = order[:, : min(n, NEIGHBOURS)].tolist()
        depots = inst.dist[n:, :n] if self.m else np.zeros((1, n))
        self.depot_distance = depots.min(axis=0).tolist()
        self.size = inst.demand.sum(axis=1).tolist() if self.has_loads else [0.0] * n
        #: goods delivered count in the objective (day mode with a category some truck may run short of)
        self.has_goods = bool(inst.goods_value.any())
        #: the most goods value any solution can have: cost stays >= 0 with it as an offset
        self.goods_ceiling = float(
            (np.minimum(inst.goods_stock.sum(axis=0), inst.goods_demand.sum(axis=0)) * inst.goods_value).sum()
        )
        #: per goods category, the share of its demand the day's stock covers (at most 1); set
        #: when the goods start to count (``count_goods``), from the compounds then served
        self.fair_ratio = np.ones(inst.goods_stock.shape[1])
        #: per category, what each unit below the fair share costs (``FAIR_BALANCE``, ``WASTE_BALANCE``)
        self.balance = np.full(inst.goods_stock.shape[1], FAIR_BALANCE)
        #: the most the shortfall below that share can cost any solution (``goods_value``)
        shortfall_ceiling = (max(FAIR_BALANCE, WASTE_BALANCE) + FAIR_DEEP_BALANCE) * float(
            inst.goods_demand.sum(axis=0) @ inst.goods_value)
        self.penalty += self.goods_ceiling + shortfall_ceiling  # serving still outweighs any shift of goods
        #: whether cost and insertion count the goods now (the engine turns it on part-way)
        self.goods_on = False
        #: share of ruins aimed at an unserved customer (the engine lowers it part-way)
        self.aim_rate = AIM_RATE

    # ----------------------------------------------------------------- state basics
    def empty_state(self) -> State:
        st = State.__new__(State)
        m, width = self.m, 8
        st.routes = [[] for _ in range(m)]
        st.route_of = np.full(self.n, -1, dtype=np.int64)
        st.pred = np.zeros((m, width), dtype=np.int64)
        st.succ = np.zeros((m, width), dtype=np.int64)
        st.dep = np.zeros((m, width))
        st.latest = np.full((m, width), -INF)
        st.base = np.zeros((m, width))
        st.room = self.inst.capacity + EPS
        st.rcost = np.zeros(m)
        st.goods = np.zeros_like(self.inst.goods_stock)
        st.gvalue = np.zeros(m)
        st.unassigned = set(range(self.n))
        st.touched = set()
        for k in range(m):
            self.update(st, k)
        return st

    def cost(self, st: State) -> float:
        """Travel, plus the penalty for every unserved priority unit, plus the goods value left on
        the trucks (measured from the most any solution could deliver, so it is never negative)."""
        missing = sum(self.inst.prize[u] for u in st.unassigned)
        cost = st.travel + self.penalty * float(missing)
        return cost + (self.goods_ceiling - float(st.gvalue.sum())) if self.goods_on else cost

    def goods_value(self, k: int, load: np.ndarray) -> float:
        """What truck k hands out of a route asking for ``load``, less ``balance`` times what
        it lacks of the day's fair share of that load, in travel minutes."""
        return goods_worth(self.inst.goods_stock[k], load, self.fair_ratio, self.inst.goods_value,
                           self.balance, FAIR_DEEP, FAIR_DEEP_BALANCE)

    def count_goods(self, served: State, *states: State) -> None:
        """From now on the goods count; the fair share is the day's stock over the demand of the
        compounds ``served`` serves, and ``states`` are valued again at it."""
        inst = self.inst
        waiting = np.zeros(self.n, dtype=bool)
        waiting[list(served.unassigned)] = True
        asked = inst.goods_demand[~waiting].sum(axis=0)
        self.fair_ratio = np.minimum(1.0, inst.goods_stock.sum(axis=0) / np.maximum(asked, 1e-9))
        self.balance = np.where(self.fair_ratio >= 1.0, WASTE_BALANCE, FAIR_BALANCE)
        self.goods_on = True
        for st in states:
            for k in range(self.m):
                st.gvalue[k] = self.goods_value(k, st.goods[k])

    def served_weight(self, st: State) -> float:
        return float(self.inst.prize.sum()) - float(sum(self.inst.prize[u] for u in st.unassigned))

    def _grow(self, st: State, width: int) -> None:
        old = st.pred.shape[1]
        pad = width - old
        st.pred = np.pad(st.pred, ((0, 0), (0, pad)))
        st.succ = np.pad(st.succ, ((0, 0), (0, pad)))
        st.dep = np.pad(st.dep, ((0, 0), (0, pad)))
        st.base = np.pad(st.base, ((0, 0), (0, pad)))
        st.latest = np.pad(st.latest, ((0, 0), (0, pad)), constant_values=-INF)

    def update(self, st: State, k: int, added: int | None = None) -> bool:
        """Recomputes route k's edge row; False when the route breaks a window or the shift.

        Forward: departure from each node (waiting when early). Backward: the latest service
        start at each node that keeps the rest of the route feasible. ``added``: the one customer
        inserted since the last update, whose goods are added instead of summing the route again.
        """
        route = st.routes[k]
        length = len(route)
        depot = self.n + k
        if length + 1 > st.pred.shape[1]:
            self._grow(st, -(-(length + 2) // 8) * 8)  # the next multiple of 8: rows stay short
        inst = self.inst
        feasible, st.rcost[k] = route_times(
            self.dist, np.array(route, dtype=np.int64), depot, inst.ready, inst.due, inst.service,
            self.shift_start[k], self.shift_end[k], st.pred[k], st.succ[k], st.dep[k], st.latest[k], st.base[k], EPS,
        )
        if self.one_load:
            st.room[k, 0] = self.capacity_one[k] - sum(map(self.need.__getitem__, route))
        elif self.has_loads:
            st.room[k] = self.inst.capacity[k] + EPS - (self.inst.demand[route].sum(axis=0) if route else 0.0)
        if self.has_goods:
            if added is not None:
                st.goods[k] += self.inst.goods_demand[added]
            else:
                st.goods[k] = self.inst.goods_demand[route].sum(axis=0) if route else 0.0
            st.gvalue[k] = self.goods_value(k, st.goods[k])
        if added is not None:
            st.route_of[added] = k
        else:
            st.route_of[route] = k
        st.touched.add(k)
        return feasible

    # ----------------------------------------------------------------- insertion
    def usable_routes(self, st: State) -> np.ndarray:
        """Routes open for insertion: only one empty route per interchangeable truck type."""
        lengths = np.fromiter((len(r) for r in st.routes), dtype=np.int64, count=self.m)
        usable = lengths < self.max_stops
        seen = set()
        for k in np.flatnonzero(lengths == 0).tolist():
            t = self.types[k]
            if t in seen:
                usable[k] = False
            seen.add(t)
        return usable

    def best_insertion(self, st: State, u: int, usable: np.ndarray) -> tuple[int, int] | None:
        """The cheapest feasible gap for customer u over all open routes (route, position)."""
        ok = self.inst.allowed[u] & usable
        if self.has_loads:
            if self.one_load:
                ok &= st.room[:, 0] >= self.need[u]
            else:
                ok &= (st.room >= self.inst.demand[u]).all(axis=1)
        if not ok.any():
            return None
        inst = self.inst
        if self.goods_on:  # a truck with stock of what u asks for left over gains by serving u
            bonus = goods_worth_rows(inst.goods_stock, st.goods + inst.goods_demand[u], self.fair_ratio,
                                     inst.goods_value, self.balance, FAIR_DEEP, FAIR_DEEP_BALANCE) - st.gvalue
        else:
            bonus = self.no_bonus
        k, p = cheapest_gap(u, ok, self.dist, st.pred, st.succ, st.dep, st.latest, st.base,
                            self.ready[u], self.due[u], self.service[u], bonus, EPS)
        return None if k < 0 else (k, p)

    def insert(self, st: State, u: int, k: int, p: int) -> None:
        st.routes[k].insert(p, u)
        st.unassigned.discard(u)
        self.update(st, k, added=u)

    def recreate(self, st: State, customers: list[int], first: int | None = None) -> None:
        """Greedy insertion in one of SISR's orders (random, large, far, close); ``first``, the
        unserved customer a ruin was aimed at, goes before the others."""
        choice = self.rng.choices((0, 1, 2, 3), weights=(4, 4, 2, 1))[0]
        if choice == 0:
            self.rng.shuffle(customers)
        elif choice == 1:
            customers.sort(key=lambda u: -self.size[u])
        elif choice == 2:
            customers.sort(key=lambda u: -self.depot_distance[u])
        else:
            customers.sort(key=lambda u: self.depot_distance[u])
        if first is not None:
            customers.remove(first)
            customers.insert(0, first)
        usable = self.usable_routes(st)
        for u in customers:
            spot = self.best_insertion(st, u, usable)
            if spot is None:
                st.unassigned.add(u)
                continue
            k, p = spot
            self.insert(st, u, k, p)
            if len(st.routes[k]) == 1 or len(st.routes[k]) >= self.max_stops[k]:
                usable = self.usable_routes(st)

    def nearby_unassigned(self, st: State, removed: list[int]) -> list[int]:
        """Unserved customers close to what was just removed: the ones the freed slack may fit."""
        if not st.unassigned:
            return []
        near = set()
        for c in removed:
            near.update(self.neighbours[c][:NEAR_UNASSIGNED])
        return sorted(near & st.unassigned)

    def construct(self, tries: int = CONSTRUCTIONS) -> State:
        """The cheapest of ``tries`` greedy insertions of every customer, each in one of
        ``recreate``'s orders: where the search starts decides how soon coverage peaks."""
        best, best_cost = None, INF
        for _ in range(tries):
            st = self.empty_state()
            self.recreate(st, list(range(self.n)))
            cost = self.cost(st)
            if cost < best_cost:
                best, best_cost = st, cost
        return best

    # ----------------------------------------------------------------- local search
    def relocate(self, st: State, deadline: float = INF, stop: Callable[[], bool] | None = None,
                 passes: int = 3) -> bool:
        """Moves single customers to their cheapest feasible gap (any route, the same one too)
        while that lowers the cost, until ``deadline`` (``time.monotonic()``) or ``stop()``; True
        if anything moved. The annealing leaves routes a few relocations short of a local optimum, and the
        pool keeps what this finds. A move serves the same customers, so only travel and goods
        handed out change the cost."""
        moved_any = False
        for _ in range(passes):
            moved = False
            order = self._shuffled_served(st)
            usable = self.usable_routes(st)
            for count, u in enumerate(order):
                if _out_of_time(count, deadline, stop):
                    return moved_any or moved
                before = self._route_cost(st)
                k = int(st.route_of[u])
                old = st.routes[k][:]
                del st.routes[k][old.index(u)]
                st.route_of[u] = -1
                if self.update(st, k):
                    was_usable, usable[k] = usable[k], True  # u's own route has room for it again
                    spot = self.best_insertion(st, u, usable)
                    usable[k] = was_usable
                    if spot is not None:
                        k2, p2 = spot
                        old2 = st.routes[k2][:]
                        self.insert(st, u, k2, p2)
                        if self._route_cost(st) < before - 1e-6:
                            moved = True
                            usable = self.usable_routes(st)
                            continue
                        st.routes[k2] = old2
                        self.update(st, k2)
                st.routes[k] = old
                self.update(st, k)
            moved_any |= moved
            if not moved:
                break
        return moved_any

    def relocate_strings(self, st: State, deadline: float = INF, stop: Callable[[], bool] | None = None,
                         neighbours: int = SWAP_NEIGHBOURS) -> bool:
        """Or-opt: moves two or three consecutive customers, in their order, next to one of the
        first's nearest ``neighbours`` on another route, while that lowers the cost; True if
        anything moved. A pair of compounds in one building block leaves its route together,
        which two single relocations, each worse on its own, never do."""
        moved = False
        for count, u in enumerate(self._shuffled_served(st)):
            if _out_of_time(count, deadline, stop):
                return moved
            for length in STRING_LENGTHS:
                ka = int(st.route_of[u])
                i = st.routes[ka].index(u)
                segment = st.routes[ka][i:i + length]
                if len(segment) == length and self._move_string(st, ka, i, segment, self.neighbours[u][:neighbours]):
                    moved = True
                    break
        return moved

    def _move_string(self, st: State, ka: int, i: int, segment: list[int], near: list[int]) -> bool:
        """Moves ``segment`` (route ka from position i) before or after the first customer of
        ``near`` on another route where that pays and holds."""
        dist, n, a = self.dist, self.n, st.routes[ka]
        first, last = segment[0], segment[-1]
        before = a[i - 1] if i else n + ka
        after = a[i + len(segment)] if i + len(segment) < len(a) else n + ka
        saving = dist[before, first] + dist[last, after] - dist[before, after]
        shift = self.inst.goods_demand[segment].sum(axis=0) if self.goods_on else None
        allowed = self.inst.allowed
        for v in near:
            kb = int(st.route_of[v])
            if kb < 0 or kb == ka or len(st.routes[kb]) + len(segment) > self.max_stops[kb]:
                continue
            if not all(allowed[x, kb] for x in segment):
                continue
            j = st.routes[kb].index(v)
            for p in (j, j + 1):  # the gap before v, the gap after it
                gain = saving - (dist[st.pred[kb, p], first] + dist[last, st.succ[kb, p]] - st.base[kb, p])
                if self.goods_on:
                    gain += self._goods_gain(st, kb, ka, shift)
                if gain <= 1e-6 or not self._string_fits(st, kb, p, segment):
                    continue
                b = st.routes[kb]
                if self._replace_routes(st, ka, a[:i] + a[i + len(segment):], kb, b[:p] + segment + b[p:]):
                    return True
        return False

    def _string_fits(self, st: State, k: int, p: int, segment: list[int]) -> bool:
        """Whether ``segment`` fits into gap p of route k within every window and the shift:
        timed along the segment from the edge row's departure, then against the latest start
        at the stop after (``_fits_in_place`` for several customers)."""
        here, clock = st.pred[k, p], st.dep[k, p]
        for x in segment:
            clock = max(self.ready[x], clock + self.dist[here, x])
            if clock > self.due[x] + EPS:
                return False
            clock += self.service[x]
            here = x
        return clock - EPS + self.dist[here, st.succ[k, p]] <= st.latest[k, p]

    def swap(self, st: State, deadline: float = INF, stop: Callable[[], bool] | None = None,
             neighbours: int = SWAP_NEIGHBOURS) -> bool:
        """Exchanges two customers of different routes, each taking the other's place, while that
        lowers the cost; True if anything moved. Full routes (stop limits) can trade only this
        way: it is how a route takes a nearer customer of a neighbour's, and how a truck short
        of what its compounds ask gives one of them to a truck that carries more. Each customer
        is offered to its nearest ``neighbours``; once goods count, each customer of a truck far
        below the fair share, or below it at all in a category the day has enough of, is offered
        to every other route as well."""
        moved = False
        order = self._shuffled_served(st)
        for count, u in enumerate(order):
            if _out_of_time(count, deadline, stop):
                return moved
            moved |= self._swap_with(st, u, self.neighbours[u][:neighbours])
        if not self.goods_on:
            return moved
        share, stock = self.fair_ratio * st.goods, self.inst.goods_stock
        wasteful = (self.balance > FAIR_BALANCE) & (share > stock + EPS)  # another truck brings it back
        short = (wasteful | (FAIR_DEEP * share > stock)).any(axis=1)
        for k in np.flatnonzero(short).tolist():
            others = [v for v in order if st.route_of[v] != k]
            for u in list(st.routes[k]):
                if time.monotonic() > deadline or (stop is not None and stop()):
                    return moved
                moved |= self._swap_with(st, u, others)
        return moved

    def exchange_tails(self, st: State, deadline: float = INF, stop: Callable[[], bool] | None = None,
                       neighbours: int = SWAP_NEIGHBOURS) -> bool:
        """2-opt*: two routes swap their ends where a customer and one of its nearest
        ``neighbours`` on another route would follow each other, while that lowers the cost;
        True if anything moved. Where relocation and exchange move one customer, this moves a
        whole stretch: it uncrosses two routes (the move the hybrid genetic search leans on for
        long-horizon days)."""
        moved = False
        order = self._shuffled_served(st)
        for count, u in enumerate(order):
            if _out_of_time(count, deadline, stop):
                return moved
            for v in self.neighbours[u][:neighbours]:
                ka, kb = int(st.route_of[u]), int(st.route_of[v])
                if kb < 0 or kb == ka:
                    continue
                i, j = st.routes[ka].index(u), st.routes[kb].index(v)
                # u then v (route a keeps its start to u, then drives v's end), or v then u
                if self._swap_tails(st, ka, i, kb, j) or self._swap_tails(st, kb, j, ka, i):
                    moved = True
                    break
        return moved

    def _swap_tails(self, st: State, ka: int, i: int, kb: int, j: int) -> bool:
        """Route ka keeps its customers up to position i and takes route kb's from position j
        on; kb keeps those before j and takes ka's after i. Made only if it pays and holds."""
        a, b = st.routes[ka], st.routes[kb]
        tail_a, tail_b = a[i + 1:], b[j:]
        if not tail_b or i + 1 + len(tail_b) > self.max_stops[ka] or j + len(tail_a) > self.max_stops[kb]:
            return False
        dist, n = self.dist, self.n
        depot_a, depot_b = n + ka, n + kb
        before_b = b[j - 1] if j else depot_b
        # the arcs that change: where the two ends join, and where each end returns to a depot
        old = dist[a[i], tail_a[0] if tail_a else depot_a] + dist[before_b, tail_b[0]] + dist[tail_b[-1], depot_b]
        new = dist[a[i], tail_b[0]] + dist[before_b, tail_a[0] if tail_a else depot_b] + dist[tail_b[-1], depot_a]
        if tail_a:
            old += dist[tail_a[-1], depot_a]
            new += dist[tail_a[-1], depot_b]
        gain = old - new
        if self.goods_on:
            shift = self.inst.goods_demand[tail_b].sum(axis=0) - (self.inst.goods_demand[tail_a].sum(axis=0)
                                                                  if tail_a else 0.0)
            gain += self._goods_gain(st, ka, kb, shift)
        if gain <= 1e-6:
            return False
        allowed = self.inst.allowed
        if not (all(allowed[x, ka] for x in tail_b) and all(allowed[x, kb] for x in tail_a)):
            return False
        return self._replace_routes(st, ka, a[:i + 1] + tail_b, kb, b[:j] + tail_a)

    def _goods_gain(self, st: State, ka: int, kb: int, shift: np.ndarray) -> float:
        """What the goods handed out gain when route ka's load grows by ``shift`` and kb's
        shrinks by it (travel minutes)."""
        return (self.goods_value(ka, st.goods[ka] + shift) + self.goods_value(kb, st.goods[kb] - shift)
                - st.gvalue[ka] - st.gvalue[kb])

    def _replace_routes(self, st: State, ka: int, route_a: list[int], kb: int, route_b: list[int]) -> bool:
        """Routes ka and kb become ``route_a`` and ``route_b`` if both keep every window, the
        shifts and the loads; otherwise they stay as they were."""
        a, b = st.routes[ka], st.routes[kb]
        st.routes[ka], st.routes[kb] = route_a, route_b
        if self.update(st, ka) & self.update(st, kb) and self._within_loads(st, ka, kb):
            return True
        st.routes[ka], st.routes[kb] = a, b
        self.update(st, ka)
        self.update(st, kb)
        return False

    def exchange_routes(self, st: State) -> bool:
        """Gives two trucks each other's route while that lowers the cost; True if any moved.
        Trucks of one depot drive the same roads but carry different loads: the route asking
        for more of what is short belongs on the truck that carries more of it (from another
        depot, the travel it adds counts against that)."""
        if not self.goods_on:
            return False
        moved = False
        allowed = self.inst.allowed
        for ka in range(self.m):
            for kb in range(ka + 1, self.m):
                a, b = st.routes[ka], st.routes[kb]
                if self.types[ka] == self.types[kb] or not (a or b):
                    continue
                if len(a) > self.max_stops[kb] or len(b) > self.max_stops[ka]:
                    continue
                if not (all(allowed[u, kb] for u in a) and all(allowed[u, ka] for u in b)):
                    continue
                goods_gain = (self.goods_value(ka, st.goods[kb]) + self.goods_value(kb, st.goods[ka])
                              - st.gvalue[ka] - st.gvalue[kb])
                if goods_gain <= 1e-6:
                    continue
                before = self._route_cost(st)
                st.routes[ka], st.routes[kb] = b, a
                if (self.update(st, ka) & self.update(st, kb) and self._within_loads(st, ka, kb)
                        and self._route_cost(st) < before - 1e-6):
                    moved = True
                    continue
                st.routes[ka], st.routes[kb] = a, b
                self.update(st, ka)
                self.update(st, kb)
        return moved

    def _swap_with(self, st: State, u: int, candidates) -> bool:
        """Exchanges u with the first of ``candidates`` (in another route) where that pays."""
        dist, n, allowed, demand = self.dist, self.n, self.inst.allowed, self.inst.goods_demand
        for v in candidates:
            ka, kb = int(st.route_of[u]), int(st.route_of[v])
            if kb < 0 or kb == ka or not (allowed[u, kb] and allowed[v, ka]):
                continue
            a, b = st.routes[ka], st.routes[kb]
            i, j = a.index(u), b.index(v)
            before_u = a[i - 1] if i else n + ka
            after_u = a[i + 1] if i + 1 < len(a) else n + ka
            before_v = b[j - 1] if j else n + kb
            after_v = b[j + 1] if j + 1 < len(b) else n + kb
            gain = (dist[before_u, u] + dist[u, after_u] + dist[before_v, v] + dist[v, after_v]
                    - dist[before_u, v] - dist[v, after_u] - dist[before_v, u] - dist[u, after_v])
            if self.goods_on:
                gain += self._goods_gain(st, ka, kb, demand[v] - demand[u])
            if gain <= 1e-6 or not (self._fits_in_place(st, ka, i, v) and self._fits_in_place(st, kb, j, u)):
                continue
            if self._replace_routes(st, ka, a[:i] + [v] + a[i + 1:], kb, b[:j] + [u] + b[j + 1:]):
                return True
        return False

    def _fits_in_place(self, st: State, k: int, i: int, v: int) -> bool:
        """Whether customer v can take position i of route k, in place of the customer there,
        within every window and the shift: O(1) from the route's edge row (the departure from
        the stop before and the latest start at the stop after), as in ``cheapest_gap``."""
        begin = max(self.ready[v], st.dep[k, i] + self.dist[st.pred[k, i], v])
        return (begin <= self.due[v] + EPS
                and begin + self.service[v] - EPS + self.dist[v, st.succ[k, i + 1]] <= st.latest[k, i + 1])

    def _shuffled_served(self, st: State) -> list[int]:
        """The served customers in a random order: the order a local search offers them in."""
        order = [u for u in range(self.n) if st.route_of[u] >= 0]
        self.rng.shuffle(order)
        return order

    def _within_loads(self, st: State, *routes: int) -> bool:
        return not self.has_loads or all((st.room[k] >= 0).all() for k in routes)

    def _route_cost(self, st: State) -> float:
        """The part of ``cost`` a move between routes can change: travel, less goods handed out."""
        travel = float(st.rcost.sum())
        return travel - float(st.gvalue.sum()) if self.goods_on else travel

    # ----------------------------------------------------------------- ruin
    def aim(self, st: State) -> int | None:
        """An unserved customer to make room for, or None to ruin anywhere.

        While customers are unserved, a share ``aim_rate`` of the ruins are aimed next to one of
        them: a random ruin rarely frees the right slack (the 12-truck generated day stalled at
        334 of 360). The engine lowers the share once coverage stops rising. The one aimed at is
        drawn in proportion to its priority: a compound missed yesterday carries more, and over
        short searches of a week it went without two days running far less often (61 -> 17 in
        120 days at 0.5 CPU-seconds a day, ``bench.week --weights 6 --cpu-clock``)."""
        if not st.unassigned or self.rng.random() >= self.aim_rate:
            return None
        waiting = sorted(st.unassigned)
        return self.rng.choices(waiting, weights=self.inst.prize[waiting].tolist())[0]

    def ruin(self, st: State, target: int | None = None) -> list[int] | None:
        """Removes a few strings of customers near a random seed (or near ``target``, an unserved
        customer); None if a route broke."""
        rng = self.rng
        assigned = self.n - len(st.unassigned)
        if assigned == 0:
            return []
        routes_used = sum(1 for r in st.routes if r)
        max_string = min(MAX_STRING, assigned / routes_used)
        max_strings = 4.0 * MEAN_REMOVED / (1.0 + max_string) - 1.0
        strings = int(rng.uniform(1.0, max_strings + 1.0))
        seed = -1
        if target is not None:
            seed = next((c for c in self.neighbours[target] if st.route_of[c] >= 0), -1)
        if seed < 0:
            seed = rng.randrange(self.n)
            while st.route_of[seed] < 0:
                seed = rng.randrange(self.n)
        removed: list[int] = []
        ruined: set[int] = set()
        for c in [seed, *self.neighbours[seed]]:
            if len(ruined) >= strings:
                break
            k = int(st.route_of[c])
            if k < 0 or k in ruined:
                continue
            route = st.routes[k]
            size = len(route)
            length = int(rng.uniform(1.0, min(size, max_string) + 1.0))
            pos = route.index(c)
            if length == size or rng.random() < 0.5:
                first = rng.randint(max(0, pos - length + 1), min(pos, size - length))
                drop = route[first : first + length]
            else:
                keep = 1
                while length + keep < size and rng.random() < SPLIT_DEPTH:
                    keep += 1
                span = length + keep
                first = rng.randint(max(0, pos - span + 1), min(pos, size - span))
                kept_at = first + rng.randint(0, length)
                drop = route[first:kept_at] + route[kept_at + keep : first + span]
            dropped = set(drop)
            st.routes[k] = [x for x in route if x not in dropped]
            st.route_of[drop] = -1
            removed.extend(drop)
            ruined.add(k)
            if not self.update(st, k):
                return None
        return removed

    def state_from_routes(self, routes: list[list[int]]) -> State | None:
        """A state holding the given routes (unlisted customers unassigned); None if one breaks."""
        st = self.empty_state()
        for k, route in enumerate(routes):
            st.routes[k] = list(route)
            st.unassigned.difference_update(route)
            if not self.update(st, k):
                return None
        return st
