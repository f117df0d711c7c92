"""What a stored schedule looks like to a planner: routes, unserved, fill rates, drawings.

Built once per request from the Schedule rows and the day's demand, in the shape the templates
and the SVG drawings read, so neither does arithmetic of its own.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select

from scheduling.fairness import CategoryFairness, StopShare, category_fairness
from trucks.models import (
    Category,
    CompoundFacts,
    Demand,
    Schedule,
    Stock,
    Truck,
    TruckFacts,
)

from .. import svg
from ..i18n import category_name


def clock(moment: dt.datetime) -> str:
    return moment.strftime("%H:%M")


def minute_of_day(moment: dt.datetime, day: dt.date) -> float:
    return (moment - dt.datetime.combine(day, dt.time())).total_seconds() / 60


@dataclass
class StopRow:
    seq: int
    compound: CompoundFacts
    arrival: str
    start: str
    departure: str
    wait_minutes: int
    deliveries: list[tuple[str, int]]
    fill: float  # delivered / demanded over all its categories


@dataclass
class TruckPlan:
    truck: TruckFacts
    colour: str
    depart: str
    back: str
    travel_minutes: int
    stops: list[StopRow]
    delivered: list[tuple[str, int]]


@dataclass
class CategoryFill:
    key: str
    name: str
    stock: int
    demand: int
    delivered: int
    #: over the served compounds that asked: lowest fill, Gini, priority-weighted fill, brought back
    fairness: CategoryFairness | None = None

    @property
    def rate(self) -> float:
        return self.delivered / self.demand if self.demand else 1.0


@dataclass
class CompoundFill:
    compound: CompoundFacts
    truck_code: str | None
    cells: dict[str, tuple[int, int]]  # category key -> (delivered, demanded)

    @property
    def rate(self) -> float:
        demanded = sum(d for _, d in self.cells.values())
        return sum(q for q, _ in self.cells.values()) / demanded if demanded else 1.0


@dataclass
class UnservedRow:
    compound: CompoundFacts
    reason: str


@dataclass
class Review:
    schedule: Schedule
    trucks: list[TruckPlan]
    idle_trucks: list[TruckFacts]
    unserved: list[UnservedRow]
    categories: list[CategoryFill]
    compounds: list[CompoundFill] = field(default_factory=list)

    @property
    def served(self) -> int:
        return sum(len(t.stops) for t in self.trucks)


def day_categories(dbsession, date: dt.date, retailer_id: int):
    """Stock and demand totals per category for the retailer's day, and each compound's order."""
    stock: dict[str, int] = defaultdict(int)
    for key, quantity in dbsession.execute(
        select(Stock.category_key, Stock.quantity)
        .join(Truck, Stock.truck_id == Truck.id)
        .where(Stock.date == date, Truck.retailer_id == retailer_id)
    ):
        stock[key] += quantity
    orders: dict[int, dict[str, int]] = defaultdict(dict)
    for compound_id, key, quantity in dbsession.execute(
        select(Demand.compound_id, Demand.category_key, Demand.quantity).where(
            Demand.date == date, Demand.retailer_id == retailer_id
        )
    ):
        orders[compound_id][key] = quantity
    keys = sorted(set(stock) | {k for order in orders.values() for k in order})
    categories = {c.key: c for c in dbsession.scalars(select(Category).where(Category.key.in_(keys)))}
    return stock, orders, [categories[k] for k in keys if k in categories]


def build_review(request, schedule: Schedule) -> Review:
    """The review of the schedule as it was solved: its stock, demand, trucks and compounds are
    the facts it stored, never today's rows (only the categories' display names are read)."""
    stock = schedule.stock
    orders = {row.compound_id: row.demand for route in schedule.routes for row in route.stops}
    orders.update({row.compound_id: row.demand for row in schedule.unserved})
    keys = sorted(set(stock) | {k for order in orders.values() for k in order})
    known = {c.key: c for c in request.dbsession.scalars(select(Category).where(Category.key.in_(keys)))}
    names = {key: category_name(request, known[key]) if key in known else key for key in keys}
    delivered: dict[str, int] = defaultdict(int)
    fills: dict[int, CompoundFill] = {}
    plans = []
    for index, route in enumerate(sorted(schedule.routes, key=lambda r: r.truck.code)):
        rows = []
        route_delivered: dict[str, int] = defaultdict(int)
        for stop in route.stops:
            order = orders.get(stop.compound_id, {})
            cells = {k: (stop.deliveries.get(k, 0), q) for k, q in order.items()}
            fills[stop.compound_id] = CompoundFill(stop.compound, route.truck.code, cells)
            for key, quantity in stop.deliveries.items():
                delivered[key] += quantity
                route_delivered[key] += quantity
            rows.append(
                StopRow(
                    seq=stop.seq,
                    compound=stop.compound,
                    arrival=clock(stop.arrival),
                    start=clock(stop.start),
                    departure=clock(stop.departure),
                    wait_minutes=round((stop.start - stop.arrival).total_seconds() / 60),
                    deliveries=[(names.get(k, k), q) for k, q in sorted(stop.deliveries.items()) if q],
                    fill=fills[stop.compound_id].rate,
                )
            )
        plans.append(
            TruckPlan(
                truck=route.truck,
                colour=svg.truck_colour(index),
                depart=clock(route.depart),
                back=clock(route.back),
                travel_minutes=round(route.travel_minutes),
                stops=rows,
                delivered=[(names.get(k, k), q) for k, q in sorted(route_delivered.items())],
            )
        )
    fairness = _fairness(schedule, keys)
    unserved = [UnservedRow(u.compound, u.reason) for u in schedule.unserved]
    for row in unserved:
        order = orders.get(row.compound.id, {})
        fills[row.compound.id] = CompoundFill(row.compound, None, {k: (0, q) for k, q in order.items()})
    return Review(
        schedule=schedule,
        trucks=plans,
        idle_trucks=schedule.idle_trucks,
        unserved=sorted(unserved, key=lambda u: (-u.compound.priority, u.compound.code)),
        categories=[
            CategoryFill(key, names[key], stock.get(key, 0), sum(o.get(key, 0) for o in orders.values()),
                         delivered.get(key, 0), fairness.get(key))
            for key in keys
        ],
        compounds=sorted(fills.values(), key=lambda f: (f.rate, f.compound.code)),
    )


def _fairness(schedule: Schedule, keys: list[str]) -> dict[str, CategoryFairness]:
    """Per category some served compound asked for; none for a schedule stored before each
    route kept its truck's load (what came back cannot be told)."""
    routes = schedule.routes
    if any(route.load is None for route in routes):
        return {}
    figures = {}
    for key in keys:
        per_truck = [(route.load.get(key, 0),
                      [StopShare(stop.demand.get(key, 0), stop.deliveries.get(key, 0), stop.compound.priority)
                       for stop in route.stops]) for route in routes]
        if any(share.asked for _, shares in per_truck for share in shares):
            figures[key] = category_fairness(key, per_truck)
    return figures


def map_svg(request, review: Review) -> str:
    routes = [
        svg.MapRoute(
            label=f"{plan.truck.code} {plan.truck.plate}",
            depot_lat=plan.truck.depot_lat,
            depot_lon=plan.truck.depot_lon,
            depot_name=plan.truck.depot_name,
            stops=[
                svg.MapStop(s.compound.lat, s.compound.lon, f"{s.seq}. {s.compound.name} {s.arrival}–{s.departure}")
                for s in plan.stops
            ],
        )
        for plan in review.trucks
    ]
    unserved = [
        svg.MapPoint(u.compound.lat, u.compound.lon, f"{u.compound.name}: {request.t('planner.reason.' + u.reason)}")
        for u in review.unserved
    ]
    return svg.route_map(routes, unserved, title=request.t("planner.map.title"))


def gantt_svg(request, review: Review) -> str:
    day = review.schedule.date
    lanes = []
    for route in sorted(review.schedule.routes, key=lambda r: r.truck.code):
        visits = [
            (minute_of_day(s.arrival, day), minute_of_day(s.start, day), minute_of_day(s.departure, day),
             f"{s.seq}. {s.compound.name}")
            for s in route.stops
        ]
        bars = svg.lane_bars(minute_of_day(route.depart, day), minute_of_day(route.back, day), visits)
        lanes.append(svg.Lane(route.truck.code, bars))
    legend = {kind: request.t(f"planner.gantt.{kind}") for kind in (svg.TRAVEL, svg.WAIT, svg.SERVICE)}
    return svg.gantt(lanes, legend=legend, title=request.t("planner.gantt.title"))
