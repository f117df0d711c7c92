"""Publishing a retailer's day: immutable numbered versions, and what changed between them.

A Publication points at a Schedule, and neither is ever changed: publishing again adds the next
version. Before confirming, the planner sees ``arrival_diff`` of the candidate schedule against
the latest publication: which compounds' arrival moved and by how many minutes, which are new
on the plan and which dropped out of it.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .models import CompoundFacts, Publication, Retailer, Schedule, ScheduleRoute, ScheduleStop, TruckFacts
from .services import is_stale, latest_schedule


class PublishError(ValueError):
    """A publication that cannot be made as asked; the message says why."""


class PublishedMeanwhile(PublishError):
    """Another publication of the day took the same version number at the same moment."""


class AlreadyPublished(PublishError):
    """The schedule is the day's latest version already."""


class NothingToPublish(PublishError):
    """The day has no schedule yet."""


class NotLatest(PublishError):
    """The schedule named is not the day's latest: a newer solve came after the preview."""


class StaleSchedule(PublishError):
    """The schedule was solved before a later import of its day: publishing it needs a
    confirmation, since it plans the day as it was before that import."""


def latest_publication(dbsession: Session, date: dt.date, retailer_id: int) -> Publication | None:
    return dbsession.scalars(
        select(Publication)
        .where(Publication.date == date, Publication.retailer_id == retailer_id)
        .order_by(Publication.version.desc())
        .limit(1)
    ).first()


def list_publications(dbsession: Session, date: dt.date, retailer_id: int) -> list[Publication]:
    """Every version of the day, newest first."""
    return list(
        dbsession.scalars(
            select(Publication)
            .where(Publication.date == date, Publication.retailer_id == retailer_id)
            .order_by(Publication.version.desc())
        )
    )


def get_publication(
    dbsession: Session, date: dt.date, retailer_id: int, version: int
) -> Publication | None:
    return dbsession.scalars(
        select(Publication).where(
            Publication.date == date,
            Publication.retailer_id == retailer_id,
            Publication.version == version,
        )
    ).first()


def publish_latest(dbsession: Session, date: dt.date, retailer_id: int, schedule_id: int | None,
                   published_by: str = "", *, confirm_stale: bool = False) -> Publication:
    """Publishes the day's latest schedule, which the caller names (``schedule_id``, the one the
    planner reviewed): the one action the page, the API and the command line call."""
    latest = latest_schedule(dbsession, date, retailer_id)
    if latest is None:
        raise NothingToPublish("nothing solved yet: there is no schedule to publish")
    if schedule_id != latest.id:
        raise NotLatest(f"schedule {schedule_id} is not the day's latest: the latest is {latest.id}")
    return publish(dbsession, latest, published_by, confirm_stale=confirm_stale)


def publish(dbsession: Session, schedule: Schedule, published_by: str = "", *,
            confirm_stale: bool = False) -> Publication:
    """Adds the next version of the schedule's (date, retailer); earlier versions stay as they are.

    Publishing the schedule that is already the latest version is refused: it would change
    nothing for anyone but bump the number committees see. A schedule solved before a later
    import of its day is refused unless ``confirm_stale``. Publications of one retailer wait for
    each other (a row lock on PostgreSQL; SQLite's single writer, retried by the transaction
    manager), and the savepoint still turns a twin that slipped past into ``PublishedMeanwhile``.
    """
    dbsession.execute(select(Retailer.id).where(Retailer.id == schedule.retailer_id).with_for_update())
    latest = latest_publication(dbsession, schedule.date, schedule.retailer_id)
    if latest is not None and latest.schedule_id == schedule.id:
        raise AlreadyPublished(f"this schedule is already published as version {latest.version}")
    if not confirm_stale and is_stale(dbsession, schedule):
        raise StaleSchedule("this schedule was solved before a later import of the day: "
                            "solve again, or confirm that this plan is to be published")
    highest = dbsession.scalar(
        select(func.max(Publication.version)).where(
            Publication.date == schedule.date, Publication.retailer_id == schedule.retailer_id
        )
    )
    publication = Publication(
        date=schedule.date,
        retailer_id=schedule.retailer_id,
        version=(highest or 0) + 1,
        schedule=schedule,
        published_by=published_by,
    )
    try:
        # A savepoint, so that losing the race leaves the caller's transaction usable.
        with dbsession.begin_nested():
            dbsession.add(publication)  # the unique (date, retailer, version) stops a concurrent twin
    except IntegrityError:
        raise PublishedMeanwhile(
            "another publication of this day was made at the same moment; review again"
        ) from None
    return publication


@dataclass(frozen=True)
class PlannedStop:
    """Where and when a compound is served in one schedule."""

    compound: CompoundFacts
    truck: TruckFacts
    arrival: dt.datetime


@dataclass(frozen=True)
class MovedStop:
    before: PlannedStop
    after: PlannedStop

    @property
    def compound(self) -> CompoundFacts:
        return self.before.compound

    @property
    def minutes(self) -> int:
        """Positive when the truck now comes later."""
        return round((self.after.arrival - self.before.arrival).total_seconds() / 60)

    @property
    def truck_changed(self) -> bool:
        return self.before.truck.id != self.after.truck.id


@dataclass(frozen=True)
class ArrivalDiff:
    """How a new schedule's arrivals differ from the published ones (``first`` when nothing is
    published yet: then every stop counts as added)."""

    first: bool
    moved: list[MovedStop] = field(default_factory=list)
    added: list[PlannedStop] = field(default_factory=list)
    dropped: list[PlannedStop] = field(default_factory=list)
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.moved or self.added or self.dropped)

    @property
    def retimed(self) -> list[MovedStop]:
        """Moved stops whose arrival changed (the rest only changed truck)."""
        return [m for m in self.moved if m.minutes != 0]


def planned_stops(schedule: Schedule) -> dict[int, PlannedStop]:
    """The schedule's stops keyed by compound id."""
    return {
        stop.compound_id: PlannedStop(stop.compound, route.truck, stop.arrival)
        for route in schedule.routes
        for stop in route.stops
    }


def arrival_diff(published: Schedule | None, candidate: Schedule) -> ArrivalDiff:
    """Compounds whose arrival moved by a minute or more or whose truck changed, sorted by the
    largest move first; compounds newly on the plan; compounds no longer on it."""
    after = planned_stops(candidate)
    if published is None:
        return ArrivalDiff(first=True, added=_by_arrival(after.values()))
    before = planned_stops(published)
    moved = [
        MovedStop(before[cid], after[cid])
        for cid in before.keys() & after.keys()
    ]
    moved = [m for m in moved if m.minutes != 0 or m.truck_changed]
    moved.sort(key=lambda m: (-abs(m.minutes), m.compound.code))
    return ArrivalDiff(
        first=False,
        moved=moved,
        added=_by_arrival(after[cid] for cid in after.keys() - before.keys()),
        dropped=_by_arrival(before[cid] for cid in before.keys() - after.keys()),
        unchanged=len(before.keys() & after.keys()) - len(moved),
    )


def _by_arrival(stops) -> list[PlannedStop]:
    return sorted(stops, key=lambda s: (s.arrival, s.compound.code))


def published_stop_count(dbsession: Session, publication: Publication) -> int:
    """How many compounds a version serves, for the versions list."""
    return dbsession.scalar(
        select(func.count(ScheduleStop.id))
        .join(ScheduleRoute, ScheduleStop.route_id == ScheduleRoute.id)
        .where(ScheduleRoute.schedule_id == publication.schedule_id)
    ) or 0
