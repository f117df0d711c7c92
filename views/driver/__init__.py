"""A driver's own route of a day: the phone-first stop list, the printable sheet, the
arrived / departed / delay reports that re-time the later stops, and the truck's breakdown
report that the planner confirms (``trucks.live``).

The context is ``TruckContext``: a driver's own truck; an admin may look at any truck with
``?truck=CODE``; planners and coordinators have no driver pages (its ACL refuses them).
"""
from __future__ import annotations

import datetime as dt

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config

from trucks.live import (
    FieldInputError,
    clock_or_now,
    driver_route,
    open_breakdown,
    local_today,
    published_trucks,
    record_stop_event,
    report_breakdown,
)
from trucks.models import Role, Truck

from ..committee.dates import template_helpers
from ..contexts import path_row_id
from ..security import Permission

FLASH_DONE = "driver"
FLASH_ERROR = "driver-error"


def _truck_query(request, truck: Truck) -> dict:
    """Keeps an admin's truck choice in the links it follows; a driver needs none."""
    return {"truck": truck.code} if request.user.role == Role.ADMIN else {}


def _route_page(request) -> dict:
    date, truck = request.context.date, request.context.truck
    context = {"date": date, "truck": truck, **template_helpers(request)}
    if truck is None:
        return {**context, "route": None, "choices": published_trucks(request.dbsession, date)}
    return {
        **context,
        "route": driver_route(request.dbsession, truck, date),
        "breakdown": open_breakdown(request.dbsession, truck, date),
        "truck_query": _truck_query(request, truck),
        "done": request.session.pop_flash(FLASH_DONE),
        "errors": request.session.pop_flash(FLASH_ERROR),
    }


@view_config(route_name="driver_home", request_method="GET", permission=Permission.DRIVER_STOPS_READ)
def driver_home(request):
    """Today's route."""
    query = {"truck": request.GET["truck"]} if "truck" in request.GET else {}
    return HTTPSeeOther(request.route_url("driver_day", date=local_today().isoformat(), _query=query))


@view_config(route_name="driver_day", request_method="GET", renderer="driver/day.jinja2",
             permission=Permission.DRIVER_STOPS_READ)
def driver_day(request):
    return _route_page(request)


@view_config(route_name="driver_sheet", request_method="GET", renderer="driver/sheet.jinja2",
             permission=Permission.DRIVER_STOPS_READ)
def driver_sheet(request):
    return _route_page(request)


@view_config(route_name="driver_stop_event", request_method="POST", permission=Permission.DRIVER_STOPS_WRITE)
def driver_stop_event(request):
    """Records arrived, departed or a delay on a stop of the truck's current route; any other
    stop (another truck's, an old version's, another day's) is 404."""
    date, truck = _reporting_truck(request)
    stop_id = path_row_id(request, "stop_id")
    kind = request.POST.get("kind", "")
    minutes_text = request.POST.get("delay_minutes", "").strip()
    try:
        at = clock_or_now(date, request.POST.get("at"))
        minutes = _whole_minutes(minutes_text) if kind == "delay" else None
        record_stop_event(request.dbsession, truck, date, stop_id, kind, at=at, delay_minutes=minutes,
                          created_by=request.user.username)
    except LookupError:
        raise HTTPNotFound() from None
    except FieldInputError as error:
        request.session.flash(request.t(f"driver.error.{error.code}", **error.values), FLASH_ERROR)
    else:
        request.session.flash(request.t(f"driver.recorded.{kind}", minutes=minutes), FLASH_DONE)
    return HTTPSeeOther(request.route_url("driver_day", date=date.isoformat(),
                                          _query=_truck_query(request, truck), _anchor=f"stop-{stop_id}"))


@view_config(route_name="driver_breakdown", request_method="POST", permission=Permission.DRIVER_STOPS_WRITE)
def driver_breakdown(request):
    """"Truck broken down from HH:MM" (now when no time is given): the planner sees it on the
    day page and confirms it (a re-plan of the rest of the day) or dismisses it."""
    date, truck = _reporting_truck(request)
    try:
        report = report_breakdown(request.dbsession, truck, date, at=clock_or_now(date, request.POST.get("from")),
                                  created_by=request.user.username)
    except LookupError:
        raise HTTPNotFound() from None
    except FieldInputError as error:
        request.session.flash(request.t(f"driver.error.{error.code}", **error.values), FLASH_ERROR)
    else:
        request.session.flash(request.t("driver.recorded.breakdown", at=report.at.strftime("%H:%M")), FLASH_DONE)
    return HTTPSeeOther(request.route_url("driver_day", date=date.isoformat(), _query=_truck_query(request, truck),
                                          _anchor="breakdown"))


def _reporting_truck(request) -> tuple[dt.date, Truck]:
    """The date and the truck a report is about; an admin who named no truck gets 404."""
    date, truck = request.context.date, request.context.truck
    if truck is None:
        raise HTTPNotFound()
    return date, truck


def _whole_minutes(text: str) -> int | None:
    """The delay a driver typed; None (refused by ``record_stop_event``) when not a whole number."""
    try:
        return int(text)
    except ValueError:
        return None
