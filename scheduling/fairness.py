"""How fairly a day's scarce goods were shared: the figures a planner and the benches read.

Per category, over the compounds served that asked for it: the lowest fill, the Gini
coefficient of fill (0 when everyone gets the same share), the priority-weighted mean fill, and
the units the trucks on the road bring back. ``share`` is what the trucks carry over what those
compounds asked (at most 1): the fill everyone would get if the stock were split evenly.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .problem import Problem
from .result import Result


@dataclass(frozen=True)
class StopShare:
    asked: int
    delivered: int
    priority: int = 1


@dataclass(frozen=True)
class CategoryFairness:
    category: str
    stock: int  # on the trucks that drive
    asked: int  # by the compounds they serve
    delivered: int
    min_fill: float
    gini: float
    weighted_fill: float
    brought_back: int

    @property
    def share(self) -> float:
        return min(1.0, self.stock / self.asked) if self.asked else 1.0

    @property
    def scarce(self) -> bool:
        return self.stock < self.asked


def gini(values: Sequence[float]) -> float:
    """0 when every value is the same, towards 1 when a few hold everything."""
    total = sum(values)
    if not values or total <= 0:
        return 0.0
    ordered = sorted(values)
    n = len(ordered)
    return sum((2 * (i + 1) - n - 1) * v for i, v in enumerate(ordered)) / (n * total)


def category_fairness(category: str, trucks: Iterable[tuple[int, Sequence[StopShare]]]) -> CategoryFairness:
    """The figures of one category from each driving truck's load and its stops' shares."""
    stock = asked = delivered = back = 0
    fills: list[tuple[float, int]] = []
    for load, stops in trucks:
        handed = sum(s.delivered for s in stops)
        stock, delivered, back = stock + load, delivered + handed, back + max(0, load - handed)
        for s in stops:
            if s.asked > 0:
                asked += s.asked
                fills.append((s.delivered / s.asked, max(1, s.priority)))
    weights = sum(w for _, w in fills)
    return CategoryFairness(
        category=category,
        stock=stock,
        asked=asked,
        delivered=delivered,
        min_fill=min((f for f, _ in fills), default=1.0),
        gini=gini([f for f, _ in fills]),
        weighted_fill=sum(f * w for f, w in fills) / weights if weights else 1.0,
        brought_back=back,
    )


def day_fairness(problem: Problem, result: Result) -> list[CategoryFairness]:
    """Every category some served compound asked for, in the problem's order."""
    trucks = {t.id: t for t in problem.trucks}
    compounds = {c.id: c for c in problem.compounds}
    figures = []
    for category in problem.categories:
        per_truck = [
            (trucks[r.truck_id].stock.get(category, 0),
             [StopShare(compounds[v.compound_id].demand.get(category, 0), v.deliveries.get(category, 0),
                        compounds[v.compound_id].priority) for v in r.visits])
            for r in result.routes
        ]
        if any(s.asked for _, stops in per_truck for s in stops):
            figures.append(category_fairness(category, per_truck))
    return figures
