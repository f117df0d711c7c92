"""The route pool and the set-partitioning MILP that recombines it.

Every distinct good route the search meets is kept (per truck type and set of customers, the
cheapest order). A set-packing MILP in PuLP then picks, per truck type at most as many routes
as there are trucks, customers at most once, serving at least the incumbent's priority weight
at the least cost: travel, less the goods each route's truck hands out once they count
(Search.cost). Subramanian, Uchoa and Ochi (2013), "A hybrid algorithm for a class of vehicle
routing problems": ILS with a set-partitioning phase.
"""
from __future__ import annotations

import time
from collections.abc import Callable

import pulp

from .lp import make_solver, proved_optimal, solved
from .search import Search, State

#: the MILP sees at most this many routes, the ones from the cheapest solutions first
MAX_COLUMNS = 6000


class RoutePool:
    def __init__(self, search: Search) -> None:
        self.search = search
        #: (truck type, customer set) -> [travel, route, cost of the best solution it was in]
        self.routes: dict[tuple[int, frozenset[int]], list] = {}
        #: (pool size, incumbent cost) at the last recombination: nothing new, nothing to gain
        self.last_seen: tuple[int, float] | None = None

    def __len__(self) -> int:
        return len(self.routes)

    def add(self, st: State, solution_cost: float, only_touched: bool = True) -> None:
        types = self.search.types
        for k in (st.touched if only_touched else range(len(st.routes))):
            route = st.routes[k]
            if not route:
                continue
            key = (types[k], frozenset(route))
            travel = float(st.rcost[k])
            entry = self.routes.get(key)
            if entry is None:
                self.routes[key] = [travel, tuple(route), solution_cost]
            else:
                if travel < entry[0] - 1e-9:
                    entry[0], entry[1] = travel, tuple(route)
                if solution_cost < entry[2]:
                    entry[2] = solution_cost

    def recombine(self, incumbent: State, time_limit: float, lp_solver: str,
                  stop: Callable[[], bool] | None = None) -> tuple[State, bool] | None:
        """The best combination of pooled routes, or None when the MILP found nothing usable;
        the MILP gives up with what it has once ``stop()`` says so."""
        search = self.search
        self.add(incumbent, search.cost(incumbent), only_touched=False)
        seen = (len(self.routes), search.cost(incumbent))
        if seen == self.last_seen:
            return None
        self.last_seen = seen
        started = time.monotonic()
        columns = sorted(self.routes.items(), key=lambda item: (item[1][2], item[1][0]))[:MAX_COLUMNS]
        prize = search.inst.prize
        prob = pulp.LpProblem("set_partitioning", pulp.LpMinimize)
        x = [prob.add_variable(f"x{j}", 0, 1, cat=pulp.LpBinary) for j in range(len(columns))]
        covering: dict[int, list[pulp.LpVariable]] = {}
        by_type: dict[int, list[pulp.LpVariable]] = {}
        weight, cost = [], []
        some_truck = {t: k for k, t in reversed(list(enumerate(search.types)))}
        for j, ((truck_type, members), (travel, route, _)) in enumerate(columns):
            column_cost = travel
            if search.goods_on:
                asked = search.inst.goods_demand[list(members)].sum(axis=0)
                column_cost -= search.goods_value(some_truck[truck_type], asked)
            cost.append(column_cost)
            for u in members:
                covering.setdefault(u, []).append(x[j])
            by_type.setdefault(truck_type, []).append(x[j])
            weight.append(float(sum(prize[u] for u in members)))
        start = {(search.types[k], frozenset(r)) for k, r in enumerate(incumbent.routes) if r}
        for j, (key, _) in enumerate(columns):
            x[j].setInitialValue(1 if key in start else 0)
        prob += pulp.lpSum(c * v for c, v in zip(cost, x))
        # When the incumbent serves everyone, so must the answer: exact partitioning is a much
        # tighter model than packing with a served-weight constraint.
        everyone = not incumbent.unassigned
        for u, variables in covering.items():
            if everyone:
                prob += pulp.lpSum(variables) == 1, f"once_{u}"
            else:
                prob += pulp.lpSum(variables) <= 1, f"once_{u}"
        for truck_type, variables in by_type.items():
            prob += pulp.lpSum(variables) <= search.inst.type_count[truck_type], f"fleet_{truck_type}"
        if not everyone:
            prob += pulp.lpSum(w * v for w, v in zip(weight, x)) >= search.served_weight(incumbent) - 1e-6, "served"
        left = time_limit - (time.monotonic() - started)
        if left <= 0.05:
            return None
        # without presolve: HiGHS 1.16's presolve of a pool of 4,780 routes (136,000 nonzeros)
        # ran 11 s past a 3.4 s limit, never checking the clock; without it the MILP was solved to
        # optimality in 0.8 s (the 12-truck day at 60 s: recombinations took 50 of the 60 s)
        prob.solve(make_solver(lp_solver, left, warm_start=True, presolve=False, stop=stop))
        if not solved(prob):
            return None
        chosen = [columns[j] for j, v in enumerate(x) if (v.value() or 0.0) > 0.5]
        routes: list[list[int]] = [[] for _ in range(search.m)]
        free = {t: [k for k in range(search.m) if search.types[k] == t] for t in by_type}
        for (truck_type, _), (_, route, _) in chosen:
            routes[free[truck_type].pop(0)] = list(route)
        st = search.state_from_routes(routes)
        if st is None:
            return None
        return st, proved_optimal(prob)
