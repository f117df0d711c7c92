"""A published day with hand-set times, for the committee and driver tests.

Times are chosen so that the results are known without a solver: truck 1 leaves the depot at
08:00 and serves compound 1 at 10:37-11:02, compound 2 at 11:20-11:45, then reaches compound 6
at 12:10 and waits for its 13:00 window (so a late truck catches up there); truck 2 serves
compound 4 at 09:30-09:55.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session

from tests.factories import Day, make_day
from trucks.live import local_today
from trucks.models import (CompoundFacts, Demand, Publication, Schedule, ScheduleRoute, ScheduleStop,
                           ScheduleUnserved, Stock, TruckFacts)
from trucks.publishing import publish
from trucks.services import latest_import_id

#: truck index -> stops as (compound index, arrival, service start, departure) in "HH:MM"
FIRST_PLAN = {
    0: [(0, "10:37", "10:37", "11:02"), (1, "11:20", "11:20", "11:45"), (5, "12:10", "13:00", "13:15")],
    1: [(3, "09:30", "09:30", "09:55")],
}
DELIVERIES = {"vegetables": 12, "dairy": 4, "eggs": 0}


@dataclass
class PublishedDay:
    day: Day
    schedule: Schedule
    publication: Publication

    def stop(self, truck_index: int, seq: int) -> ScheduleStop:
        route = next(r for r in self.schedule.routes if r.truck_id == self.day.trucks[truck_index].id)
        return route.stops[seq - 1]


def at(date: dt.date, clock: str) -> dt.datetime:
    return dt.datetime.combine(date, dt.time.fromisoformat(clock))


def make_schedule(dbsession: Session, day: Day, plan: dict, unserved: dict[int, str] | None = None) -> Schedule:
    """A schedule with the facts a solve of the day as it is now would have stored; ``unserved``
    names compounds (by index) left out, with their reason."""
    demand: dict[int, dict[str, int]] = defaultdict(dict)
    for compound_id, key, quantity in dbsession.execute(
            select(Demand.compound_id, Demand.category_key, Demand.quantity).where(Demand.date == day.date)):
        demand[compound_id][key] = quantity
    stock: dict[str, int] = defaultdict(int)
    for key, quantity in dbsession.execute(
            select(Stock.category_key, Stock.quantity).where(
                Stock.date == day.date, Stock.truck_id.in_([t.id for t in day.trucks]))):
        stock[key] += quantity
    schedule = Schedule(
        date=day.date, retailer=day.retailer, travel_minutes=60.0, seconds=0.1, seed=0, status="feasible",
        facts={"stock": dict(stock), "import_id": latest_import_id(dbsession, day.date, day.retailer.id),
               "idle_trucks": [TruckFacts.of(t).record() for i, t in enumerate(day.trucks) if i not in plan]},
    )
    for truck_index, stops in plan.items():
        truck = day.trucks[truck_index]
        route = ScheduleRoute(
            truck_id=truck.id, depart=at(day.date, "08:00"), back=at(day.date, "14:00"),
            travel_minutes=60.0, facts={"truck": TruckFacts.of(truck).record()},
        )
        for seq, (compound_index, arrival, start, departure) in enumerate(stops, 1):
            compound = day.compounds[compound_index]
            route.stops.append(
                ScheduleStop(
                    seq=seq, compound_id=compound.id, arrival=at(day.date, arrival),
                    start=at(day.date, start), departure=at(day.date, departure),
                    deliveries=dict(DELIVERIES), fill={"vegetables": 1.0, "dairy": 0.5, "eggs": 0.0},
                    facts={"compound": CompoundFacts.of(compound).record(), "demand": demand[compound.id]},
                )
            )
        schedule.routes.append(route)
    for compound_index, reason in (unserved or {}).items():
        compound = day.compounds[compound_index]
        schedule.unserved.append(ScheduleUnserved(compound_id=compound.id, reason=reason, facts={
            "compound": CompoundFacts.of(compound).record(), "demand": demand[compound.id]}))
    dbsession.add(schedule)
    dbsession.flush()
    return schedule


def publish_day(dbsession: Session, *, prefix: str = "F", date: dt.date | None = None, plan=FIRST_PLAN,
                retailer_name: str = "逸刻") -> PublishedDay:
    """Today's day (by default) with ``plan`` published as version 1."""
    day = make_day(dbsession, date=date or local_today(), prefix=prefix, retailer_name=retailer_name)
    schedule = make_schedule(dbsession, day, plan)
    return PublishedDay(day, schedule, publish(dbsession, schedule, "planner"))


def republish(dbsession: Session, published: PublishedDay, plan: dict) -> PublishedDay:
    schedule = make_schedule(dbsession, published.day, plan)
    return PublishedDay(published.day, schedule, publish(dbsession, schedule, "planner"))


def publish_twin_at_next_flush(dbsession: Session) -> None:
    """Another planner's publication of the same day landing at the same moment: as the next
    Publication is flushed, a row with its (date, retailer, version) is written first."""

    done = []

    def insert_twin(session, _flush_context, _instances) -> None:
        pending = next((o for o in session.new if isinstance(o, Publication)), None)
        if pending is None or done:
            return
        done.append(pending)
        session.connection().execute(insert(Publication).values(
            date=pending.date, retailer_id=pending.retailer_id, version=pending.version,
            schedule_id=pending.schedule.id, published_by="the other planner"))

    event.listen(dbsession, "before_flush", insert_twin)
