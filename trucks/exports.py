"""A retailer's day exported as JSON or CSV: by default the published version, else a version
by number, else (``latest``) the newest solve. ``version`` in both formats is the number of
the publication exported (null for a solve not published), never a count of solves.

Everything is read from the facts the schedule stored, so a version exports the same forever.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy.orm import Session

from .models import Schedule
from .publishing import get_publication, latest_publication
from .services import latest_schedule, load_schedule
from .spreadsheet import csv_text

FORMATS = ("json", "csv")
CSV_COLUMNS = ("date", "version", "truck_id", "plate", "stop", "compound_id", "compound_name", "town",
               "arrival", "service_start", "departure", "unserved_reason")


class NothingToExport(LookupError):
    """No schedule answers the request; the message says what is missing."""


@dataclass(frozen=True)
class Exported:
    schedule: Schedule
    version: int | None  # the publication's number; None for a solve never published as the latest


def exported_schedule(dbsession: Session, date: dt.date, retailer_id: int, *,
                      version: int | None = None, latest: bool = False) -> Exported:
    """The schedule an export shows: publication ``version``, the newest solve with ``latest``,
    else the version published last."""
    if latest:
        schedule = latest_schedule(dbsession, date, retailer_id)
        if schedule is None:
            raise NothingToExport(f"no schedule for {date}")
        published = latest_publication(dbsession, date, retailer_id)
        return Exported(schedule, published.version if published and published.schedule_id == schedule.id else None)
    publication = (get_publication(dbsession, date, retailer_id, version) if version is not None
                   else latest_publication(dbsession, date, retailer_id))
    if publication is None:
        raise NothingToExport(f"no version {version} of {date}" if version is not None
                              else f"nothing published for {date} (--latest exports the newest solve)")
    return Exported(publication.schedule, publication.version)


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="seconds")


def schedule_document(dbsession: Session, schedule: Schedule, version: int | None) -> dict:
    """The export's JSON document: routes by truck code with their stops in order, then the
    unserved compounds with their reasons; times are ISO 8601 local date-times."""
    schedule = load_schedule(dbsession, schedule.id)
    return {
        "date": schedule.date.isoformat(),
        "version": version,
        "routes": [
            {
                "truck_id": route.truck.code,
                "depart": _iso(route.depart),
                "return": _iso(route.back),
                "stops": [
                    {
                        "compound_id": stop.compound.code,
                        "arrival": _iso(stop.arrival),
                        "departure": _iso(stop.departure),
                        "deliveries": dict(sorted(stop.deliveries.items())),
                    }
                    for stop in route.stops
                ],
            }
            for route in sorted(schedule.routes, key=lambda r: r.truck.code)
        ],
        "unserved": [
            {"compound_id": u.compound.code, "reason": u.reason}
            for u in sorted(schedule.unserved, key=lambda u: u.compound.code)
        ],
    }


def schedule_csv(dbsession: Session, schedule: Schedule, version: int | None) -> str:
    """One row per stop (in route order), then one per unserved compound with its reason;
    a column per category holds the quantity delivered."""
    schedule = load_schedule(dbsession, schedule.id)
    categories = sorted({k for r in schedule.routes for s in r.stops for k in s.deliveries})
    rows = []
    day = schedule.date.isoformat()
    shown = "" if version is None else version
    for route in sorted(schedule.routes, key=lambda r: r.truck.code):
        for stop in route.stops:
            rows.append([
                day, shown, route.truck.code, route.truck.plate, stop.seq, stop.compound.code,
                stop.compound.name, stop.compound.town, _iso(stop.arrival), _iso(stop.start),
                _iso(stop.departure), "",
            ] + [stop.deliveries.get(key, 0) for key in categories])
    for unserved in sorted(schedule.unserved, key=lambda u: u.compound.code):
        compound = unserved.compound
        rows.append([day, shown, "", "", "", compound.code, compound.name, compound.town,
                     "", "", "", unserved.reason] + [0] * len(categories))
    return csv_text(CSV_COLUMNS + tuple(categories), rows)


def export(dbsession: Session, date: dt.date, *, retailer_id: int, fmt: str,
           version: int | None = None, latest: bool = False) -> str:
    """The day's published version (or ``version`` N, or the ``latest`` solve) as ``json`` or
    ``csv`` text: the one export the page, the API and the command line give."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}: use json or csv")
    chosen = exported_schedule(dbsession, date, retailer_id, version=version, latest=latest)
    if fmt == "json":
        document = schedule_document(dbsession, chosen.schedule, chosen.version)
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    return schedule_csv(dbsession, chosen.schedule, chosen.version)
