"""What the field sees of a published day: a compound's service window, a driver's stop list,
and the estimates the driver's reports (arrived, departed, delayed) move.

Published rows never change; a driver's reports are ``StopEvent`` rows and every estimate is
recomputed from the published plan plus those reports. Results are plain dataclasses (their
``as_json()`` gives what the JSON API returns), so pages and API share one source of truth.

Times are naive local date-times (Shanghai), as in the schedule tables.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, aliased, selectinload

from .models import (
    BreakdownReport,
    BreakdownStatus,
    Category,
    CommitteeReport,
    Compound,
    Publication,
    Retailer,
    Schedule,
    ScheduleRoute,
    ScheduleStop,
    StopEvent,
    StopEventKind,
    Truck,
    utcnow,
)
from .publishing import latest_publication

LOCAL_TIMEZONE = ZoneInfo("Asia/Shanghai")
WINDOW_MINUTES = 15
MAX_DELAY_MINUTES = 12 * 60


class FieldInputError(ValueError):
    """A committee's or driver's report that cannot be stored as given.

    ``field`` names the input, ``code`` the problem (pages translate it with ``values``), and
    the message says both in English for the API and logs.
    """

    def __init__(self, field: str, code: str, message: str, **values) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.code = code
        self.values = values


def local_now() -> dt.datetime:
    """Now, as the naive local time the schedules are written in."""
    return dt.datetime.now(LOCAL_TIMEZONE).replace(tzinfo=None, second=0, microsecond=0)


def local_from_utc(moment: dt.datetime) -> dt.datetime:
    """A stored UTC timestamp (``created_at``, ``published_at``) as naive local time."""
    return moment.replace(tzinfo=dt.UTC).astimezone(LOCAL_TIMEZONE).replace(tzinfo=None)


def local_today() -> dt.date:
    return local_now().date()


def service_window(start: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The 15-minute slot a service start falls in (10:37 -> (10:30, 10:45)): what a committee
    is told. The start, not the arrival, because a truck that arrives before the compound's
    window opens waits, and residents come down when it starts serving."""
    slot = start.replace(minute=start.minute - start.minute % WINDOW_MINUTES, second=0, microsecond=0)
    return slot, slot + dt.timedelta(minutes=WINDOW_MINUTES)


def _minutes(delta: dt.timedelta) -> int:
    return round(delta.total_seconds() / 60)


def _hhmm(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%H:%M")


def _iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="minutes")


def parse_clock(date: dt.date, text: str) -> dt.datetime:
    """``HH:MM`` on the given date, as a driver types it."""
    try:
        clock = dt.time.fromisoformat(text.strip())
    except ValueError:
        raise FieldInputError("at", "time_format", f"{text!r} is not a time of day HH:MM") from None
    return dt.datetime.combine(date, clock.replace(second=0, microsecond=0))


def clock_or_now(date: dt.date, text: str | None) -> dt.datetime | None:
    """``HH:MM`` on the date, or None (the report means now) when the driver left it empty."""
    return parse_clock(date, text) if text and text.strip() else None


# --------------------------------------------------------------------------- plain results


@dataclass(frozen=True)
class Goods:
    key: str
    name_zh: str
    name_en: str
    quantity: int

    def name(self, language: str) -> str:
        return self.name_en if language == "en" else self.name_zh

    def as_json(self) -> dict:
        return {"category": self.key, "name_zh": self.name_zh, "name_en": self.name_en, "quantity": self.quantity}


@dataclass(frozen=True)
class Estimate:
    """A stop's times as now expected, from the plan and the driver's reports."""

    arrival: dt.datetime
    start: dt.datetime
    departure: dt.datetime
    arrived_at: dt.datetime | None  # reported by the driver
    departed_at: dt.datetime | None
    delay_minutes: int | None  # the latest delay the driver reported for this stop
    updated: bool  # differs from the published arrival or departure

    @property
    def status(self) -> str:
        if self.departed_at is not None:
            return "departed"
        if self.arrived_at is not None:
            return "arrived"
        return "planned"

    @property
    def window(self) -> tuple[dt.datetime, dt.datetime]:
        return service_window(self.start)

    @property
    def stay_minutes(self) -> int:
        """The selling time: from the service start to the departure."""
        return _minutes(self.departure - self.start)

    def as_json(self) -> dict:
        start, end = self.window
        return {
            "status": self.status,
            "updated": self.updated,
            "arrival": _iso(self.arrival),
            "start": _iso(self.start),
            "departure": _iso(self.departure),
            "window": [_iso(start), _iso(end)],
            "stay_minutes": self.stay_minutes,
            "arrived_at": _iso(self.arrived_at),
            "departed_at": _iso(self.departed_at),
            "delay_minutes": self.delay_minutes,
        }


@dataclass(frozen=True)
class TimeChange:
    """The published window of an earlier version, when a newer one moved it."""

    previous_version: int
    previous_window: tuple[dt.datetime, dt.datetime]
    moved_minutes: int  # positive: later than before

    def as_json(self) -> dict:
        return {
            "previous_version": self.previous_version,
            "previous_window": [_iso(m) for m in self.previous_window],
            "moved_minutes": self.moved_minutes,
        }


@dataclass(frozen=True)
class ReportFact:
    """A committee's "cannot receive", withdrawn or not, with the planner's answer if any."""

    id: int
    date: dt.date
    reason: str
    created_at: dt.datetime  # local time
    withdrawn_at: dt.datetime | None = None  # local time
    decision: str | None = None  # "accepted" or "overridden" (trucks.models.ReportDecision)
    decision_reason: str = ""

    @classmethod
    def of(cls, report: CommitteeReport) -> ReportFact:
        withdrawn = None if report.withdrawn_at is None else local_from_utc(report.withdrawn_at)
        return cls(report.id, report.date, report.reason, local_from_utc(report.created_at), withdrawn,
                   report.decision, report.decision_reason or "")

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "date": self.date.isoformat(),
            "reason": self.reason,
            "created_at": _iso(self.created_at),
            "withdrawn_at": _iso(self.withdrawn_at),
            "decision": self.decision,
            "decision_reason": self.decision_reason,
        }


@dataclass(frozen=True)
class CompoundDay:
    """What a compound's committee may know about one date: nothing private, nothing of others."""

    date: dt.date
    version: int | None = None  # None: nothing published for this compound on this date
    published_at: dt.datetime | None = None  # local time
    retailer: str = ""
    plate: str = ""
    arrival: dt.datetime | None = None
    start: dt.datetime | None = None  # service start: later than the arrival when the truck waits
    departure: dt.datetime | None = None
    goods: tuple[Goods, ...] = ()
    change: TimeChange | None = None
    estimate: Estimate | None = None
    #: an earlier version had a stop here and the current one has none
    removed_in_version: int | None = None
    reports: tuple[ReportFact, ...] = ()

    @property
    def published(self) -> bool:
        return self.version is not None

    @property
    def window(self) -> tuple[dt.datetime, dt.datetime] | None:
        return None if self.start is None else service_window(self.start)

    @property
    def stay_minutes(self) -> int | None:
        """The selling time: from the service start to the departure."""
        return None if self.start is None else _minutes(self.departure - self.start)

    def as_json(self) -> dict:
        window = self.window
        return {
            "date": self.date.isoformat(),
            "published": self.published,
            "version": self.version,
            "published_at": _iso(self.published_at),
            "retailer": self.retailer,
            "plate": self.plate,
            "window": None if window is None else [_iso(m) for m in window],
            "arrival": _iso(self.arrival),
            "departure": _iso(self.departure),
            "stay_minutes": self.stay_minutes,
            "goods": [g.as_json() for g in self.goods],
            "time_changed": None if self.change is None else self.change.as_json(),
            "estimate": None if self.estimate is None else self.estimate.as_json(),
            "removed_in_version": self.removed_in_version,
            "cannot_receive_reports": [r.as_json() for r in self.reports],
        }


@dataclass(frozen=True)
class DriverStop:
    """One stop of a driver's list: drivers may see the committee contact, the public may not."""

    stop_id: int
    seq: int
    compound_code: str
    compound_name: str
    town: str
    address: str
    contact: str
    lat: float
    lon: float
    arrival: dt.datetime
    start: dt.datetime
    departure: dt.datetime
    goods: tuple[Goods, ...]
    estimate: Estimate

    @property
    def geo_uri(self) -> str:
        """A navigation link any phone's map app opens, built from our own coordinates."""
        return f"geo:{self.lat:.6f},{self.lon:.6f}"

    def as_json(self) -> dict:
        return {
            "stop_id": self.stop_id,
            "seq": self.seq,
            "compound_id": self.compound_code,
            "name": self.compound_name,
            "town": self.town,
            "address": self.address,
            "contact": self.contact,
            "lat": self.lat,
            "lon": self.lon,
            "navigation": self.geo_uri,
            "arrival": _iso(self.arrival),
            "start": _iso(self.start),
            "departure": _iso(self.departure),
            "deliveries": [g.as_json() for g in self.goods],
            "estimate": self.estimate.as_json(),
        }


@dataclass(frozen=True)
class DriverRoute:
    date: dt.date
    version: int
    published_at: dt.datetime
    retailer: str
    truck_code: str
    plate: str
    depot_name: str
    depart: dt.datetime
    back: dt.datetime
    stops: tuple[DriverStop, ...] = field(default=())

    @property
    def goods_total(self) -> tuple[Goods, ...]:
        totals: dict[str, Goods] = {}
        for stop in self.stops:
            for g in stop.goods:
                before = totals.get(g.key)
                totals[g.key] = Goods(g.key, g.name_zh, g.name_en, g.quantity + (before.quantity if before else 0))
        return tuple(totals.values())

    def as_json(self) -> dict:
        return {
            "date": self.date.isoformat(),
            "version": self.version,
            "published_at": _iso(self.published_at),
            "retailer": self.retailer,
            "truck_id": self.truck_code,
            "plate": self.plate,
            "depot": self.depot_name,
            "depart": _iso(self.depart),
            "return": _iso(self.back),
            "stops": [s.as_json() for s in self.stops],
        }


# --------------------------------------------------------------------------- estimates


@dataclass(frozen=True)
class PublishedTimes:
    """The published times of a stop plus the compound's window start that day."""

    arrival: dt.datetime
    start: dt.datetime
    departure: dt.datetime
    window_start: dt.datetime


@dataclass(frozen=True)
class Reports:
    """A stop's driver reports, reduced to what the estimate needs (the latest of each kind)."""

    arrived_at: dt.datetime | None = None
    departed_at: dt.datetime | None = None
    delay_minutes: int | None = None
    expected_arrival: dt.datetime | None = None  # from the delay: that stop's planned arrival + delay


def estimate_route(route_depart: dt.datetime, planned: list[PublishedTimes], reports: list[Reports]) -> list[Estimate]:
    """Re-times a published route from the driver's reports.

    A stop's leg is its planned arrival minus the previous planned departure (the depot's for
    the first stop); a late truck catches up only where the plan had waiting, never arrives
    earlier than published unless it reported so, and a stop's service starts no earlier than
    its window.
    """
    estimates: list[Estimate] = []
    previous_planned_departure = route_depart
    previous_estimated_departure = route_depart
    for stop, report in zip(planned, reports, strict=True):
        leg = stop.arrival - previous_planned_departure
        arrival = max(stop.arrival, previous_estimated_departure + leg)
        if report.expected_arrival is not None:
            arrival = max(arrival, report.expected_arrival)
        if report.arrived_at is not None:
            arrival = report.arrived_at
        start = max(arrival, stop.window_start)
        departure = start + (stop.departure - stop.start)
        if report.departed_at is not None:
            departure = report.departed_at
        updated = _minutes(arrival - stop.arrival) != 0 or _minutes(departure - stop.departure) != 0
        estimates.append(
            Estimate(arrival, start, departure, report.arrived_at, report.departed_at, report.delay_minutes, updated)
        )
        previous_planned_departure = stop.departure
        previous_estimated_departure = departure
    return estimates


# --------------------------------------------------------------------------- queries


def _current_publications(dbsession: Session, date: dt.date, retailer_ids) -> dict[int, Publication]:
    """Each retailer's latest version of the date: the one that counts (older ones stay readable)."""
    latest = (latest_publication(dbsession, date, retailer_id) for retailer_id in set(retailer_ids))
    return {p.retailer_id: p for p in latest if p is not None}


# The committee page's queries, built once: building a statement costs more than running it.
_CATEGORY_NAMES = select(Category.key, Category.name_zh, Category.name_en).where(
    Category.key.in_(bindparam("keys", expanding=True)))
_DRIVER_REPORTS = (
    select(StopEvent.kind, StopEvent.at, StopEvent.delay_minutes, ScheduleStop.compound_id, ScheduleStop.arrival)
    .join(ScheduleStop, StopEvent.stop_id == ScheduleStop.id)
    .join(ScheduleRoute, ScheduleStop.route_id == ScheduleRoute.id)
    .join(Schedule, ScheduleRoute.schedule_id == Schedule.id)
    .where(Schedule.date == bindparam("date"), ScheduleRoute.truck_id == bindparam("truck_id"))
    .order_by(StopEvent.id)
)
_COMMITTEE_REPORTS = (
    select(CommitteeReport)
    .where(CommitteeReport.compound_id == bindparam("compound_id"),
           CommitteeReport.date.in_(bindparam("dates", expanding=True)))
    .order_by(CommitteeReport.id)
)
_newer = aliased(Publication)
#: every version's stop at the compound that date, newest first, with its retailer's current version
_STOP_HISTORY = (
    select(Publication.date, ScheduleStop.id, ScheduleStop.arrival, ScheduleStop.start, ScheduleStop.departure,
           ScheduleStop.deliveries, ScheduleStop.route_id, ScheduleRoute.truck_id, ScheduleRoute.depart,
           ScheduleRoute.facts, Publication.version, Publication.published_at, Retailer.name,
           select(func.max(_newer.version))
           .where(_newer.date == Publication.date, _newer.retailer_id == Publication.retailer_id)
           .scalar_subquery().label("current_version"))
    .join(ScheduleRoute, ScheduleStop.route_id == ScheduleRoute.id)
    .join(Publication, Publication.schedule_id == ScheduleRoute.schedule_id)
    .join(Retailer, Retailer.id == Publication.retailer_id)
    .where(Publication.date.in_(bindparam("dates", expanding=True)),
           ScheduleStop.compound_id == bindparam("compound_id"))
    .order_by(Publication.published_at.desc(), Publication.id.desc())
)
#: what an estimate needs of each stop of a route, in order (the window start from the facts)
_ROUTE_STOPS = (
    select(ScheduleStop.id, ScheduleStop.compound_id, ScheduleStop.arrival, ScheduleStop.start,
           ScheduleStop.departure, ScheduleStop.facts[("compound", "window_start")].as_integer())
    .where(ScheduleStop.route_id == bindparam("route_id"))
    .order_by(ScheduleStop.seq)
)


def _goods(db: Session | Connection, deliveries: dict[str, int]) -> tuple[Goods, ...]:
    names = {key: (zh, en) for key, zh, en in db.execute(_CATEGORY_NAMES, {"keys": list(deliveries)})}
    return tuple(Goods(key, *names.get(key, (key, key)), int(quantity))
                 for key, quantity in deliveries.items() if quantity > 0)


def _reports_by_compound(db: Session | Connection, date: dt.date, truck_id: int) -> dict[int, Reports]:
    """The driver's reports for the truck's stops of the date, by compound.

    Keyed by compound rather than stop so that what the driver reported still counts when the
    planner publishes a new version of the day mid-route.
    """
    reports: dict[int, dict] = {}
    for kind, at, delay_minutes, compound_id, planned_arrival in db.execute(
            _DRIVER_REPORTS, {"date": date, "truck_id": truck_id}):
        seen = reports.setdefault(compound_id, {})
        if kind == StopEventKind.ARRIVED:
            seen["arrived_at"] = at
        elif kind == StopEventKind.DEPARTED:
            seen["departed_at"] = at
        elif kind == StopEventKind.DELAY:
            seen["delay_minutes"] = delay_minutes
            seen["expected_arrival"] = planned_arrival + dt.timedelta(minutes=delay_minutes or 0)
    return {compound_id: Reports(**seen) for compound_id, seen in reports.items()}


def route_estimates(dbsession: Session, route: ScheduleRoute, date: dt.date) -> dict[int, Estimate]:
    """Estimates for every stop of a published route, by stop id."""
    stops = [(s.id, s.compound_id, s.arrival, s.start, s.departure, s.compound.window_start) for s in route.stops]
    return _estimates(dbsession, date, route.truck_id, route.depart, stops)


def _estimates(db: Session | Connection, date: dt.date, truck_id: int, depart: dt.datetime, stops) -> dict[int, Estimate]:
    """``stops``: (stop id, compound id, arrival, service start, departure, window start in
    minutes) of a route, in order."""
    midnight = dt.datetime.combine(date, dt.time())
    planned = [PublishedTimes(arrival, start, departure, midnight + dt.timedelta(minutes=window_start))
               for _, _, arrival, start, departure, window_start in stops]
    by_compound = _reports_by_compound(db, date, truck_id)
    reports = [by_compound.get(compound_id, Reports()) for _, compound_id, *_ in stops]
    estimates = estimate_route(depart, planned, reports)
    return {stop[0]: e for stop, e in zip(stops, estimates, strict=True)}


_COMPOUND_BY_TOKEN = select(Compound).where(Compound.access_token == bindparam("token"))


def compound_by_token(dbsession: Session, token: str) -> Compound | None:
    return dbsession.scalar(_COMPOUND_BY_TOKEN, {"token": token})


def compound_day(dbsession: Session, compound: Compound, date: dt.date) -> CompoundDay:
    """The compound's published stop of the date in its retailer's current version, what an
    earlier version said when the time moved, the driver's updated estimate, and the
    committee's own "cannot receive" reports."""
    return compound_days(dbsession, compound, [date])[0]


def compound_days(dbsession: Session, compound: Compound, dates: list[dt.date]) -> list[CompoundDay]:
    """``compound_day`` of each date, for the dates at once.

    A committee page renders them again after each publication for every compound of the day:
    so they come from statements built once, for columns rather than objects (a stop's facts
    are JSON), on the session's connection (after the first, which flushes as a session's query
    does, SQLAlchemy's ORM layer costs more than the query)."""
    reports = list(dbsession.scalars(_COMMITTEE_REPORTS, {"compound_id": compound.id, "dates": dates}))
    connection = dbsession.connection()
    history = connection.execute(_STOP_HISTORY, {"dates": dates, "compound_id": compound.id}).all()
    return [
        _compound_day(connection, date, [r for r in history if r.date == date],
                      tuple(ReportFact.of(r) for r in reports if r.date == date))
        for date in dates
    ]


def _compound_day(connection: Connection, date: dt.date, history: list, reports: tuple) -> CompoundDay:
    """One date from its rows: every version's stop at the compound, newest first."""
    if not history:
        return CompoundDay(date=date, reports=reports)
    index = next((i for i, row in enumerate(history) if row.version == row.current_version), None)
    if index is None:
        return CompoundDay(date=date, removed_in_version=history[0].current_version, reports=reports)
    stop = history[index]
    change = None
    if index + 1 < len(history):
        previous = history[index + 1]
        if service_window(previous.start) != service_window(stop.start):
            change = TimeChange(
                previous_version=previous.version,
                previous_window=service_window(previous.start),
                moved_minutes=_minutes(stop.start - previous.start),
            )
    route_stops = connection.execute(_ROUTE_STOPS, {"route_id": stop.route_id}).all()
    return CompoundDay(
        date=date,
        version=stop.version,
        published_at=local_from_utc(stop.published_at),
        retailer=stop.name,
        plate=stop.facts["truck"]["plate"],
        arrival=stop.arrival,
        start=stop.start,
        departure=stop.departure,
        goods=_goods(connection, stop.deliveries),
        change=change,
        estimate=_estimates(connection, date, stop.truck_id, stop.depart, route_stops)[stop.id],
        reports=reports,
    )


def truck_by_code(dbsession: Session, code: str) -> Truck | None:
    return dbsession.scalar(select(Truck).where(Truck.code == code))


def _current_route(dbsession: Session, truck: Truck, date: dt.date) -> tuple[Publication, ScheduleRoute] | None:
    publication = latest_publication(dbsession, date, truck.retailer_id)
    if publication is None:
        return None
    route = dbsession.scalar(
        select(ScheduleRoute)
        .where(ScheduleRoute.schedule_id == publication.schedule_id, ScheduleRoute.truck_id == truck.id)
        .options(selectinload(ScheduleRoute.stops))
    )
    return None if route is None else (publication, route)


def driver_route(dbsession: Session, truck: Truck, date: dt.date) -> DriverRoute | None:
    """The truck's route in its retailer's current version of the date, with estimates; None
    when that version has no route for the truck (or nothing is published)."""
    found = _current_route(dbsession, truck, date)
    if found is None:
        return None
    publication, route = found
    estimates = route_estimates(dbsession, route, date)
    stops = tuple(
        DriverStop(
            stop_id=s.id,
            seq=s.seq,
            compound_code=s.compound.code,
            compound_name=s.compound.name,
            town=s.compound.town,
            address=s.compound.address,
            contact=s.compound.contact,
            lat=s.compound.lat,
            lon=s.compound.lon,
            arrival=s.arrival,
            start=s.start,
            departure=s.departure,
            goods=_goods(dbsession, s.deliveries),
            estimate=estimates[s.id],
        )
        for s in route.stops
    )
    return DriverRoute(
        date=date,
        version=publication.version,
        published_at=local_from_utc(publication.published_at),
        retailer=publication.retailer.name,
        truck_code=truck.code,
        plate=truck.plate,
        depot_name=truck.depot_name,
        depart=route.depart,
        back=route.back,
        stops=stops,
    )


def published_trucks(dbsession: Session, date: dt.date) -> list[Truck]:
    """The trucks with a route in a current version of the date (an admin picks one of them)."""
    retailer_ids = dbsession.scalars(select(Publication.retailer_id).where(Publication.date == date))
    schedule_ids = [p.schedule_id for p in _current_publications(dbsession, date, retailer_ids).values()]
    return list(
        dbsession.scalars(
            select(Truck)
            .join(ScheduleRoute, ScheduleRoute.truck_id == Truck.id)
            .where(ScheduleRoute.schedule_id.in_(schedule_ids))
            .order_by(Truck.code)
        )
    )


def record_stop_event(
    dbsession: Session,
    truck: Truck,
    date: dt.date,
    stop_id: int,
    kind: str,
    *,
    at: dt.datetime | None = None,
    delay_minutes: int | None = None,
    created_by: str = "",
) -> StopEvent:
    """Stores a driver's report on a stop of the truck's current route of the date.

    Raises LookupError when the stop is not on that route (someone else's truck, an old
    version, another date: the caller answers 404) and FieldInputError for a bad report.
    """
    found = _current_route(dbsession, truck, date)
    stop = None if found is None else next((s for s in found[1].stops if s.id == stop_id), None)
    if stop is None:
        raise LookupError(f"stop {stop_id} is not on truck {truck.code}'s published route of {date}")
    try:
        kind = StopEventKind(kind)
    except ValueError:
        raise FieldInputError(
            "kind", "unknown_kind", f"{kind!r} is not one of {', '.join(k.value for k in StopEventKind)}"
        ) from None
    if kind is StopEventKind.DELAY:
        if delay_minutes is None or not 0 < delay_minutes <= MAX_DELAY_MINUTES:
            raise FieldInputError(
                "delay_minutes", "delay_range", f"a whole number from 1 to {MAX_DELAY_MINUTES} is required",
                limit=MAX_DELAY_MINUTES,
            )
    elif delay_minutes is not None:
        raise FieldInputError("delay_minutes", "minutes_only_for_delay", f"only a delay report takes minutes, not {kind.value}")
    if at is None:
        at = local_now()
        if kind is not StopEventKind.DELAY and at.date() != date:
            raise FieldInputError("at", "time_required", f"give the time (HH:MM); {date} is not today")
    elif at.date() != date:
        raise FieldInputError("at", "time_other_date", f"{at:%Y-%m-%d %H:%M} is not on the route's date {date}", date=date)
    event = StopEvent(stop_id=stop.id, kind=kind.value, at=at, delay_minutes=delay_minutes, created_by=created_by)
    dbsession.add(event)
    dbsession.flush()
    return event


def report_breakdown(
    dbsession: Session, truck: Truck, date: dt.date, *, at: dt.datetime | None = None, created_by: str = "",
) -> BreakdownReport:
    """Records a driver's "broken down from ``at``" (now when not given) for the truck's
    published route of the date; a report the planner has not decided yet is corrected, not
    repeated. Raises LookupError when the truck has no published route that day."""
    if _current_route(dbsession, truck, date) is None:
        raise LookupError(f"truck {truck.code} has no published route on {date}")
    if at is None:
        at = local_now()
        if at.date() != date:
            raise FieldInputError("from", "time_required", f"give the time (HH:MM); {date} is not today")
    elif at.date() != date:
        raise FieldInputError("from", "time_other_date", f"{at:%Y-%m-%d %H:%M} is not on the route's date {date}",
                              date=date)
    report = open_breakdown(dbsession, truck, date)
    if report is None:
        report = BreakdownReport(truck_id=truck.id, date=date, status=BreakdownStatus.REPORTED)
        dbsession.add(report)
    report.at, report.created_by = at, created_by
    dbsession.flush()
    return report


def open_breakdown(dbsession: Session, truck: Truck, date: dt.date) -> BreakdownReport | None:
    """The truck's breakdown report of the date the planner has not decided yet."""
    return dbsession.scalar(select(BreakdownReport).where(
        BreakdownReport.truck_id == truck.id, BreakdownReport.date == date,
        BreakdownReport.status == BreakdownStatus.REPORTED))


def day_breakdowns(dbsession: Session, date: dt.date, retailer_id: int) -> list[BreakdownReport]:
    """The retailer's trucks' breakdown reports of the date, newest first (the day page)."""
    return list(dbsession.scalars(
        select(BreakdownReport).join(Truck, BreakdownReport.truck_id == Truck.id)
        .where(BreakdownReport.date == date, Truck.retailer_id == retailer_id)
        .order_by(BreakdownReport.id.desc())))


def decide_breakdown(report: BreakdownReport, status: BreakdownStatus, user: str, *, run_id: int | None = None) -> None:
    """The planner's decision on an undecided report; ValueError when it was decided already."""
    if report.status != BreakdownStatus.REPORTED:
        raise ValueError(f"breakdown report {report.id} was already {report.status}")
    report.status, report.decided_by, report.decided_at, report.run_id = status, user, utcnow(), run_id
